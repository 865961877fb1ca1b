// Forget and prune against real stores: space is freed, and every snapshot that remains restores
// byte-identical, after a clean run, after a run interrupted at any step, alongside snapshots in flight and
// for a long-lived snapshotter (the editor's) that loaded the index before the prune. Then the CLI contract
// of `forget` and `prune`: output, --json and exit codes.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FORGET_USAGE } from '../../src/cli/forgetCommand';
import { PRUNE_USAGE } from '../../src/cli/pruneCommand';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE } from '../../src/cli/context';
import { BackupError } from '../../src/core/errors';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { Restorer } from '../../src/core/restore/restorer';
import { forget } from '../../src/core/retention/forget';
import { markReachable, prune } from '../../src/core/retention/prune';
import type { PruneReport } from '../../src/core/retention/prune';
import { setLabel, setPinned } from '../../src/core/snapshot/annotate';
import type { Snapshotter } from '../../src/core/snapshot/snapshotter';
import type { FsPort } from '../../src/core/storage/fsPort';
import {
  MiB,
  ageFile,
  damageBlob,
  describeTreeDiff,
  openRepo,
  packFiles,
  readTree,
  rejectionCode,
  removeDir,
  runCliCaptured,
  seededBytes,
  seededText,
  snapshotterFor,
  spyPort,
  storeBytes,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { CliRun, ReadTree, TreeSpec } from './helpers/fixtures';

const HOUR = 3_600_000;
const NOW = new Date();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Every file of the store but locks and the disposable cache, with a hash of its bytes. */
function storeState(store: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    if (!fs.existsSync(dir)) return;
    for (const name of fs.readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(file).isDirectory()) walk(file, r);
      else out[r] = sha(fs.readFileSync(file));
    }
  };
  for (const kind of ['config', 'data', 'index', 'snapshots']) {
    const p = path.join(store, kind);
    if (fs.existsSync(p) && fs.statSync(p).isFile()) out[kind] = sha(fs.readFileSync(p));
    else walk(p, kind);
  }
  return out;
}

function lockFiles(store: string): string[] {
  return fs.existsSync(path.join(store, 'locks')) ? fs.readdirSync(path.join(store, 'locks')) : [];
}

/** Replaces the workspace's content with `spec`. */
function setTree(ws: string, spec: TreeSpec): void {
  for (const name of fs.readdirSync(ws)) fs.rmSync(path.join(ws, name), { recursive: true, force: true });
  writeTree(ws, spec);
}

interface History {
  ws: string;
  store: string;
  repo: Repository;
  snapshotter: Snapshotter;
  snapshots: SnapshotRecord[];
  /** What each snapshot must restore to. */
  trees: Map<string, ReadTree>;
}

const SHARED = seededBytes(200_000, 1);
/** Four versions: a shared file, a 300 kB file that changes each time, an unchanged folder. */
const FOUR_VERSIONS: TreeSpec[] = [1, 2, 3, 4].map((i) => ({
  'shared.bin': SHARED,
  'v.bin': seededBytes(300_000, 100 + i),
  'notes.md': `version ${i}\n`,
  'docs/readme.md': seededText(3000, 5),
}));

