// SFTP against a real OpenSSH server (test/unit/helpers/sshd.ts; no mocks): replication to it and every
// command on the copy (verify, restore with the local store gone, list, ls, cat), interruptions and dropped
// connections, host-key trust (known_hosts plain and hashed, an expected fingerprint, trust on first use),
// credentials (keys as files or values, passphrases, passwords) and the one-sentence errors, in process and
// through the built CLI with its exit codes.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { verifyRepository } from '../../src/core/check/verify';
import { loadReplicaRecords } from '../../src/core/records/replicaRecord';
import { replicate } from '../../src/core/replicate/replicate';
import { Repository } from '../../src/core/repository/repository';
import { nodeFs } from '../../src/core/storage/fsPort';
import { LocalBackend } from '../../src/core/storage/localBackend';
import { checkKnownHosts, fingerprintOf, normalizeFingerprint } from '../../src/core/storage/knownHosts';
import { backendFor } from '../../src/core/storage/locate';
import type { RemoteOptions } from '../../src/core/storage/remote';
import { parseSftpLocation, privateKeyIsEncrypted, redactLocation } from '../../src/core/storage/remote';
import {
  DIST_CLI,
  describeTreeDiff,
  lines,
  packFiles,
  readTree,
  rejectionCode,
  removeDir,
  runCliCaptured,
  seededText,
  snapshotterFor,
  spawnCli,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import { assertConsistent, copiedKeys, sourceStore } from './helpers/replication';
import { isRoot, useSshd } from './helpers/sshd';

/** A one-sentence error: one line, ending with a full stop. */
function assertOneSentence(message: string): void {
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  assert.match(message, /\.$/, `ends as a sentence: ${message}`);
}

function flipBytesInMiddle(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const at = Math.floor(size / 3);
    const bytes = Buffer.alloc(16);
    fs.readSync(fd, bytes, 0, 16, at);
    fs.writeSync(fd, Buffer.from(bytes.map((b) => b ^ 0xff)), 0, 16, at);
  } finally {
    fs.closeSync(fd);
  }
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('SFTP (a real OpenSSH server)', function () {
  this.timeout(120_000);
  const temp = useTempDirs();
  const sshd = useSshd();

  /** A store folder on the server that does not exist yet (its parent does), and its URL. */
  function destination(label = 'dest'): { dir: string; url: string } {
    const dir = path.join(sshd().folder(label), 'store');
    return { dir, url: sshd().url(dir) };
  }

  const openRemote = (remote?: RemoteOptions) => (location: string) =>
    Repository.open(location, { remote: remote ?? sshd().remote() });

  describe('replication', () => {
    it('copies a store; the copy verifies, lists the same snapshots, and a second copy sends only what is new', async () => {
      const { repo, ws } = await sourceStore(temp);
      const { dir, url } = destination();
      const first = await replicate(repo, url, { remote: sshd().remote(), offsite: true });
      assert.equal(first.created, true);
      assert.equal(first.destination, url);
      assert.deepEqual(
        await copiedKeys(new LocalBackend(dir, nodeFs)),
        await copiedKeys(repo.backend),
        'the server holds exactly the source keys',
      );
      const ids = (await repo.listSnapshots()).map((s) => s.id);
      assert.deepEqual(await assertConsistent(url, ids, 'the SFTP copy', openRemote()), ids);

      const before = await copiedKeys(repo.backend);
      writeTree(ws, { 'third.txt': seededText(7000, 11) });
      await snapshotterFor(repo, ws).snapshot();
      const fresh = (await copiedKeys(repo.backend)).filter((k) => !before.includes(k));
      const second = await replicate(repo, url, { remote: sshd().remote() });
      assert.equal(second.objectsCopied, fresh.length);
      assert.equal(second.objectsSkipped, before.length);
      assert.equal(second.snapshots, 3);
      const [record] = await loadReplicaRecords(repo);
      // The second copy did not say offsite: the mark given by the first is kept.
      assert.deepEqual([record.destination, record.snapshots, record.offsite], [url, 3, true]);
    });

    it('restores from the copy with the local store deleted, and list, ls and cat read it too', async () => {
      const { repo, ws, dir: local } = await sourceStore(temp);
      const { url } = destination();
      await replicate(repo, url, { remote: sshd().remote() });
      await repo.close();
      removeDir(local);
      const flags = sshd().cliFlags();
      const target = temp.fresh('restored');
      const restored = await runCliCaptured(['restore', 'latest', '--repo', url, '--target', target, ...flags]);
      assert.equal(restored.code, 0, restored.stderr.join('\n'));
      const diff = describeTreeDiff(readTree(target), readTree(ws));
      assert.equal(diff, '', diff);
      const list = await runCliCaptured(['list', '--repo', url, '--json', ...flags]);
      assert.equal(list.code, 0, list.stderr.join('\n'));
      assert.equal(list.json<unknown[]>().length, 2);
      const ls = await runCliCaptured(['ls', 'latest', 'src', '--repo', url, ...flags]);
      assert.equal(ls.code, 0, ls.stderr.join('\n'));
      assert.ok(ls.stdout.some((l) => l.includes('index.ts')));
      const cat = await runCliCaptured(['cat', 'latest', 'src/index.ts', '--repo', url, ...flags]);
      assert.equal(cat.code, 0, cat.stderr.join('\n'));
      assert.ok(cat.raw.equals(fs.readFileSync(path.join(ws, 'src/index.ts'))));
    });

    it('verify of the copy finds a pack corrupted on the server', async () => {
      const { repo } = await sourceStore(temp);
      const { dir, url } = destination();
      await replicate(repo, url, { remote: sshd().remote() });
      const pack = packFiles(dir).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
      flipBytesInMiddle(pack);
      const copy = await Repository.open(url, { remote: sshd().remote() });
      try {
        const report = await verifyRepository(copy, { readData: true });
        assert.equal(report.ok, false);
        const packId = path.basename(pack);
        assert.ok(
          report.damage.some((d) => d.object.includes(packId.slice(0, 12)) || d.reason.includes(packId.slice(0, 12))),
          `the damage names pack ${packId.slice(0, 12)}: ${JSON.stringify(report.damage)}`,
        );
        assert.ok(report.damage.every((d) => d.snapshots.length > 0));
      } finally {
        await copy.close();
      }
    });

    it('aborted mid-copy, the copy on the server is consistent and a rerun completes it', async () => {
      const { repo } = await sourceStore(temp);
      const { url } = destination();
      const ids = (await repo.listSnapshots()).map((s) => s.id);
      const controller = new AbortController();
      const aborted = await rejectionCode(() =>
        replicate(repo, url, {
          remote: sshd().remote(),
          concurrency: 1,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.objectsDone === 3) controller.abort();
          },
        }),
      );
      assert.equal(aborted.code, 'CANCELLED');
      assert.deepEqual(await assertConsistent(url, ids, 'after the abort', openRemote()), []);
      const rerun = await replicate(repo, url, { remote: sshd().remote() });
      assert.equal(rerun.objectsSkipped, 3);
      assert.deepEqual(await assertConsistent(url, ids, 'after the rerun', openRemote()), ids);
    });

    it('a connection dropped mid-copy is reopened and the copy completes; so is one dropped between operations', async () => {
      const { repo } = await sourceStore(temp);
      const { url } = destination();
      const ids = (await repo.listSnapshots()).map((s) => s.id);
      let dropped = 0;
      const result = await replicate(repo, url, {
        remote: sshd().remote(),
        onProgress: (p) => {
          if (p.objectsDone === 2 && dropped === 0) dropped = sshd().dropConnections();
        },
      });
      assert.ok(dropped > 0, 'a connection was dropped');
      assert.equal(result.snapshots, ids.length);
      assert.deepEqual(await assertConsistent(url, ids, 'after the drop', openRemote()), ids);

      const backend = await backendFor(url, nodeFs, sshd().remote());
      try {
        assert.ok((await backend.load('config')).length > 0);
        assert.ok(sshd().dropConnections() > 0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.ok((await backend.load('config')).length > 0, 'the next operation reconnects');
      } finally {
        await backend.close?.();
      }
    });

    it('a store in the home folder is written sftp://user@host/~/folder', async function () {
      if (!sshd().dedicatedUser) this.skip(); // as non-root the server's user is us: never write into the real home
      const { repo } = await sourceStore(temp);
      const url = `sftp://${sshd().user}@127.0.0.1:${sshd().port}/~/backups`;
      const result = await replicate(repo, url, { remote: sshd().remote() });
      assert.equal(result.destination, url);
      const home = execFileSync('getent', ['passwd', sshd().user], { encoding: 'utf8' }).split(':')[5];
      assert.ok(fs.existsSync(path.join(home, 'backups', 'config')));
      const ids = (await repo.listSnapshots()).map((s) => s.id);
      assert.deepEqual(await assertConsistent(url, ids, 'in the home folder', openRemote()), ids);
    });

    it('refuses a server folder holding another store, and never creates a store by opening one', async () => {
      const { repo } = await sourceStore(temp);
      const { url } = destination();
      await replicate(repo, url, { remote: sshd().remote() });
      const other = await sourceStore(temp);
      const mismatch = await rejectionCode(() => replicate(other.repo, url, { remote: sshd().remote() }));
      assert.equal(mismatch.code, 'STORE_MISMATCH');
      const created = await rejectionCode(() =>
        Repository.open(destination('new').url, { create: true, remote: sshd().remote() }),
      );
      assert.equal(created.code, 'REPO_NOT_FOUND');
      assert.match(created.message, /created by `project-backup copy`/);
    });
  });

  describe('host keys', () => {
    it('refuses an unknown host in one sentence that gives its fingerprint, before logging in or writing', async () => {
      const { repo } = await sourceStore(temp);
      const { dir, url } = destination();
      const empty = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(empty, '');
      const { code, message } = await rejectionCode(() =>
        replicate(repo, url, { remote: sshd().remote({ knownHostsFile: empty }) }),
      );
      assert.equal(code, 'HOST_KEY_REJECTED');
      assertOneSentence(message);
      assert.ok(message.includes(sshd().hostKeyFingerprint), message);
      assert.match(message, /is not a known host/);
      assert.ok(!fs.existsSync(dir), 'nothing was written');
      assert.deepEqual(await loadReplicaRecords(repo), []);
    });

    it('refuses a key that differs from the one known_hosts names, or that is revoked', async () => {
      const other = fs
        .readFileSync(`${sshd().newKey('impostor')}.pub`, 'utf8')
        .trim()
        .split(/\s+/)
        .slice(0, 2)
        .join(' ');
      const known = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(known, `# a comment\n[127.0.0.1]:${sshd().port} ${other}\n`);
      const { url } = destination();
      const backend = await backendFor(url, nodeFs, sshd().remote({ knownHostsFile: known }));
      const changed = await rejectionCode(() => backend.list('snapshots'));
      assert.equal(changed.code, 'HOST_KEY_REJECTED');
      assertOneSentence(changed.message);
      assert.match(changed.message, /differs from the one in .*known_hosts/);
      assert.ok(changed.message.includes(sshd().hostKeyFingerprint));

      fs.writeFileSync(known, `[127.0.0.1]:${sshd().port} ${sshd().hostKeyLine}\n@revoked * ${sshd().hostKeyLine}\n`);
      const revoked = await rejectionCode(async () =>
        (await backendFor(url, nodeFs, sshd().remote({ knownHostsFile: known }))).list('snapshots'),
      );
      assert.equal(revoked.code, 'HOST_KEY_REJECTED');
      assert.match(revoked.message, /revoked/);
    });

    it('accepts hashed known_hosts entries and an expected fingerprint; refuses a wrong fingerprint', async () => {
      const { url } = destination();
      const known = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(known, `otherhost ${sshd().hostKeyLine}\n[127.0.0.1]:${sshd().port} ${sshd().hostKeyLine}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', known], { stdio: 'ignore' });
      assert.ok(fs.readFileSync(known, 'utf8').startsWith('|1|'), 'ssh-keygen hashed the names');
      const hashed = await backendFor(url, nodeFs, sshd().remote({ knownHostsFile: known }));
      assert.deepEqual(await hashed.list('snapshots'), []);
      await hashed.close?.();

      const empty = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(empty, '');
      const pinned = await backendFor(
        url,
        nodeFs,
        sshd().remote({ knownHostsFile: empty, hostKey: sshd().hostKeyFingerprint }),
      );
      assert.deepEqual(await pinned.list('snapshots'), []);
      await pinned.close?.();

      const wrong = 'SHA256:' + 'A'.repeat(43);
      const refused = await rejectionCode(async () =>
        (await backendFor(url, nodeFs, sshd().remote({ hostKey: wrong }))).list('snapshots'),
      );
      assert.equal(refused.code, 'HOST_KEY_REJECTED');
      assert.ok(
        refused.message.includes(wrong) && refused.message.includes(sshd().hostKeyFingerprint),
        refused.message,
      );
    });

    it('asks the caller about an unknown host (trust on first use), with the host and fingerprint', async () => {
      const { url } = destination();
      const empty = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(empty, '');
      const asked: Array<[string, string]> = [];
      const trusting = await backendFor(
        url,
        nodeFs,
        sshd().remote({ knownHostsFile: empty, verifyHostKey: async (host, fp) => (asked.push([host, fp]), true) }),
      );
      assert.deepEqual(await trusting.list('snapshots'), []);
      await trusting.close?.();
      assert.deepEqual(asked, [[`[127.0.0.1]:${sshd().port}`, sshd().hostKeyFingerprint]]);
      const declining = await backendFor(
        url,
        nodeFs,
        sshd().remote({ knownHostsFile: empty, verifyHostKey: async () => false }),
      );
      const { code, message } = await rejectionCode(() => declining.list('snapshots'));
      assert.equal(code, 'HOST_KEY_REJECTED');
      assert.match(message, /was not accepted/);
    });

    it('the handshake time limit stands still while the user decides whether to trust the host key (#12: the Trust dialog raced a 20 s timeout)', async () => {
      const { url } = destination();
      const empty = path.join(temp.make('kh'), 'known_hosts');
      fs.writeFileSync(empty, '');
      // A user who reads the fingerprint for twice as long as the whole handshake may take.
      const slowTrust = async () => {
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        return true;
      };
      const backend = await backendFor(
        url,
        nodeFs,
        sshd().remote({ knownHostsFile: empty, verifyHostKey: slowTrust, timeoutSeconds: 5 }),
      );
      try {
        assert.deepEqual(await backend.list('snapshots'), []);
      } finally {
        await backend.close?.();
      }
    });

    it('a server that never completes the handshake still times out, in one sentence', async () => {
      const silent = net.createServer((socket) => socket.on('error', () => undefined)); // accepts, never speaks
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = silent.address() as net.AddressInfo;
        const backend = await backendFor(
          `sftp://someone@127.0.0.1:${port}/store`,
          nodeFs,
          sshd().remote({ timeoutSeconds: 1 }),
        );
        const { code, message } = await rejectionCode(() => backend.list('snapshots'));
        assert.equal(code, 'REMOTE_UNREACHABLE');
        assert.equal(message, `127.0.0.1:${port} did not complete an SSH handshake within 1 s; is it an SSH server?`);
      } finally {
        silent.close();
      }
    });
  });

  describe('credentials and errors', () => {
    it('refuses a key the server does not accept, in one sentence', async () => {
      const { url } = destination();
      const backend = await backendFor(url, nodeFs, sshd().remote({ privateKeyFile: sshd().newKey('stranger') }));
      const { code, message } = await rejectionCode(() => backend.list('snapshots'));
      assert.equal(code, 'AUTH_FAILED');
      assertOneSentence(message);
      assert.match(message, /refused to log in .* with the key/);
    });

    it('logs in with a key given as a value, and with a passphrase-protected key (clear sentences without or with a wrong passphrase)', async () => {
      const { url } = destination();
      const asValue = await backendFor(url, nodeFs, {
        privateKey: fs.readFileSync(sshd().keyFile),
        knownHostsFile: sshd().knownHostsFile,
        agent: false,
      });
      assert.deepEqual(await asValue.list('index'), []);
      await asValue.close?.();

      const locked = sshd().newKey('locked', 'open sesame');
      sshd().authorize(locked);
      const withPassphrase = await backendFor(
        url,
        nodeFs,
        sshd().remote({ privateKeyFile: locked, passphrase: 'open sesame' }),
      );
      assert.deepEqual(await withPassphrase.list('index'), []);
      await withPassphrase.close?.();
      const none = await rejectionCode(async () =>
        (await backendFor(url, nodeFs, sshd().remote({ privateKeyFile: locked }))).list('index'),
      );
      assert.equal(none.code, 'AUTH_FAILED');
      assert.match(none.message, /protected by a passphrase, and none was given/);
      const wrong = await rejectionCode(async () =>
        (await backendFor(url, nodeFs, sshd().remote({ privateKeyFile: locked, passphrase: 'nope' }))).list('index'),
      );
      assert.equal(wrong.code, 'AUTH_FAILED');
      assert.match(wrong.message, /passphrase .* is wrong/);
      const garbage = path.join(temp.make('key'), 'not-a-key');
      fs.writeFileSync(garbage, 'hello\n');
      const unreadable = await rejectionCode(async () =>
        (await backendFor(url, nodeFs, sshd().remote({ privateKeyFile: garbage }))).list('index'),
      );
      assert.equal(unreadable.code, 'AUTH_FAILED');
      assertOneSentence(unreadable.message);
    });

    it('logs in with a password (a user made for the test run, as root)', async function () {
      if (!sshd().password) this.skip(); // without root the harness cannot give a user a password
      const { url } = destination();
      const good = await backendFor(url, nodeFs, {
        password: sshd().password,
        knownHostsFile: sshd().knownHostsFile,
        agent: false,
      });
      assert.deepEqual(await good.list('index'), []);
      await good.close?.();
      const bad = await rejectionCode(async () =>
        (
          await backendFor(url, nodeFs, { password: 'wrong', knownHostsFile: sshd().knownHostsFile, agent: false })
        ).list('index'),
      );
      assert.equal(bad.code, 'AUTH_FAILED');
      assert.match(bad.message, /with the password/);
    });

    it('an unreachable host, a missing folder and a folder without write permission are one sentence each', async () => {
      const { repo } = await sourceStore(temp);
      const port = await closedPort();
      const refused = await rejectionCode(() =>
        replicate(repo, `sftp://${sshd().user}@127.0.0.1:${port}/tmp/x`, {
          remote: sshd().remote({ timeoutSeconds: 5 }),
        }),
      );
      assert.equal(refused.code, 'REMOTE_UNREACHABLE');
      assertOneSentence(refused.message);
      assert.match(refused.message, /connection was refused/);
      const unknownName = await rejectionCode(() =>
        replicate(repo, 'sftp://someone@no-such-host.invalid/tmp/x', { remote: sshd().remote({ timeoutSeconds: 5 }) }),
      );
      assert.equal(unknownName.code, 'REMOTE_UNREACHABLE');
      assertOneSentence(unknownName.message);

      const parent = sshd().folder('parent');
      const missing = await rejectionCode(() =>
        replicate(repo, sshd().url(`${parent}/no/such/store`), { remote: sshd().remote() }),
      );
      assert.equal(missing.code, 'PATH_NOT_FOUND');
      assertOneSentence(missing.message);
      assert.match(missing.message, /does not exist on 127\.0\.0\.1/);
      const noStore = await rejectionCode(() =>
        Repository.open(sshd().url(`${parent}/nothing-here`), { remote: sshd().remote() }),
      );
      assert.equal(noStore.code, 'REPO_NOT_FOUND');
      assertOneSentence(noStore.message);

      const readOnly = sshd().folder('read-only');
      fs.chmodSync(readOnly, 0o555);
      const denied = await rejectionCode(() =>
        replicate(repo, sshd().url(`${readOnly}/store`), { remote: sshd().remote() }),
      );
      assert.equal(denied.code, 'PERMISSION_DENIED');
      assertOneSentence(denied.message);
      assert.match(denied.message, /^Permission denied on 127\.0\.0\.1/);
    });

    it('a full disk on the server is one sentence, and the copy there stays consistent (root: a small tmpfs)', async function () {
      if (!isRoot()) this.skip(); // mounting a small file system needs root
      const { repo } = await sourceStore(temp);
      const small = sshd().folder('small-disk');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
      try {
        sshd().giveToUser(small);
        const url = sshd().url(`${small}/store`);
        const { code, message } = await rejectionCode(() => replicate(repo, url, { remote: sshd().remote() }));
        assert.equal(code, 'NO_SPACE', message);
        assertOneSentence(message);
        assert.match(message, /disk of 127\.0\.0\.1:\d+ is full/);
        await assertConsistent(
          url,
          (await repo.listSnapshots()).map((s) => s.id),
          'on a full disk',
          openRemote(),
        );
      } finally {
        execFileSync('umount', ['-l', small]);
      }
    });
  });

  describe('the built CLI (dist/cli.js)', () => {
    before(function () {
      assert.ok(fs.existsSync(DIST_CLI), `${DIST_CLI} is missing: build it with \`node esbuild.js\``);
    });

    it('copy and verify --repo sftp://… end to end, with exit codes, and the process ends', async () => {
      const { repo, ws, dir: local } = await sourceStore(temp);
      await repo.close();
      const { dir, url } = destination();
      const flags = sshd().cliFlags();
      const copy = spawnCli(['copy', '--repo', local, '--to', url, '--offsite', ...flags]);
      assert.equal(copy.code, 0, `copy: ${copy.stderr}`);
      assert.equal(lines(copy.stdout).length, 1);
      assert.match(copy.stdout, /^Created the store at sftp:\/\/.*: \d+ objects copied .*; 2 snapshots there now\.\n$/);
      const again = spawnCli(['copy', '--repo', local, '--to', url, '--json'], {
        PROJECT_BACKUP_SSH_KEY: sshd().keyFile,
        HOME: temp.make('home'),
      });
      // HOME without a known_hosts: the server is unknown, so the CLI says how to trust it.
      assert.equal(again.code, 1);
      assert.equal(lines(again.stderr).length, 1, again.stderr);
      assert.ok(again.stderr.includes(sshd().hostKeyFingerprint) && again.stderr.includes('--host-key'), again.stderr);
      const pinned = spawnCli(
        ['copy', '--repo', local, '--to', url, '--json', '--host-key', sshd().hostKeyFingerprint],
        { PROJECT_BACKUP_SSH_KEY: sshd().keyFile, HOME: temp.make('home') },
      );
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.equal(JSON.parse(pinned.stdout).objectsCopied, 0);

      const verify = spawnCli(['verify', '--repo', url, '--read-data', ...flags]);
      assert.equal(verify.code, 0, `verify: ${verify.stdout}${verify.stderr}`);
      assert.match(verify.stdout, /2 snapshots.*no damage/);

      // The local store is gone: the copy is all there is.
      removeDir(local);
      const target = temp.fresh('restored');
      const restore = spawnCli(['restore', 'latest', '--repo', url, '--target', target, ...flags]);
      assert.equal(restore.code, 0, `restore: ${restore.stderr}`);
      const diff = describeTreeDiff(readTree(target), readTree(ws));
      assert.equal(diff, '', diff);
      const list = spawnCli(['list', '--repo', url, '--json', ...flags]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(JSON.parse(list.stdout).length, 2);

      flipBytesInMiddle(packFiles(dir).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]);
      const damaged = spawnCli(['verify', '--repo', url, '--read-data', ...flags]);
      assert.equal(damaged.code, 3, `verify after the damage: ${damaged.stdout}${damaged.stderr}`);
      const missingHost = spawnCli([
        'verify',
        '--repo',
        url.replace(`:${sshd().port}`, `:${await closedPort()}`),
        ...flags,
      ]);
      assert.equal(missingHost.code, 1);
      assert.match(missingHost.stderr, /^project-backup: Cannot reach 127\.0\.0\.1:\d+: the connection was refused/);
    });

    it('credential problems say which option or variable helps, exit 1', async () => {
      const { repo, dir: local } = await sourceStore(temp);
      await repo.close();
      const { url } = destination();
      const home = temp.make('home');
      const noCredentials = spawnCli(['copy', '--repo', local, '--to', url, '--known-hosts', sshd().knownHostsFile], {
        HOME: home,
        SSH_AUTH_SOCK: '',
      });
      assert.equal(noCredentials.code, 1);
      assert.equal(lines(noCredentials.stderr).length, 1, noCredentials.stderr);
      assert.match(noCredentials.stderr, /^project-backup: No SSH key, password or agent .*--ssh-key <file>/);
      const locked = sshd().newKey('cli-locked', 'secret words');
      sshd().authorize(locked);
      const noPassphrase = spawnCli(
        ['copy', '--repo', local, '--to', url, '--known-hosts', sshd().knownHostsFile, '--ssh-key', locked],
        { HOME: home, SSH_AUTH_SOCK: '' },
      );
      assert.equal(noPassphrase.code, 1);
      assert.match(noPassphrase.stderr, /PROJECT_BACKUP_SSH_KEY_PASSPHRASE/);
      const withPassphrase = spawnCli(
        ['copy', '--repo', local, '--to', url, '--known-hosts', sshd().knownHostsFile, '--ssh-key', locked],
        {
          HOME: home,
          SSH_AUTH_SOCK: '',
          PROJECT_BACKUP_SSH_KEY_PASSPHRASE: 'secret words',
        },
      );
      assert.equal(withPassphrase.code, 0, withPassphrase.stderr);
      if (sshd().password) {
        const byPassword = spawnCli(['verify', '--repo', url, '--known-hosts', sshd().knownHostsFile], {
          HOME: home,
          SSH_AUTH_SOCK: '',
          PROJECT_BACKUP_SSH_PASSWORD: sshd().password,
        });
        assert.equal(byPassword.code, 0, byPassword.stderr);
      }
    });
  });
});

