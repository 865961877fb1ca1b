// One door per use case (#13): restore and verify are each planned, then applied, by core, which takes
// the lock and writes the records; the fronts only ask and print.
// Restore: the plan is decided once (apply neither reads the target's files to compare nor lists its
// folders, and what changed in the target after planning is not decided again), the undo snapshot is taken
// by apply when the plan names one, before anything is written, and a plan is applied at most once.
// Verify: planVerify refuses a bad request before reading, applyVerify writes the last-verify record.
// Tag: label and pin in one plan are one write of the record; a pinned snapshot is refused before asking;
// an automatic label never replaces a label the record has when applied (annotate.ts delegates to it).
// Mirror: the plan counts what will change and writes nothing, not even the folder.
// Forget: with prune, the front may say after forget whether the prune runs (pruneIf), never sequence it.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyVerify, planVerify } from '../../src/core/check/verifyJob';
import { MIRROR_STATE, applyMirror, planMirror } from '../../src/core/export/mirror';
import { applyExport, listArchives, planExport } from '../../src/core/export/archive';
import { applyTag, planTag } from '../../src/core/snapshot/tagJob';
import { applyForget, applyPrune, planForget, planPrune } from '../../src/core/retention/retentionJobs';
import { loadVerifyRecord } from '../../src/core/records/verifyRecord';
import { applyRestore, planRestore, restoreNow } from '../../src/core/restore/restoreJob';
import {
  contentReadsUnder,
  openRepo,
  rejectionCode,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

describe('one door per use case: plan, then apply (#13)', () => {
  const temp = useTempDirs();

  async function setup() {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a1\n', 'dir/b.txt': 'b1\n', 'dir/c.txt': 'c1\n' });
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    return { ws, store, repo, snapshot };
  }

  describe('restore', () => {
    it('apply does what the plan says: the counts and changes it showed are what is written (#13)', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a2\n');
      fs.rmSync(path.join(ws, 'dir', 'b.txt'));
      fs.writeFileSync(path.join(ws, 'dir', 'extra.txt'), 'extra\n');
      const plan = await planRestore(repo, snapshot, { target: ws, deleteExtra: true });
      assert.deepEqual(plan.counts, { create: 1, overwrite: 1, delete: 1 });
      assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.path}`).sort(), [
        'create dir/b.txt',
        'delete dir/extra.txt',
        'overwrite a.txt',
      ]);
      assert.equal(plan.lock, 'shared');
      assert.equal(plan.target, path.resolve(ws));
      // Planning wrote nothing.
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'a2\n');
      assert.ok(fs.existsSync(path.join(ws, 'dir', 'extra.txt')));

      const result = await applyRestore(plan);
      assert.deepEqual(result.problems, []);
      assert.equal(result.files, 3);
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'a1\n');
      assert.equal(fs.readFileSync(path.join(ws, 'dir', 'b.txt'), 'utf8'), 'b1\n');
      assert.ok(!fs.existsSync(path.join(ws, 'dir', 'extra.txt')));
    });

    it('the plan is decided once: apply neither compares nor lists the target, nor decides what changed since (#13)', async () => {
      const { ws, repo, snapshot } = await setup();
      // Same size, other content: only reading the file tells it from the snapshot's.
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a2\n');
      const spy = spyPort();
      const plan = await planRestore(repo, snapshot, { target: ws, deleteExtra: true, fs: spy });
      assert.ok(contentReadsUnder(spy, ws).length > 0, 'the plan compares files by content');
      const sub = path.join(ws, 'dir');
      assert.ok(spy.callsUnder(sub, 'readdir', 'readdirSync').length > 0, 'the plan lists the target for extras');
      assert.equal(plan.total, 1);
      // After the plan was shown: a new file the plan never saw, and another changed file.
      fs.writeFileSync(path.join(ws, 'dir', 'late.txt'), 'late\n');
      fs.writeFileSync(path.join(ws, 'dir', 'c.txt'), 'c2\n');
      spy.reset();
      const result = await applyRestore(plan);
      // (A folder is opened only to fsync it after a rename; a temp file, to write it.)
      assert.deepEqual(
        contentReadsUnder(spy, ws).filter((p) => fs.existsSync(p) && !fs.statSync(p).isDirectory()),
        [],
        'apply compared target files again',
      );
      // (A folder written into is listed once for temp files a killed restore left; dir/ is not written into.)
      assert.deepEqual(spy.callsUnder(sub, 'readdir', 'readdirSync'), [], 'apply listed the target again');
      assert.equal(result.files, 1);
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'a1\n');
      assert.equal(
        fs.readFileSync(path.join(ws, 'dir', 'late.txt'), 'utf8'),
        'late\n',
        'apply deleted what its plan did not list',
      );
      assert.equal(
        fs.readFileSync(path.join(ws, 'dir', 'c.txt'), 'utf8'),
        'c2\n',
        'apply restored what its plan did not list',
      );
    });

    it('apply takes the undo snapshot the plan names, before it writes; none when the plan names none (#13)', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'never snapshotted\n');
      const elsewhere = await planRestore(repo, snapshot, {
        target: path.join(temp.make('out'), 'copy'),
        undo: 'auto',
      });
      assert.equal(elsewhere.undo, undefined, 'a restore into another folder needs no undo');
      const plan = await planRestore(repo, snapshot, { target: ws, undo: 'auto' });
      assert.deepEqual(plan.undo, { workspace: snapshot.workspace.path });
      assert.equal((await repo.listSnapshots({ reload: true })).length, 1, 'planning took no snapshot');

      const result = await applyRestore(plan);
      assert.ok(result.undo, 'apply took the undo snapshot');
      assert.equal(result.undo.trigger, 'pre-restore');
      assert.equal((await repo.listSnapshots({ reload: true })).length, 2);
      // It holds what was there before the restore wrote: restoring it is the undo.
      const undoTarget = path.join(temp.make('undo'), 'ws');
      await applyRestore(await planRestore(repo, result.undo, { target: undoTarget }));
      assert.equal(fs.readFileSync(path.join(undoTarget, 'a.txt'), 'utf8'), 'never snapshotted\n');
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'a1\n');

      // Nothing to change: nothing to undo, no snapshot.
      const none = await planRestore(repo, snapshot, { target: ws, undo: 'auto' });
      assert.equal(none.total, 0);
      assert.equal(none.undo, undefined);
      assert.equal((await applyRestore(none)).undo, undefined);
      assert.equal((await repo.listSnapshots({ reload: true })).length, 2);
    });

    it('a front may take the undo snapshot its own way; apply calls it under its lock, before the first write (#13)', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a2\n');
      const plan = await planRestore(repo, snapshot, {
        target: ws,
        undo: { workspace: ws, autoLabel: 'before restoring' },
      });
      let seen: string | undefined;
      const result = await applyRestore(plan, {
        takeUndo: async (undo) => {
          seen = fs.readFileSync(path.join(ws, 'a.txt'), 'utf8');
          return (
            await snapshotterFor(repo, undo.workspace).snapshot({ trigger: 'pre-restore', autoLabel: undo.autoLabel })
          ).snapshot;
        },
      });
      assert.equal(seen, 'a2\n', 'the undo was taken after something was written');
      assert.equal(result.undo?.label, 'before restoring');
    });

    // #16: the CLI planned, then applied: every file's step was held from planning to the last write, and the
    // target was walked twice. It shows nothing before writing, so it restores in one pass through restoreNow.
    it("restoreNow (the CLI's door) makes the plan's changes in one pass, with the same undo: before the first write, none when nothing changes (#16)", async () => {
      const { ws, repo, snapshot } = await setup();
      writeTree(ws, { 'a.txt': 'never snapshotted\n', 'dir/extra.txt': 'extra\n' });
      fs.rmSync(path.join(ws, 'dir', 'c.txt'));
      const shown = await planRestore(repo, snapshot, { target: ws, deleteExtra: true, undo: 'auto' });

      const dry = await restoreNow(repo, snapshot, { target: ws, deleteExtra: true, undo: 'auto', dryRun: true });
      assert.deepEqual(dry.plan.counts, shown.counts);
      assert.equal(dry.undo, undefined, 'a dry run took an undo snapshot');
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'never snapshotted\n', 'a dry run wrote');

      const done = await restoreNow(repo, snapshot, { target: ws, deleteExtra: true, undo: 'auto' });
      assert.deepEqual(done.plan.counts, shown.counts, 'one pass decided other changes than the plan');
      assert.deepEqual(done.plan.undo, { workspace: snapshot.workspace.path });
      assert.ok(done.undo, 'no undo snapshot over the workspace');
      assert.equal(done.undo.trigger, 'pre-restore');
      assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'a1\n');
      assert.equal(fs.readFileSync(path.join(ws, 'dir', 'c.txt'), 'utf8'), 'c1\n');
      assert.equal(fs.existsSync(path.join(ws, 'dir', 'extra.txt')), false);
      // The undo snapshot holds the state before the first write: restoring it is the undo.
      const undoTarget = path.join(temp.make('undo'), 'ws');
      await restoreNow(repo, done.undo, { target: undoTarget });
      assert.equal(fs.readFileSync(path.join(undoTarget, 'a.txt'), 'utf8'), 'never snapshotted\n');
      assert.equal(fs.readFileSync(path.join(undoTarget, 'dir', 'extra.txt'), 'utf8'), 'extra\n');

      const count = (await repo.listSnapshots({ reload: true })).length;
      const again = await restoreNow(repo, snapshot, { target: ws, deleteExtra: true, undo: 'auto' });
      assert.equal(again.plan.total, 0);
      assert.equal(again.undo, undefined, 'an undo snapshot for a restore that changed nothing');
      assert.equal((await repo.listSnapshots({ reload: true })).length, count);
    });

    it('a plan is applied at most once; a plan not made by planRestore is refused (#13)', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a2\n');
      const plan = await planRestore(repo, snapshot, { target: ws });
      await applyRestore(plan);
      assert.equal((await rejectionCode(() => applyRestore(plan))).code, 'USAGE');
      assert.equal((await rejectionCode(() => applyRestore({ ...plan }))).code, 'USAGE');
    });

    it('Restore a Project: a plan into a folder not made yet lists every change to onChange and keeps none; apply writes them all (#13)', async () => {
      const { repo, snapshot } = await setup();
      const target = path.join(temp.make('gone'), 'project');
      const seen: string[] = [];
      const plan = await planRestore(repo, snapshot, {
        target,
        paths: [],
        deleteExtra: false,
        keepChanges: 0,
        onChange: (c) => seen.push(`${c.action} ${c.path}`),
      });
      assert.deepEqual(plan.changes, [], 'the front keeps its own preview');
      assert.deepEqual(seen.filter((c) => !c.endsWith('dir')).sort(), [
        'create a.txt',
        'create dir/b.txt',
        'create dir/c.txt',
      ]);
      assert.equal(plan.undo, undefined, 'nothing to undo in a new folder');
      assert.ok(!fs.existsSync(target), 'planning made nothing');
      fs.mkdirSync(target, { recursive: true });
      const result = await applyRestore(plan);
      assert.equal(result.files, 3);
      assert.equal(fs.readFileSync(path.join(target, 'dir', 'c.txt'), 'utf8'), 'c1\n');
    });
  });

  describe('verify', () => {
    it('verify through its door writes the last-verify record, with how much it read (#13)', async () => {
      const { store, repo } = await setup();
      assert.equal(await loadVerifyRecord(repo), undefined);
      const plan = planVerify(repo, { readDataSubset: 50 });
      assert.deepEqual(
        { readData: plan.readData, lock: plan.lock, record: plan.record },
        { readData: 50, lock: 'shared', record: 'meta/last-verify' },
      );
      const { report, record, recordError } = await applyVerify(plan, { now: () => new Date('2026-01-02T03:04:05Z') });
      assert.equal(recordError, undefined);
      assert.equal(report.ok, true);
      const stored = await loadVerifyRecord(await openRepo(store));
      assert.deepEqual(stored, { time: '2026-01-02T03:04:05.000Z', ok: true, damaged: 0, snapshots: 1, readData: 50 });
      assert.deepEqual(record, stored);
    });

    it('a bad request is refused before anything is read (#13)', async () => {
      const { repo } = await setup();
      assert.throws(
        () => planVerify(repo, { readDataSubset: 101 }),
        (e: { code?: string }) => e.code === 'USAGE',
      );
      assert.throws(
        () => planVerify(repo, { readData: true, readDataSubset: 5 }),
        (e: { code?: string }) => e.code === 'USAGE',
      );
    });
  });

  describe('tag', () => {
    it('label and pin in one plan: what the plan shows is one write of the record (#13)', async () => {
      const { repo, snapshot } = await setup();
      const plan = await planTag(repo, snapshot, { label: ' before the refactor ', pinned: true });
      assert.deepEqual(
        { label: plan.label, pinned: plan.pinned, remove: plan.remove, lock: plan.lock },
        {
          label: { from: undefined, to: 'before the refactor' },
          pinned: { from: false, to: true },
          remove: false,
          lock: 'shared',
        },
      );
      let saves = 0;
      const save = repo.saveSnapshot.bind(repo);
      repo.saveSnapshot = async (record) => {
        saves++;
        return save(record);
      };
      const { record } = await applyTag(plan);
      assert.equal(saves, 1);
      const stored = await repo.loadSnapshot(snapshot.id);
      assert.equal(stored.label, 'before the refactor');
      assert.equal(stored.pinned, true);
      assert.deepEqual(record, stored);
    });

    it('deleting a pinned snapshot is refused when planned, before anyone is asked; unpin and delete in one plan works (#13)', async () => {
      const { repo, snapshot } = await setup();
      await applyTag(await planTag(repo, snapshot, { pinned: true }));
      const pinned = await repo.loadSnapshot(snapshot.id);
      assert.equal((await rejectionCode(() => planTag(repo, pinned, { remove: true }))).code, 'USAGE');
      assert.equal((await rejectionCode(() => planTag(repo, pinned, {}))).code, 'USAGE');
      const { removed } = await applyTag(await planTag(repo, pinned, { remove: true, pinned: false }));
      assert.equal(removed, true);
      assert.deepEqual(await repo.listSnapshots({ reload: true }), []);
    });

    it("a plan judges the record as the store has it now: a stale pinned record deletes once unpinned (the editor's tree node, #13)", async () => {
      const { repo, snapshot } = await setup();
      await applyTag(await planTag(repo, snapshot, { pinned: true }));
      // What a tree node holds: the record as it was when the view was drawn, pinned.
      const stale = await repo.loadSnapshot(snapshot.id);
      await applyTag(await planTag(repo, stale, { pinned: false }));
      const { removed } = await applyTag(await planTag(repo, stale, { remove: true }));
      assert.equal(removed, true);
      assert.deepEqual(await repo.listSnapshots({ reload: true }), []);
    });
  });

  describe('tag: automatic labels', () => {
    it('an automatic label goes only on a record without a label, judged when applied: a label set after the plan is kept (#13)', async () => {
      const { repo, snapshot } = await setup();
      const plan = await planTag(repo, snapshot.id, { label: 'before switching to main', autoLabel: true });
      assert.deepEqual(plan.label, { from: undefined, to: 'before switching to main', auto: true });
      await applyTag(await planTag(repo, snapshot.id, { label: 'mine' }));
      const kept = await applyTag(plan);
      assert.equal(kept.keptLabel, true);
      assert.equal((await repo.loadSnapshot(snapshot.id)).label, 'mine');
      assert.equal((await repo.loadSnapshot(snapshot.id)).autoLabel, undefined);
      await applyTag(await planTag(repo, snapshot.id, { label: '' }));
      const written = await applyTag(
        await planTag(repo, snapshot.id, { label: 'before switching to main', autoLabel: true }),
      );
      assert.equal(written.keptLabel, undefined);
      const record = await repo.loadSnapshot(snapshot.id);
      assert.deepEqual([record.label, record.autoLabel], ['before switching to main', true]);
      assert.equal(
        (await rejectionCode(() => planTag(repo, snapshot.id, { label: ' ', autoLabel: true }))).code,
        'USAGE',
      );
    });
  });

  describe('mirror', () => {
    it('the plan counts what will change and writes nothing; apply mirrors and records its state (#13)', async () => {
      const { repo, snapshot } = await setup();
      const folder = path.join(temp.make('out'), 'mirror');
      const plan = await planMirror(repo, snapshot, folder);
      assert.deepEqual(
        { removals: plan.removals, writes: plan.writes, previous: plan.previous, lock: plan.lock },
        { removals: 0, writes: 4, previous: undefined, lock: 'shared' },
      );
      assert.ok(!fs.existsSync(folder), 'planning created the folder');
      const result = await applyMirror(plan);
      assert.deepEqual(result.problems, []);
      assert.equal(result.written, 4);
      assert.equal(fs.readFileSync(path.join(folder, 'dir', 'c.txt'), 'utf8'), 'c1\n');
      assert.ok(fs.existsSync(path.join(folder, MIRROR_STATE)));
      assert.equal((await rejectionCode(() => applyMirror(plan))).code, 'USAGE', 'a plan is applied once');
      const again = await planMirror(repo, snapshot, folder);
      assert.deepEqual(
        { writes: again.writes, removals: again.removals, previous: again.previous },
        { writes: 0, removals: 0, previous: snapshot.id },
      );
    });
  });

  describe('forget and prune', () => {
    it('forget with prune: the plan shows what goes and frees, changes nothing; apply removes it and prunes (#13)', async () => {
      const { ws, repo } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), `${'x'.repeat(5000)}\n`);
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a3\n');
      await snapshotterFor(repo, ws).snapshot();
      const plan = await planForget(repo, { policy: { keepLast: 1 }, now: new Date(), prune: true });
      assert.deepEqual(plan.locks, ['shared', 'exclusive']);
      assert.equal(plan.forget?.removed.length, 2);
      assert.ok((plan.prune?.blobsRemoved ?? 0) > 0, 'the plan counts what prune would free');
      assert.equal((await repo.listSnapshots({ reload: true })).length, 3, 'planning removed nothing');
      const result = await applyForget(plan);
      assert.equal(result.forget.removed.length, 2);
      assert.equal(result.prune?.blobsRemoved, plan.prune?.blobsRemoved);
      assert.equal((await repo.listSnapshots({ reload: true })).length, 1);
      const again = await planPrune(repo);
      assert.equal(again.lock, 'exclusive');
      assert.equal(again.report?.blobsRemoved, 0);
      assert.equal((await applyPrune(again)).blobsRemoved, 0);
    });

    it("the editor's scheduled retention: pruneIf sees what forget removed, and the prune runs only when it says yes (#13)", async () => {
      const { ws, repo } = await setup();
      fs.writeFileSync(path.join(ws, 'a.txt'), `${'x'.repeat(5000)}\n`);
      await snapshotterFor(repo, ws).snapshot();
      const request = { policy: { keepLast: 1 }, now: new Date(), prune: true };
      const seen: number[] = [];
      const declined = await applyForget(await planForget(repo, request, { preview: false }), {
        pruneIf: (forgot) => (seen.push(forgot.removed.length), false),
      });
      assert.deepEqual(seen, [1], 'asked once, after forget, with what it removed');
      assert.equal(declined.forget.removed.length, 1);
      assert.equal(declined.prune, undefined, 'no prune when it says no');
      assert.ok(
        ((await planPrune(repo)).report?.blobsRemoved ?? 0) > 0,
        'what the removed snapshot held is still there',
      );
      const pruned = await applyForget(await planForget(repo, request, { preview: false }), {
        pruneIf: async (forgot) => (seen.push(forgot.removed.length), true),
      });
      assert.deepEqual(seen, [1, 0]);
      assert.ok((pruned.prune?.blobsRemoved ?? 0) > 0, 'the prune ran and freed it');
      assert.equal((await planPrune(repo)).report?.blobsRemoved, 0);
    });
  });

  describe('export', () => {
    it('the plan says what the archive holds and writes nothing; apply writes it and records it (#13)', async () => {
      const { repo, snapshot } = await setup();
      const file = path.join(temp.make('out'), 'ws.zip');
      const plan = await planExport(repo, { snapshot, file });
      assert.deepEqual(
        { kind: plan.kind, format: plan.format, entries: plan.entries, bytes: plan.bytes, lock: plan.lock },
        { kind: 'full', format: 'zip', entries: 4, bytes: 9, lock: 'shared' },
      );
      assert.ok(!fs.existsSync(file));
      assert.deepEqual(await listArchives(repo, snapshot.workspace.id), []);
      const result = await applyExport(plan);
      assert.equal(result.files, 3);
      assert.ok(fs.existsSync(file));
      assert.deepEqual(
        (await listArchives(repo, snapshot.workspace.id)).map((a) => a.id),
        [result.id],
      );
      assert.equal((await rejectionCode(() => applyExport(plan))).code, 'USAGE', 'a plan is applied once');
    });
  });
});
