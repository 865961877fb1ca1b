// A workspace of two folders: each is backed up on its own (own workspace id, own history), the Snapshots
// view groups by folder, and saves in either folder land in that folder's history.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import type { Node } from '../../src/vscode/views/nodes';
import { ScriptedPrompter, api, saveAndFlush, typeUnsaved } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'multi-root') {
  describe('editor experience (multi-root)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      await vscode.workspace
        .getConfiguration('projectBackup')
        .update('saveDebounceMs', 200, vscode.ConfigurationTarget.Global);
    });

    it('Snapshot Workspace backs up every folder, each under its own workspace id', async () => {
      prompter.texts = ['both folders'];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const [main, library] = workspaceFolders();
      const mine = await a.service.snapshots(main, true);
      const theirs = await a.service.snapshots(library, true);
      assert.equal(mine.length, 1);
      assert.equal(theirs.length, 1);
      assert.notEqual(mine[0].workspace.id, theirs[0].workspace.id);
      assert.equal(mine[0].label, 'both folders');
      assert.equal(theirs[0].workspace.path, library.uri.fsPath);
    });

    it('a save goes into the history of the folder that holds the file', async () => {
      const [main, library] = workspaceFolders();
      const uri = vscode.Uri.joinPath(library.uri, 'lib/strings.js');
      const doc = await vscode.workspace.openTextDocument(uri);
      const editor = await vscode.window.showTextDocument(doc);
      await typeUnsaved(editor, '// library edit\n');
      await saveAndFlush(a, doc);
      const theirs = await a.service.snapshots(library, true);
      assert.equal(theirs.length, 2);
      assert.deepEqual(theirs[1].paths, ['lib/strings.js']);
      assert.equal((await a.service.snapshots(main, true)).length, 1);
    });

    it('the Snapshots view shows one node per folder', async () => {
      const roots = ((await a.snapshotsView.getChildren()) ?? []) as Node[];
      assert.deepEqual(
        roots.map((n) => (n.kind === 'folder' ? n.folder.name : n.kind)),
        workspaceFolders().map((f) => f.name),
      );
    });
  });
}
