// Verify: a sound store verifies (quick and --read-data); every kind of damage is found, reported once and
// attributed to every snapshot and path that depends on it; restore fails exactly those paths, with the
// same sentence; a seeded subset reads its share of packs; cancellation; the CLI's exit codes and JSON.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyCommand, EXIT_DAMAGE, VERIFY_USAGE } from '../../src/cli/verifyCommand';
import type { Io } from '../../src/cli/context';
import { UsageError } from '../../src/cli/context';
import { verifyRepository } from '../../src/core/check/verify';
import type { Damage, VerifyOptions, VerifyReport } from '../../src/core/check/verify';
import { BackupError } from '../../src/core/errors';
import { entryAt } from '../../src/core/query/browse';
import { decodeIndex } from '../../src/core/repository/indexFile';
import { packKey } from '../../src/core/repository/pack';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { Restorer } from '../../src/core/restore/restorer';
import {
  KiB,
  damageBlob,
  readTree,
  rejectionCode,
  runCliCaptured,
  openRepo,
  seededBytes,
  seededText,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
  xorshift32,
} from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

/** A folder whose tree is over 32 KiB, so it is a storage unit of its own and can be damaged alone. */
function wideFolder(): TreeSpec {
  const spec: TreeSpec = {};
  for (let i = 0; i < 300; i++) spec[`wide/entry-${String(i).padStart(4, '0')}-${'n'.repeat(80)}.txt`] = '';
  return spec;
}

// Files over 32 KiB are units of their own (smaller ones share a bundle): damaging one damages one file.
const FIRST: TreeSpec = {
  'big/a.bin': seededBytes(40 * KiB, 1), // incompressible: stored raw
  'big/b.bin': seededBytes(48 * KiB, 2),
  'big/text.ts': seededText(60 * KiB, 3), // compressed
  'src/x.ts': 'export const x = 1;\n',
  'src/y.ts': seededText(2000, 4),
  'notes.txt': 'first\n',
  ...wideFolder(),
};
const SECOND: TreeSpec = { 'big/c.bin': seededBytes(44 * KiB, 5), 'notes.txt': 'second\n' };

interface Store {
  ws: string;
  store: string;
  /** The repository that wrote the snapshots (its tree cache still holds every tree). */
  repo: Repository;
  s1: SnapshotRecord;
  s2: SnapshotRecord;
  /** The index file written by the first snapshot. */
  index1: string;
}

function packFile(store: string, packId: string): string {
  return path.join(store, ...packKey(packId).split('/'));
}

function byObject(report: VerifyReport): Map<string, Damage> {
  const map = new Map(report.damage.map((d) => [d.object, d]));
  assert.equal(
    map.size,
    report.damage.length,
    `each object is reported once: ${report.damage.map((d) => d.object).join(', ')}`,
  );
  return map;
}

function short(s: SnapshotRecord): string {
  return s.id.slice(0, 8);
}

/**
 * The oracle: walks every snapshot in full (no cleverness) and lists, for each lost blob or tree it reaches,
 * the snapshots and "<id8>:<path>" that depend on it. A lost tree stands for its whole folder.
 */
async function dependents(
  repo: Repository,
  snapshots: readonly SnapshotRecord[],
  lost: (id: string) => boolean,
): Promise<Map<string, { snapshots: string[]; files: string[] }>> {
  const out = new Map<string, { snapshots: string[]; files: string[] }>();
  const add = (id: string, snapshot: SnapshotRecord, rel: string) => {
    let entry = out.get(id);
    if (!entry) out.set(id, (entry = { snapshots: [], files: [] }));
    if (!entry.snapshots.includes(snapshot.id)) entry.snapshots.push(snapshot.id);
    entry.files.push(`${short(snapshot)}:${rel}`);
  };
  for (const snapshot of snapshots) {
    if (lost(snapshot.tree)) {
      add(snapshot.tree, snapshot, '.');
      continue;
    }
    const walk = async (tree: string, prefix: string): Promise<void> => {
      for (const entry of (await repo.loadTree(tree)).entries) {
        const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.type === 'file') for (const id of new Set(entry.content)) if (lost(id)) add(id, snapshot, rel);
        if (entry.type === 'dir') {
          if (lost(entry.tree)) add(entry.tree, snapshot, rel);
          else await walk(entry.tree, rel);
        }
      }
    };
    await walk(snapshot.tree, '');
  }
  return out;
}

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

