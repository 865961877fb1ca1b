// Notable moments in the real editor (#14): files deleted outside the editor in a burst, seen by VS Code's
// own file watcher, give one notification when there are 20 of them and none for 19; nothing comes back
// without the click; "Restore Them" puts back exactly those files (never opened in the editor) from the
// snapshot just before, in one click, and Undo Last Restore takes them away again. A branch switch labels
// the snapshot before it "before switching to <branch>".

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { entryAt } from '../../src/core/query/browse';
import { burstThreshold } from '../../src/core/query/notable';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import type { MomentEvent } from '../../src/vscode/notableMoments';
import { ScriptedPrompter, api, read, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
}

if (workspaceMode() === 'single-folder') {
  describe('notable moments (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    const events: MomentEvent[] = [];
    let subscription: vscode.Disposable;

    const latest = async (): Promise<SnapshotRecord> => {
      const all = await a.service.snapshots(folder, true);
      return all[all.length - 1];
    };
    const holds = async (snapshot: SnapshotRecord, rel: string) =>
      (await entryAt(await a.service.localRepository(folder), snapshot.tree, rel)) !== undefined;
    const files = (dir: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${dir}/generated-${String(i).padStart(2, '0')}.txt`);

    /** Writes files by another tool (never opened in the editor) and takes a full snapshot that holds them. */
    async function created(rels: string[]): Promise<SnapshotRecord> {
      for (const rel of rels) write(folder, rel, `content of ${rel}\n`);
      await a.flush();
      const result = await a.service.snapshotFolder(folder, { trigger: 'manual' });
      assert.ok(await holds(result.snapshot, rels[rels.length - 1]), 'the full snapshot holds the new files');
      return result.snapshot;
    }

    /** Deletes files the way a terminal does, and waits until the watcher's snapshot has them gone. */
    async function deleteOutside(rels: string[]): Promise<SnapshotRecord> {
      for (const rel of rels) fs.rmSync(path.join(folder.uri.fsPath, ...rel.split('/')));
      const gone = await until('the watcher to snapshot the deletions', async () => {
        await a.flush();
        const s = await latest();
        for (const rel of rels) if (await holds(s, rel)) return undefined;
        return s;
      });
      await a.moments.settled();
      return gone;
    }

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      await vscode.workspace
        .getConfiguration('projectBackup')
        .update('saveDebounceMs', 200, vscode.ConfigurationTarget.Global);
      subscription = a.moments.onDidHappen((e) => events.push(e));
    });

    after(async () => {
      subscription.dispose();
      prompter.notifyAnswer = undefined;
    });

    it('19 files deleted outside the editor: no notification', async () => {
      const base = await created(files('wipe19', 19));
      assert.equal(
        burstThreshold(base.stats.files),
        20,
        `a small workspace (${base.stats.files} files): the threshold is 20`,
      );
      const shown = prompter.notifications.length;
      const after = await deleteOutside(files('wipe19', 19));
      assert.equal(after.trigger, 'external');
      assert.deepEqual(prompter.notifications.slice(shown), [], 'no notification for 19 files');
    });

    it('20 files deleted outside the editor: one notification at once, and nothing restored without the click', async () => {
      const before = await created(files('wipe20', 20));
      const shown = prompter.notifications.length;
      prompter.notifyAnswer = undefined; // the user does not click
      const after = await deleteOutside(files('wipe20', 20));
      assert.deepEqual(prompter.notifications.slice(shown), [
        { message: '20 files were deleted outside the editor.', actions: ['Restore Them', 'Show'] },
      ]);
      for (const rel of files('wipe20', 20))
        assert.equal(read(folder, rel), undefined, `${rel} came back without a click`);
      assert.equal((await latest()).id, after.id, 'no restore, no undo snapshot');
      // The moment before is labelled, so it is one click away in the Snapshots view too.
      const labelled = (await a.service.snapshots(folder, true)).find((s) => s.id === before.id);
      assert.deepEqual([labelled?.label, labelled?.autoLabel], ['before 20 files deleted outside the editor', true]);
    });

    it('Restore Them puts back exactly those files in one click, undoable', async () => {
      const rels = files('wipe25', 25);
      await created(rels);
      const untouched = write(folder, 'notes/kept-as-is.txt', 'written after the snapshot\n');
      const shown = prompter.notifications.length;
      const asked = prompter.previews.length;
      prompter.notifyAnswer = (_message, actions) => (actions.includes('Restore Them') ? 'Restore Them' : undefined);
      const restored = events.length;
      await deleteOutside(rels);
      await until('the files to be restored', () => events.slice(restored).some((e) => e.kind === 'restored'));
      assert.equal(prompter.notifications.length, shown + 1);
      assert.equal(prompter.previews.length, asked, 'one click: no second question');
      for (const rel of rels) assert.equal(read(folder, rel), `content of ${rel}\n`);
      assert.equal(fs.readFileSync(untouched, 'utf8'), 'written after the snapshot\n');

      prompter.notifyAnswer = undefined;
      await vscode.commands.executeCommand('backup.undoLastRestore');
      for (const rel of rels) assert.equal(read(folder, rel), undefined, `undo left ${rel}`);
    });

    it('a branch switch labels the snapshot before it "before switching to <branch>"', async () => {
      const repoDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-branch-')), 'branchy');
      fs.mkdirSync(repoDir);
      git(repoDir, 'init', '--quiet', '-b', 'main');
      fs.writeFileSync(path.join(repoDir, 'app.js'), 'console.log("main");\n');
      git(repoDir, 'add', '-A');
      git(repoDir, 'commit', '--quiet', '-m', 'main');
      git(repoDir, 'checkout', '--quiet', '-b', 'feature/login');
      fs.writeFileSync(path.join(repoDir, 'app.js'), 'console.log("login");\n');
      fs.writeFileSync(path.join(repoDir, 'login.js'), 'export {};\n');
      git(repoDir, 'add', '-A');
      git(repoDir, 'commit', '--quiet', '-m', 'login');
      // A folder of its own (the shared test workspace stays a plain folder), snapshotted as the watcher would.
      const repoFolder: vscode.WorkspaceFolder = { uri: vscode.Uri.file(repoDir), name: 'branchy', index: 98 };
      const before = (await a.service.snapshotFolder(repoFolder, { trigger: 'manual' })).snapshot;
      assert.equal(before.git?.branch, 'feature/login');
      git(repoDir, 'checkout', '--quiet', 'main');
      const labels = events.length;
      const after = await a.service.snapshotFolder(repoFolder, { trigger: 'external', paths: ['app.js', 'login.js'] });
      assert.equal(after.snapshot.git?.branch, 'main');
      await a.moments.settled();
      const record = (await a.service.snapshots(repoFolder, true)).find((s) => s.id === before.id);
      assert.deepEqual([record?.label, record?.autoLabel], ['before switching to main', true]);
      assert.ok(events.slice(labels).some((e) => e.kind === 'labelled' && e.label === 'before switching to main'));
      assert.deepEqual(
        prompter.notifications.filter((n) => /branchy/.test(n.message)),
        [],
        'a branch switch raises no alarm',
      );
    });
  });
}
