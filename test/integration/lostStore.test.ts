// When the store itself is lost (#12), in the real editor: while the local store is missing the Snapshots
// view, Backup Health and the status bar say so and point at the destination that holds a copy (never an
// empty history); the store comes back from the destination whole, under the same id, so backups and
// replication go on, either by "Bring the Store Back" or as the first step of a restore from the destination
// (whose undo snapshot needs it); a save made meanwhile lands once it is back; Replicate Now waits for
// another copy instead of reporting its work as "0 objects copied"; a destination's offsite mark changes in
// place. A locked encrypted store says so too, and a save made while it is locked lands after Unlock.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readWholeFile } from '../../src/core/query/browse';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import type { ProjectBackupApi } from '../../src/extension';
import type { Node, SnapshotNode } from '../../src/vscode/views/nodes';
import type { HealthNode } from '../../src/vscode/views/healthView';
import { ScriptedPrompter, api, children, read, saveAndFlush, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

const PASSPHRASE = 'a passphrase for the locked store 2718';

/** What a tree row shows: its label and description. */
function rowText(item: vscode.TreeItem): string {
  const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
  return item.description ? `${label} · ${item.description}` : label;
}

/** Saves `content` to a workspace file through an editor, as a user does, and waits for the queued snapshot attempt. */
async function saveInEditor(
  a: ProjectBackupApi,
  folder: vscode.WorkspaceFolder,
  rel: string,
  content: string,
): Promise<void> {
  const file = write(folder, rel, 'before the edit\n');
  const doc = await vscode.workspace.openTextDocument(file);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), content);
  assert.equal(await vscode.workspace.applyEdit(edit), true);
  await saveAndFlush(a, doc);
}

/** The content of `rel` in the first snapshot that holds `content` there, if any. */
async function snapshotHolding(
  store: string,
  rel: string,
  content: string,
  options: { passphrase?: string } = {},
): Promise<SnapshotRecord | undefined> {
  const repo = await Repository.open(store, {
    passphrase: options.passphrase ? async () => options.passphrase : undefined,
  });
  try {
    for (const s of await repo.listSnapshots()) {
      const bytes = await readWholeFile(repo, s, rel).catch(() => undefined);
      if (bytes?.toString('utf8') === content) return s;
    }
    return undefined;
  } finally {
    await repo.close();
  }
}

async function storeIds(store: string): Promise<{ id: string; snapshots: string[] }> {
  const repo = await Repository.open(store);
  try {
    return { id: repo.config.id, snapshots: (await repo.listSnapshots()).map((s) => s.id) };
  } finally {
    await repo.close();
  }
}

