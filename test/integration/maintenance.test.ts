// Upkeep in the real editor: "Backup: Verify Backups" checks the store and reports damage; retention
// thins out old snapshots in the background after a snapshot, keeping labelled ones and the newest.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, write } from './helpers/api';
import { configuredStorePath, workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('maintenance (single folder)', function () {
    let a: ProjectBackupApi;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      a.setPrompter(new ScriptedPrompter());
      folder = workspaceFolders()[0];
    });

    it('Verify Backups re-reads the store and finds it clean', async () => {
      await vscode.commands.executeCommand('backup.verifyBackups');
      const report = a.maintenance.lastVerify;
      assert.ok(report, 'no verify report');
      assert.equal(report.ok, true, JSON.stringify(report.damage));
      assert.ok(report.snapshots >= 1 && report.packsRead >= 1);
    });

    it('Verify Backups reports a damaged pack instead of saying all is well', async () => {
      const data = path.join(configuredStorePath(), 'data');
      const packs = fs
        .readdirSync(data)
        .flatMap((sub) => fs.readdirSync(path.join(data, sub)).map((name) => path.join(data, sub, name)));
      const victim = packs.sort()[0];
      const original = fs.readFileSync(victim);
      const damaged = Buffer.from(original);
      damaged[Math.floor(damaged.length / 3)] ^= 0xff;
      fs.writeFileSync(victim, damaged);
      try {
        await vscode.commands.executeCommand('backup.verifyBackups');
        const report = a.maintenance.lastVerify;
        assert.ok(report && !report.ok, 'the damage went unnoticed');
        assert.ok(report.damage.length >= 1);
      } finally {
        fs.writeFileSync(victim, original);
      }
    });

    it('applies retention after a snapshot, keeping labelled snapshots and the newest', async () => {
      const config = vscode.workspace.getConfiguration('projectBackup');
      const before = await a.service.snapshots(folder, true);
      const labelled = before.filter((s) => s.label).map((s) => s.id);
      assert.ok(before.length >= 3, `only ${before.length} snapshots to thin out`);
      // Keep only the newest snapshot of the current hour: everything else unlabelled may go.
      await config.update('retention.keepAllWithinHours', 0, vscode.ConfigurationTarget.Global);
      await config.update('retention.keepHourly', 1, vscode.ConfigurationTarget.Global);
      try {
        write(folder, 'docs/retention.md', `a change to snapshot ${Date.now()}\n`);
        await vscode.commands.executeCommand('backup.snapshotWorkspace');
        await a.maintenance.lastRetention;
        const after = await a.service.snapshots(folder, true);
        assert.ok(
          after.length < before.length + 1,
          `retention removed nothing (${before.length} + 1 -> ${after.length})`,
        );
        for (const id of labelled)
          assert.ok(
            after.some((s) => s.id === id),
            `labelled snapshot ${id.slice(0, 8)} was removed`,
          );
        assert.equal(after[after.length - 1].trigger, 'manual', 'the newest snapshot was removed');
      } finally {
        await config.update('retention.keepAllWithinHours', undefined, vscode.ConfigurationTarget.Global);
        await config.update('retention.keepHourly', undefined, vscode.ConfigurationTarget.Global);
      }
    });
  });
}