describe('forget and prune', () => {
  const temp = useTempDirs();

  async function history(versions: readonly TreeSpec[], options: { store?: string } = {}): Promise<History> {
    const ws = temp.make('ws');
    const store = options.store ?? temp.fresh('store');
    const repo = await openRepo(store);
    const snapshotter = snapshotterFor(repo, ws);
    const snapshots: SnapshotRecord[] = [];
    const trees = new Map<string, ReadTree>();
    for (const spec of versions) {
      setTree(ws, spec);
      const result = await snapshotter.snapshot();
      assert.equal(result.created, true, 'precondition: every version is a new snapshot');
      snapshots.push(result.snapshot);
      trees.set(result.snapshot.id, readTree(ws));
    }
    return { ws, store, repo, snapshotter, snapshots, trees };
  }

  /** Opens the store afresh (no caches, no loaded index) and restores each snapshot, comparing every byte. */
  async function assertRestores(
    store: string,
    expected: ReadonlyMap<string, ReadTree>,
    what = 'after prune',
  ): Promise<void> {
    const repo = await Repository.open(store);
    for (const [id, tree] of expected) {
      const snapshot = await repo.loadSnapshot(id);
      const target = temp.fresh('restored');
      const result = await new Restorer(repo).restore(snapshot, { target });
      assert.deepEqual(result.problems, [], `${what}: snapshot ${id.slice(0, 8)} restores without problems`);
      const diff = describeTreeDiff(readTree(target), tree);
      assert.equal(diff, '', `${what}: snapshot ${id.slice(0, 8)} restores byte-identical:\n${diff}`);
    }
  }

  /** Every blob every snapshot reaches is indexed, in a pack that exists, and loads with a matching checksum. */
  async function assertComplete(store: string, what = 'after prune'): Promise<Set<string>> {
    const repo = await Repository.open(store);
    const reached = new Set<string>();
    await markReachable(
      repo,
      (await repo.listSnapshots()).map((s) => s.tree),
      reached,
    );
    for (const id of reached)
      await repo
        .loadBlob(id)
        .catch((error: Error) => assert.fail(`${what}: blob ${id.slice(0, 12)}: ${error.message}`));
    for (const at of repo.indexed()) {
      assert.ok(
        fs.existsSync(path.join(store, 'data', at.packId.slice(0, 2), at.packId)),
        `${what}: indexed pack ${at.packId.slice(0, 12)} exists`,
      );
    }
    return reached;
  }

  function kept(h: History, ids: readonly string[]): Map<string, ReadTree> {
    return new Map(ids.map((id) => [id, h.trees.get(id) as ReadTree]));
  }

  describe('freeing space', () => {
    it('forget + prune frees what only forgotten snapshots used; shared blobs survive; the rest restores byte-identical', async () => {
      const h = await history(FOUR_VERSIONS);
      const [s1, s2, s3, s4] = h.snapshots;
      const before = storeBytes(h.store, { kinds: ['data', 'index'] });

      const forgotten = await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      assert.deepEqual(
        forgotten.removed.map((s) => s.id),
        [s1.id, s2.id],
      );
      assert.deepEqual(forgotten.removedForSize, []);
      assert.deepEqual(
        forgotten.decisions.map((d) => [d.snapshot.id, d.keep, d.reasons]),
        [
          [s1.id, false, []],
          [s2.id, false, []],
          [s3.id, true, ['last-2']],
          [s4.id, true, ['latest', 'last-1']],
        ],
      );
      assert.equal(
        storeBytes(h.store, { kinds: ['data', 'index'] }),
        before,
        'forget removes records only, never data',
      );
      assert.deepEqual(
        (await h.repo.listSnapshots({ reload: true })).map((s) => s.id),
        [s3.id, s4.id],
      );

      const report = await prune(h.repo);
      const after = storeBytes(h.store, { kinds: ['data', 'index'] });
      assert.equal(report.bytesBefore, before, 'bytesBefore is what was on disk');
      assert.equal(report.bytesAfter, after, 'bytesAfter is what is on disk');
      assert.equal(report.bytesFreed, before - after);
      // v.bin of s1 and s2 (2 x 300 kB, incompressible) and their root trees are what only they used.
      assert.ok(report.bytesFreed > 590_000 && report.bytesFreed < 700_000, `freed ${report.bytesFreed}`);
      assert.equal(report.packsDeleted, 1, "s2's pack held nothing else");
      assert.equal(report.packsRewritten, 1, "s1's pack also holds shared.bin and docs/, still used");
      assert.ok(report.blobsRemoved >= 4, `blobsRemoved ${report.blobsRemoved}`);
      assert.equal(report.missingBlobs, 0);
      assert.equal(fs.readdirSync(path.join(h.store, 'index')).length, 1, 'one index file names what is left');
      assert.deepEqual(lockFiles(h.store), [], 'the exclusive lock is released');

      // The pruning process (the editor runs prune in its own process) reads the moved blobs at once.
      assert.ok(h.repo.hasBlob(sha(SHARED)));
      assert.ok(!h.repo.hasBlob(sha(seededBytes(300_000, 101))), 'its own index no longer names pruned blobs');
      assert.ok(
        (await h.repo.loadBlob(sha(SHARED))).equals(SHARED),
        'the repacked blob loads through the same repository object',
      );
      const sameObject = temp.fresh('restored');
      await new Restorer(h.repo).restore(s3, { target: sameObject });
      assert.equal(describeTreeDiff(readTree(sameObject), h.trees.get(s3.id) as ReadTree), '');

      const fresh = await Repository.open(h.store);
      assert.ok(fresh.hasBlob(sha(SHARED)), 'the blob shared with kept snapshots survives');
      assert.ok(!fresh.hasBlob(sha(seededBytes(300_000, 101))), "s1's own v.bin is gone");
      await assertRestores(h.store, kept(h, [s3.id, s4.id]));
      await assertComplete(h.store);
    });

    it('repacks a mostly unused pack: only the still-used blobs are copied, the old pack is removed', async () => {
      const keep = seededBytes(100_000, 7);
      const h = await history([{ 'keep.bin': keep, 'drop.bin': seededBytes(900_000, 8) }, { 'keep.bin': keep }]);
      const packsBefore = packFiles(h.store);
      const firstPack = packsBefore.find((p) => fs.statSync(p).size > 900_000) as string;
      assert.ok(firstPack, 'precondition: the first snapshot wrote one pack with both files');

      await forget(h.repo, { policy: { keepLast: 1 }, now: NOW });
      const report = await prune(h.repo);
      assert.equal(report.packsRewritten, 1);
      assert.equal(report.packsDeleted, 0);
      assert.ok(!fs.existsSync(firstPack), 'the rewritten pack is gone');
      const packsAfter = packFiles(h.store);
      assert.equal(packsAfter.length, 2, "the second snapshot's pack and the new one");
      const newPack = packsAfter.find((p) => !packsBefore.includes(p)) as string;
      assert.ok(
        fs.statSync(newPack).size < 110_000,
        `the new pack holds keep.bin only (${fs.statSync(newPack).size} bytes)`,
      );
      assert.ok(report.bytesFreed > 890_000, `freed ${report.bytesFreed}`);
      await assertRestores(h.store, kept(h, [h.snapshots[1].id]));
      await assertComplete(h.store);
    });

    it('leaves a big pack with a small unused share as it is, drops the unused blobs from the index, and a second prune changes nothing', async () => {
      const big = seededBytes(3 * MiB, 9);
      const h = await history([
        { 'big.bin': big, 'a.bin': seededBytes(40_000, 10) },
        { 'big.bin': big, 'a.bin': seededBytes(40_000, 11) },
      ]);
      const bigPack = packFiles(h.store).find((p) => fs.statSync(p).size > 3_000_000) as string;
      await forget(h.repo, { policy: { keepLast: 1 }, now: NOW });
      const report = await prune(h.repo);
      assert.equal(report.packsRewritten, 0, 'rewriting 3 MB to free 40 kB is not worth it');
      assert.equal(report.packsDeleted, 0);
      assert.ok(report.blobsRemoved >= 2, 'the first a.bin and root tree are unused');
      assert.ok(fs.existsSync(bigPack));
      assert.ok(
        !(await Repository.open(h.store)).hasBlob(sha(seededBytes(40_000, 10))),
        'an unused blob is not indexed, so nothing dedups against it',
      );
      await assertComplete(h.store);

      const state = storeState(h.store);
      const again = await prune(h.repo);
      assert.deepEqual(
        [again.packsDeleted, again.packsRewritten, again.blobsRemoved, again.bytesFreed],
        [0, 0, 0, 0],
        'nothing left to do',
      );
      assert.deepEqual(storeState(h.store), state, 'a prune with nothing to do writes nothing');
      await assertRestores(h.store, kept(h, [h.snapshots[1].id]));
    });

    it('removes packs no index names (left by a crashed snapshot)', async () => {
      const h = await history([{ 'a.txt': 'a' }]);
      const orphan = path.join(h.store, 'data', 'ab', `ab${'0'.repeat(62)}`);
      fs.writeFileSync(orphan, seededBytes(50_000, 3));
      const report = await prune(h.repo);
      assert.equal(report.packsDeleted, 1);
      assert.ok(!fs.existsSync(orphan));
      assert.ok(report.bytesFreed >= 50_000);
      await assertRestores(h.store, h.trees);
    });

    it('folds many index files into one, and later snapshots still dedup against what is left', async () => {
      const h = await history(FOUR_VERSIONS);
      assert.ok(fs.readdirSync(path.join(h.store, 'index')).length >= 4, 'precondition: one index file per snapshot');
      await prune(h.repo);
      assert.equal(fs.readdirSync(path.join(h.store, 'index')).length, 1);
      setTree(h.ws, { ...FOUR_VERSIONS[3], 'extra.txt': 'x' });
      const next = await h.snapshotter.snapshot();
      assert.ok(
        next.snapshot.stats.dataAdded < 2000,
        `only extra.txt and trees are new (${next.snapshot.stats.dataAdded} bytes)`,
      );
      await assertComplete(h.store);
    });
  });

  describe('temp files', () => {
    it('removes temp files older than the threshold and leaves young ones (a writer may be at work)', async () => {
      const h = await history([{ 'a.txt': 'a' }]);
      const file = (rel: string, msAgo: number) => {
        const p = path.join(h.store, ...rel.split('/'));
        fs.writeFileSync(p, seededBytes(1000, 1));
        ageFile(p, msAgo);
        return p;
      };
      const oldPack = file('data/00/deadbeef.tmp-a1', 2 * HOUR);
      const oldIndex = file('index/abc.tmp-a2', 3 * HOUR);
      const young = file('snapshots/def.tmp-a3', 60_000);
      const tenMinutes = file('data/01/cafe.tmp-a4', 10 * 60_000);

      const dry = await prune(h.repo, { dryRun: true });
      assert.equal(dry.tempFilesRemoved, 2, 'a dry run counts them');
      assert.ok(
        [oldPack, oldIndex, young, tenMinutes].every((p) => fs.existsSync(p)),
        'a dry run removes nothing',
      );

      const report = await prune(h.repo);
      assert.equal(report.tempFilesRemoved, 2);
      assert.deepEqual(
        [oldPack, oldIndex, young, tenMinutes].map((p) => fs.existsSync(p)),
        [false, false, true, true],
      );
      assert.ok(report.bytesFreed >= 2000);

      assert.equal((await prune(h.repo, { tempOlderThanMs: 5 * 60_000 })).tempFilesRemoved, 1, 'a shorter threshold');
      assert.ok(fs.existsSync(young) && !fs.existsSync(tenMinutes));
      assert.equal(
        (await prune(h.repo, { now: new Date(Date.now() + 2 * HOUR) })).tempFilesRemoved,
        1,
        'ages are measured against `now`',
      );
      assert.ok(!fs.existsSync(young));
      await assertRestores(h.store, h.trees);
    });
  });

  describe('dry runs', () => {
    it('change nothing, take no lock, and predict what the real run does', async () => {
      const h = await history(FOUR_VERSIONS);
      const state = storeState(h.store);

      const forgetDry = await forget(h.repo, { policy: { keepLast: 2 }, now: NOW, dryRun: true });
      assert.deepEqual(
        forgetDry.removed.map((s) => s.id),
        h.snapshots.slice(0, 2).map((s) => s.id),
      );
      const pruneNow = await prune(h.repo, { dryRun: true });
      assert.deepEqual(
        [pruneNow.packsDeleted, pruneNow.packsRewritten, pruneNow.blobsRemoved],
        [0, 0, 0],
        'every snapshot is still there',
      );
      const predicted = await prune(h.repo, { dryRun: true, assumeForgotten: forgetDry.removed.map((s) => s.id) });
      assert.equal(predicted.dryRun, true);
      assert.deepEqual(storeState(h.store), state, 'the dry runs changed nothing');
      assert.deepEqual(lockFiles(h.store), []);

      const forgetReal = await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      assert.deepEqual(
        forgetReal.removed.map((s) => s.id),
        forgetDry.removed.map((s) => s.id),
      );
      const real = await prune(h.repo);
      assert.equal(real.dryRun, false);
      assert.deepEqual(
        [predicted.packsDeleted, predicted.packsRewritten, predicted.blobsRemoved, predicted.bytesBefore],
        [real.packsDeleted, real.packsRewritten, real.blobsRemoved, real.bytesBefore],
      );
      assert.ok(
        Math.abs(predicted.bytesAfter - real.bytesAfter) < 0.05 * real.bytesAfter,
        `estimate ${predicted.bytesAfter} vs ${real.bytesAfter}`,
      );
    });

    it('refuses to assume snapshots forgotten in a real run', async () => {
      const h = await history([{ 'a.txt': 'a' }]);
      const { code } = await rejectionCode(() => prune(h.repo, { assumeForgotten: [h.snapshots[0].id] }));
      assert.equal(code, 'USAGE');
      await assertRestores(h.store, h.trees);
    });
  });

  describe('size budget (maxSize)', () => {
    const FIVE: TreeSpec[] = [1, 2, 3, 4, 5].map((i) => ({
      'v.bin': seededBytes(200_000, 200 + i),
      'same.txt': 'same',
    }));

    it('removes the oldest snapshots until what they alone hold brings the store under, and says so', async () => {
      const h = await history(FIVE);
      const [s1, s2, s3, s4, s5] = h.snapshots;
      const size = storeBytes(h.store, { kinds: ['data', 'index', 'snapshots'] });
      const maxSize = size - 350_000;

      const report = await forget(h.repo, { policy: {}, now: NOW, maxSize });
      assert.equal(report.storeBytes, size);
      assert.deepEqual(report.removed, [], 'the empty policy removes nothing by itself');
      assert.deepEqual(
        report.removedForSize.map((s) => s.id),
        [s1.id, s2.id],
        'oldest first, and no more than needed',
      );
      assert.ok(
        report.projectedBytes !== undefined && report.projectedBytes <= maxSize,
        `projected ${report.projectedBytes} <= ${maxSize}`,
      );
      const decision = (id: string) => report.decisions.find((d) => d.snapshot.id === id);
      assert.deepEqual([decision(s1.id)?.keep, decision(s1.id)?.reasons], [false, []]);
      assert.deepEqual([decision(s5.id)?.keep, decision(s5.id)?.reasons], [true, ['latest', 'no-policy']]);
      assert.deepEqual(
        (await h.repo.listSnapshots({ reload: true })).map((s) => s.id),
        [s3.id, s4.id, s5.id],
      );

      await prune(h.repo);
      const actual = storeBytes(h.store, { kinds: ['data', 'index', 'snapshots'] });
      assert.ok(actual <= maxSize, `after prune the store is under the budget: ${actual} <= ${maxSize}`);
      assert.ok(
        Math.abs(actual - (report.projectedBytes as number)) < 20_000,
        `the estimate was close: ${report.projectedBytes} vs ${actual}`,
      );
      await assertRestores(h.store, kept(h, [s3.id, s4.id, s5.id]));
    });

    it('never removes pinned, labelled or latest snapshots for size, even when the budget cannot be met', async () => {
      const h = await history(FIVE);
      const [s1, s2, s3, s4, s5] = h.snapshots;
      await setPinned(h.repo, s1.id, true);
      await setLabel(h.repo, s3.id, 'keep me');
      const report = await forget(h.repo, { policy: { keepLast: 5 }, now: NOW, maxSize: 1 });
      assert.deepEqual(
        report.removedForSize.map((s) => s.id),
        [s2.id, s4.id],
      );
      assert.ok((report.projectedBytes as number) > 1, 'still over: reported, not hidden');
      assert.deepEqual(
        (await h.repo.listSnapshots({ reload: true })).map((s) => s.id),
        [s1.id, s3.id, s5.id],
      );
    });

    it('a policy removal that already brings the store under the budget removes nothing more', async () => {
      const h = await history(FIVE);
      const size = storeBytes(h.store, { kinds: ['data', 'index', 'snapshots'] });
      const report = await forget(h.repo, { policy: { keepLast: 3 }, now: NOW, maxSize: size - 300_000, dryRun: true });
      assert.equal(report.removed.length, 2);
      assert.deepEqual(report.removedForSize, []);
    });

    it('with workspaceId, only that workspace loses snapshots; the others still count toward the size', async () => {
      const store = temp.fresh('store');
      const a = await history(FIVE, { store });
      const b = await history([{ 'b.bin': seededBytes(400_000, 77) }, { 'b.bin': seededBytes(400_000, 78) }], {
        store,
      });
      const report = await forget(a.repo, {
        policy: {},
        now: NOW,
        maxSize: 1,
        workspaceId: a.snapshots[0].workspace.id,
      });
      assert.deepEqual(
        report.removedForSize.map((s) => s.id),
        a.snapshots.slice(0, 4).map((s) => s.id),
      );
      assert.ok(report.decisions.every((d) => d.snapshot.workspace.id === a.snapshots[0].workspace.id));
      const left = (await a.repo.listSnapshots({ reload: true })).map((s) => s.id);
      assert.deepEqual(left.sort(), [a.snapshots[4].id, ...b.snapshots.map((s) => s.id)].sort());
    });
  });

  describe('locks and concurrent snapshots', () => {
    it('a prune waits while a snapshot holds the shared lock, and runs once it is released', async () => {
      const h = await history([{ 'a.txt': 'a' }]);
      const held = await h.repo.lock(false, 'a snapshot in flight');
      const other = await Repository.open(h.store);
      let settled = false;
      const pruning = prune(other, { lockWaitMs: 20_000 }).finally(() => {
        settled = true;
      });
      await sleep(500);
      assert.equal(settled, false, 'prune is still waiting for the snapshot');
      await held.release();
      const report = await pruning;
      assert.equal(report.dryRun, false);
      assert.deepEqual(lockFiles(h.store), []);
    });

    it('gives up with REPO_LOCKED when the store stays busy, having changed nothing', async () => {
      const h = await history(FOUR_VERSIONS);
      await forget(h.repo, { policy: { keepLast: 1 }, now: NOW });
      const state = storeState(h.store);
      const held = await h.repo.lock(false, 'a snapshot in flight');
      try {
        const { code, message } = await rejectionCode(() => prune(h.repo, { lockWaitMs: 300 }));
        assert.equal(code, 'REPO_LOCKED');
        assert.match(message, /a snapshot in flight/);
      } finally {
        await held.release();
      }
      assert.deepEqual(storeState(h.store), state);
    });

    it('snapshots and prunes started together (from two repository objects) leave every snapshot complete', async () => {
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const spec: TreeSpec = {};
      for (let i = 0; i < 60; i++) spec[`src/f${i}.txt`] = seededText(4000, i);
      spec['big.bin'] = seededBytes(2 * MiB, 1);
      writeTree(ws, spec);
      const editor = await openRepo(store);
      const snapshotter = snapshotterFor(editor, ws);
      await snapshotter.snapshot();
      const cli = await Repository.open(store);
      for (let round = 0; round < 4; round++) {
        fs.writeFileSync(path.join(ws, 'big.bin'), seededBytes(2 * MiB, 10 + round));
        fs.writeFileSync(path.join(ws, `src/f${round}.txt`), seededText(4000, 100 + round));
        await forget(cli, { policy: { keepLast: 1 }, now: new Date() });
        const [snap] = await Promise.all([
          snapshotter.snapshot(),
          sleep(round * 7).then(() => prune(cli, { lockWaitMs: 60_000 })),
        ]);
        assert.equal(snap.created, true);
        await assertComplete(store, `round ${round}`);
        await assertRestores(store, new Map([[snap.snapshot.id, readTree(ws)]]), `round ${round}`);
      }
    });
  });

  describe('a long-lived snapshotter (the editor) across a prune', () => {
    for (const where of ['another process', 'the same repository object'] as const) {
      it(`takes correct snapshots after a prune in ${where}: it never dedups against pruned blobs`, async () => {
        const A = seededBytes(60_000, 31);
        const B = seededBytes(60_000, 32);
        const ws = temp.make('ws');
        const store = temp.fresh('store');
        writeTree(ws, { 'a.bin': A, 'sub/b.txt': 'b\n', 'sub/deeper/c.txt': 'c\n' });
        const editor = await openRepo(store);
        const snapshotter = snapshotterFor(editor, ws);
        const s1 = (await snapshotter.snapshot()).snapshot;
        fs.writeFileSync(path.join(ws, 'a.bin'), B);
        const s2 = (await snapshotter.snapshot({ paths: ['a.bin'] })).snapshot;
        assert.notEqual(s2.id, s1.id);

        const pruner = where === 'another process' ? await Repository.open(store) : editor;
        await forget(pruner, { policy: { keepLast: 1 }, now: new Date() });
        await prune(pruner);
        assert.ok(!(await Repository.open(store)).hasBlob(sha(A)), 'precondition: the old a.bin is pruned');
        if (where === 'another process')
          assert.ok(editor.hasBlob(sha(A)), "precondition: the editor's loaded index still names it");

        // The old content comes back: it must be stored again, not deduplicated against the pruned copy.
        fs.writeFileSync(path.join(ws, 'a.bin'), A);
        const s3 = await snapshotter.snapshot({ paths: ['a.bin'] });
        assert.equal(s3.created, true);
        await assertComplete(store, 'after the incremental snapshot');
        await assertRestores(store, new Map([[s3.snapshot.id, readTree(ws)]]), 'incremental');

        // A full scan whose stat cache names trees of the forgotten snapshots.
        await forget(pruner, { policy: { keepLast: 1 }, now: new Date() });
        await prune(pruner);
        fs.writeFileSync(path.join(ws, 'sub/deeper/c.txt'), 'c2\n');
        const s4 = await snapshotter.snapshot();
        assert.equal(s4.created, true);
        await assertComplete(store, 'after the full snapshot');
        await assertRestores(store, new Map([[s4.snapshot.id, readTree(ws)]]), 'full');
      });
    }
  });

  describe('crash safety', () => {
    it('a prune that fails at any write or delete leaves every snapshot restorable, and the next prune finishes the job', async () => {
      const h = await history(FOUR_VERSIONS);
      await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      const keptTrees = kept(
        h,
        h.snapshots.slice(2).map((s) => s.id),
      );
      const base = temp.make('base');
      fs.cpSync(h.store, base, { recursive: true });

      // Counts (or fails) renames into place and removals of the store's objects; locks and temp files aside.
      const faulty = (store: string, failAt: number) => {
        let count = 0;
        const step = (target: string) => {
          const rel = path.relative(store, target).split(path.sep);
          if (
            !['data', 'index'].includes(rel[0]) ||
            target.includes('.tmp-') ||
            path.basename(target).startsWith('.pb-tmp-')
          )
            return;
          if (++count === failAt) throw Object.assign(new Error(`EIO: injected at step ${failAt}`), { code: 'EIO' });
        };
        const port = spyPort({
          rename: (b: FsPort, from: string, to: string) => {
            step(to);
            return b.rename(from, to);
          },
          unlink: (b: FsPort, file: string) => {
            step(file);
            return b.unlink(file);
          },
        });
        return { port, steps: () => count };
      };

      const reference = temp.make('reference');
      fs.cpSync(base, reference, { recursive: true });
      const counting = faulty(reference, Number.POSITIVE_INFINITY);
      const clean = await prune(await Repository.open(reference, { port: counting.port }));
      const steps = counting.steps();
      assert.ok(steps >= 8, `precondition: prune writes and deletes several objects (${steps})`);

      for (let failAt = 1; failAt <= steps; failAt++) {
        const store = temp.make(`crash-${failAt}`);
        fs.cpSync(base, store, { recursive: true });
        const { port } = faulty(store, failAt);
        await assert.rejects(
          prune(await Repository.open(store, { port })),
          (error: Error) => error instanceof BackupError,
          `step ${failAt} fails`,
        );
        for (const lock of lockFiles(store)) fs.rmSync(path.join(store, 'locks', lock)); // a crashed process's lock would be stale
        await assertComplete(store, `interrupted at step ${failAt}`);
        await assertRestores(store, keptTrees, `interrupted at step ${failAt}`);

        const finish = await prune(await Repository.open(store));
        assert.equal(finish.missingBlobs, 0);
        await assertComplete(store, `finished after step ${failAt}`);
        await assertRestores(store, keptTrees, `finished after step ${failAt}`);
        const size = storeBytes(store, { kinds: ['data', 'index'] });
        assert.ok(
          Math.abs(size - clean.bytesAfter) < 1000,
          `step ${failAt}: the store ends as small as after a clean prune (${size} vs ${clean.bytesAfter})`,
        );
        removeDir(store);
      }
    });

    it('a cancelled prune removes nothing: before it starts, and after it copied blobs but before the new index', async () => {
      const h = await history(FOUR_VERSIONS);
      await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      const state = storeState(h.store);
      const early = new AbortController();
      early.abort();
      assert.equal((await rejectionCode(() => prune(h.repo, { signal: early.signal }))).code, 'CANCELLED');
      assert.deepEqual(storeState(h.store), state);

      const late = new AbortController();
      const messages: string[] = [];
      const onProgress = (message: string) => {
        messages.push(message);
        if (message.startsWith('copying')) late.abort();
      };
      assert.equal((await rejectionCode(() => prune(h.repo, { signal: late.signal, onProgress }))).code, 'CANCELLED');
      assert.ok(
        messages.some((m) => m.startsWith('copying')),
        messages.join(' | '),
      );
      const after = storeState(h.store);
      assert.ok(
        Object.keys(state).every((file) => after[file] === state[file]),
        'every file is still there, unchanged',
      );
      assert.deepEqual(lockFiles(h.store), []);
      await assertComplete(h.store, 'after the cancelled prune');
      await prune(h.repo);
      await assertComplete(h.store);
      await assertRestores(
        h.store,
        kept(
          h,
          h.snapshots.slice(2).map((s) => s.id),
        ),
      );
    });

    it('refuses to prune, changing nothing, when a tree cannot be read', async () => {
      const h = await history(FOUR_VERSIONS);
      await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      damageBlob(h.repo, h.snapshots[3].tree);
      const state = storeState(h.store);
      const { code, message } = await rejectionCode(async () => prune(await Repository.open(h.store)));
      assert.equal(code, 'REPO_CORRUPT');
      assert.match(message, /before changing anything/);
      assert.deepEqual(storeState(h.store), state);
      assert.deepEqual(lockFiles(h.store), []);
    });

    it('refuses to prune, changing nothing, when an index file is damaged (the packs it names would look unused)', async () => {
      const h = await history(FOUR_VERSIONS);
      await forget(h.repo, { policy: { keepLast: 2 }, now: NOW });
      const indexDir = path.join(h.store, 'index');
      const messages: string[] = [];
      for (const [i, name] of fs.readdirSync(indexDir).entries()) {
        const store = temp.make(`damaged-index-${i}`);
        fs.cpSync(h.store, store, { recursive: true });
        fs.writeFileSync(path.join(store, 'index', name), 'garbage');
        const state = storeState(store);
        const skipped: string[] = [];
        const repo = await Repository.open(store, { onDamagedIndex: (key) => skipped.push(key) });
        assert.deepEqual(skipped, [`index/${name}`], 'precondition: the store opens without the damaged file');
        const { code, message } = await rejectionCode(() => prune(repo));
        assert.equal(code, 'REPO_CORRUPT');
        // Either a tree it named is found missing while marking, or reading the index files stops it.
        assert.match(message, /^Prune stopped before changing anything: .*(cannot be read|Index file index\/)/);
        messages.push(message);
        assert.deepEqual(storeState(store), state);
        removeDir(store);
      }
      assert.ok(
        messages.some((m) => /Index file index\//.test(m)),
        `the index of a pack only forgotten snapshots used is caught too:\n${messages.join('\n')}`,
      );
    });

    it('with a needed blob missing, still prunes what is unused but keeps packs no index names (one may hold it)', async () => {
      const h = await history([
        { 'a.bin': seededBytes(50_000, 1) },
        { 'a.bin': seededBytes(50_000, 1), 'b.bin': seededBytes(50_000, 2) },
      ]);
      await forget(h.repo, { policy: { keepLast: 1 }, now: NOW }); // the first root tree, in a.bin's pack, is no longer needed
      const fresh = await Repository.open(h.store);
      const aPack = fresh.locate(sha(seededBytes(50_000, 1)))?.packId as string;
      fs.rmSync(path.join(h.store, 'data', aPack.slice(0, 2), aPack));
      const orphan = path.join(h.store, 'data', 'cd', `cd${'1'.repeat(62)}`);
      fs.writeFileSync(orphan, seededBytes(10_000, 3));
      const report = await prune(await Repository.open(h.store));
      assert.equal(report.missingBlobs, 1);
      assert.ok(fs.existsSync(orphan), 'an unindexed pack is kept while a needed blob is missing');
      const after = await Repository.open(h.store);
      assert.ok(after.hasBlob(sha(seededBytes(50_000, 2))));
    });
  });
});

// ---- the CLI ---------------------------------------------------------------------------------------------------

/** Runs `project-backup <name> …` in this process through runCli (dispatch, error mapping, exit codes). */
function runCommand(name: 'forget' | 'prune', argv: string[]): Promise<CliRun> {
  return runCliCaptured([name, ...argv]);
}

interface ForgetJson {
  dryRun: boolean;
  snapshots: Array<{
    id: string;
    time: string;
    keep: boolean;
    reasons: string[];
    forSize: boolean;
    pinned: boolean;
    label: string | null;
    workspace: { id: string; path: string };
  }>;
  removed: string[];
  removedForSize: string[];
  storeBytes: number;
  projectedBytes: number | null;
  maxSize: number | null;
  prune: PruneReport | null;
}

describe('forget and prune commands', () => {
  const temp = useTempDirs();

  /** Five snapshots at fixed local times over three days: Jan 1 10:00 and 15:00, Jan 2 12:00, Jan 3 09:00 and 18:00. */
  async function setup(): Promise<{
    ws: string;
    store: string;
    ids: string[];
    forget: (...argv: string[]) => Promise<CliRun>;
    prune: (...argv: string[]) => Promise<CliRun>;
  }> {
    const ws = temp.make('ws');
    const store = temp.fresh('store');
    const times = [
      new Date(2024, 0, 1, 10),
      new Date(2024, 0, 1, 15),
      new Date(2024, 0, 2, 12),
      new Date(2024, 0, 3, 9),
      new Date(2024, 0, 3, 18),
    ];
    let clock = times[0];
    const repo = await openRepo(store, { now: () => clock });
    const snapshotter = snapshotterFor(repo, ws);
    const ids: string[] = [];
    for (const [i, time] of times.entries()) {
      clock = time;
      setTree(ws, { 'v.bin': seededBytes(100_000, 50 + i), 'keep.txt': 'same\n' });
      ids.push((await snapshotter.snapshot()).snapshot.id);
    }
    return {
      ws,
      store,
      ids,
      forget: (...argv) => runCommand('forget', [...argv, '--repo', store]),
      prune: (...argv) => runCommand('prune', [...argv, '--repo', store]),
    };
  }

  function assertUsage(run: CliRun, what: string): void {
    assert.equal(run.code, EXIT_USAGE, `${what}: exit code (stderr: ${run.stderr.join(' | ')})`);
    assert.match(run.stderr.join('\n'), /usage/i, `${what}: shows usage`);
    assert.equal(run.stdout.length, 0, `${what}: nothing on stdout`);
  }

  it('forget --dry-run lists what would go and why each kept snapshot stays, and changes nothing', async () => {
    const { store, ids, forget } = await setup();
    await setPinned(await Repository.open(store), ids[0], true);
    const state = storeState(store);
    const run = await forget('--keep-daily', '2', '--dry-run');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    assert.deepEqual(run.stderr, []);
    const line = (id: string) => run.stdout.find((l) => l.includes(id.slice(0, 8))) ?? '';
    assert.match(line(ids[0]), /^keep\b.*pinned$/);
    assert.match(line(ids[1]), /^would remove\b/);
    assert.match(line(ids[2]), /^keep\b.*\bdaily-2$/);
    assert.match(line(ids[3]), /^would remove\b/);
    assert.match(line(ids[4]), /^keep\b.*\blatest, daily-1$/);
    assert.match(line(ids[4]), /2024-01-03 18:00:00/);
    assert.equal(
      run.stdout[run.stdout.length - 1],
      'Dry run: would remove 2 of 5 snapshots and keep 3; nothing was changed.',
    );
    assert.deepEqual(storeState(store), state);
  });

  it('forget --json reports every decision; a real run with --prune removes and frees', async () => {
    const { store, ids, forget } = await setup();
    const dry = (await forget('--keep-last', '2', '--dry-run', '--json')).json<ForgetJson>();
    assert.equal(dry.dryRun, true);
    assert.deepEqual(
      dry.snapshots.map((s) => [s.id, s.keep, s.reasons]),
      [
        [ids[0], false, []],
        [ids[1], false, []],
        [ids[2], false, []],
        [ids[3], true, ['last-2']],
        [ids[4], true, ['latest', 'last-1']],
      ],
    );
    assert.deepEqual(dry.removed, ids.slice(0, 3));
    assert.equal(dry.prune, null);
    assert.equal(dry.maxSize, null);
    assert.ok(dry.storeBytes > 500_000);

    const run = await forget('--keep-last', '2', '--prune', '--json');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    assert.equal(run.stdout.length, 1, 'one JSON document');
    const real = run.json<ForgetJson>();
    assert.equal(real.dryRun, false);
    assert.deepEqual(real.removed, ids.slice(0, 3));
    // Each snapshot wrote one pack; the first also holds keep.txt, still used, so it is rewritten.
    assert.ok(
      real.prune && real.prune.packsDeleted === 2 && real.prune.packsRewritten === 1 && real.prune.bytesFreed > 290_000,
      JSON.stringify(real.prune),
    );
    assert.deepEqual(
      (await (await Repository.open(store)).listSnapshots()).map((s) => s.id),
      ids.slice(3),
    );
  });

  it('forget --prune --dry-run predicts the prune as if the snapshots were gone', async () => {
    const { store, forget } = await setup();
    const state = storeState(store);
    const run = await forget('--keep-last', '1', '--prune', '--dry-run');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    assert.match(
      run.stdout[run.stdout.length - 1],
      /^Dry run: prune would delete 3 packs, rewrite 1 pack and remove \d+ unused objects, freeing about [34]\d\d KB \(.* -> .*\); nothing was changed\.$/,
    );
    assert.ok(
      run.stdout.includes('Dry run: would remove 4 of 5 snapshots and keep 1; nothing was changed.'),
      run.stdout.join('\n'),
    );
    assert.deepEqual(storeState(store), state);
  });

  it('forget without --prune says how to free the space', async () => {
    const { forget } = await setup();
    const run = await forget('--keep-within', '1d');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    assert.ok(run.stdout.includes('Removed 4 of 5 snapshots; kept 1.'), run.stdout.join('\n'));
    assert.ok(run.stdout.includes('Run `project-backup prune` to free the space only they used.'));
  });

  it('forget --max-size removes the oldest first, marks them, and reports the store against the budget', async () => {
    const { store, ids, forget } = await setup();
    const size = storeBytes(store, { kinds: ['data', 'index', 'snapshots'] });
    const run = await forget('--max-size', String(size - 150_000), '--dry-run');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    const line = (id: string) => run.stdout.find((l) => l.includes(id.slice(0, 8))) ?? '';
    assert.match(line(ids[0]), /^would remove\b.*\(over --max-size /);
    assert.match(line(ids[1]), /^would remove\b.*\(over --max-size /);
    assert.match(line(ids[2]), /^keep\b.*no-policy$/);
    assert.ok(
      run.stdout.some((l) => /^Dry run: would remove 2 of 5 snapshots \(2 for --max-size\)/.test(l)),
      run.stdout.join('\n'),
    );
    assert.ok(
      run.stdout.some((l) => /^Store: .* now, about .* after prune \(budget .*\)\.$/.test(l)),
      run.stdout.join('\n'),
    );

    const json = (await forget('--max-size', '1k', '--dry-run', '--json')).json<ForgetJson>();
    assert.deepEqual(json.removedForSize, ids.slice(0, 4));
    assert.equal(json.maxSize, 1000);
    assert.ok(json.snapshots.filter((s) => s.forSize).length === 4);
    const over = await forget('--max-size', '1k', '--dry-run');
    assert.ok(
      over.stdout.some((l) => /still over it: the rest is pinned, labelled or the newest of its workspace/.test(l)),
      over.stdout.join('\n'),
    );
  });

  it('forget --workspace only touches that workspace', async () => {
    const { store, ids, forget } = await setup();
    const other = temp.make('other');
    writeTree(other, { 'x.txt': 'x' });
    const repo = await Repository.open(store);
    const o1 = (await snapshotterFor(repo, other).snapshot()).snapshot.id;
    writeTree(other, { 'x.txt': 'x2' });
    const o2 = (await snapshotterFor(repo, other).snapshot()).snapshot.id;
    const run = await forget('--keep-last', '1', '--workspace', other, '--json');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    const report = run.json<ForgetJson>();
    assert.deepEqual(
      report.snapshots.map((s) => s.id),
      [o1, o2],
    );
    assert.deepEqual(report.removed, [o1]);
    assert.deepEqual(
      (await (await Repository.open(store)).listSnapshots()).map((s) => s.id).sort(),
      [...ids, o2].sort(),
    );

    const gone = await forget('--keep-last', '1', '--workspace', path.join(other, 'missing'));
    assert.equal(gone.code, EXIT_OK);
    assert.match(gone.stdout[0], /^No snapshots of /);
  });

  it('usage errors exit 2 with the usage; a missing store exits 1 with one sentence; --help exits 0', async () => {
    const { forget, prune } = await setup();
    assertUsage(await forget(), 'no rule');
    assertUsage(await forget('--dry-run', '--prune'), 'no rule, only flags');
    assertUsage(await forget('--keep-last', 'x'), 'not a number');
    assertUsage(await forget('--keep-daily', '-1'), 'negative');
    assertUsage(await forget('--keep-within', '10'), 'a duration without unit');
    assertUsage(await forget('--max-size', 'lots'), 'not a size');
    assertUsage(await forget('--keep-last', '1', 'extra'), 'a positional');
    assertUsage(await forget('--keep-everything'), 'an unknown option');
    assertUsage(await prune('extra'), 'prune: a positional');
    assertUsage(await prune('--force'), 'prune: an unknown option');
    assertUsage(await runCommand('forget', ['--keep-last', '1']), 'no store');

    const nowhere = path.join(temp.make('empty'), 'nothing');
    for (const [name, argv] of [
      ['forget', ['--keep-last', '1']],
      ['prune', []],
    ] as const) {
      const missing = await runCommand(name, [...argv, '--repo', nowhere]);
      assert.equal(missing.code, EXIT_ERROR, `${name}: ${missing.stderr.join(' | ')}`);
      assert.equal(missing.stderr.length, 1);
      assert.match(missing.stderr[0], /There is no backup store at/);
    }
    const help = await runCommand('forget', ['--help']);
    assert.equal(help.code, EXIT_OK);
    assert.equal(help.stdout.join('\n'), FORGET_USAGE);
    assert.equal((await runCommand('prune', ['--help'])).stdout.join('\n'), PRUNE_USAGE);
  });

  it('prune: --dry-run describes and changes nothing, --json reports, a second run has nothing to do', async () => {
    const { store, forget, prune } = await setup();
    await forget('--keep-last', '2');
    const state = storeState(store);
    const dry = await prune('--dry-run');
    assert.equal(dry.code, EXIT_OK, dry.stderr.join('\n'));
    assert.equal(dry.stdout.length, 1);
    assert.match(
      dry.stdout[0],
      /^Dry run: prune would delete 2 packs, rewrite 1 pack and remove \d+ unused objects, freeing about .* \(.* -> .*\); nothing was changed\.$/,
    );
    assert.deepEqual(storeState(store), state);

    const run = await prune('--json');
    assert.equal(run.code, EXIT_OK, run.stderr.join('\n'));
    const report = run.json<PruneReport>();
    assert.equal(report.dryRun, false);
    assert.equal(report.packsDeleted, 2);
    assert.equal(report.packsRewritten, 1);
    assert.ok(report.bytesFreed > 290_000);
    assert.equal(report.bytesFreed, report.bytesBefore - report.bytesAfter);
    for (const key of [
      'packsDeleted',
      'packsRewritten',
      'blobsRemoved',
      'bytesFreed',
      'tempFilesRemoved',
      'bytesBefore',
      'bytesAfter',
      'missingBlobs',
    ]) {
      assert.equal(typeof (report as unknown as Record<string, unknown>)[key], 'number', key);
    }
    const again = await prune();
    assert.deepEqual(again.stdout, ['Nothing to prune: every stored object is used by a snapshot.']);

    fs.writeFileSync(path.join(store, 'data', '0a', `0a${'2'.repeat(62)}`), 'orphan');
    const human = await prune();
    assert.match(human.stdout[0], /^Pruned: deleted 1 pack; freed 6 B \(.* -> .*\)\.$/);
  });

  it('prune warns on stderr, and still exits 0, when a needed object is missing', async () => {
    const { store, forget, prune } = await setup();
    await forget('--keep-last', '1');
    // keep.txt is still needed; its pack (the first snapshot's) holds nothing else that is.
    const at = (await Repository.open(store)).locate(sha('same\n')) as { packId: string };
    fs.rmSync(path.join(store, 'data', at.packId.slice(0, 2), at.packId));
    const run = await prune();
    assert.equal(run.code, EXIT_OK);
    assert.equal(run.stderr.length, 1);
    assert.match(run.stderr[0], /^warning: 1 object that snapshots need is missing from the store; run verify\.$/);
  });
});