/** Restores `snapshot` into a new folder with a repository opened afresh (no cached trees or bundles). */
async function restoreFresh(store: string, snapshot: SnapshotRecord, target: string) {
  const fresh = await Repository.open(store);
  return new Restorer(fresh).restore(snapshot, { target });
}

/** The files restore could not write, as "<id8>:<path>" with their reasons, to compare with a report. */
function problemsOf(
  snapshot: SnapshotRecord,
  problems: ReadonlyArray<{ path: string; reason: string }>,
): Array<[string, string]> {
  return problems
    .map((p): [string, string] => [`${short(snapshot)}:${p.path}`, p.reason])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** The same pairs as the report gives them, for one snapshot. */
function reportedFor(snapshot: SnapshotRecord, report: VerifyReport): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const d of report.damage)
    for (const f of d.files) if (f.startsWith(`${short(snapshot)}:`)) pairs.push([f, d.reason]);
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

describe('verify', () => {
  const temp = useTempDirs();

  async function twoSnapshots(): Promise<Store> {
    const ws = temp.make('ws');
    writeTree(ws, FIRST);
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const s1 = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    const [index1] = fs.readdirSync(path.join(store, 'index'));
    writeTree(ws, SECOND);
    const s2 = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    assert.notEqual(s1.tree, s2.tree, 'precondition: the second snapshot has a new root');
    assert.equal(fs.readdirSync(path.join(store, 'index')).length, 2, 'precondition: one index file per snapshot');
    return { ws, store, repo, s1, s2, index1: `index/${index1}` };
  }

  async function idOf(repo: Repository, snapshot: SnapshotRecord, rel: string): Promise<string> {
    const entry = await entryAt(repo, snapshot.tree, rel);
    if (entry?.type === 'file') return entry.content[0];
    if (entry?.type === 'dir') return entry.tree;
    throw new Error(`${rel} is not in the snapshot`);
  }

  async function verify(store: string, options: VerifyOptions = {}): Promise<VerifyReport> {
    return verifyRepository(await Repository.open(store), options);
  }

  describe('a sound store', () => {
    it('verifies with the quick check and with --read-data, counting what it checked, and releases its lock', async () => {
      const { store } = await twoSnapshots();
      const quick = await verify(store);
      assert.deepEqual(quick.damage, []);
      assert.equal(quick.ok, true);
      assert.equal(quick.snapshots, 2);
      // root, big, src, wide; then a new root and big (src and wide are shared).
      assert.equal(quick.trees, 6);
      // a, b, text, x, y, notes; then c and the new notes (empty files have no blob).
      assert.equal(quick.blobs, 8);
      assert.equal(quick.packs, 2);
      assert.equal(quick.packsRead, 0);

      const full = await verify(store, { readData: true });
      assert.equal(full.ok, true, JSON.stringify(full.damage));
      assert.equal(full.packsRead, 2);
      const packBytes = fs
        .readdirSync(path.join(store, 'data'))
        .flatMap((sub) =>
          fs
            .readdirSync(path.join(store, 'data', sub))
            .map((name) => fs.statSync(path.join(store, 'data', sub, name)).size),
        );
      assert.equal(packBytes.length, 2);
      assert.ok(
        full.bytesRead >= packBytes.reduce((a, b) => a + b, 0),
        `read every pack in full (${full.bytesRead} bytes read)`,
      );
      assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), [], 'no lock is left behind');
    });

    it('holds a shared lock named "verify" while it checks', async () => {
      const { store } = await twoSnapshots();
      const seen: Array<{ purpose: string; exclusive: boolean }> = [];
      await verify(store, {
        onProgress: (_done, _total, phase) => {
          if (phase !== 'packs' || seen.length > 0) return;
          for (const name of fs.readdirSync(path.join(store, 'locks')))
            seen.push(JSON.parse(fs.readFileSync(path.join(store, 'locks', name), 'utf8')));
        },
      });
      assert.deepEqual(
        seen.map((l) => [l.purpose, l.exclusive]),
        [['verify', false]],
      );
    });

    it('refuses a subset share outside 0-100', async () => {
      const { store } = await twoSnapshots();
      for (const bad of [-1, 101, Number.NaN]) {
        assert.equal((await rejectionCode(() => verify(store, { readDataSubset: bad }))).code, 'USAGE', String(bad));
      }
    });
  });

  describe('damage found and attributed', () => {
    it('a damaged byte in a pack: only --read-data finds it; restore fails that file alone with the same sentence', async () => {
      const { store, repo, ws, s1, s2 } = await twoSnapshots();
      const raw = await idOf(repo, s2, 'big/a.bin');
      const packed = await idOf(repo, s2, 'big/text.ts');
      assert.equal(repo.locate(raw)?.compressed, false, 'precondition: a.bin is stored raw');
      assert.equal(repo.locate(packed)?.compressed, true, 'precondition: text.ts is compressed');
      damageBlob(repo, raw);
      damageBlob(repo, packed);

      const quick = await verify(store);
      assert.equal(quick.ok, true, 'the quick check reads no file data, so it cannot see this');

      const report = await verify(store, { readData: true });
      assert.equal(report.ok, false);
      const damage = byObject(report);
      assert.deepEqual(
        sorted([...damage.keys()]),
        sorted([raw, packed]),
        'the two blobs, and not their pack as a third object',
      );
      for (const [id, rel] of [
        [raw, 'big/a.bin'],
        [packed, 'big/text.ts'],
      ]) {
        const d = damage.get(id) as Damage;
        assert.equal(d.kind, 'damaged');
        assert.match(
          d.reason,
          new RegExp(
            `^Object ${id.slice(0, 12)} in pack [0-9a-f]{12} (does not match its checksum|cannot be decompressed); it is damaged\\.$`,
          ),
        );
        assert.deepEqual(d.snapshots, [s1.id, s2.id], 'both snapshots, oldest first');
        assert.deepEqual(d.files, [`${short(s1)}:${rel}`, `${short(s2)}:${rel}`]);
      }

      const target = temp.make('target');
      const result = await restoreFresh(store, s2, target);
      assert.deepEqual(
        problemsOf(s2, result.problems),
        reportedFor(s2, report),
        'restore fails exactly the reported files, with the same sentence',
      );
      const rest = readTree(ws);
      delete rest['big/a.bin'];
      delete rest['big/text.ts'];
      assert.deepEqual(readTree(target), rest, 'every other file of the snapshot is restored');
    });

    it('a truncated pack: the quick check names the pack once, with every path whose data was cut off', async () => {
      const { store, repo, s1, s2 } = await twoSnapshots();
      const a = repo.locate(await idOf(repo, s1, 'big/a.bin'));
      assert.ok(a);
      const cut = a.offset + 1;
      fs.truncateSync(packFile(store, a.packId), cut);
      const lost = (id: string) => {
        const at = repo.locate(id);
        return at?.packId === a.packId && at.offset + at.length > cut;
      };
      const expected = await dependents(repo, [s1, s2], lost);
      assert.ok(expected.has(a.id), 'precondition: a.bin is lost');

      const report = await verify(store);
      const damage = byObject(report);
      assert.deepEqual([...damage.keys()], [packKey(a.packId)], 'one object: the pack');
      const d = damage.get(packKey(a.packId)) as Damage;
      assert.equal(d.kind, 'damaged');
      assert.match(d.reason, /is shorter than its index says \(truncated\)\.$/);
      assert.deepEqual(d.snapshots, [s1.id, s2.id]);
      assert.deepEqual(sorted(d.files), sorted([...expected.values()].flatMap((e) => e.files)));
      assert.ok(d.files.includes(`${short(s1)}:.`), 'the first snapshot lost its root folder');
      assert.ok(d.files.includes(`${short(s2)}:big/a.bin`));

      const result = await restoreFresh(store, s2, temp.make('target'));
      assert.deepEqual(problemsOf(s2, result.problems), reportedFor(s2, report));
    });

    it('a pack cut exactly after its data: the quick check finds the lost header; no file depends on it', async () => {
      const { store, repo, s1 } = await twoSnapshots();
      const packId = (repo.locate(s1.tree) ?? assert.fail('indexed')).packId;
      let end = 0;
      for (const at of repo.indexed()) if (at.packId === packId) end = Math.max(end, at.offset + at.length);
      fs.truncateSync(packFile(store, packId), end);
      const report = await verify(store);
      const d = byObject(report).get(packKey(packId));
      assert.ok(d, JSON.stringify(report.damage));
      assert.equal(report.damage.length, 1);
      assert.match(d.reason, /lost its header/);
      assert.deepEqual([d.snapshots, d.files], [[], []]);
    });

    it('a pack whose trailer is damaged: only --read-data sees that its hash no longer matches its name', async () => {
      const { store, repo, s1 } = await twoSnapshots();
      const packId = (repo.locate(s1.tree) ?? assert.fail('indexed')).packId;
      const file = packFile(store, packId);
      const bytes = fs.readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff; // the magic
      fs.writeFileSync(file, bytes);
      assert.equal((await verify(store)).ok, true);
      const report = await verify(store, { readData: true });
      const d = byObject(report).get(packKey(packId));
      assert.ok(d, JSON.stringify(report.damage));
      assert.equal(report.damage.length, 1, 'every blob still reads correctly');
      assert.match(d.reason, /no longer matches its name \(SHA-256\)/);
      assert.match(d.reason, /not a pack file/);
      assert.deepEqual([d.snapshots, d.files], [[], []]);
    });

    it('a deleted pack: missing, with every snapshot and path that needs it; restore says the same', async () => {
      const { store, repo, s1, s2 } = await twoSnapshots();
      const packId = (repo.locate(s1.tree) ?? assert.fail('indexed')).packId;
      fs.rmSync(packFile(store, packId));
      const expected = await dependents(repo, [s1, s2], (id) => repo.locate(id)?.packId === packId);

      const report = await verify(store);
      const damage = byObject(report);
      assert.deepEqual([...damage.keys()], [packKey(packId)]);
      const d = damage.get(packKey(packId)) as Damage;
      assert.equal(d.kind, 'missing');
      assert.equal(d.reason, `The store at ${store} is missing ${packKey(packId)}.`);
      assert.deepEqual(d.snapshots, [s1.id, s2.id]);
      assert.deepEqual(sorted(d.files), sorted([...expected.values()].flatMap((e) => e.files)));
      // Shared folders are named as folders (their trees are in the lost pack), new files are not named.
      for (const rel of [`${short(s1)}:.`, `${short(s2)}:big/a.bin`, `${short(s2)}:src`, `${short(s2)}:wide`])
        assert.ok(d.files.includes(rel), rel);
      assert.ok(!d.files.includes(`${short(s2)}:big/c.bin`));

      // --read-data cannot read it either, and still reports it once.
      assert.deepEqual((await verify(store, { readData: true })).damage, report.damage);
      const result = await restoreFresh(store, s2, temp.make('target'));
      assert.deepEqual(problemsOf(s2, result.problems), reportedFor(s2, report));
    });

    it('a deleted index file: each blob and tree it named that a snapshot needs is missing, with its paths', async () => {
      const { store, repo, s1, s2, index1 } = await twoSnapshots();
      const named = new Set(
        decodeIndex(fs.readFileSync(path.join(store, index1)), repo.codec, index1).flatMap((p) =>
          p.entries.map((e) => e.id),
        ),
      );
      fs.rmSync(path.join(store, index1));
      const expected = await dependents(repo, [s1, s2], (id) => named.has(id));

      const report = await verify(store);
      const damage = byObject(report);
      assert.deepEqual(sorted([...damage.keys()]), sorted([...expected.keys()]));
      for (const [id, e] of expected) {
        const d = damage.get(id) as Damage;
        assert.equal(d.kind, 'missing', id);
        assert.equal(d.reason, `Object ${id.slice(0, 12)} is missing from the store at ${store}.`);
        assert.deepEqual(d.snapshots, e.snapshots, id);
        assert.deepEqual(sorted(d.files), sorted(e.files), id);
      }
      assert.deepEqual(damage.get(s1.tree)?.files, [`${short(s1)}:.`]);
      assert.deepEqual(damage.get(await idOf(repo, s2, 'big/a.bin'))?.files, [`${short(s2)}:big/a.bin`]);
      assert.deepEqual(damage.get(await idOf(repo, s2, 'wide'))?.files, [`${short(s2)}:wide`]);

      const result = await restoreFresh(store, s2, temp.make('target'));
      assert.deepEqual(problemsOf(s2, result.problems), reportedFor(s2, report));
    });

    it('a damaged index file is itself reported (with a repository opened before the damage)', async () => {
      const { store, repo, s1, s2, index1 } = await twoSnapshots();
      const opened = await Repository.open(store);
      fs.writeFileSync(path.join(store, index1), 'not an index at all');
      const report = await verifyRepository(opened);
      const damage = byObject(report);
      const d = damage.get(index1);
      assert.ok(d, JSON.stringify(report.damage));
      assert.equal(d.kind, 'damaged');
      assert.match(d.reason, new RegExp(`^Index file ${index1} .*it is damaged\\.$`));
      // Its blobs count as missing, as after a deletion.
      assert.deepEqual(damage.get(s1.tree)?.files, [`${short(s1)}:.`]);
      assert.deepEqual(damage.get(await idOf(repo, s2, 'big/a.bin'))?.kind, 'missing');
    });

    it('a garbage snapshot record, and a record holding another snapshot, are damaged objects; the rest is checked', async () => {
      const { store, s1, s2 } = await twoSnapshots();
      fs.writeFileSync(path.join(store, 'snapshots', s1.id), '{"v":1,"id":');
      const report = await verify(store);
      const damage = byObject(report);
      const d = damage.get(`snapshots/${s1.id}`);
      assert.ok(d, JSON.stringify(report.damage));
      assert.equal(report.damage.length, 1);
      assert.equal(d.kind, 'damaged');
      assert.match(d.reason, /not a valid snapshot record; it is damaged\.$/);
      assert.deepEqual([d.snapshots, d.files], [[s1.id], []]);
      assert.equal(report.snapshots, 2, 'the damaged record was checked');
      assert.equal(report.trees, 4, 'the second snapshot was still walked: root, big, src, wide');

      fs.copyFileSync(path.join(store, 'snapshots', s2.id), path.join(store, 'snapshots', s1.id));
      const swapped = byObject(await verify(store)).get(`snapshots/${s1.id}`);
      assert.match(swapped?.reason ?? '', new RegExp(`holds snapshot ${short(s2)}`));
    });

    it('a tree overwritten: its folder is damaged in every snapshot that has it; restore skips that folder alone', async () => {
      const { store, repo, ws, s1, s2 } = await twoSnapshots();
      const wide = await idOf(repo, s2, 'wide');
      assert.equal(repo.locate(wide)?.inner, undefined, 'precondition: the tree is a unit of its own');
      damageBlob(repo, wide);

      const report = await verify(store);
      const damage = byObject(report);
      assert.deepEqual([...damage.keys()], [wide]);
      const d = damage.get(wide) as Damage;
      assert.equal(d.kind, 'damaged');
      assert.deepEqual(d.snapshots, [s1.id, s2.id]);
      assert.deepEqual(d.files, [`${short(s1)}:wide`, `${short(s2)}:wide`]);
      assert.deepEqual(
        (await verify(store, { readData: true })).damage,
        report.damage,
        '--read-data finds the same, once',
      );

      const target = temp.make('target');
      const result = await restoreFresh(store, s2, target);
      assert.deepEqual(problemsOf(s2, result.problems), [[`${short(s2)}:wide`, d.reason]]);
      const rest = readTree(ws);
      for (const rel of Object.keys(rest)) if (rel.startsWith('wide/')) delete rest[rel];
      // The restorer creates the folder itself before it learns its tree is unreadable.
      assert.deepEqual(readTree(target), { ...rest, wide: { dir: true } });
    });

    it('several kinds at once: each object once, each path under the object that explains it', async () => {
      const { store, repo, s1, s2 } = await twoSnapshots();
      const c = await idOf(repo, s2, 'big/c.bin');
      const pack1 = (repo.locate(s1.tree) ?? assert.fail('indexed')).packId;
      damageBlob(repo, c);
      fs.rmSync(packFile(store, pack1));
      fs.writeFileSync(path.join(store, 'snapshots', s1.id), 'garbage');
      const report = await verify(store, { readData: true });
      const damage = byObject(report);
      assert.deepEqual(sorted([...damage.keys()]), sorted([`snapshots/${s1.id}`, packKey(pack1), c]));
      assert.deepEqual(damage.get(c)?.files, [`${short(s2)}:big/c.bin`]);
      assert.deepEqual(
        damage.get(packKey(pack1))?.snapshots,
        [s2.id],
        'the first snapshot is unreadable, so only the second depends on the pack',
      );
    });
  });

  describe('--read-data-subset', () => {
    async function tenPacks(): Promise<{ store: string; repo: Repository; snapshots: SnapshotRecord[] }> {
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const snapshots: SnapshotRecord[] = [];
      for (let i = 0; i < 10; i++) {
        writeTree(ws, { [`f${i}.bin`]: seededBytes(40 * KiB, 100 + i) });
        snapshots.push((await snapshotterFor(repo, ws).snapshot()).snapshot);
      }
      return { store, repo, snapshots };
    }

    function seeded(seed: number): () => number {
      const next = xorshift32(seed);
      for (let i = 0; i < 8; i++) next(); // xorshift's first outputs from a small seed are small too
      return () => next() / 2 ** 32;
    }

    /** Runs verify and lists the packs it read in full (LocalBackend.load reads a whole file with readFile). */
    async function packsRead(store: string, options: VerifyOptions): Promise<{ report: VerifyReport; read: string[] }> {
      const spy = spyPort();
      const report = await verifyRepository(await Repository.open(store, { port: spy }), options);
      const read = spy.callsUnder(path.join(store, 'data'), 'readFile').map((c) => path.basename(c.path));
      return { report, read };
    }

    it('reads the share asked for (at least one pack), chosen by the random source, each pack once', async () => {
      const { store } = await tenPacks();
      for (const [percent, count] of [
        [0, 0],
        [1, 1],
        [30, 3],
        [55, 6],
        [100, 10],
      ]) {
        const { report, read } = await packsRead(store, { readDataSubset: percent, random: seeded(7) });
        assert.equal(report.packs, 10);
        assert.equal(report.packsRead, count, `${percent}%`);
        assert.equal(read.length, count, `${percent}%: packs read from disk`);
        assert.equal(new Set(read).size, count, `${percent}%: each once`);
      }
      const first = (await packsRead(store, { readDataSubset: 30, random: seeded(7) })).read;
      assert.deepEqual(
        (await packsRead(store, { readDataSubset: 30, random: seeded(7) })).read,
        first,
        'same seed, same packs',
      );
      const others = new Set<string>();
      for (let seed = 1; seed <= 6; seed++)
        others.add(JSON.stringify((await packsRead(store, { readDataSubset: 30, random: seeded(seed) })).read));
      assert.ok(others.size > 1, 'different seeds choose different packs');
    });

    it('finds damage in exactly the packs it read', async () => {
      const { store, repo, snapshots } = await tenPacks();
      const id = await idOf(repo, snapshots[0], 'f0.bin');
      const packId = (repo.locate(id) ?? assert.fail('indexed')).packId;
      damageBlob(repo, id);
      let hits = 0;
      for (let seed = 1; seed <= 12; seed++) {
        const { report, read } = await packsRead(store, { readDataSubset: 20, random: seeded(seed) });
        const wasRead = read.includes(packId);
        hits += wasRead ? 1 : 0;
        assert.equal(report.ok, !wasRead, `seed ${seed}`);
        if (wasRead)
          assert.deepEqual(
            report.damage.map((d) => d.object),
            [id],
          );
      }
      assert.ok(hits > 0 && hits < 12, `the damaged pack was read in some runs and not others (${hits} of 12)`);
    });
  });

  describe('cancellation', () => {
    it('stops with CANCELLED before starting and in the middle, and leaves no lock', async () => {
      const { store } = await twoSnapshots();
      const before = new AbortController();
      before.abort();
      assert.equal((await rejectionCode(() => verify(store, { signal: before.signal }))).code, 'CANCELLED');

      for (const phase of ['snapshots', 'index', 'packs', 'data', 'trees']) {
        const controller = new AbortController();
        const phases: string[] = [];
        const failure = await rejectionCode(() =>
          verify(store, {
            readData: true,
            signal: controller.signal,
            onProgress: (_done, _total, current) => {
              phases.push(current);
              if (current === phase) controller.abort();
            },
          }),
        );
        assert.equal(failure.code, 'CANCELLED', phase);
        assert.match(failure.message, /cancelled/);
        assert.equal(phases[phases.length - 1], phase, `${phase}: nothing ran after the abort`);
        assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), [], `${phase}: lock released`);
      }
    });
  });

  describe('the verify command', () => {
    interface Run {
      code: number;
      stdout: string[];
      stderr: string[];
    }

    /** Calls verifyCommand with a captured Io, mapping thrown errors to exit codes the way runCli does. */
    async function cli(...args: string[]): Promise<Run> {
      const stdout: string[] = [];
      const stderr: string[] = [];
      const io: Io = {
        out: (t) => stdout.push(...t.split('\n')),
        err: (t) => stderr.push(...t.split('\n')),
        write: async () => undefined,
        env: {},
      };
      let code: number;
      try {
        code = await verifyCommand(args, io, new AbortController().signal);
      } catch (error) {
        if (error instanceof UsageError) code = 2;
        else if (error instanceof BackupError) code = 1;
        else throw error;
        stderr.push((error as Error).message);
      }
      return { code, stdout, stderr };
    }

    it('exit 0 and one summary line on a sound store; --read-data says what it read', async () => {
      const { store } = await twoSnapshots();
      const quick = await cli('--repo', store);
      assert.equal(quick.code, 0, quick.stderr.join('\n'));
      assert.deepEqual(quick.stdout, ['Checked 2 snapshots, 6 trees, 8 blobs in 2 packs: no damage.']);
      const full = await cli('--repo', store, '--read-data');
      assert.equal(full.code, 0);
      assert.match(
        full.stdout[0],
        /^Checked 2 snapshots, 6 trees, 8 blobs in 2 packs \(read 2 packs, [\d.]+ KB\): no damage\.$/,
      );
      assert.equal((await cli('--repo', store, '--read-data-subset', '50%')).code, 0);
    });

    it(`exit ${EXIT_DAMAGE} with each damaged object, its reason, snapshots and files, the listing capped`, async () => {
      const ws = temp.make('ws');
      const same = seededBytes(40 * KiB, 9);
      const spec: TreeSpec = {};
      for (let i = 0; i < 25; i++) spec[`dup/f${String(i).padStart(2, '0')}.bin`] = same;
      writeTree(ws, spec);
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      const id = await idOf(repo, snapshot, 'dup/f00.bin');
      damageBlob(repo, id);

      assert.equal((await cli('--repo', store)).code, 0, 'the quick check does not read data');
      const run = await cli('--repo', store, '--read-data');
      assert.equal(run.code, EXIT_DAMAGE);
      assert.equal(EXIT_DAMAGE, 3);
      assert.match(
        run.stdout[0],
        /^Checked 1 snapshot, 2 trees, 1 blob in 1 pack \(read 1 pack, .*\): 1 damaged object\.$/,
      );
      const body = run.stdout.slice(1).filter((l) => l !== '');
      assert.match(
        body[0],
        new RegExp(
          `^damaged ${id}: Object ${id.slice(0, 12)} in pack [0-9a-f]{12} does not match its checksum; it is damaged\\.$`,
        ),
      );
      assert.equal(body[1], `  1 snapshot depends on it: ${short(snapshot)}`);
      assert.deepEqual(
        body.slice(2, 21),
        Array.from({ length: 19 }, (_, i) => `  ${short(snapshot)}:dup/f${String(i).padStart(2, '0')}.bin`),
      );
      assert.equal(body[21], '  …and 6 more');
      assert.equal(body.length, 22);
    });

    it('--json prints the report', async () => {
      const { store, repo, s1, s2 } = await twoSnapshots();
      const wide = await idOf(repo, s2, 'wide');
      damageBlob(repo, wide);
      const run = await cli('--repo', store, '--json');
      assert.equal(run.code, EXIT_DAMAGE);
      assert.equal(run.stdout.length, 1);
      const report = JSON.parse(run.stdout[0]) as VerifyReport;
      assert.deepEqual(Object.keys(report), [
        'ok',
        'snapshots',
        'trees',
        'blobs',
        'packs',
        'packsRead',
        'bytesRead',
        'damage',
        'notes',
      ]);
      assert.equal(report.ok, false);
      assert.deepEqual(
        report.damage.map((d) => Object.keys(d)),
        [['object', 'kind', 'reason', 'snapshots', 'files']],
      );
      assert.deepEqual(report.damage[0].files, [`${short(s1)}:wide`, `${short(s2)}:wide`]);
      const clean = await cli('--repo', temp.fresh('empty'), '--json');
      assert.equal(clean.code, 1, 'no store there');
      assert.match(clean.stderr.join('\n'), /no backup store/);
    });

    it('usage errors: both read flags, a share outside 0-100 or not a number, an argument, no store', async () => {
      const { store } = await twoSnapshots();
      for (const args of [
        ['--read-data', '--read-data-subset', '10'],
        ['--read-data-subset', '101'],
        ['--read-data-subset', '-5'],
        ['--read-data-subset', 'ten'],
        ['--read-data-subset', ''],
        ['extra'],
        ['--bogus'],
      ]) {
        const run = await cli('--repo', store, ...args);
        assert.equal(run.code, 2, args.join(' '));
        assert.ok(run.stderr.join('\n').includes(VERIFY_USAGE), `${args.join(' ')}: shows usage`);
      }
      assert.equal((await cli()).code, 2, 'no store given');
      assert.deepEqual((await cli('--help')).stdout, [VERIFY_USAGE]);
    });

    it('through runCli once registered as "verify": exit 0, 3, 1 and 2', async function () {
      const { store, repo, s2 } = await twoSnapshots();
      const probe = await runCliCaptured(['verify', '--repo', store]);
      if (probe.stderr.join('\n').includes('unknown command "verify"')) this.skip(); // src/cli.ts registers it
      assert.equal(probe.code, 0);
      damageBlob(repo, await idOf(repo, s2, 'wide'));
      assert.equal((await runCliCaptured(['verify', '--repo', store])).code, 3);
      const missing = await runCliCaptured(['verify', '--repo', temp.fresh('none')]);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr.length, 1);
      assert.equal((await runCliCaptured(['verify', '--repo', store, '--read-data-subset', '200'])).code, 2);
    });
  });
});
