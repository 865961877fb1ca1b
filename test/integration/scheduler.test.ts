// Scheduled snapshots in the real editor: a scheduled run takes the whole workspace (so changes made outside
// the editor are captured even when nobody saved), and two runs of one workspace never overlap.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('scheduled snapshots (single folder)', function () {
    let a: ProjectBackupApi;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      a.setPrompter(new ScriptedPrompter());
      folder = workspaceFolders()[0];
    });

    it('a scheduled run is a full snapshot with trigger "schedule" that captures changes made outside the editor', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      await config.update('watchExternalChanges', false, vscode.ConfigurationTarget.Global);
      try {
        write(folder, 'generated/output.txt', 'made by a generator while the watcher was off\n');
        assert.equal(await a.scheduler.run(folder, 'schedule'), 'done');
        const snapshots = await a.service.snapshots(folder, true);
        const last = snapshots[snapshots.length - 1];
        assert.equal(last.trigger, 'schedule');
        assert.equal(last.paths, undefined, 'a scheduled snapshot must be a full scan, not an incremental one');
        assert.ok(last.stats.filesNew >= 1);
      } finally {
        await config.update('watchExternalChanges', true, vscode.ConfigurationTarget.Global);
      }
    });

    it('the start-up scan snapshots what changed while the editor was closed, with trigger "startup" (#12)', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      await config.update('watchExternalChanges', false, vscode.ConfigurationTarget.Global);
      await config.update('scanOnStartup', true, vscode.ConfigurationTarget.Global);
      try {
        await a.service.snapshotFolder(folder, { trigger: 'manual' });
        const before = (await a.service.snapshots(folder, true)).length;
        // Changed by another tool while no watcher saw it, as while the editor was closed.
        write(folder, 'generated/while-closed.txt', `written while the editor was closed ${Date.now()}\n`);
        await a.scheduler.startupScan(true);
        const snapshots = await a.service.snapshots(folder, true);
        assert.equal(snapshots.length, before + 1);
        const last = snapshots[snapshots.length - 1];
        assert.equal(last.trigger, 'startup');
        assert.equal(last.paths, undefined, 'a start-up scan is a full scan');
        assert.ok(last.stats.filesNew >= 1);
        // Nothing changed since: a second scan writes nothing.
        await a.scheduler.startupScan(true);
        assert.equal((await a.service.snapshots(folder, true)).length, before + 1);
      } finally {
        await config.update('watchExternalChanges', true, vscode.ConfigurationTarget.Global);
        await config.update('scanOnStartup', false, vscode.ConfigurationTarget.Global);
      }
    });

    it('never runs two scheduled snapshots of one workspace at once: the second is skipped, not an error', async () => {
      write(folder, 'generated/output.txt', `changed again ${Date.now()}\n`);
      const outcomes = await Promise.all([a.scheduler.run(folder, 'schedule'), a.scheduler.run(folder, 'schedule')]);
      assert.deepEqual([...outcomes].sort(), ['done', 'skipped-here']);
    });
  });
}
