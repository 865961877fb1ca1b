// Encrypted stores: nothing of a workspace (content, file and folder names, its path) can be read from the
// store's bytes without the passphrase; dedup, restore, verify and prune still work; a wrong or missing
// passphrase changes nothing; changing the passphrase rewrites only the config.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackupError } from '../../src/core/errors';
import { verifyRepository } from '../../src/core/check/verify';
import { sha256Hex } from '../../src/core/repository/codec';
import { EncryptedCodec, newMasterSecret } from '../../src/core/repository/crypto';
import { changePassphrase, verifyPassphrase } from '../../src/core/repository/passphrase';
import { Repository } from '../../src/core/repository/repository';
import type { OpenOptions } from '../../src/core/repository/repository';
import type { FileEntry } from '../../src/core/repository/tree';
import { Restorer } from '../../src/core/restore/restorer';
import { prune } from '../../src/core/retention/prune';
import { workspaceIdFor } from '../../src/core/workspace/workspace';
import {
  DIST_CLI,
  KiB,
  MiB,
  describeTreeDiff,
  expectedTree,
  lines,
  listAll,
  openRepo,
  readTree,
  rejectionCode,
  runCliCaptured,
  seededBytes,
  seededText,
  snapshotterFor,
  spawnCli,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { CliRun, TreeSpec } from './helpers/fixtures';

const PASSPHRASE = 'correct horse battery staple';
/** scrypt at 2^10 instead of 2^17: the same code path, a thousandth of the time. */
const TEST_N = 2 ** 10;

const CONTENT_MARKER = 'ZEBRAFISH-CONTENT-MARKER-4f1c9a';
const NAME_MARKER = 'QUOKKANAME7d2e';

function openEncrypted(dir: string, passphrase = PASSPHRASE, options: OpenOptions = {}): Promise<Repository> {
  return openRepo(dir, { encrypt: true, scryptN: TEST_N, passphrase: async () => passphrase, ...options });
}

function reopen(dir: string, passphrase: string | undefined = PASSPHRASE): Promise<Repository> {
  return Repository.open(dir, { passphrase: async () => passphrase });
}

/** The ways a marker could show up in bytes: as text in UTF-8 and UTF-16, base64 at every alignment, hex. */
function markerForms(marker: string): Array<{ form: string; bytes: Buffer }> {
  const utf8 = Buffer.from(marker, 'utf8');
  const forms = [
    { form: 'utf8', bytes: utf8 },
    { form: 'utf16le', bytes: Buffer.from(marker, 'utf16le') },
    { form: 'hex', bytes: Buffer.from(utf8.toString('hex'), 'ascii') },
    { form: 'HEX', bytes: Buffer.from(utf8.toString('hex').toUpperCase(), 'ascii') },
  ];
  for (let shift = 0; shift < 3; shift++) {
    // The middle of the base64 of the marker at each byte offset; the edges depend on neighbouring bytes.
    const b64 = Buffer.concat([Buffer.alloc(shift), utf8]).toString('base64');
    forms.push({ form: `base64+${shift}`, bytes: Buffer.from(b64.slice(4, -4), 'ascii') });
  }
  return forms;
}

/** Every (file, marker form) where a marker shows in a file's bytes or in its path, across the whole store. */
function findMarkers(store: string, markers: readonly string[]): string[] {
  const found: string[] = [];
  const forms = markers.flatMap((marker) => markerForms(marker).map((f) => ({ marker, ...f })));
  for (const rel of listAll(store)) {
    const file = path.join(store, rel);
    for (const { marker, form, bytes } of forms)
      if (Buffer.from(rel, 'utf8').includes(bytes)) found.push(`${marker} (${form}) in the name ${rel}`);
    if (!fs.lstatSync(file).isFile()) continue;
    const data = fs.readFileSync(file);
    for (const { marker, form, bytes } of forms) if (data.includes(bytes)) found.push(`${marker} (${form}) in ${rel}`);
  }
  return found;
}

/** A fingerprint of everything under a folder: names, kinds, sizes, bytes and modification times. */
function fingerprint(root: string, options: { except?: (rel: string) => boolean } = {}): string {
  const hash = createHash('sha256');
  for (const rel of listAll(root)) {
    if (options.except?.(rel)) continue;
    const file = path.join(root, rel);
    const stat = fs.lstatSync(file);
    hash.update(`${rel}\0${stat.isDirectory() ? 'dir' : stat.size}\0${stat.mtimeMs}\0`);
    if (stat.isFile()) hash.update(fs.readFileSync(file));
  }
  return hash.digest('hex');
}

/** A workspace with markers in file contents, file names and folder names (and in its own folder name). */
function markedWorkspace(ws: string): TreeSpec {
  const spec: TreeSpec = {
    [`notes-${NAME_MARKER}.txt`]: `Meeting notes: ${CONTENT_MARKER}\n${seededText(2 * KiB, 1)}`,
    [`${NAME_MARKER}-folder/inner.md`]: `# ${CONTENT_MARKER}\n`,
    [`src/${NAME_MARKER}/deep/${NAME_MARKER}.ts`]: `export const secret = '${CONTENT_MARKER}';\n`,
    // Incompressible around the marker, so a plain store keeps it literally (the control below).
    'data/random.bin': Buffer.concat([seededBytes(40 * KiB, 2), Buffer.from(CONTENT_MARKER), seededBytes(40 * KiB, 3)]),
    // Large enough to be chunked with the store's (secret) chunker seed.
    'data/large.bin': Buffer.concat([seededBytes(MiB, 4), Buffer.from(CONTENT_MARKER), seededBytes(2 * MiB, 5)]),
  };
  writeTree(ws, spec);
  return spec;
}

/** An error the way the CLI contract wants it: exit 1, exactly one line on stderr, nothing on stdout. */
function assertOneLineError(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 1, `exit code (stderr: ${run.stderr.join(' | ')})`);
  assert.equal(run.stderr.length, 1, `one line on stderr, got:\n${run.stderr.join('\n')}`);
  assert.match(run.stderr[0], pattern);
  assert.equal(run.stdout.filter((l) => l !== '').length, 0, 'nothing on stdout');
}

