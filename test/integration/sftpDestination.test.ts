// An SFTP destination from the real editor against a real OpenSSH server (started by the test on
// 127.0.0.1): Add Backup Destination with a private key, which goes to VS Code's secret storage and
// nowhere else; the unknown host key is shown once to trust; the copy lands on the server; later copies
// run in the background without asking; a password login set with Set Destination Credentials works too.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { destinationKey } from '../../src/core/health/gather';
import { useSshd } from '../unit/helpers/sshd';
import { ScriptedPrompter, api, until, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('SFTP destination (single folder, real sshd)', function () {
    // The extension host's temp folder lies inside the launcher's private run folder, which the server's
    // test user cannot enter: serve from the system temp folder (set before the server starts).
    let savedTmp: string | undefined;
    before(() => {
      savedTmp = process.env.TMPDIR;
      process.env.TMPDIR = '/tmp';
    });
    after(() => {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    });
    const sshd = useSshd();
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    let remoteDir: string;
    let location: string;
    const config = () => vscode.workspace.getConfiguration('projectBackup');

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      const server = sshd();
      remoteDir = path.join(server.folder('editor'), 'laptop');
      location = `sftp://${server.user}@127.0.0.1:${server.port}${remoteDir}`;
      await config().update('destinations', [], vscode.ConfigurationTarget.Global);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
    });

    after(async () => {
      await config().update('destinations', undefined, vscode.ConfigurationTarget.Global);
      await config().update('replication.delaySeconds', undefined, vscode.ConfigurationTarget.Global);
      await a.keychain.forgetCredentials(destinationKey(location));
    });

    it('adds the server with a private key kept in secret storage, asks once to trust its host key, and copies the store there', async () => {
      const server = sshd();
      const keyText = fs.readFileSync(server.keyFile, 'utf8');
      prompter.picker = (items) => items.find((i) => /SFTP server|Private key file|^Offsite$/.test(i.label));
      prompter.texts = [location, server.keyFile];
      prompter.confirmAnswer = true;
      await vscode.commands.executeCommand('backup.addDestination', folder.uri);

      const trustQuestion = prompter.asked.find((q) => q.includes('is not known yet'));
      assert.ok(trustQuestion, `no host-key question: ${prompter.asked.join(' | ')}`);
      assert.ok(
        trustQuestion.includes(server.hostKeyFingerprint),
        'the question does not show the server key fingerprint',
      );
      assert.ok(fs.existsSync(path.join(remoteDir, 'config')), 'no store on the server');
      assert.ok(fs.readdirSync(path.join(remoteDir, 'snapshots')).length >= 1);

      const kept = await a.keychain.credentials(destinationKey(location));
      assert.equal(kept?.privateKey, keyText, 'the key is not in secret storage');
      const settings = JSON.stringify(config().inspect('destinations'));
      assert.ok(!settings.includes('PRIVATE KEY'), 'the key reached the settings');
      assert.ok(!a.log.recent.join('\n').includes('PRIVATE KEY'), 'the key reached the log');

      const [health] = await a.healthView.refresh();
      const dest = health.report!.locations.find((l) => l.kind === 'destination')!;
      assert.equal(dest.counts, true, dest.note);
      assert.equal(dest.offsite, true);
      assert.equal(dest.medium, 'remote:127.0.0.1');
    });

    it('replicates later snapshots in the background without asking again', async () => {
      await config().update('replication.delaySeconds', 0, vscode.ConfigurationTarget.Global);
      const asked = prompter.asked.length;
      const before = fs.readdirSync(path.join(remoteDir, 'snapshots')).length;
      write(folder, 'docs/over-sftp.md', `sftp ${Date.now()}\n`);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      await until(
        'the background copy to the server',
        async () => {
          await a.replicator.flush();
          return fs.readdirSync(path.join(remoteDir, 'snapshots')).length > before;
        },
        120_000,
      );
      assert.deepEqual(
        prompter.asked.slice(asked),
        ['Label for this snapshot (optional)'],
        'a background copy asked something',
      );
    });

    it('logs in with a password set through Set Destination Credentials', async function () {
      const server = sshd();
      if (!server.dedicatedUser) this.skip(); // password login needs the test user made when running as root
      prompter.picker = (items) => items.find((i) => i.label.includes('Password'));
      prompter.secrets = [server.password];
      await vscode.commands.executeCommand('backup.setDestinationCredentials', location);
      assert.equal((await a.keychain.credentials(destinationKey(location)))?.password, server.password);
      write(folder, 'docs/password.md', `password ${Date.now()}\n`);
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const outcomes = await a.replicator.replicateFolder(folder, { interactive: false });
      assert.equal(outcomes.length, 1);
      assert.equal(outcomes[0].error, undefined, outcomes[0].error);
      assert.ok(!a.log.recent.join('\n').includes(server.password!), 'the password reached the log');
    });
  });
}
