// Loading states (#12): for the seconds a store takes to open, a well-backed-up workspace must never look
// unprotected. A fresh BackupService (as after a window opens) has not read the store yet: the status bar
// says it is loading, then, once the history is read, when the workspace was last backed up.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { createBackupService } from '../../src/vscode/backupService';
import { StatusBar } from '../../src/vscode/views/statusBar';
import { ScriptedPrompter, api, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('loading states (single folder)', function () {
    let a: ProjectBackupApi;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      a.setPrompter(new ScriptedPrompter());
      folder = workspaceFolders()[0];
      await a.service.snapshotFolder(folder, { trigger: 'manual' });
    });

    it('until the store is read the status bar says "Loading backups…", never "Not backed up yet"; then when it was backed up (#12)', async () => {
      const fresh = createBackupService({ log: a.log });
      const bar = new StatusBar(fresh);
      try {
        assert.equal(fresh.status(folder).loaded, false);
        assert.match(bar.text(), /Loading backups/);
        assert.doesNotMatch(bar.text(), /Not backed up/);
        assert.match(bar.tooltipText(), /loading…/);
        await fresh.loadStatuses();
        assert.equal(fresh.status(folder).loaded, true);
        assert.match(bar.text(), /Backed up just now/);
      } finally {
        bar.dispose();
        fresh.dispose();
      }
    });

    it('Backup Health refreshes after every snapshot, automatic ones included (#12)', async () => {
      await a.healthView.refresh();
      write(folder, 'notes/after-health.txt', `a change ${Date.now()}\n`);
      const result = await a.service.snapshotFolder(folder, { trigger: 'external', paths: ['notes/after-health.txt'] });
      assert.ok(result.created);
      await until(
        'the health view to show the new snapshot',
        () => a.healthView.cached(folder)?.report?.lastSnapshot === result.snapshot.time,
      );
    });

    it('a store that was never created is not created just to draw the status bar, and then reads "Not backed up yet" (#12)', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      const previous = config.inspect<string>('storePath')?.workspaceValue;
      const nowhere = `${a.service.localStorePath(folder)}-never-made-${Date.now()}`;
      await config.update('storePath', nowhere, vscode.ConfigurationTarget.Workspace);
      const fresh = createBackupService({ log: a.log });
      const bar = new StatusBar(fresh);
      try {
        await fresh.loadStatuses();
        assert.equal(fs.existsSync(nowhere), false, 'the status bar created a store');
        assert.match(bar.text(), /Not backed up yet/);
      } finally {
        bar.dispose();
        fresh.dispose();
        await config.update('storePath', previous, vscode.ConfigurationTarget.Workspace);
      }
    });
  });
}
