// Finer history in the real editor (#15): Show History for Selection lists the versions in which the
// selected function differed, following it when lines were added above, and opens the diff at it; Restore
// Selection from This Version puts an old version's lines in place of the selection (an editor edit, undone
// with Undo); and Compare with Current's right side is the live file, editable, so a block can be taken over.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, closeAllEditors, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

const file = (header: string, body: string) =>
  `${header}export function area(r) {\n  ${body}\n}\nexport const other = 1;\n`;

if (workspaceMode() === 'single-folder') {
  describe('finer history: selections and blocks (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      await closeAllEditors();
      write(folder, 'sel/geo.js', file('', 'return 3 * r * r;'));
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      write(folder, 'sel/geo.js', file('', 'return Math.PI * r * r;'));
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      write(folder, 'sel/geo.js', file('// geometry\n// helpers\n', 'return Math.PI * r * r;'));
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
    });

    after(async () => {
      prompter.picker = undefined;
      await closeAllEditors();
    });

    async function selectFunction(): Promise<vscode.TextEditor> {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'sel/geo.js'));
      const editor = await vscode.window.showTextDocument(doc);
      // An unsaved edit in the editor counts: the history is of what the editor shows.
      const body = doc.getText().indexOf('Math.PI * r * r');
      if (body >= 0)
        await editor.edit((e) =>
          e.replace(
            new vscode.Range(doc.positionAt(body), doc.positionAt(body + 'Math.PI * r * r'.length)),
            'Math.PI * r ** 2',
          ),
        );
      const start = doc.getText().split('\n').indexOf('export function area(r) {');
      editor.selection = new vscode.Selection(start, 0, start + 3, 0);
      return editor;
    }

    it('Show History for Selection lists the versions where the selected function differed, and opens the diff at it (#15)', async () => {
      await selectFunction();
      let listed: readonly vscode.QuickPickItem[] = [];
      prompter.picker = (items) => ((listed = items), items[0]);
      await vscode.commands.executeCommand('backup.showSelectionHistory');
      assert.deepEqual(
        listed.map((i) => i.detail),
        ['return Math.PI * r * r;', 'return 3 * r * r;'],
        'each row shows what that version had instead',
      );
      assert.deepEqual(
        listed.map((i) => /lines (\d+)-(\d+)/.exec(i.description ?? '')?.[0]),
        ['lines 3-5', 'lines 1-3'],
        'followed through the lines added above',
      );
      const tab = await until('the diff editor', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff ? input : undefined;
      });
      assert.equal(tab.original.scheme, 'backup-snapshot');
      assert.equal(tab.modified.scheme, 'file');
      const right = vscode.window.activeTextEditor;
      assert.equal(right?.document.uri.scheme, 'file');
      assert.equal(right?.selection.start.line, 2, 'the diff opens at the region');
    });

    it('Restore Selection from This Version puts the old lines in place of the selection, and Undo takes them back (#15)', async () => {
      await closeAllEditors();
      const editor = await selectFunction();
      const before = editor.document.getText();
      prompter.picker = (items) => items[items.length - 1]; // the oldest: 3 * r * r
      await vscode.commands.executeCommand('backup.restoreSelection');
      assert.equal(editor.document.getText(), file('// geometry\n// helpers\n', 'return 3 * r * r;'));
      assert.equal(editor.document.isDirty, true, 'an edit in the editor, not saved');
      await vscode.commands.executeCommand('undo');
      assert.equal(editor.document.getText(), before);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    });

    it('File History continues across a rename, showing the old name on the older rows (#15)', async () => {
      write(folder, 'ren/old-name.txt', 'first words\nsecond line\nthird line\n');
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      write(folder, 'ren/old-name.txt', 'first words, edited\nsecond line\nthird line\n');
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      fs.renameSync(
        path.join(folder.uri.fsPath, 'ren', 'old-name.txt'),
        path.join(folder.uri.fsPath, 'ren', 'new-name.txt'),
      );
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
      await a.historyView.follow(vscode.Uri.joinPath(folder.uri, 'ren/new-name.txt'));
      const rows = (await a.historyView.getChildren()) as Array<{ kind: string; relPath?: string }>;
      assert.deepEqual(
        rows.map((r) => r.relPath),
        ['ren/new-name.txt', 'ren/old-name.txt', 'ren/old-name.txt'],
      );
      const older = a.historyView.getTreeItem(rows[1] as never);
      assert.match(
        `${typeof older.label === 'string' ? older.label : older.label?.label} ${older.description ?? ''}`,
        /old-name\.txt/,
        'the row says the old name',
      );
    });

    it('Compare with Current shows the live file on the right, editable: a block taken from the old version lands in the file (#15)', async () => {
      await closeAllEditors();
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'sel/geo.js'));
      await vscode.window.showTextDocument(doc);
      prompter.picker = (items) => items[items.length - 1];
      await vscode.commands.executeCommand('backup.compareWithCurrent');
      const tab = await until('the diff editor', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff ? input : undefined;
      });
      assert.equal(tab.modified.toString(), doc.uri.toString(), 'the right side is the file itself');
      const right = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
      assert.ok(right, 'the right side is a text editor of the file');
      const old = (await vscode.workspace.openTextDocument(tab.original)).getText();
      const oldBody = old.split('\n')[1];
      const line = doc
        .getText()
        .split('\n')
        .findIndex((l) => l.includes('Math.PI'));
      assert.ok(await right.edit((e) => e.replace(doc.lineAt(line).range, oldBody)), 'the right side accepts the edit');
      assert.match(doc.getText(), /return 3 \* r \* r;/);
      await vscode.commands.executeCommand('workbench.action.files.revert');
    });
  });
}