if (workspaceMode() === 'single-folder') {
  describe('when the store itself is lost (single folder, #12)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    let parent: string;
    let store: string;
    let usb: string;
    /** The snapshots of the store before it was lost (every workspace's). */
    let history: string[];
    let storeId: string;
    const config = () => vscode.workspace.getConfiguration('projectBackup');
    /** A snapshot's row in the Snapshots view (the extension's own node: commands check its class). */
    const snapshotNode = async (match: (s: SnapshotRecord) => boolean): Promise<SnapshotNode> => {
      a.snapshotsView.refresh(true);
      for (const day of await children(a.snapshotsView)) {
        for (const node of await children(a.snapshotsView, day))
          if (node.kind === 'snapshot' && match(node.snapshot)) return node;
      }
      throw new Error('no such snapshot in the Snapshots view');
    };
    const snapshotRows = async () =>
      Promise.all((await children(a.snapshotsView)).map(async (n: Node) => rowText(a.snapshotsView.getTreeItem(n))));
    const healthRows = async () => {
      await a.healthView.refresh();
      const nodes = (await a.healthView.getChildren()) as HealthNode[];
      return nodes.map((n) => rowText(a.healthView.getTreeItem(n)));
    };

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-lost-'));
      store = path.join(parent, 'store');
      usb = path.join(parent, 'usb');
      // The workspace's own store setting wins over the user's (and code-server's machine) value.
      await config().update('storePath', store, vscode.ConfigurationTarget.Workspace);
      await config().update(
        'destinations',
        [{ location: usb, offsite: false, store }],
        vscode.ConfigurationTarget.Global,
      );
      write(folder, 'lost/notes.md', 'the notes as they were\n');
      prompter.texts = ['before the loss'];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      write(folder, 'lost/more.md', 'more\n');
      prompter.texts = ['second'];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      await a.flush(); // a change the watcher saw (the settings file) may add a snapshot of its own
      await vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      ({ id: storeId, snapshots: history } = await storeIds(store));
      assert.ok(history.length >= 2);
      assert.deepEqual((await storeIds(usb)).snapshots, history, 'the destination does not hold the history');
    });

    after(async () => {
      await config().update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      await config().update('destinations', undefined, vscode.ConfigurationTarget.Global);
      prompter.picker = undefined;
      for (const rel of ['lost', 'notes/locked.md'])
        fs.rmSync(path.join(folder.uri.fsPath, ...rel.split('/')), { recursive: true, force: true });
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      fs.rmSync(parent, { recursive: true, force: true });
    });

    it('while the store is missing, the Snapshots view, Backup Health and the status bar say so and point at the destination; a save is kept', async () => {
      // Deleted while the editor has it open: the views must not read the empty folder as an empty history.
      a.snapshotsView.refresh(true);
      assert.ok((await snapshotRows()).length > 0);
      fs.rmSync(store, { recursive: true });
      await saveInEditor(a, folder, 'lost/saved-while-missing.md', 'saved while the store was missing\n');
      assert.equal(fs.existsSync(store), false, 'something re-created the missing store');

      a.snapshotsView.refresh(true);
      const rows = await snapshotRows();
      assert.equal(rows[0], `The backup store is missing · ${store}`);
      assert.ok(
        rows.includes('Bring the store back from usb · its whole history, then backups go on'),
        rows.join(' | '),
      );
      assert.ok(rows.includes(`Browse and restore from usb · ${usb}`), rows.join(' | '));

      const [health] = await a.healthView.refresh();
      assert.equal(health.report, undefined);
      assert.equal(health.problem, 'missing');
      assert.deepEqual(
        health.copies?.map((c) => [c.location, c.holdsStore, c.snapshots]),
        [[usb, true, history.length]],
      );
      const shown = await healthRows();
      assert.equal(shown[0], 'Local store missing · 1 destination holds a copy');
      assert.ok(shown.includes(`usb · holds a copy: ${history.length} snapshots · ${usb}`), shown.join(' | '));
      assert.ok(shown.includes('Bring the store back from usb · its whole history; backups go on'), shown.join(' | '));
      assert.ok(
        !shown.some((r) => /^Only \d of 3 copies|behind the latest snapshot|No snapshot yet/.test(r)),
        shown.join(' | '),
      );

      a.statusBar.update();
      assert.equal(a.statusBar.text(), '$(error) Backup store missing');
      assert.match(
        a.statusBar.tooltipText(),
        /the backup store at .* is missing\*\* · \[Bring it back from a destination\]\(command:backup\.bringBackStore\)/,
      );
      assert.equal(fs.existsSync(store), false, 'drawing the views re-created the missing store');
    });

    it('"Bring the Store Back" copies the whole history back under the same id; the kept save lands, and the destination keeps receiving', async () => {
      await vscode.commands.executeCommand('backup.bringBackStore', folder.uri, usb);
      assert.ok(
        prompter.asked.some((q) =>
          q.startsWith(`Bring the backup store back from ${usb}? Its whole history (${history.length} snapshots,`),
        ),
        prompter.asked.join(' | '),
      );
      const back = await storeIds(store);
      assert.equal(back.id, storeId, 'the store came back under another id');
      for (const id of history) assert.ok(back.snapshots.includes(id), 'a snapshot of the history did not come back');
      // (Its snapshot may be the watcher's, which read the saved file from disk, or the save's own.)
      const saved = await until('the save made while the store was missing, in a snapshot', () =>
        snapshotHolding(store, 'lost/saved-while-missing.md', 'saved while the store was missing\n'),
      );
      assert.equal(a.service.status(folder).store, undefined);
      a.statusBar.update();
      assert.notEqual(a.statusBar.text(), '$(error) Backup store missing');

      const logged = a.log.recent.length;
      await vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      await until('the destination to receive the snapshot of the kept save', async () => {
        await a.replicator.flush();
        return (await storeIds(usb)).snapshots.includes(saved.id);
      });
      assert.doesNotMatch(a.log.recent.slice(logged).join('\n'), /holds another backup store|failed/);
    });

    it('a restore from the destination while the store is missing brings it back first, then restores with an undo snapshot', async () => {
      await a.replicator.flush();
      const copied = await storeIds(usb);
      fs.rmSync(store, { recursive: true });
      a.service.forgetStore(store);
      write(folder, 'lost/notes.md', 'damaged after the loss\n');
      await vscode.commands.executeCommand('backup.useDestination', folder.uri, usb);
      assert.equal(a.service.browsing(folder), usb);
      const target = await snapshotNode((s) => s.label === 'second');
      assert.equal(target.store, usb, 'the Snapshots view does not show the destination');
      const asked = prompter.asked.length;
      await vscode.commands.executeCommand('backup.restoreSnapshot', target);
      const questions = prompter.asked.slice(asked);
      assert.equal(
        questions[0],
        `The backup store at ${store} is missing; the restore needs it for its undo snapshot.`,
      );
      assert.match(questions[1] ?? '', /^Restore snapshot/, questions.join(' | '));

      assert.equal(read(folder, 'lost/notes.md'), 'the notes as they were\n');
      assert.equal(a.service.browsing(folder), undefined, 'the views still show the destination');
      const after = await storeIds(store);
      assert.equal(after.id, storeId);
      for (const id of copied.snapshots)
        assert.ok(after.snapshots.includes(id), 'the history at the destination did not come back whole');
      // The undo snapshot: the pre-restore one, or the watcher's that already held the state it would have.
      const undo = a.log.recent
        .map((l) => /Restored .* into .*; undo snapshot ([0-9a-f]+)\.$/.exec(l)?.[1])
        .filter(Boolean)
        .at(-1);
      assert.ok(undo, 'the restore took no undo snapshot');
      const holding = await snapshotHolding(store, 'lost/notes.md', 'damaged after the loss\n');
      assert.ok(holding?.id.startsWith(undo), 'the undo snapshot does not hold what the restore replaced');
    });

    it('can bring the store back into another folder, which the store setting and the destination then follow', async () => {
      fs.rmSync(store, { recursive: true });
      a.service.forgetStore(store);
      const elsewhere = path.join(parent, 'new-disk', 'store');
      fs.mkdirSync(elsewhere, { recursive: true });
      await vscode.commands.executeCommand('backup.useDestination', folder.uri, usb);
      const [newest] = (await a.service.snapshots(folder, true)).slice(-1);
      // Restore the folder lost/ of it (a whole snapshot would also put back the .vscode/settings.json of
      // then, with the store setting of then).
      const snapshot = await snapshotNode((s) => s.id === newest.id);
      const browse = (await children(a.snapshotsView, snapshot)).find((n) => n.kind === 'browse');
      const lost =
        browse &&
        (await children(a.snapshotsView, browse)).find((n) => n.kind === 'folderVersion' && n.relPath === 'lost');
      assert.ok(lost, 'no folder lost/ in the snapshot');
      prompter.picker = (items) => items.find((i) => i.label.includes('another folder'));
      prompter.target = vscode.Uri.file(elsewhere);
      try {
        await vscode.commands.executeCommand('backup.restoreFolder', lost);
      } finally {
        prompter.picker = undefined;
      }
      assert.equal(a.service.localStorePath(folder), elsewhere);
      assert.equal((await storeIds(elsewhere)).id, storeId);
      const destinations =
        config().inspect<Array<{ location: string; store?: string }>>('destinations')?.globalValue ?? [];
      assert.deepEqual(
        destinations.map((d) => [d.location, d.store]),
        [[usb, elsewhere]],
      );
      await a.replicator.flush(); // the copy that follows a bring-back, so Replicate Now runs a copy of its own
      write(folder, 'lost/after-move.md', 'after the move\n');
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const logged = a.log.recent.length;
      await vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      assert.match(a.log.recent.slice(logged).join('\n'), /Replicated to 1 destination: [1-9]\d* objects? copied/);
      store = elsewhere; // the rest goes on with the store where it is now
    });

    it('"Start a New Store Where the Missing One Was" offers to bring the store back from its destination instead', async () => {
      fs.rmSync(store, { recursive: true });
      a.service.forgetStore(store);
      const asked = prompter.asked.length;
      await vscode.commands.executeCommand('backup.recreateStore', folder.uri); // the first choice: bring it back
      assert.equal(prompter.asked[asked], 'Destinations hold copies of the missing store.');
      assert.equal((await storeIds(store)).id, storeId, 'a new store was started instead');
    });

    it('Replicate Now waits for another copy into the destination, then reports what it copied itself', async () => {
      await a.replicator.flush();
      write(folder, 'lost/while-another-copy.md', `${Date.now()}\n`);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      // Another machine is copying into the destination right now: its claim is fresh.
      const claim = path.join(usb, 'locks', 'claim-replicate');
      fs.writeFileSync(
        claim,
        JSON.stringify({
          host: 'another-machine',
          pid: 4242,
          time: new Date().toISOString(),
          exclusive: false,
          purpose: 'a copy',
        }),
      );
      const logged = a.log.recent.length;
      const running = vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      await until('the copy to wait for the other one', () =>
        a.log.recent.slice(logged).some((l) => l.includes('waits for another copy there')),
      );
      fs.rmSync(claim);
      await running;
      const said = a.log.recent.slice(logged).join('\n');
      assert.match(said, /Replicated to 1 destination: [1-9]\d* objects? copied \([^)]+\); \d+ snapshots there now\./);
      // Once more: everything is there already (the first SFTP copy once said "0 objects copied (0 B)" for that).
      await a.flush();
      await a.replicator.flush();
      const again = a.log.recent.length;
      await vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      assert.match(
        a.log.recent.slice(again).join('\n'),
        /Replicated to 1 destination: nothing new to copy; \d+ snapshots there now\./,
      );
    });

    it("a destination is marked offsite or onsite in place; an offsite folder on the store's own disk is warned about", async () => {
      await vscode.commands.executeCommand('backup.markOffsite', usb);
      const marked =
        config().inspect<Array<{ location: string; offsite?: boolean }>>('destinations')?.globalValue ?? [];
      assert.deepEqual(
        marked.map((d) => [d.location, d.offsite]),
        [[usb, true]],
      );
      const [health] = await a.healthView.refresh();
      const copy = health.report?.locations.find((l) => l.kind === 'destination');
      assert.equal(copy?.offsite, true);
      assert.equal(
        copy?.warning,
        'marked offsite, but on the same disk as the store: right for a cloud-synced folder, not for a plain one',
      );
      const item = a.healthView.getTreeItem({ kind: 'copy', copy: copy! });
      assert.equal(item.contextValue, 'healthDestination.offsite');
      assert.match(String(item.description), /marked offsite, but on the same disk as the store/);

      await vscode.commands.executeCommand('backup.markOnsite', { copy });
      const [again] = await a.healthView.refresh();
      const onsite = again.report?.locations.find((l) => l.kind === 'destination');
      assert.deepEqual([onsite?.offsite, onsite?.warning], [false, undefined]);
    });

    describe('a locked encrypted store', () => {
      let locked: string;

      before(async () => {
        locked = path.join(parent, 'encrypted');
        await (
          await Repository.open(locked, { create: true, encrypt: true, passphrase: async () => PASSPHRASE })
        ).close();
        // Kept first: the views open the store as soon as the setting changes, before any prompt is scripted.
        await a.keychain.rememberPassphrase(locked, PASSPHRASE);
        await config().update('storePath', locked, vscode.ConfigurationTarget.Workspace);
        await config().update('destinations', undefined, vscode.ConfigurationTarget.Global);
        prompter.texts = [''];
        await vscode.commands.executeCommand('backup.snapshotWorkspace');
        assert.ok((await a.service.snapshots(folder, true)).length >= 1);
        // The passphrase is not kept, and the prompt is dismissed: the store stays locked.
        prompter.secrets = [];
        await a.keychain.forgetPassphrase(locked);
        a.service.forgetStore(locked);
      });

      after(async () => {
        await a.keychain.forgetPassphrase(locked);
      });

      it('says it is locked (never an empty history), and a save made meanwhile lands after Unlock', async () => {
        await saveInEditor(a, folder, 'notes/locked.md', 'saved while the store was locked\n');
        a.snapshotsView.refresh(true);
        assert.deepEqual(
          (await snapshotRows()).map((r) => r.split(' · ')[0]),
          ['The backup store is encrypted and locked', 'Unlock Encrypted Store'],
        );
        a.statusBar.update();
        assert.equal(a.statusBar.text(), '$(lock) Backups locked');
        assert.match(a.statusBar.tooltipText(), /the encrypted store is locked\*\*; saves are kept until it opens/);
        const [health] = await a.healthView.refresh();
        assert.equal(health.report, undefined);
        assert.equal(health.problem, 'locked', health.error);
        assert.equal((await healthRows())[0], 'Store locked: enter its passphrase · Unlock');

        prompter.secrets = [PASSPHRASE];
        await vscode.commands.executeCommand('backup.unlockStore', folder.uri);
        await until('the save made while the store was locked, in a snapshot', () =>
          snapshotHolding(locked, 'notes/locked.md', 'saved while the store was locked\n', { passphrase: PASSPHRASE }),
        );
        a.statusBar.update();
        assert.notEqual(a.statusBar.text(), '$(lock) Backups locked');
      });
    });
  });
}

