// Label and pin from the Snapshots tree: the label shows on the snapshot's tree item and in File History,
// a pinned snapshot cannot be deleted by a stray click, and retention keeps both.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, children, snapshotRows, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('label and pin from the tree (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
    });

    it('labels and pins a snapshot from its tree item; the label shows in the tree and in File History', async () => {
      write(folder, 'src/labelled.js', `// ${Date.now()}\n`);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const [today] = await children(a.snapshotsView);
      const [newest] = await snapshotRows(a.snapshotsView, today);
      assert.equal(newest.kind, 'snapshot');
      prompter.texts = ['before the big refactor (tree)'];
      await vscode.commands.executeCommand('backup.labelSnapshot', newest);
      await vscode.commands.executeCommand('backup.pinSnapshot', newest);
      const [today2] = await children(a.snapshotsView);
      const [again] = await snapshotRows(a.snapshotsView, today2);
      const item = a.snapshotsView.getTreeItem(again) as vscode.TreeItem;
      assert.match(
        String(typeof item.label === 'string' ? item.label : item.label?.label),
        /before the big refactor \(tree\)/,
      );
      assert.equal(item.contextValue, 'snapshot.pinned');
      assert.ok(again.kind === 'snapshot' && again.snapshot.pinned === true);

      a.historyView.follow(vscode.Uri.joinPath(folder.uri, 'src/labelled.js'));
      const [version] = await children(a.historyView);
      const description = String((a.historyView.getTreeItem(version) as vscode.TreeItem).description ?? '');
      assert.match(description, /before the big refactor \(tree\)/);
    });

    it('refuses to delete a pinned snapshot, and deletes it once unpinned', async () => {
      const [today] = await children(a.snapshotsView);
      const pinned = (await snapshotRows(a.snapshotsView, today)).find(
        (n) => n.kind === 'snapshot' && n.snapshot.pinned,
      );
      assert.ok(pinned && pinned.kind === 'snapshot');
      prompter.confirmAnswer = true;
      await vscode.commands.executeCommand('backup.deleteSnapshot', pinned);
      assert.ok(
        (await a.service.snapshots(folder, true)).some((s) => s.id === pinned.snapshot.id),
        'a pinned snapshot was deleted',
      );
      await vscode.commands.executeCommand('backup.unpinSnapshot', pinned);
      await vscode.commands.executeCommand('backup.deleteSnapshot', pinned);
      assert.ok(
        !(await a.service.snapshots(folder, true)).some((s) => s.id === pinned.snapshot.id),
        'the unpinned snapshot was not deleted',
      );
    });
  });
}
