// The passphrase of an encrypted store in the real editor: asked once (a wrong one is refused and asked
// again), kept in VS Code's secret storage, never written to settings or the log; a cancelled prompt does
// not come back on every save until "Unlock Encrypted Store"; the health view shows the store encrypted.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Repository } from '../../src/core/repository/repository';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

const PASSPHRASE = 'correct horse battery staple 4711';
const WRONG = 'not-the-passphrase-0815';

if (workspaceMode() === 'single-folder') {
  describe('encrypted store passphrase (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    let store: string;

    const passphrasePrompts = () => prompter.asked.filter((q) => /is encrypted: enter its passphrase/.test(q));

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      store = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-encrypted-')), 'store');
      const created = await Repository.open(store, { create: true, encrypt: true, passphrase: async () => PASSPHRASE });
      assert.equal(created.codec.encrypted, true);
      // The workspace's own store setting wins over the user's (and code-server's machine) value.
      await vscode.workspace
        .getConfiguration('projectBackup')
        .update('storePath', store, vscode.ConfigurationTarget.Workspace);
      assert.equal(a.service.localStorePath(folder), store);
    });

    after(async () => {
      await vscode.workspace
        .getConfiguration('projectBackup')
        .update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      await a.keychain.forgetPassphrase(store);
      fs.rmSync(path.dirname(store), { recursive: true, force: true });
    });

    it('asks for the passphrase, refuses a wrong one and asks again, then snapshots into the encrypted store', async () => {
      prompter.secrets = [WRONG, PASSPHRASE];
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const asked = passphrasePrompts();
      assert.equal(asked.length, 2, `prompts: ${prompter.asked.join(' | ')}`);
      assert.match(asked[1], /did not open it; try again/);
      const snapshots = await a.service.snapshots(folder, true);
      assert.equal(snapshots.length, 1);
      assert.equal((await a.service.repository(folder)).codec.encrypted, true);
      assert.equal(await a.keychain.hasPassphrase(store), true, 'the working passphrase is not kept in secret storage');
    });

    it('never writes the passphrase to the settings or the log', async () => {
      const logged = a.log.recent.join('\n');
      assert.ok(logged.includes(store), 'the log does not mention the store at all (is it the right log?)');
      assert.ok(!logged.includes(PASSPHRASE) && !logged.includes(WRONG), 'a passphrase reached the log');
      const settings = JSON.stringify(vscode.workspace.getConfiguration('projectBackup'));
      assert.ok(!settings.includes(PASSPHRASE), 'the passphrase reached the settings');
      const settingsFiles = [path.join(folder.uri.fsPath, '.vscode', 'settings.json')].filter((f) => fs.existsSync(f));
      for (const file of settingsFiles) assert.ok(!fs.readFileSync(file, 'utf8').includes(PASSPHRASE));
    });

    it('asks only once: reopening the store uses the kept passphrase', async () => {
      const before = passphrasePrompts().length;
      a.service.forgetStore(store);
      write(folder, 'notes/encrypted.md', `kept ${Date.now()}\n`);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      assert.equal(passphrasePrompts().length, before, 'asked again although the passphrase is kept');
      assert.equal((await a.service.snapshots(folder, true)).length, 2);
    });

    it('a cancelled prompt is not repeated on every save; "Unlock Encrypted Store" asks again and opens it', async () => {
      await a.keychain.forgetPassphrase(store);
      a.service.forgetStore(store);
      prompter.secrets = [undefined];
      const before = passphrasePrompts().length;
      await assert.rejects(
        a.service.repository(folder),
        /is encrypted and no passphrase was given; run "Backup: Unlock Encrypted Store"/,
      );
      await assert.rejects(a.service.repository(folder), /no passphrase was given/);
      assert.equal(passphrasePrompts().length, before + 1, 'the cancelled prompt came back');

      const [health] = await a.healthView.refresh();
      assert.equal(health.report, undefined);
      assert.ok(health.error && health.locked, 'the health view does not say the store is locked');

      prompter.secrets = [PASSPHRASE];
      await vscode.commands.executeCommand('backup.unlockStore', folder.uri);
      assert.equal((await a.service.repository(folder)).codec.encrypted, true);
      const [after] = await a.healthView.refresh();
      assert.ok(after.report, after.error);
      assert.equal(after.report.encrypted, true);
      assert.equal(after.report.snapshotCount, 2);
    });
  });
}