describe('encrypted stores', () => {
  const temp = useTempDirs();

  describe('what the store reveals', () => {
    it('holds no marker from contents, file names or folder names in any byte of any file (and a plain store does: the control)', async () => {
      const ws = path.join(temp.make('ws'), `project-${NAME_MARKER}`);
      markedWorkspace(ws);
      const encryptedStore = temp.fresh('enc');
      const plainStore = temp.fresh('plain');
      const markers = [CONTENT_MARKER, NAME_MARKER];

      const enc = await openEncrypted(encryptedStore);
      const first = await snapshotterFor(enc, ws).snapshot({ label: 'first' });
      fs.appendFileSync(path.join(ws, `notes-${NAME_MARKER}.txt`), `more ${CONTENT_MARKER}\n`);
      await snapshotterFor(enc, ws).snapshot({ paths: [`notes-${NAME_MARKER}.txt`] });
      assert.deepEqual(findMarkers(encryptedStore, markers), [], 'markers readable in the encrypted store');

      const plain = await openRepo(plainStore);
      await snapshotterFor(plain, ws).snapshot({ label: 'first' });
      const inPlain = findMarkers(plainStore, markers).join('\n');
      assert.match(
        inPlain,
        new RegExp(`${CONTENT_MARKER} \\(utf8\\) in data/`),
        'control: a plain store shows content',
      );
      assert.match(
        inPlain,
        new RegExp(`${NAME_MARKER} \\(utf8\\) in snapshots/`),
        'control: a plain store shows the workspace folder name',
      );

      // Nothing that lets an outsider confirm a guess either: no plain SHA-256 of a content, nor of the
      // workspace path (the stat cache's name in a plain store).
      const guesses = [
        sha256Hex(fs.readFileSync(path.join(ws, 'data/random.bin'))),
        workspaceIdFor(ws),
        sha256Hex(Buffer.from(`# ${CONTENT_MARKER}\n`)),
      ];
      assert.deepEqual(
        findMarkers(
          encryptedStore,
          guesses.map((g) => g.slice(0, 16)),
        ),
        [],
      );
      assert.ok(
        findMarkers(plainStore, [workspaceIdFor(ws)]).length > 0,
        'control: a plain store names its stat cache by the workspace id',
      );
      // The secret chunker seed is nowhere in the store.
      assert.deepEqual(findMarkers(encryptedStore, [enc.config.chunker.seed]), []);
      assert.ok(first.snapshot.stats.files >= 5);
    });

    it('hides the markers when the snapshot is taken through the CLI, with the default scrypt cost', async () => {
      const ws = path.join(temp.make('ws'), `cli-${NAME_MARKER}`);
      markedWorkspace(ws);
      const store = temp.fresh('store');
      const env = { PROJECT_BACKUP_PASSWORD: PASSPHRASE };
      const init = await runCliCaptured(['init', '--repo', store, '--encrypt', '--json'], env);
      assert.equal(init.code, 0, init.stderr.join('\n'));
      assert.equal(init.json<{ encrypted: boolean }>().encrypted, true);
      const snap = await runCliCaptured(['snapshot', ws, '--repo', store, '--label', `label ${CONTENT_MARKER}`], env);
      assert.equal(snap.code, 0, snap.stderr.join('\n'));
      assert.deepEqual(findMarkers(store, [CONTENT_MARKER, NAME_MARKER, PASSPHRASE]), []);

      const config = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8'));
      assert.deepEqual(
        { N: config.encryption.kdf.N, r: config.encryption.kdf.r, p: config.encryption.kdf.p },
        { N: 2 ** 17, r: 8, p: 1 },
      );
      const ls = await runCliCaptured(['ls', 'latest', '--repo', store], env);
      assert.equal(ls.code, 0, ls.stderr.join('\n'));
      assert.ok(
        ls.stdout.some((line) => line.includes(`notes-${NAME_MARKER}.txt`)),
        'ls shows the names with the passphrase',
      );
    });

    it('keeps its key material wrapped: the config holds scrypt parameters, a salt and a sealed key, and no chunker seed', async () => {
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      const config = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8'));
      assert.equal(config.chunker.seed, '');
      assert.match(repo.config.chunker.seed, /^[0-9a-f]{32}$/, 'the process works with the secret seed');
      assert.equal(config.encryption.version, 1);
      assert.equal(config.encryption.cipher, 'aes-256-gcm');
      assert.deepEqual(Object.keys(config.encryption.kdf).sort(), ['N', 'name', 'p', 'r', 'salt']);
      assert.equal(config.encryption.kdf.N, TEST_N);
      assert.equal(Buffer.from(config.encryption.kdf.salt, 'base64').length, 32);
      assert.equal(Buffer.from(config.encryption.masterKey, 'base64').length, 12 + 80 + 16);
      // Opening never needs the creation option: the cost is read back from the config.
      const again = await reopen(store);
      assert.equal(again.config.chunker.seed, repo.config.chunker.seed);
    });

    it('keeps folder names out of lock files, which are not sealed', async () => {
      const repo = await openEncrypted(temp.fresh('store'));
      const lock = await repo.lock(false, `a snapshot of /home/ann/${NAME_MARKER}`);
      try {
        const [key] = await repo.backend.list('locks');
        const info = JSON.parse((await repo.backend.load(key)).toString('utf8'));
        assert.equal(info.purpose, 'a snapshot');
      } finally {
        await lock.release();
      }
    });
  });

  describe('working with one', () => {
    it('restores what it stored, through several snapshots', async () => {
      const ws = temp.make('ws');
      const spec = markedWorkspace(ws);
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      const first = await snapshotterFor(repo, ws).snapshot();
      writeTree(ws, {
        'src/new.ts': 'export {};\n',
        'data/large.bin': Buffer.concat([seededBytes(MiB, 4), Buffer.from('edited'), seededBytes(2 * MiB, 5)]),
      });
      const second = await snapshotterFor(repo, ws).snapshot();

      const other = await reopen(store); // a fresh process: nothing cached
      const target = temp.make('restore');
      const result = await new Restorer(other).restore(await other.loadSnapshot(first.snapshot.id), { target });
      assert.deepEqual(result.problems, []);
      assert.equal(describeTreeDiff(readTree(target), expectedTree(spec)), '');
      const latest = temp.make('restore-latest');
      await new Restorer(other).restore(await other.loadSnapshot(second.snapshot.id), { target: latest });
      assert.equal(describeTreeDiff(readTree(latest), readTree(ws)), '');
    });

    it('deduplicates by keyed ids: same content stored once, ids unlike SHA-256 and unlike another store', async () => {
      const ws = temp.make('ws');
      const same = seededBytes(200 * KiB, 9);
      writeTree(ws, {
        'a.bin': same,
        'copy/b.bin': same,
        'small.txt': 'same small text\n',
        'copy/small.txt': 'same small text\n',
      });
      const repoA = await openEncrypted(temp.fresh('a'));
      const { snapshot } = await snapshotterFor(repoA, ws).snapshot();
      const root = await repoA.loadTree(snapshot.tree);
      const copy = await repoA.loadTree((root.entries.find((e) => e.name === 'copy') as { tree: string }).tree);
      const fileId = (tree: typeof root, name: string) =>
        (tree.entries.find((e) => e.name === name) as FileEntry).content;
      assert.deepEqual(fileId(root, 'a.bin'), fileId(copy, 'b.bin'));
      assert.deepEqual(fileId(root, 'small.txt'), fileId(copy, 'small.txt'));
      // Two distinct data blobs and two trees, though there are four files.
      assert.equal(repoA.indexSize(), 4);
      const [id] = fileId(root, 'a.bin');
      assert.notEqual(id, sha256Hex(same));
      assert.equal(id, repoA.codec.id(same));

      // A second snapshot with one more copy adds no data, only the changed trees.
      writeTree(ws, { 'third.bin': same });
      const second = await snapshotterFor(repoA, ws).snapshot();
      assert.equal(second.snapshot.stats.blobsAdded, 1, 'only the new root tree');
      assert.equal(repoA.indexSize(), 5);

      const repoB = await openEncrypted(temp.fresh('b'));
      assert.notEqual(repoB.codec.id(same), id, 'another store names the same content differently');
    });

    it('verifies with --read-data, and prunes and still restores', async () => {
      const ws = temp.make('ws');
      writeTree(ws, {
        'keep.txt': 'keep\n',
        'gone.bin': seededBytes(300 * KiB, 3),
        'big.bin': seededBytes(3 * MiB, 7),
      });
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      const first = await snapshotterFor(repo, ws).snapshot();
      fs.rmSync(path.join(ws, 'gone.bin'));
      await snapshotterFor(repo, ws).snapshot();
      assert.equal((await verifyRepository(repo, { readData: true })).ok, true);
      await repo.removeSnapshot(first.snapshot.id);
      await prune(repo);
      const after = await reopen(store);
      const report = await verifyRepository(after, { readData: true });
      assert.equal(report.ok, true, JSON.stringify(report.damage));
      const target = temp.make('restore');
      await new Restorer(after).restore(await after.resolveSnapshot('latest'), { target });
      assert.equal(describeTreeDiff(readTree(target), readTree(ws)), '');
    });

    it('seals with a fresh nonce every time and opens only what it sealed', () => {
      const codec = new EncryptedCodec(newMasterSecret());
      const plain = Buffer.from('the same bytes');
      const a = codec.seal(plain);
      const b = codec.seal(plain);
      assert.notDeepEqual(a, b);
      assert.equal(a.length, plain.length + 12 + 16);
      assert.deepEqual(codec.open(a, 'Object a'), plain);
      assert.throws(
        () => new EncryptedCodec(newMasterSecret()).open(a, 'Object a'),
        (e: BackupError) => e.code === 'OBJECT_DAMAGED',
      );
      assert.throws(
        () => codec.open(a.subarray(0, 20), 'Object a'),
        (e: BackupError) => e.code === 'OBJECT_DAMAGED',
      );
    });
  });

  describe('tampering', () => {
    async function storeWithFile(): Promise<{ store: string; repo: Repository; id: string }> {
      const ws = temp.make('ws');
      writeTree(ws, { 'file.bin': seededBytes(100 * KiB, 11), 'other.txt': 'other\n' });
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      const { snapshot } = await snapshotterFor(repo, ws).snapshot();
      const root = await repo.loadTree(snapshot.tree);
      return { store, repo, id: (root.entries.find((e) => e.name === 'file.bin') as FileEntry).content[0] };
    }

    function flipByte(file: string, at: number): void {
      const data = fs.readFileSync(file);
      data[at] ^= 0x01;
      fs.writeFileSync(file, data);
    }

    for (const [where, offsetIn] of [
      ['the nonce', () => 0],
      ['the ciphertext', (length: number) => Math.floor(length / 2)],
      ['the tag', (length: number) => length - 1],
    ] as Array<[string, (length: number) => number]>) {
      it(`detects one flipped bit in ${where} of a sealed blob (OBJECT_DAMAGED, and verify reports it)`, async () => {
        const { store, repo, id } = await storeWithFile();
        const at = repo.locate(id)!;
        flipByte(path.join(store, 'data', at.packId.slice(0, 2), at.packId), at.offset + offsetIn(at.length));
        const fresh = await reopen(store);
        const failure = await rejectionCode(() => fresh.loadBlob(id));
        assert.equal(failure.code, 'OBJECT_DAMAGED');
        const report = await verifyRepository(fresh, { readData: true });
        assert.equal(report.ok, false);
        assert.ok(
          report.damage.some((d) => d.object === id && d.kind === 'damaged'),
          JSON.stringify(report.damage),
        );
      });
    }

    it('detects a changed snapshot record and a changed index file', async () => {
      const { store } = await storeWithFile();
      const [record] = fs.readdirSync(path.join(store, 'snapshots'));
      flipByte(path.join(store, 'snapshots', record), 20);
      const damagedIndexes: string[] = [];
      const [indexFile] = fs.readdirSync(path.join(store, 'index'));
      flipByte(path.join(store, 'index', indexFile), 20);
      const fresh = await Repository.open(store, {
        passphrase: async () => PASSPHRASE,
        onDamagedIndex: (key) => damagedIndexes.push(key),
      });
      assert.deepEqual(damagedIndexes, [`index/${indexFile}`]);
      assert.equal((await rejectionCode(() => fresh.loadSnapshot(record))).code, 'OBJECT_DAMAGED');
      const report = await verifyRepository(fresh);
      assert.equal(report.ok, false);
    });

    it('refuses a config whose key block or cost was changed, as a wrong passphrase or a damaged config', async () => {
      const store = temp.fresh('store');
      await openEncrypted(store);
      const file = path.join(store, 'config');
      const original = fs.readFileSync(file, 'utf8');
      const edit = (change: (config: { id: string; encryption: { kdf: { N: number } } }) => void) => {
        const config = JSON.parse(original);
        change(config);
        fs.writeFileSync(file, JSON.stringify(config));
      };
      edit((c) => (c.encryption.kdf.N = TEST_N * 2));
      assert.equal((await rejectionCode(() => reopen(store))).code, 'WRONG_PASSPHRASE');
      edit((c) => (c.id = '0'.repeat(32))); // the key block is bound to its store
      assert.equal((await rejectionCode(() => reopen(store))).code, 'WRONG_PASSPHRASE');
      edit((c) => (c.encryption.kdf.N = 2 ** 30)); // would need 128 GiB
      assert.equal((await rejectionCode(() => reopen(store))).code, 'REPO_CORRUPT');
      edit((c) => ((c.encryption as unknown as Record<string, unknown>).masterKey = 'AAAA'));
      assert.equal((await rejectionCode(() => reopen(store))).code, 'REPO_CORRUPT');
    });
  });

  describe('passphrases', () => {
    it('refuses a wrong passphrase and changes nothing, through every command', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a\n', 'b/c.txt': 'c\n' });
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      await snapshotterFor(repo, ws).snapshot();
      const before = fingerprint(store);
      const wsBefore = fingerprint(ws);
      const target = path.join(temp.make('target'), 'restore');
      const wrong = 'correct horse battery stapler';
      const commands = [
        ['snapshot', ws],
        ['list'],
        ['ls', 'latest'],
        ['restore', 'latest', '--target', target],
        ['verify', '--read-data'],
        ['forget', '--keep-last', '1'],
        ['prune'],
        ['tag', 'latest', '--label', 'x'],
        ['init', '--encrypt'],
        ['passwd'],
      ];
      for (const argv of commands) {
        const run = await runCliCaptured([...argv, '--repo', store], {
          PROJECT_BACKUP_PASSWORD: wrong,
          PROJECT_BACKUP_NEW_PASSWORD: 'new one',
        });
        assertOneLineError(
          run,
          /^project-backup: The passphrase does not open the encrypted store at .*; nothing was changed\.$/,
        );
        assert.ok(!run.stderr[0].includes(wrong) && !run.stderr[0].includes('new one'), 'never prints a passphrase');
        assert.equal(fingerprint(store), before, `${argv[0]}: the store is unchanged`);
        assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), [], `${argv[0]}: no lock left`);
      }
      assert.equal(fingerprint(ws), wsBefore);
      assert.equal(fs.existsSync(target), false);
      assert.equal((await rejectionCode(() => reopen(store, wrong))).code, 'WRONG_PASSPHRASE');
    });

    it('says how to give a missing passphrase', async () => {
      const store = temp.fresh('store');
      await openEncrypted(store);
      const before = fingerprint(store);
      const failure = await rejectionCode(() => Repository.open(store));
      assert.equal(failure.code, 'PASSPHRASE_REQUIRED');
      const run = await runCliCaptured(['list', '--repo', store], {});
      assertOneLineError(
        run,
        /^project-backup: The store at .* is encrypted: set PROJECT_BACKUP_PASSWORD or pass --password-file <file>\.$/,
      );
      const empty = await runCliCaptured(['list', '--repo', store], { PROJECT_BACKUP_PASSWORD: '' });
      assertOneLineError(empty, /PROJECT_BACKUP_PASSWORD/);
      assert.equal(fingerprint(store), before);
    });

    it('init --encrypt refuses a missing or empty passphrase and creates nothing; it refuses to encrypt an existing plain store', async () => {
      const fresh = temp.fresh('store');
      assertOneLineError(
        await runCliCaptured(['init', '--encrypt', '--repo', fresh], {}),
        /Creating an encrypted store needs a passphrase: set PROJECT_BACKUP_PASSWORD or pass --password-file <file>\./,
      );
      assert.equal(fs.existsSync(fresh), false);
      const emptyFile = path.join(temp.make('secrets'), 'empty');
      fs.writeFileSync(emptyFile, '\n');
      assertOneLineError(
        await runCliCaptured(['init', '--encrypt', '--repo', fresh, '--password-file', emptyFile], {}),
        /empty passphrase/,
      );
      assert.equal(fs.existsSync(fresh), false);

      const plain = temp.fresh('plain');
      assert.equal((await runCliCaptured(['init', '--repo', plain], {})).code, 0);
      const before = fingerprint(plain);
      assertOneLineError(
        await runCliCaptured(['init', '--encrypt', '--repo', plain], { PROJECT_BACKUP_PASSWORD: PASSPHRASE }),
        /already exists and is not encrypted/,
      );
      assert.equal(fingerprint(plain), before);
    });

    it('reads --password-file without its trailing line break, and prefers it to the environment', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a\n' });
      const store = temp.fresh('store');
      await openEncrypted(store);
      const secrets = temp.make('secrets');
      const write = (name: string, text: string) => {
        const file = path.join(secrets, name);
        fs.writeFileSync(file, text);
        return file;
      };
      for (const text of [`${PASSPHRASE}\n`, `${PASSPHRASE}\r\n`, PASSPHRASE]) {
        const run = await runCliCaptured(['snapshot', ws, '--repo', store, '--password-file', write('pw', text)], {
          PROJECT_BACKUP_PASSWORD: 'not this one',
        });
        assert.equal(run.code, 0, `${JSON.stringify(text)}: ${run.stderr.join('\n')}`);
      }
      // Only one line break goes: a passphrase may end in spaces, and a second newline is part of it.
      assertOneLineError(
        await runCliCaptured(['list', '--repo', store, '--password-file', write('pw2', `${PASSPHRASE}\n\n`)], {}),
        /does not open/,
      );
      assertOneLineError(
        await runCliCaptured(['list', '--repo', store, '--password-file', path.join(secrets, 'absent')], {}),
        /absent does not exist/,
      );
      // A plain store never reads the file.
      const plain = temp.fresh('plain');
      assert.equal(
        (await runCliCaptured(['snapshot', ws, '--repo', plain, '--password-file', path.join(secrets, 'absent')], {}))
          .code,
        0,
      );
    });

    it('passwd: the new passphrase works, the old one stops working, data files stay as they were, open processes carry on', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a\n', 'big.bin': seededBytes(200 * KiB, 5) });
      const store = temp.fresh('store');
      const repo = await openEncrypted(store);
      await snapshotterFor(repo, ws).snapshot();
      const data = fingerprint(store, { except: (rel) => rel === 'config' });
      const configBefore = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8'));

      const run = await runCliCaptured(['passwd', '--repo', store], {
        PROJECT_BACKUP_PASSWORD: PASSPHRASE,
        PROJECT_BACKUP_NEW_PASSWORD: 'a new passphrase',
      });
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.ok(
        !run.stdout.join('\n').includes('a new passphrase') && !run.stdout.join('\n').includes(PASSPHRASE),
        'never prints a passphrase',
      );
      assert.equal(
        fingerprint(store, { except: (rel) => rel === 'config' }),
        data,
        'nothing but the config is rewritten',
      );
      const configAfter = JSON.parse(fs.readFileSync(path.join(store, 'config'), 'utf8'));
      assert.notEqual(configAfter.encryption.kdf.salt, configBefore.encryption.kdf.salt, 'a new salt');
      assert.deepEqual(
        { ...configAfter, encryption: null, checksum: null },
        { ...configBefore, encryption: null, checksum: null },
        'the rest of the config is as it was (its checksum covers the new key block)',
      );

      assert.equal(
        (await runCliCaptured(['list', '--repo', store], { PROJECT_BACKUP_PASSWORD: 'a new passphrase' })).code,
        0,
      );
      assertOneLineError(
        await runCliCaptured(['list', '--repo', store], { PROJECT_BACKUP_PASSWORD: PASSPHRASE }),
        /does not open/,
      );
      await verifyPassphrase(store, 'a new passphrase');
      assert.equal((await rejectionCode(() => verifyPassphrase(store, PASSPHRASE))).code, 'WRONG_PASSPHRASE');

      // The process that had the store open before the change keeps writing, and the result reads back.
      writeTree(ws, { 'b.txt': 'written after the change\n' });
      const later = await snapshotterFor(repo, ws).snapshot();
      const fresh = await reopen(store, 'a new passphrase');
      assert.equal((await fresh.resolveSnapshot('latest')).id, later.snapshot.id);
      assert.equal((await verifyRepository(fresh, { readData: true })).ok, true);
    });

    it('changePassphrase checks the old passphrase first and refuses an empty new one, writing nothing', async () => {
      const store = temp.fresh('store');
      await openEncrypted(store);
      const before = fingerprint(store);
      assert.equal((await rejectionCode(() => changePassphrase(store, 'wrong', 'new'))).code, 'WRONG_PASSPHRASE');
      assert.equal((await rejectionCode(() => changePassphrase(store, PASSPHRASE, ''))).code, 'USAGE');
      assert.equal(fingerprint(store), before);
      const newFile = path.join(temp.make('secrets'), 'new');
      fs.writeFileSync(newFile, 'from a file\n');
      const run = await runCliCaptured(['passwd', '--repo', store, '--new-password-file', newFile], {
        PROJECT_BACKUP_PASSWORD: PASSPHRASE,
      });
      assert.equal(run.code, 0, run.stderr.join('\n'));
      await verifyPassphrase(store, 'from a file');
      assertOneLineError(
        await runCliCaptured(['passwd', '--repo', store], { PROJECT_BACKUP_PASSWORD: 'from a file' }),
        /The new passphrase is missing: set PROJECT_BACKUP_NEW_PASSWORD or pass --new-password-file <file>\./,
      );

      const plain = temp.fresh('plain');
      await openRepo(plain);
      assertOneLineError(
        await runCliCaptured(['passwd', '--repo', plain], {
          PROJECT_BACKUP_PASSWORD: 'x',
          PROJECT_BACKUP_NEW_PASSWORD: 'y',
        }),
        /is not encrypted/,
      );
    });

    it('the built bundle: without a terminal and without a passphrase it says so at once (never waits for input)', async function () {
      if (!fs.existsSync(DIST_CLI)) this.skip(); // `npm test` builds it; `node esbuild.js` by hand
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a\n' });
      const store = temp.fresh('store');
      await openEncrypted(store);
      const missing = spawnCli(['snapshot', ws, '--repo', store]);
      assert.equal(missing.code, 1, missing.stderr);
      assert.deepEqual(lines(missing.stderr), [
        `project-backup: The store at ${store} is encrypted: set PROJECT_BACKUP_PASSWORD or pass --password-file <file>.`,
      ]);
      const wrong = spawnCli(['snapshot', ws, '--repo', store], { PROJECT_BACKUP_PASSWORD: 'nope' });
      assert.equal(wrong.code, 1);
      assert.equal(lines(wrong.stderr).length, 1);
      const right = spawnCli(['snapshot', ws, '--repo', store, '--json'], { PROJECT_BACKUP_PASSWORD: PASSPHRASE });
      assert.equal(right.code, 0, right.stderr);
      assert.equal(JSON.parse(right.stdout).created, true);
    });

    it('normalizes the passphrase, so the same words typed on another system open the store', async () => {
      const store = temp.fresh('store');
      await openEncrypted(store, 'caf\u00e9'); // é precomposed
      await reopen(store, 'cafe\u0301'); // e + combining accent
    });
  });
});
