// Moving to an encrypted store from the real editor, the way the health view offers it: with an offsite
// copy of a plain store, the view shows the "not encrypted" gap; its fix asks for an empty folder and the
// passphrase twice, refuses what it must (a folder in use, passphrases that differ) without touching
// anything, then creates the encrypted store, points the store setting at it, snapshots into it, and keeps
// the old store byte for byte, changing the store setting where it is set. Also: Replicate Now, Remove
// Destination (the copies stay), Forget Passphrase.

import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import type { HealthNode } from '../../src/vscode/views/healthView';
import { ScriptedPrompter, api, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

const PASSPHRASE = 'a long passphrase for the new store 2718';

/** Every file under `dir` (locks aside: they come and go) with the SHA-256 of its bytes. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (child === 'locks') continue;
      if (entry.isDirectory()) walk(child);
      else
        out[child] = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(dir, child)))
          .digest('hex');
    }
  };
  walk('');
  return out;
}

if (workspaceMode() === 'single-folder') {
  describe('start an encrypted store from the health view (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    let parent: string;
    let plain: string;
    let offsite: string;
    let encrypted: string;
    const config = () => vscode.workspace.getConfiguration('projectBackup');
    const nodes = async (node?: HealthNode) => ((await a.healthView.getChildren(node)) ?? []) as HealthNode[];
    const gaps = async () => {
      await a.healthView.refresh();
      const section = (await nodes()).find((n) => n.kind === 'section' && n.section === 'gaps');
      return section ? (await nodes(section)).flatMap((n) => (n.kind === 'gap' ? [n] : [])) : [];
    };
    const loggedSince = (count: number) => a.log.recent.slice(count).join('\n');

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      parent = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-encrypt-'));
      plain = path.join(parent, 'plain-store');
      offsite = path.join(parent, 'offsite-copy');
      encrypted = path.join(parent, 'encrypted-store');
      // The workspace's own store setting wins over the user's (and code-server's machine) value.
      await config().update('storePath', plain, vscode.ConfigurationTarget.Workspace);
      await config().update(
        'destinations',
        [{ location: offsite, offsite: true, store: plain }],
        vscode.ConfigurationTarget.Global,
      );
      write(folder, 'notes/plan.md', 'a file the stores keep\n');
      prompter.texts = [''];
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      assert.equal(a.service.localStorePath(folder), plain);
    });

    after(async () => {
      await config().update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      await config().update('destinations', undefined, vscode.ConfigurationTarget.Global);
      await a.keychain.forgetPassphrase(encrypted);
      fs.rmSync(path.join(folder.uri.fsPath, 'notes', 'plan.md'), { force: true });
      fs.rmSync(parent, { recursive: true, force: true });
    });

    it('Replicate Now copies the plain store offsite; the health view then asks for encryption', async () => {
      await vscode.commands.executeCommand('backup.replicateNow', folder.uri);
      assert.ok(fs.existsSync(path.join(offsite, 'config')), 'no store at the destination');
      const encryption = (await gaps()).find((g) => g.gap.id === 'encryption');
      assert.ok(encryption, `no encryption gap; gaps: ${(await gaps()).map((g) => g.gap.id).join(', ')}`);
      assert.equal(encryption.gap.fixLabel, 'Start an encrypted store');
    });

    it('refuses a folder that is not empty, and two passphrases that differ: nothing is created, the setting stays', async () => {
      const busy = path.join(parent, 'busy');
      fs.mkdirSync(busy);
      fs.writeFileSync(path.join(busy, 'holiday-photos.txt'), 'not a store\n');
      let logged = a.log.recent.length;
      prompter.target = vscode.Uri.file(busy);
      await vscode.commands.executeCommand('backup.encryptStore', folder.uri);
      assert.equal(prompter.openLabels.at(-1), 'Create Encrypted Store Here');
      assert.match(loggedSince(logged), /is not empty; choose an empty or new folder for the encrypted store/);
      assert.deepEqual(fs.readdirSync(busy), ['holiday-photos.txt']);

      logged = a.log.recent.length;
      prompter.target = vscode.Uri.file(encrypted);
      prompter.secrets = [PASSPHRASE, `${PASSPHRASE}!`];
      await vscode.commands.executeCommand('backup.encryptStore', folder.uri);
      assert.match(loggedSince(logged), /The two passphrases differ; nothing was created/);
      assert.equal(fs.existsSync(encrypted), false, 'a store was created although the passphrases differed');
      assert.equal(a.service.localStorePath(folder), plain);
      assert.equal(await a.keychain.hasPassphrase(encrypted), false);
    });

    it('its fix creates the encrypted store, snapshots into it, keeps the old store byte for byte, and keeps the passphrase in secret storage only', async () => {
      const oldStore = fingerprint(plain);
      const encryption = (await gaps()).find((g) => g.gap.id === 'encryption')!;
      const command = a.healthView.getTreeItem(encryption).command!;
      prompter.target = vscode.Uri.file(encrypted);
      prompter.secrets = [PASSPHRASE, PASSPHRASE];
      const asked = prompter.asked.length;
      await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));

      // It said, before creating anything, that a lost passphrase loses the backups.
      const questions = prompter.asked.slice(asked);
      assert.ok(
        questions.some(
          (q) => q.startsWith(`Create an encrypted store at ${encrypted}?`) && /cannot be recovered/.test(q),
        ),
        questions.join(' | '),
      );
      assert.equal(a.service.localStorePath(folder), encrypted);
      assert.equal(
        config().inspect<string>('storePath')?.workspaceValue,
        encrypted,
        'the setting was changed somewhere else than where it was set',
      );
      const repo = await a.service.repository(folder);
      assert.equal(repo.codec.encrypted, true);
      const snapshots = await a.service.snapshots(folder, true);
      assert.deepEqual(
        snapshots.map((s) => s.label),
        ['first snapshot in the encrypted store'],
      );
      assert.deepEqual(fingerprint(plain), oldStore, 'the old store changed');
      assert.equal(await a.keychain.hasPassphrase(encrypted), true);

      const settings =
        JSON.stringify(config()) +
        [path.join(folder.uri.fsPath, '.vscode', 'settings.json')]
          .filter((f) => fs.existsSync(f))
          .map((f) => fs.readFileSync(f, 'utf8'))
          .join('');
      assert.ok(!settings.includes(PASSPHRASE), 'the passphrase reached the settings');
      assert.ok(!a.log.recent.join('\n').includes(PASSPHRASE), 'the passphrase reached the log');

      // The health view: encrypted now; the offsite folder holds the old store, so it no longer counts.
      const [health] = await a.healthView.refresh();
      assert.ok(health.report, health.error);
      assert.equal(health.report.encrypted, true);
      assert.equal(health.report.offsite, false);
      const ids = (await gaps()).map((g) => g.gap.id);
      assert.ok(!ids.includes('encryption') && ids.includes('offsite'), `gaps: ${ids.join(', ')}`);
    });

    it('Forget Passphrase drops the kept passphrase: the store asks again when next opened', async () => {
      await vscode.commands.executeCommand('backup.forgetPassphrase', folder.uri);
      assert.equal(await a.keychain.hasPassphrase(encrypted), false);
      a.service.forgetStore(encrypted);
      const prompts = () => prompter.asked.filter((q) => /is encrypted: enter its passphrase/.test(q)).length;
      const before = prompts();
      prompter.secrets = [PASSPHRASE];
      assert.equal((await a.service.repository(folder)).codec.encrypted, true);
      assert.equal(prompts(), before + 1);
      assert.equal(await a.keychain.hasPassphrase(encrypted), true, 'the passphrase that worked is not kept again');
    });

    it('Remove Destination stops replicating there and leaves the copies where they are', async () => {
      const copies = fingerprint(offsite);
      prompter.picker = (items) => items.find((i) => i.label === offsite);
      await vscode.commands.executeCommand('backup.removeDestination');
      assert.ok(prompter.asked.some((q) => q.startsWith(`Stop replicating to ${offsite}?`)));
      assert.deepEqual(config().inspect('destinations')?.globalValue, []);
      assert.deepEqual(fingerprint(offsite), copies, 'removing the destination touched its copies');
      assert.deepEqual(a.replicator.destinations(folder), []);
    });

    it("with no store setting of the workspace's own, it changes the user's setting (the machine's, in a remote window) and says so", async () => {
      await config().update('storePath', undefined, vscode.ConfigurationTarget.Workspace);
      const userStore = config().inspect<string>('storePath')?.globalValue;
      const second = path.join(parent, 'second-encrypted-store');
      try {
        prompter.target = vscode.Uri.file(second);
        prompter.secrets = [PASSPHRASE, PASSPHRASE];
        const asked = prompter.asked.length;
        await vscode.commands.executeCommand('backup.encryptStore', folder.uri);
        assert.ok(
          prompter.asked
            .slice(asked)
            .some((q) => q.includes('New snapshots of every workspace that uses your default store go there')),
          prompter.asked.slice(asked).join(' | '),
        );
        assert.equal(config().inspect<string>('storePath')?.globalValue, second);
        assert.equal(a.service.localStorePath(folder), second);
        assert.equal((await a.service.snapshots(folder, true)).length, 1);
      } finally {
        await config().update('storePath', userStore, vscode.ConfigurationTarget.Global);
        await a.keychain.forgetPassphrase(second);
      }
    });
  });
}
