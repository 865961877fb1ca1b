// Search History and the mirror folder in the real editor: a file-name result and a text result each open
// a diff of that version against the current file; the mirror folder follows the latest snapshot.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, closeAllEditors, read, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('search history and mirror (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
    });

    afterEach(() => {
      prompter.picker = undefined;
    });

    const diffOpened = () =>
      until('a diff editor', () => {
        const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return input instanceof vscode.TabInputTextDiff ? input : undefined;
      });

    it('finds a file by name across snapshots and opens its diff with the current file', async () => {
      await closeAllEditors();
      prompter.texts = ['math.js'];
      prompter.picker = (items) => items.find((i) => i.label === '$(file) src/lib/math.js');
      await vscode.commands.executeCommand('backup.searchHistory');
      const diff = await diffOpened();
      assert.equal(diff.original.scheme, 'backup-snapshot');
      assert.equal(diff.modified.fsPath, vscode.Uri.joinPath(folder.uri, 'src/lib/math.js').fsPath);
    });

    it('finds text inside stored versions, including a line that is no longer in the file', async () => {
      await closeAllEditors();
      write(folder, 'docs/secret.md', 'the launch code is tangerine\n');
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      write(folder, 'docs/secret.md', 'nothing to see here\n');
      prompter.texts = ['TANGERINE'];
      let offered: readonly vscode.QuickPickItem[] = [];
      prompter.picker = (items) => {
        offered = items;
        return items.find((i) => i.label.startsWith('$(search) docs/secret.md:1'));
      };
      await vscode.commands.executeCommand('backup.searchHistory');
      assert.ok(
        offered.some((i) => (i.description ?? '').includes('tangerine')),
        'the matching line is not shown',
      );
      const diff = await diffOpened();
      assert.match((await vscode.workspace.openTextDocument(diff.original)).getText(), /tangerine/);
      assert.equal(read(folder, 'docs/secret.md'), 'nothing to see here\n');
    });

    it('a text match in a file deleted since says so (#14)', async () => {
      await closeAllEditors();
      write(folder, 'docs/gone-soon.md', 'the word marmalade lives here\n');
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      fs.rmSync(path.join(folder.uri.fsPath, 'docs', 'gone-soon.md'));
      prompter.texts = ['marmalade'];
      let offered: readonly vscode.QuickPickItem[] = [];
      prompter.picker = (items) => {
        offered = items;
        return undefined;
      };
      await vscode.commands.executeCommand('backup.searchHistory');
      const hit = offered.find((i) => i.label.startsWith('$(search) docs/gone-soon.md:1'));
      assert.ok(hit, offered.map((i) => i.label).join(' | '));
      assert.match(hit.detail ?? '', /in a file deleted since/);
      const live = offered.find((i) => i.label.startsWith('$(search)') && !i.label.includes('gone-soon'));
      if (live) assert.doesNotMatch(live.detail ?? '', /deleted since/);
    });

    it('keeps the mirror folder an exact copy of the latest snapshot after each snapshot', async () => {
      const mirrorDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-mirror-')), 'mirror');
      const config = vscode.workspace.getConfiguration('projectBackup');
      await config.update('mirrorFolder', mirrorDir, vscode.ConfigurationTarget.Global);
      try {
        write(folder, 'docs/mirrored.md', 'in the mirror\n');
        prompter.texts = [''];
        await vscode.commands.executeCommand('backup.snapshotWorkspace');
        await until(
          'the mirror to be written',
          async () => {
            await a.maintenance.lastMirror;
            return fs.existsSync(path.join(mirrorDir, 'docs', 'mirrored.md'));
          },
          120_000,
        );
        assert.equal(fs.readFileSync(path.join(mirrorDir, 'docs', 'mirrored.md'), 'utf8'), 'in the mirror\n');
        assert.equal(fs.readFileSync(path.join(mirrorDir, 'src', 'index.js'), 'utf8'), read(folder, 'src/index.js'));
        // A file removed from the workspace leaves the mirror after the next snapshot.
        fs.rmSync(path.join(folder.uri.fsPath, 'docs', 'mirrored.md'));
        prompter.texts = [''];
        await vscode.commands.executeCommand('backup.snapshotWorkspace');
        await until(
          'the mirror to drop the file',
          async () => {
            await a.maintenance.lastMirror;
            return !fs.existsSync(path.join(mirrorDir, 'docs', 'mirrored.md'));
          },
          120_000,
        );
      } finally {
        await config.update('mirrorFolder', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  });
}