describe('sftp:// locations and known_hosts (no server needed)', () => {
  const temp = useTempDirs();
  it('parses users, ports, absolute and home-relative folders; refuses passwords, other schemes and no folder', () => {
    assert.deepEqual(parseSftpLocation('sftp://ann@backup.example:2222/srv/store/'), {
      user: 'ann',
      host: 'backup.example',
      port: 2222,
      path: '/srv/store',
      hostId: '[backup.example]:2222',
    });
    assert.deepEqual(parseSftpLocation('sftp://ann@Backup.Example/~/backups'), {
      user: 'ann',
      host: 'backup.example',
      port: 22,
      path: 'backups',
      hostId: 'backup.example',
    });
    assert.equal(parseSftpLocation('sftp://[::1]:2022/x').host, '::1');
    assert.equal(parseSftpLocation('sftp://host/with%20space').path, '/with space');
    for (const [location, pattern] of [
      ['sftp://ann:secret@host/x', /holds a password.*PROJECT_BACKUP_SSH_PASSWORD/],
      ['s3://bucket/x', /not supported/],
      ['sftp://host/', /names no folder/],
      ['sftp://host/~', /names no folder/],
    ] as const) {
      assert.throws(
        () => parseSftpLocation(location),
        (error: Error & { code?: string }) =>
          error.code === 'USAGE' && pattern.test(error.message) && !error.message.includes('secret'),
      );
    }
  });

  it('tells a passphrase-protected private key from a plain one (OpenSSH and PEM), so the editor asks only when needed', () => {
    const dir = temp.make('keys');
    const make = (name: string, passphrase: string, extra: string[] = []) => {
      execFileSync('ssh-keygen', [
        '-q',
        '-t',
        extra.length ? 'rsa' : 'ed25519',
        ...(extra.length ? ['-b', '2048'] : []),
        '-N',
        passphrase,
        '-f',
        path.join(dir, name),
        ...extra,
      ]);
      return fs.readFileSync(path.join(dir, name), 'utf8');
    };
    assert.equal(privateKeyIsEncrypted(make('plain', '')), false);
    assert.equal(privateKeyIsEncrypted(make('locked', 'key passphrase')), true);
    assert.equal(privateKeyIsEncrypted(make('pem-plain', '', ['-m', 'PEM'])), false);
    assert.equal(privateKeyIsEncrypted(make('pem-locked', 'key passphrase', ['-m', 'PEM'])), true);
    assert.equal(privateKeyIsEncrypted('not a key'), false);
  });

  it('redacts a password from a location, even one holding an "@" of its own', () => {
    assert.equal(redactLocation('sftp://ann:p@ss@host:22/x'), 'sftp://ann@host:22/x');
    assert.equal(redactLocation('s3://AKIA:secret@host/b'), 's3://AKIA@host/b');
    assert.equal(redactLocation('sftp://ann@host/x'), 'sftp://ann@host/x');
    assert.throws(
      () => parseSftpLocation('sftp://ann:pa#ss@host/x'),
      (error: Error) => !error.message.includes('pa#ss'),
    );
  });

  it('matches plain, bracketed, wildcard, negated and hashed host names, and reads fingerprints as pasted', () => {
    const key = Buffer.from('a key blob');
    const other = Buffer.from('another key blob');
    const line = (hosts: string, blob = key) => `${hosts} ssh-ed25519 ${blob.toString('base64')}`;
    assert.equal(checkKnownHosts(line('host.example,10.0.0.1'), 'host.example', key).kind, 'trusted');
    assert.equal(
      checkKnownHosts(line('host.example'), '[host.example]:2222', key).kind,
      'unknown',
      'another port is another host',
    );
    assert.equal(checkKnownHosts(line('[host.example]:2222'), '[host.example]:2222', key).kind, 'trusted');
    assert.equal(checkKnownHosts(line('*.example,!evil.example'), 'host.example', key).kind, 'trusted');
    assert.equal(checkKnownHosts(line('*.example,!evil.example'), 'evil.example', key).kind, 'unknown');
    assert.equal(checkKnownHosts(line('host.example', other), 'host.example', key).kind, 'mismatch');
    assert.equal(
      checkKnownHosts(`${line('host.example', other)}\n${line('host.example')}`, 'host.example', key).kind,
      'trusted',
      'any of several keys',
    );
    assert.equal(
      checkKnownHosts(`${line('host.example')}\n@revoked ${line('*')}`, 'host.example', key).kind,
      'revoked',
    );
    assert.equal(checkKnownHosts(`@cert-authority ${line('*.example')}`, 'host.example', key).kind, 'unknown');
    const fp = fingerprintOf(key);
    assert.match(fp, /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(normalizeFingerprint(fp.slice('SHA256:'.length) + '='), fp);
    assert.equal(normalizeFingerprint('MD5:aa:bb'), undefined);
  });
});