if (workspaceMode() === 'multi-root') {
  describe('when the store is lost in a multi-root workspace (#12)', function () {
    let a: ProjectBackupApi;
    let store: string;
    // The .code-workspace file's own setting: outside both folders, so no watcher sees it change.
    const config = () => vscode.workspace.getConfiguration('projectBackup');

    before(async () => {
      a = await api();
      a.setPrompter(new ScriptedPrompter());
      store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-lost-multi-')), 'store');
      await config().update('storePath', store, vscode.ConfigurationTarget.Workspace);
      for (const folder of workspaceFolders()) await a.service.snapshotFolder(folder, { trigger: 'manual' });
      assert.ok(fs.existsSync(path.join(store, 'config')));
    });

    after(async () => {
      await config().update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      fs.rmSync(path.dirname(store), { recursive: true, force: true });
    });

    it('the Snapshots view keeps each folder whose store is missing, and says so under it', async () => {
      fs.rmSync(store, { recursive: true });
      a.snapshotsView.refresh(true);
      const roots = await children(a.snapshotsView);
      assert.deepEqual(
        roots.map((n) => (n.kind === 'folder' ? n.folder.name : n.kind)),
        workspaceFolders().map((f) => f.name),
      );
      for (const root of roots) {
        const rows = (await children(a.snapshotsView, root)).map((n) => rowText(a.snapshotsView.getTreeItem(n)));
        assert.equal(rows[0], `The backup store is missing · ${store}`);
      }
    });
  });
}
