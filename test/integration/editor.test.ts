// The product as a user meets it, inside the real extension host: snapshots on save and on external
// changes, the Snapshot Workspace command, the views, every compare command, restore of a file, a deleted
// file, a folder and a whole snapshot, undo, unsaved-editor protection, Restore to... and a bad setting.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { readWholeFile } from '../../src/core/query/browse';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import type { Node } from '../../src/vscode/views/nodes';
import {
  ScriptedPrompter,
  api,
  saveAndFlush,
  children,
  closeAllEditors,
  read,
  snapshotRows,
  typeUnsaved,
  until,
  write,
} from './helpers/api';
import { configuredStorePath, workspaceFolders, workspaceMode } from './helpers/environment';
import { emit } from './index';

const SCHEME = 'backup-snapshot';

function label(provider: vscode.TreeDataProvider<Node>, node: Node): string {
  const item = provider.getTreeItem(node) as vscode.TreeItem;
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

async function fileAt(snapshot: SnapshotRecord, rel: string): Promise<string> {
  const repo = await Repository.open(configuredStorePath());
  return (await readWholeFile(repo, snapshot, rel)).toString('utf8');
}

function activeDiff(): vscode.TabInputTextDiff {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  assert.ok(input instanceof vscode.TabInputTextDiff, 'the active tab is not a diff editor');
  return input;
}

async function textOf(uri: vscode.Uri): Promise<string> {
  return (await vscode.workspace.openTextDocument(uri)).getText();
}

if (workspaceMode() === 'single-folder') {
  describe('editor experience (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    let firstSnapshot: SnapshotRecord;
    const originalIndex = () =>
      fs.readFileSync(
        path.join(__dirname, '..', '..', '..', 'test', 'integration', 'fixtures', 'workspace', 'src', 'index.js'),
        'utf8',
      );

    const latest = async () => {
      const all = await a.service.snapshots(folder, true);
      return all[all.length - 1];
    };

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      await vscode.workspace
        .getConfiguration('projectBackup')
        .update('saveDebounceMs', 200, vscode.ConfigurationTarget.Global);
    });

    after(async () => {
      await closeAllEditors();
    });

    it('activates without touching the store (no scan at activation)', () => {
      assert.ok(a.activationMs >= 0);
      // A figure for the record, not an assertion (timing belongs in benchmarks).
      emit(`      (activation took ${a.activationMs.toFixed(1)} ms)`);
      assert.equal(
        fs.existsSync(path.join(configuredStorePath(), 'config')),
        false,
        'activation created or opened the store',
      );
    });

    it('Snapshot Workspace takes a full snapshot with the label typed in the input box', async () => {
      prompter.texts = ['before the big refactor'];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      firstSnapshot = await latest();
      assert.equal(firstSnapshot.label, 'before the big refactor');
      assert.equal(firstSnapshot.trigger, 'manual');
      assert.ok(firstSnapshot.stats.files >= 5, `only ${firstSnapshot.stats.files} files`);
      assert.equal(await fileAt(firstSnapshot, 'src/index.js'), originalIndex());
    });

    it('snapshots a saved file, and makes no new version when the content did not change', async () => {
      const uri = vscode.Uri.joinPath(folder.uri, 'src/index.js');
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await typeUnsaved(editor, '// edited in the editor\n');
      await saveAndFlush(a, doc);
      const saved = await latest();
      assert.equal(saved.trigger, 'save');
      assert.deepEqual(saved.paths, ['src/index.js']);
      assert.equal(await fileAt(saved, 'src/index.js'), doc.getText());

      // Dirty but identical content: the save fires, and no duplicate version appears.
      await editor.edit((e) => e.insert(new vscode.Position(0, 0), 'x'));
      await editor.edit((e) => e.delete(new vscode.Range(0, 0, 0, 1)));
      assert.equal(doc.isDirty, true);
      await saveAndFlush(a, doc);
      assert.equal((await latest()).id, saved.id, 'an unchanged save made a new snapshot');
    });

    it('captures a file changed outside the editor', async () => {
      write(folder, 'src/generated.js', 'module.exports = 42;\n');
      const snapshot = await until('an external-change snapshot', async () => {
        await a.flush();
        const s = await latest();
        return s.trigger === 'external' && s.paths?.includes('src/generated.js') ? s : undefined;
      });
      assert.equal(await fileAt(snapshot, 'src/generated.js'), 'module.exports = 42;\n');
    });

    it('shows snapshots grouped by day, with what changed and the whole tree', async () => {
      const view = a.snapshotsView;
      const days = await children(view);
      assert.equal(label(view, days[0]), 'Today');
      const snapshots = await snapshotRows(view, days[0]);
      assert.ok(snapshots.length >= 3);
      assert.equal(snapshots[0].kind, 'snapshot');
      // Newest first: the external change, then the save, then the labelled one.
      const saveNode = snapshots.find((n) => n.kind === 'snapshot' && n.snapshot.trigger === 'save');
      assert.ok(saveNode);
      const changed = await children(view, saveNode);
      const version = changed.find((n) => n.kind === 'version' && n.relPath === 'src/index.js');
      assert.ok(
        version && version.kind === 'version' && version.change === 'modified',
        'the save snapshot does not list src/index.js as modified',
      );
      const browse = changed.find((n) => n.kind === 'browse');
      assert.ok(browse);
      const top = (await children(view, browse)).map((n) => label(view, n));
      for (const name of ['src', 'docs', 'README.md'])
        assert.ok(top.includes(name), `All files lacks ${name}: ${top.join(', ')}`);
      const labelled = snapshots.find((n) => n.kind === 'snapshot' && n.snapshot.id === firstSnapshot.id);
      assert.ok(labelled && label(view, labelled).includes('before the big refactor'));
    });

    it('File History follows the active editor, newest first', async () => {
      await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, 'src/lib/math.js'));
      await until('history to follow math.js', () =>
        a.historyView.current?.fsPath.endsWith(path.join('src', 'lib', 'math.js')),
      );
      assert.equal((await children(a.historyView)).length, 1);
      await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, 'src/index.js'));
      await until('history to follow index.js', () =>
        a.historyView.current?.fsPath.endsWith(path.join('src', 'index.js')),
      );
      const versions = await children(a.historyView);
      assert.equal(versions.length, 2);
      const times = versions.map((v) => (v.kind === 'version' ? v.snapshot.time : ''));
      assert.ok(times[0] > times[1], 'versions are not newest first');
    });

    it('Compare with Current diffs the version (left) against the live file (right)', async () => {
      const versions = await children(a.historyView);
      const oldest = versions[versions.length - 1];
      await vscode.commands.executeCommand('backup.compareWithCurrent', oldest);
      const diff = await until('a diff editor', () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff
          ? activeDiff()
          : undefined,
      );
      assert.equal(diff.original.scheme, SCHEME);
      assert.equal(diff.modified.fsPath, vscode.Uri.joinPath(folder.uri, 'src/index.js').fsPath);
      assert.equal(await textOf(diff.original), originalIndex());
      assert.match(vscode.window.tabGroups.activeTabGroup.activeTab?.label ?? '', /index\.js \(.+\) ↔ index\.js/);
    });

    it('Compare with Previous diffs a version against the one before it', async () => {
      const [newest] = await children(a.historyView);
      await closeAllEditors();
      await vscode.commands.executeCommand('backup.compareWithPrevious', newest);
      const diff = await until('a diff editor', () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff
          ? activeDiff()
          : undefined,
      );
      assert.equal(await textOf(diff.original), originalIndex());
      assert.match(await textOf(diff.modified), /^\/\/ edited in the editor/);
    });

    it('Select for Compare then Compare with Selected diffs two chosen versions', async () => {
      const [newest, oldest] = await children(a.historyView);
      await closeAllEditors();
      await vscode.commands.executeCommand('backup.selectForCompare', oldest);
      await vscode.commands.executeCommand('backup.compareWithSelected', newest);
      const diff = await until('a diff editor', () =>
        vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputTextDiff
          ? activeDiff()
          : undefined,
      );
      assert.equal(await textOf(diff.original), originalIndex());
      assert.match(await textOf(diff.modified), /^\/\/ edited in the editor/);
    });

    it('Open This Version opens it read-only under the backup scheme', async () => {
      const versions = await children(a.historyView);
      await vscode.commands.executeCommand('backup.openVersion', versions[versions.length - 1]);
      const doc = vscode.window.activeTextEditor?.document;
      assert.equal(doc?.uri.scheme, SCHEME);
      assert.equal(doc?.getText(), originalIndex());
      assert.equal(doc?.languageId, 'javascript');
    });

    it('restores a file version after a preview, and Undo Last Restore puts the file back', async () => {
      await closeAllEditors();
      const before = read(folder, 'src/index.js');
      const versions = await children(a.historyView);
      await vscode.commands.executeCommand('backup.restoreFile', versions[versions.length - 1]);
      assert.equal(read(folder, 'src/index.js'), originalIndex());
      const preview = prompter.previews[prompter.previews.length - 1];
      assert.deepEqual(
        preview.map((c) => [c.action, c.path]),
        [['overwrite', 'src/index.js']],
      );

      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.equal(read(folder, 'src/index.js'), before);
    });

    it('never loses unsaved editor changes: they go into the undo snapshot', async () => {
      const uri = vscode.Uri.joinPath(folder.uri, 'src/lib/math.js');
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await typeUnsaved(editor, '// UNSAVED WORK\n');
      assert.equal(doc.isDirty, true);
      const onDisk = read(folder, 'src/lib/math.js');
      // Restore math.js from the first snapshot (same as disk), so the only difference is the unsaved buffer.
      write(folder, 'src/lib/math.js', `${onDisk}// changed on disk\n`);
      await a.flush();
      await a.historyView.follow(uri);
      const versions = await until('math.js versions', async () => {
        const list = await children(a.historyView);
        return list.length ? list : undefined;
      });
      await vscode.commands.executeCommand('backup.restoreFile', versions[versions.length - 1]);
      assert.match(prompter.asked[prompter.asked.length - 1], /unsaved changes/);
      assert.equal(read(folder, 'src/lib/math.js'), onDisk);
      await until('the editor to show the restored file', () => !doc.isDirty && doc.getText() === onDisk);

      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.match(read(folder, 'src/lib/math.js') ?? '', /^\/\/ UNSAVED WORK/, 'the unsaved buffer was lost');
    });

    it('restoring the version the disk already has still replaces unsaved text in the editor, after keeping it for undo (#12)', async () => {
      const uri = vscode.Uri.joinPath(folder.uri, 'src/lib/math.js');
      await a.flush();
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      const onDisk = read(folder, 'src/lib/math.js');
      await a.historyView.follow(uri);
      const versions = await until('math.js versions', async () => {
        const list = await children(a.historyView);
        return list.length ? list : undefined;
      });
      // The newest version is what the disk holds: the only difference is the editor's unsaved text.
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await typeUnsaved(editor, '// UNSAVED, SAME FILE ON DISK\n');
      assert.equal(doc.isDirty, true);
      const shown = prompter.previews.length;
      await vscode.commands.executeCommand('backup.restoreFile', versions[0]);
      assert.equal(
        prompter.previews.length,
        shown + 1,
        'it asked to restore instead of saying there was nothing to restore',
      );
      assert.deepEqual(
        prompter.previews[shown].map((c) => `${c.action} ${c.path}`),
        ['overwrite src/lib/math.js'],
      );
      await until('the editor to show the restored version', () => !doc.isDirty && doc.getText() === onDisk);
      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.match(
        read(folder, 'src/lib/math.js') ?? '',
        /^\/\/ UNSAVED, SAME FILE ON DISK/,
        'the unsaved text was kept for undo',
      );
    });

    it('restores a deleted file from the snapshot that deleted it', async () => {
      const original = read(folder, 'docs/notes.md');
      assert.ok(original);
      fs.unlinkSync(path.join(folder.uri.fsPath, 'docs', 'notes.md'));
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const view = a.snapshotsView;
      const [today] = await children(view);
      const [newest] = await snapshotRows(view, today);
      const deleted = (await children(view, newest)).find((n) => n.kind === 'version' && n.relPath === 'docs/notes.md');
      assert.ok(deleted && deleted.kind === 'version' && deleted.change === 'deleted', 'the deletion is not shown');
      assert.equal((view.getTreeItem(deleted) as vscode.TreeItem).contextValue, 'version.deleted');
      await vscode.commands.executeCommand('backup.restoreFile', deleted);
      assert.equal(read(folder, 'docs/notes.md'), original);
    });

    it('restores a folder exactly, removing files created since', async () => {
      write(folder, 'src/lib/extra.js', 'extra\n');
      write(folder, 'src/lib/format.js', 'changed\n');
      const view = a.snapshotsView;
      const [today] = await children(view);
      const first = (await snapshotRows(view, today)).find(
        (n) => n.kind === 'snapshot' && n.snapshot.id === firstSnapshot.id,
      );
      assert.ok(first);
      const browse = (await children(view, first)).find((n) => n.kind === 'browse');
      assert.ok(browse);
      const src = (await children(view, browse)).find((n) => n.kind === 'folderVersion' && n.relPath === 'src');
      assert.ok(src);
      const lib = (await children(view, src)).find((n) => n.kind === 'folderVersion' && n.relPath === 'src/lib');
      assert.ok(lib);
      await vscode.commands.executeCommand('backup.restoreFolder', lib);
      assert.equal(read(folder, 'src/lib/extra.js'), undefined);
      assert.equal(read(folder, 'src/lib/format.js'), await fileAt(firstSnapshot, 'src/lib/format.js'));
      const preview = prompter.previews[prompter.previews.length - 1];
      assert.ok(preview.some((c) => c.action === 'delete' && c.path === 'src/lib/extra.js'));
    });

    it('restores a whole snapshot, and the undo brings the newer state back', async () => {
      const before = read(folder, 'src/index.js');
      const view = a.snapshotsView;
      const [today] = await children(view);
      const first = (await snapshotRows(view, today)).find(
        (n) => n.kind === 'snapshot' && n.snapshot.id === firstSnapshot.id,
      );
      await vscode.commands.executeCommand('backup.restoreSnapshot', first);
      assert.equal(read(folder, 'src/index.js'), originalIndex());
      assert.equal(
        read(folder, 'src/generated.js'),
        undefined,
        'a file created after the snapshot survived a full restore',
      );
      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.equal(read(folder, 'src/index.js'), before);
      assert.equal(read(folder, 'src/generated.js'), 'module.exports = 42;\n');
    });

    it('Restore to... writes a version into another folder and leaves the workspace alone', async () => {
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-to-'));
      prompter.target = vscode.Uri.file(elsewhere);
      const current = read(folder, 'src/index.js');
      const versions = await children(
        a.historyView.current?.fsPath.endsWith('index.js') ? a.historyView : a.historyView,
      );
      const node = versions.find((n) => n.kind === 'version');
      assert.ok(node);
      await vscode.commands.executeCommand('backup.restoreFileTo', node);
      assert.ok(node.kind === 'version');
      assert.ok(fs.existsSync(path.join(elsewhere, ...node.relPath.split('/'))));
      assert.equal(read(folder, 'src/index.js'), current);
      assert.equal(prompter.openLabels.at(-1), 'Restore Here', "the folder dialog's button");
    });

    it("Show File History follows the file it is run on; Copy Path puts that file's path on the clipboard", async () => {
      const file = vscode.Uri.joinPath(folder.uri, 'README.md');
      await vscode.commands.executeCommand('backup.showFileHistory', file);
      assert.equal(a.historyView.current?.fsPath, file.fsPath);
      const node = (await children(a.historyView)).find((n) => n.kind === 'version');
      assert.ok(node, 'README.md has no version in File History');
      await vscode.env.clipboard.writeText('');
      await vscode.commands.executeCommand('backup.copyPath', node);
      assert.equal(await vscode.env.clipboard.readText(), file.fsPath);
    });

    it('refreshes the Snapshots view when the CLI (another process) makes a snapshot in the same store', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      await config.update('watchExternalChanges', false, vscode.ConfigurationTarget.Global);
      try {
        write(folder, 'docs/from-cli.md', 'written by a script\n');
        let refreshed = 0;
        const subscription = a.snapshotsView.onDidChangeTreeData(() => refreshed++);
        const cli = path.join(
          vscode.extensions.getExtension('project-backup.project-backup')!.extensionPath,
          'dist',
          'cli.js',
        );
        execFileSync(
          process.execPath,
          [cli, 'snapshot', folder.uri.fsPath, '--repo', configuredStorePath(), '--label', 'from the CLI'],
          { stdio: 'pipe' },
        );
        await until('the view to refresh', () => refreshed > 0);
        subscription.dispose();
        const view = a.snapshotsView;
        const [today] = await children(view);
        const [newest] = await snapshotRows(view, today);
        assert.ok(
          newest.kind === 'snapshot' && newest.snapshot.label === 'from the CLI',
          'the CLI snapshot is not at the top of the view',
        );
      } finally {
        await config.update('watchExternalChanges', true, vscode.ConfigurationTarget.Global);
      }
    });

    it('an invalid store setting fails with one clear sentence, and recovers when fixed', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      const good = configuredStorePath();
      const blocked = path.join(folder.uri.fsPath, 'README.md', 'store');
      await config.update('storePath', blocked, vscode.ConfigurationTarget.Global);
      try {
        prompter.texts = [''];
        await vscode.commands.executeCommand('backup.snapshotWorkspace');
        const error = a.service.status(folder).lastError ?? '';
        assert.match(error, /cannot be created/);
        assert.ok(!error.includes('\n    at '), 'the message carries a stack trace');
      } finally {
        await config.update('storePath', good, vscode.ConfigurationTarget.Global);
      }
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      assert.equal(a.service.status(folder).lastError, undefined);
    });
  });
}
