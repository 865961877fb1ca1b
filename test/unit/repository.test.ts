// The store: creation and refusal, blobs (dedup, verification), trees, snapshot records, and what the
// store costs on disk (dedup across files and snapshots, compression, content-defined chunking).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBackupError } from '../../src/core/errors';
import { FORMAT_VERSION } from '../../src/core/repository/config';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { decodeTree, encodeTree } from '../../src/core/repository/tree';
import { readWholeFile } from '../../src/core/query/browse';
import {
  KiB,
  MiB,
  damageBlob,
  openRepo,
  openRepoWithFixedChunkerSeed,
  rejectionCode,
  seededBytes,
  seededText,
  snapshotterFor,
  storeBytes,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

const ZERO_ID = '0'.repeat(64);

describe('Repository', () => {
  const temp = useTempDirs();

  describe('opening and creating', () => {
    it('creates a store on first use in a missing folder, and reopens it with the same config', async () => {
      const dir = temp.fresh('store');
      const created = await openRepo(dir);
      assert.ok(fs.existsSync(path.join(dir, 'config')));
      assert.equal(created.config.format, FORMAT_VERSION);
      const reopened = await Repository.open(dir);
      assert.equal(reopened.config.id, created.config.id);
      assert.equal(reopened.location, path.resolve(dir));
    });

    it('refuses a folder without a config (REPO_NOT_FOUND) and creates nothing', async () => {
      const missing = temp.fresh('nostore');
      const r1 = await rejectionCode(() => Repository.open(missing));
      assert.equal(r1.code, 'REPO_NOT_FOUND');
      assert.ok(!fs.existsSync(missing), 'opening without create must not create the folder');
      const empty = temp.make('empty');
      const r2 = await rejectionCode(() => Repository.open(empty));
      assert.equal(r2.code, 'REPO_NOT_FOUND');
      assert.match(r2.message, /no backup store|no config/i);
      assert.deepEqual(fs.readdirSync(empty), []);
    });

    it('refuses a store written by a newer format (REPO_NEWER_FORMAT) with a clear message, before validating anything else', async () => {
      const dir = temp.fresh('store');
      await openRepo(dir);
      const configFile = path.join(dir, 'config');
      const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
      fs.writeFileSync(configFile, JSON.stringify({ ...config, format: FORMAT_VERSION + 1 }));
      const r = await rejectionCode(() => Repository.open(dir));
      assert.equal(r.code, 'REPO_NEWER_FORMAT');
      assert.match(r.message, new RegExp(`format ${FORMAT_VERSION + 1}`));
      assert.match(r.message, /update/i);
      assert.ok(!r.message.includes('\n'), 'one sentence, one line');
      // A newer format may change every other field: still the newer-format error, not "corrupt".
      fs.writeFileSync(configFile, JSON.stringify({ format: FORMAT_VERSION + 7, somethingNew: true }));
      assert.equal((await rejectionCode(() => Repository.open(dir))).code, 'REPO_NEWER_FORMAT');
      // Even with create: an existing newer store is never overwritten.
      assert.equal((await rejectionCode(() => Repository.open(dir, { create: true }))).code, 'REPO_NEWER_FORMAT');
      assert.equal(JSON.parse(fs.readFileSync(configFile, 'utf8')).format, FORMAT_VERSION + 7);
    });

    it('refuses to create a store in a non-empty folder that holds no store, and writes nothing there', async () => {
      const dir = temp.make('project');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      const r = await rejectionCode(() => Repository.open(dir, { create: true }));
      assert.equal(r.code, 'REPO_NOT_FOUND');
      assert.match(r.message, /not empty/);
      assert.deepEqual(fs.readdirSync(dir), ['notes.txt']);
    });

    it('refuses a store path that is a file', async () => {
      const dir = temp.make('x');
      const file = path.join(dir, 'file');
      fs.writeFileSync(file, 'x');
      const r = await rejectionCode(() => Repository.open(file, { create: true }));
      assert.equal(r.code, 'REPO_NOT_FOUND', r.message);
      assert.match(r.message, /is a file/);
      const r2 = await rejectionCode(() => Repository.open(file));
      assert.equal(r2.code, 'REPO_NOT_FOUND', r2.message);
      assert.equal(fs.readFileSync(file, 'utf8'), 'x');
    });

    it('an open store whose folder vanishes (a drive unplugged, its mount point left empty) is REPO_NOT_FOUND, and nothing is written there', async () => {
      const dir = temp.fresh('store');
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'one\n' });
      const repo = await openRepo(dir);
      await snapshotterFor(repo, ws).snapshot({ trigger: 'manual' });
      fs.renameSync(dir, `${dir}-unplugged`);
      fs.mkdirSync(dir);
      writeTree(ws, { 'a.txt': 'two\n' });
      const r = await rejectionCode(() => snapshotterFor(repo, ws).snapshot({ trigger: 'manual' }));
      assert.equal(r.code, 'REPO_NOT_FOUND', r.message);
      assert.match(
        r.message,
        /^The backup store at .* is gone \(its config file is no longer there\): was its drive disconnected, or the folder moved or deleted\? Nothing was written\.$/,
      );
      assert.deepEqual(fs.readdirSync(dir), []);
    });

    it('a layout folder removed by hand is made again on the next write (the store itself is there)', async () => {
      const dir = temp.fresh('store');
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'one\n' });
      const repo = await openRepo(dir);
      fs.rmSync(path.join(dir, 'snapshots'), { recursive: true });
      const result = await snapshotterFor(repo, ws).snapshot({ trigger: 'manual' });
      assert.ok(fs.existsSync(path.join(dir, 'snapshots', result.snapshot.id)));
    });
  });

  describe('blobs', () => {
    it('stores and loads blobs, deduplicating within a writer and across writers', async () => {
      const dir = temp.fresh('store');
      const repo = await openRepo(dir);
      const a = seededBytes(5000, 1);
      const b = seededBytes(5000, 2);
      const w1 = repo.newWriter();
      const idA = await w1.add('data', a);
      const idA2 = await w1.add('data', Buffer.from(a));
      const idB = await w1.add('data', b);
      await w1.finish();
      assert.equal(idA, idA2);
      assert.notEqual(idA, idB);
      assert.equal(w1.blobsAdded, 2);
      assert.ok((await repo.loadBlob(idA)).equals(a));
      assert.ok((await repo.loadBlob(idB)).equals(b));

      const w2 = repo.newWriter();
      await w2.add('data', a);
      await w2.finish();
      assert.equal(w2.blobsAdded, 0);
      assert.equal(w2.bytesAdded, 0);

      // A second process sees the blobs through the index.
      const other = await Repository.open(dir);
      assert.ok(other.hasBlob(idA) && other.hasBlob(idB));
      assert.ok((await other.loadBlob(idB)).equals(b));
    });

    it('verifies every read: a damaged blob is OBJECT_DAMAGED, an unknown one OBJECT_MISSING', async () => {
      const dir = temp.fresh('store');
      const repo = await openRepo(dir);
      const w = repo.newWriter();
      // Over 32 KiB each: blobs of their own (smaller ones share a compressed bundle, and fail together).
      const good = await w.add('data', seededBytes(40_000, 10));
      const bad = await w.add('data', seededBytes(40_000, 11));
      await w.finish();
      damageBlob(repo, bad);
      const fresh = await Repository.open(dir);
      assert.equal((await rejectionCode(() => fresh.loadBlob(bad))).code, 'OBJECT_DAMAGED');
      assert.ok(
        (await fresh.loadBlob(good)).equals(seededBytes(40_000, 10)),
        'the neighbour in the same pack still reads',
      );
      assert.equal((await rejectionCode(() => fresh.loadBlob(ZERO_ID))).code, 'OBJECT_MISSING');
    });
  });

  describe('trees', () => {
    it('encodes canonically: the same entries in any order give the same bytes', () => {
      const x = { type: 'file' as const, name: 'x', mode: 0o644, size: 0, content: [] };
      const y = { type: 'symlink' as const, name: 'y', target: 'x' };
      const z = { type: 'dir' as const, name: 'z', tree: ZERO_ID };
      assert.ok(encodeTree([z, x, y]).equals(encodeTree([x, y, z])));
      assert.deepEqual(
        decodeTree(encodeTree([y, z, x]), 't').entries.map((e) => e.name),
        ['x', 'y', 'z'],
      );
    });

    it('decodeTree rejects a tree with two entries of one name (a symlink "x" and a folder "x")', () => {
      const forged = Buffer.from(
        JSON.stringify({
          v: 1,
          entries: [
            { type: 'dir', name: 'x', tree: ZERO_ID },
            { type: 'symlink', name: 'x', target: '/tmp' },
          ],
        }),
      );
      assert.throws(
        () => decodeTree(forged, 'Tree t'),
        (e: unknown) => isBackupError(e, 'OBJECT_DAMAGED') && /repeated/.test(e.message),
      );
      // encodeTree does not deduplicate, so the writer cannot produce such a tree that decodes.
      assert.throws(
        () =>
          decodeTree(
            encodeTree([
              { type: 'symlink', name: 'x', target: '/tmp' },
              { type: 'dir', name: 'x', tree: ZERO_ID },
            ]),
            't',
          ),
        (e: unknown) => isBackupError(e, 'OBJECT_DAMAGED'),
      );
    });

    it('decodeTree rejects unsorted names and malformed entries, but keeps hostile names for the restorer to judge', () => {
      const unsorted = Buffer.from(
        JSON.stringify({
          v: 1,
          entries: [
            { type: 'symlink', name: 'b', target: '' },
            { type: 'symlink', name: 'a', target: '' },
          ],
        }),
      );
      assert.throws(
        () => decodeTree(unsorted, 't'),
        (e: unknown) => isBackupError(e, 'OBJECT_DAMAGED'),
      );
      const badId = Buffer.from(
        JSON.stringify({ v: 1, entries: [{ type: 'file', name: 'a', mode: 420, size: 1, content: ['nothex'] }] }),
      );
      assert.throws(
        () => decodeTree(badId, 't'),
        (e: unknown) => isBackupError(e, 'OBJECT_DAMAGED'),
      );
      assert.throws(
        () => decodeTree(Buffer.from('not json'), 't'),
        (e: unknown) => isBackupError(e, 'OBJECT_DAMAGED'),
      );
      const hostile = ['..', '/etc', 'a/b', 'x\0y'].map((name) => ({ type: 'symlink' as const, name, target: '/' }));
      assert.deepEqual(
        decodeTree(encodeTree(hostile), 't')
          .entries.map((e) => e.name)
          .sort(),
        ['..', '/etc', 'a/b', 'x\0y'].sort(),
      );
    });
  });

  describe('snapshot records', () => {
    async function withSnapshot(): Promise<{ repo: Repository; record: SnapshotRecord; dir: string }> {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a' });
      const dir = temp.fresh('store');
      const repo = await openRepo(dir);
      const record = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      return { repo, record, dir };
    }

    it('lists records oldest first, and resolves latest, full ids and unique prefixes', async () => {
      const { repo, record } = await withSnapshot();
      const older = { ...record, id: 'abc00000000000000000000000000001', time: '2020-01-01T00:00:00.000Z' };
      const sibling = { ...record, id: 'abc00000000000000000000000000002', time: '2020-01-02T00:00:00.000Z' };
      await repo.saveSnapshot(older);
      await repo.saveSnapshot(sibling);
      const fresh = await Repository.open(repo.location);
      const all = await fresh.listSnapshots();
      assert.deepEqual(
        all.map((s) => s.id),
        [older.id, sibling.id, record.id],
      );
      assert.equal((await fresh.resolveSnapshot('latest')).id, record.id);
      assert.equal((await fresh.resolveSnapshot(record.id)).id, record.id);
      assert.equal((await fresh.resolveSnapshot(record.id.slice(0, 6).toUpperCase())).id, record.id);
      assert.equal((await fresh.resolveSnapshot('abc00000000000000000000000000002')).id, sibling.id);
      assert.equal((await rejectionCode(() => fresh.resolveSnapshot('abc0'))).code, 'SNAPSHOT_AMBIGUOUS');
      assert.equal((await rejectionCode(() => fresh.resolveSnapshot('ffffffffff'))).code, 'SNAPSHOT_NOT_FOUND');
      assert.equal((await rejectionCode(() => fresh.resolveSnapshot(''))).code, 'SNAPSHOT_NOT_FOUND');
      assert.equal(
        (await rejectionCode(() => fresh.resolveSnapshot('latest', 'no-such-workspace'))).code,
        'SNAPSHOT_NOT_FOUND',
      );
    });

    it('reports a damaged record through onDamaged and still lists the others', async () => {
      const { record, dir } = await withSnapshot();
      const broken = 'dddddddddddddddddddddddddddddddd';
      fs.writeFileSync(path.join(dir, 'snapshots', broken), '{"v":1,"id":"nonsense"}');
      const damaged: string[] = [];
      const list = await (await Repository.open(dir)).listSnapshots({ onDamaged: (key) => damaged.push(key) });
      assert.deepEqual(
        list.map((s) => s.id),
        [record.id],
      );
      assert.deepEqual(damaged, [`snapshots/${broken}`]);
    });
  });

  describe('what the store costs on disk', () => {
    it('stores identical content in many files once, and again not at all in a later snapshot', async () => {
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const content = seededBytes(200 * 1000, 42);
      writeTree(ws, { 'a.bin': content, 'b.bin': content, 'deep/er/c.bin': content });
      const repo = await openRepo(store);
      const base = storeBytes(store);
      const first = await snapshotterFor(repo, ws).snapshot();
      const growth1 = storeBytes(store) - base;
      assert.ok(growth1 >= content.length, `the content must be stored at least once (grew ${growth1})`);
      assert.ok(
        growth1 < content.length + 16 * KiB,
        `three copies must cost about one (grew ${growth1} for ${content.length})`,
      );
      assert.ok(
        first.snapshot.stats.dataAdded < content.length + 4 * KiB,
        `plaintext added once (${first.snapshot.stats.dataAdded})`,
      );

      writeTree(ws, { 'copy/d.bin': content, 'copy/e.bin': content });
      const before2 = storeBytes(store);
      const second = await snapshotterFor(repo, ws).snapshot();
      assert.equal(second.created, true);
      const growth2 = storeBytes(store) - before2;
      assert.ok(growth2 < 8 * KiB, `copies of stored content must only add trees and a record (grew ${growth2})`);
      assert.equal(second.snapshot.stats.blobsAdded, 2, 'one new folder tree and the new root tree, no data');
    });

    it('stores compressible text smaller than its raw size', async () => {
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const text = seededText(400 * 1000, 9);
      writeTree(ws, { 'src/a.ts': text, 'src/small.ts': seededText(3000, 10) });
      const repo = await openRepo(store);
      const base = storeBytes(store);
      await snapshotterFor(repo, ws).snapshot();
      const growth = storeBytes(store) - base;
      assert.ok(
        growth < (text.length + 3000) / 2,
        `text should compress to under half (grew ${growth} for ${text.length + 3000})`,
      );
    });

    it('does not inflate incompressible data', async () => {
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const sizes = [100, 5000, 70 * 1000, 300 * 1000];
      const spec: Record<string, Buffer> = {};
      sizes.forEach((size, i) => (spec[`r${i}.bin`] = seededBytes(size, 100 + i)));
      writeTree(ws, spec);
      const raw = sizes.reduce((a, b) => a + b, 0);
      const repo = await openRepo(store);
      const base = storeBytes(store);
      await snapshotterFor(repo, ws).snapshot();
      const growth = storeBytes(store) - base;
      assert.ok(growth >= raw, `random data cannot shrink (grew ${growth} for ${raw})`);
      assert.ok(
        growth <= raw + 4 * KiB,
        `random data must be stored at about its raw size (grew ${growth} for ${raw})`,
      );
    });

    it('chunking: a 4 KiB edit in the middle of a 16 MiB file adds well under 2 MB', async function () {
      this.timeout(30_000);
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const big = seededBytes(16 * MiB, 2024);
      writeTree(ws, { 'big.bin': big });
      const repo = await openRepoWithFixedChunkerSeed(store);
      const first = await snapshotterFor(repo, ws).snapshot();
      assert.ok(first.snapshot.stats.bytesAdded >= 16 * MiB);
      const edited = Buffer.from(big);
      seededBytes(4 * KiB, 77).copy(edited, 8 * MiB + 1234);
      fs.writeFileSync(path.join(ws, 'big.bin'), edited);
      const before = storeBytes(store);
      const second = await snapshotterFor(repo, ws).snapshot();
      const growth = storeBytes(store) - before;
      assert.equal(second.created, true);
      assert.ok(growth > 4 * KiB, `the edit itself must be stored (grew ${growth})`);
      assert.ok(growth < 2 * 1000 * 1000, `a 4 KiB edit must not re-store the file (grew ${growth})`);
      assert.ok((await readWholeFile(repo, second.snapshot, 'big.bin')).equals(edited));
      assert.ok((await readWholeFile(repo, first.snapshot, 'big.bin')).equals(big));
    });
  });
});
