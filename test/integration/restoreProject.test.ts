// "Backup: Restore a Project from Backups..." and "Open a Store..." in the real editor (#12): a project
// whose folder is gone is listed with the store's other workspaces, restored byte for byte into its old
// path when that is free, and into a folder the user chooses when it is not; a store nobody configured is
// reached through Open a Store. The questions are answered by the scripted prompter, as a user would.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { Repository } from '../../src/core/repository/repository';
import { Snapshotter } from '../../src/core/snapshot/snapshotter';
import { ScriptedPrompter, api, until } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

type Files = Record<string, string | Buffer>;

function writeFiles(root: string, files: Files): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

function assertFiles(root: string, files: Files): void {
  for (const [rel, content] of Object.entries(files)) {
    assert.deepEqual(
      fs.readFileSync(path.join(root, ...rel.split('/'))),
      Buffer.isBuffer(content) ? content : Buffer.from(content),
      rel,
    );
  }
}

/** A project with a few snapshots in `store`, then its folder deleted: what the user has on the bad day. */
async function lostProject(store: string, name: string, files: Files): Promise<string> {
  const folder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-lost-')), name);
  fs.mkdirSync(folder);
  writeFiles(folder, { 'README.md': `# ${name}, first draft\n` });
  const repo = await Repository.open(store, { create: true });
  try {
    const snapshotter = new Snapshotter(repo, { workspace: folder });
    await snapshotter.snapshot({ trigger: 'cli' });
    writeFiles(folder, files);
    await snapshotter.snapshot({ trigger: 'cli', label: 'the last good state' });
  } finally {
    await repo.close();
  }
  fs.rmSync(folder, { recursive: true, force: true });
  return folder;
}

if (workspaceMode() === 'single-folder') {
  describe('restore a project from backups (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    const files: Files = {
      'src/main.ts': 'export const answer = 42;\n',
      'assets/logo.bin': Buffer.from([0, 1, 2, 250, 255]),
      'README.md': '# lost\n',
    };

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
    });

    it('lists a project whose folder is gone and restores its latest snapshot into its old path, byte for byte (#12)', async () => {
      const store = a.service.localStorePath(folder);
      const lost = await lostProject(store, `lost-project-${Date.now()}`, files);
      let listed: readonly vscode.QuickPickItem[] = [];
      prompter.picker = (items) => {
        if (!listed.length) listed = items;
        return items.find((i) => i.description === lost) ?? items[0];
      };
      const asked = prompter.asked.length;
      await vscode.commands.executeCommand('backup.restoreProject');
      prompter.picker = undefined;
      const item = listed.find((i) => i.description === lost);
      assert.ok(item, `the lost project is listed: ${listed.map((i) => i.description).join(', ')}`);
      assert.match(item.detail ?? '', /2 snapshots · .* · folder missing · local store /);
      const questions = prompter.asked.slice(asked);
      assert.ok(
        questions.some((q) => /restore which snapshot\? \(newest first\)/.test(q)),
        questions.join(' | '),
      );
      assert.ok(
        questions.some((q) => q.startsWith(`Restore ${path.basename(lost)} as of`) && q.endsWith(`into ${lost}?`)),
        questions.join(' | '),
      );
      assert.ok(!questions.some((q) => /choose an empty folder/.test(q)), 'its old path was free: no folder to choose');
      assertFiles(lost, files);
    });

    it('restores into a folder the user chooses when the old path is taken, and leaves the folder at the old path alone (#12)', async () => {
      const store = a.service.localStorePath(folder);
      const lost = await lostProject(store, `taken-path-${Date.now()}`, files);
      fs.mkdirSync(lost, { recursive: true });
      fs.writeFileSync(path.join(lost, 'someone-else.txt'), 'a new project now lives here\n');
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-restore-here-'));
      prompter.target = vscode.Uri.file(elsewhere);
      prompter.picker = (items) => items.find((i) => i.description === lost) ?? items[0];
      await vscode.commands.executeCommand('backup.restoreProject');
      prompter.picker = undefined;
      prompter.target = undefined;
      assertFiles(elsewhere, files);
      assert.deepEqual(fs.readdirSync(lost), ['someone-else.txt'], 'the folder at the old path was left alone');
    });

    it('Open a Store reaches a store no setting names, and a folder without a store is one clear sentence (#12)', async () => {
      const other = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-drive-')), 'store');
      const lost = await lostProject(other, `on-a-drive-${Date.now()}`, files);
      prompter.picker = (items) => items.find((i) => i.description === lost) ?? items[0];
      await vscode.commands.executeCommand('backup.openStore', other);
      prompter.picker = undefined;
      assertFiles(lost, files);

      const logged = a.log.recent.length;
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-not-a-store-'));
      await vscode.commands.executeCommand('backup.openStore', empty);
      await until('the error in the log', () =>
        a.log.recent.slice(logged).find((l) => /Open a Store failed: .*holds no backup store/.test(l)),
      );
      assert.deepEqual(fs.readdirSync(empty), [], 'nothing was created in the folder');
    });
  });
}
