// Replication to a folder: a copy is a complete store with the same snapshots; a second copy sends only what
// is new; a copy cut off at any write (a fault in the destination) or aborted leaves a destination that
// verifies clean and lists only complete snapshots, and a rerun finishes it; another store, a foreign
// folder or a running copy are refused without writing; deletions at the source are not propagated.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackupError } from '../../src/core/errors';
import { REPLICA_PREFIX, loadReplicaRecords } from '../../src/core/records/replicaRecord';
import { replicate } from '../../src/core/replicate/replicate';
import { setLabel, setPinned } from '../../src/core/snapshot/annotate';
import type { ReplicationProgress } from '../../src/core/replicate/replicate';
import { Repository } from '../../src/core/repository/repository';
import type { Backend, KeyKind } from '../../src/core/storage/backend';
import { nodeFs } from '../../src/core/storage/fsPort';
import { LocalBackend } from '../../src/core/storage/localBackend';
import { Lock } from '../../src/core/storage/lock';
import {
  describeTreeDiff,
  listAll,
  openRepo,
  readTree,
  rejectionCode,
  runCliCaptured,
  seededText,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import { REPLICA_SPEC, assertConsistent, copiedKeys, sourceStore } from './helpers/replication';

/**
 * A destination that fails every write from the `failAt`-th on, as a disk that fills up or a connection that
 * dies would (locks aside: they are written and released around the failure, as they would be).
 */
class FaultyBackend implements Backend {
  writes = 0;
  constructor(
    private readonly inner: LocalBackend,
    private readonly failAt = Infinity,
  ) {}
  get location() {
    return this.inner.location;
  }
  private count(key: string): void {
    if (key.startsWith('locks/')) return;
    if (++this.writes >= this.failAt)
      throw new BackupError('IO_ERROR', `Injected fault at write ${this.writes} (${key}).`);
  }
  async save(key: string, data: Buffer | readonly Buffer[], options?: { durable?: boolean }) {
    this.count(key);
    return this.inner.save(key, data, options);
  }
  async createOnce(key: string, data: Buffer) {
    this.count(key);
    return this.inner.createOnce(key, data);
  }
  load = (key: string) => this.inner.load(key);
  loadRange = (key: string, offset: number, length: number) => this.inner.loadRange(key, offset, length);
  size = (key: string) => this.inner.size(key);
  list = (kind: KeyKind) => this.inner.list(kind);
  remove = (key: string) => this.inner.remove(key);
  sizes = (kind: KeyKind) => this.inner.sizes(kind);
  rootEntries = () => this.inner.rootEntries();
  createLayout = () => this.inner.createLayout();
  removeStaleTemps = (ms: number) => this.inner.removeStaleTemps(ms);
}

describe('replicate to a folder', function () {
  this.timeout(120_000);
  const temp = useTempDirs();

  it('makes a complete store with the same id and snapshots, which restores identical files', async () => {
    const { repo, ws } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    const progress: ReplicationProgress[] = [];
    const result = await replicate(repo, dest, { onProgress: (p) => progress.push({ ...p }) });
    const sourceKeys = await copiedKeys(repo.backend);
    assert.equal(result.created, true);
    assert.equal(result.objectsCopied, sourceKeys.length);
    assert.equal(result.objectsSkipped, 0);
    assert.equal(result.snapshots, 2);
    assert.equal(result.snapshotsCopied, 2);
    assert.deepEqual(await copiedKeys(new LocalBackend(dest, nodeFs)), sourceKeys);
    assert.ok(fs.readFileSync(path.join(dest, 'config')).equals(fs.readFileSync(path.join(repo.location, 'config'))));
    // Progress: totals known from the start, counts only grow, phases in the copy order.
    const last = progress[progress.length - 1];
    assert.deepEqual([last.objectsDone, last.objectsTotal], [sourceKeys.length, sourceKeys.length]);
    assert.equal(last.bytesDone, last.bytesTotal);
    const order = ['data', 'index', 'snapshots', 'meta'];
    for (let i = 1; i < progress.length; i++) {
      assert.ok(order.indexOf(progress[i].phase) >= order.indexOf(progress[i - 1].phase), 'phases run in order');
      assert.ok(progress[i].objectsDone >= progress[i - 1].objectsDone);
    }

    const sourceIds = (await repo.listSnapshots()).map((s) => s.id);
    assert.deepEqual(await assertConsistent(dest, sourceIds, 'after the copy'), sourceIds);
    const copy = await Repository.open(dest);
    assert.equal(copy.config.id, repo.config.id);
    await copy.close();
    const target = temp.fresh('restored');
    const restored = await runCliCaptured(['restore', 'latest', '--repo', dest, '--target', target]);
    assert.equal(restored.code, 0, restored.stderr.join('\n'));
    const diff = describeTreeDiff(readTree(target), readTree(ws));
    assert.equal(diff, '', diff);
  });

  it('a second copy sends only what is new, and deletions at the source are not propagated', async () => {
    const { repo, ws } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    await replicate(repo, dest);
    const before = await copiedKeys(repo.backend);
    const again = await replicate(repo, dest);
    assert.equal(again.objectsCopied, 0, 'nothing new: nothing copied');
    assert.equal(again.objectsSkipped, before.length);

    writeTree(ws, { 'third.txt': seededText(5000, 9) });
    await snapshotterFor(repo, ws).snapshot();
    const after = await copiedKeys(repo.backend);
    const fresh = after.filter((k) => !before.includes(k));
    assert.ok(fresh.some((k) => k.startsWith('data/')) && fresh.some((k) => k.startsWith('snapshots/')));
    const third = await replicate(repo, dest);
    assert.equal(third.objectsCopied, fresh.length, `copied exactly the new keys: ${fresh.join(', ')}`);
    assert.equal(third.snapshots, 3);

    // Forget and prune at the source: the destination keeps its history.
    const allIds = (await repo.listSnapshots()).map((s) => s.id);
    const forgot = await runCliCaptured(['forget', '--repo', repo.location, '--keep-last', '1', '--prune']);
    assert.equal(forgot.code, 0, forgot.stderr.join('\n'));
    const sourceAfter = await Repository.open(repo.location);
    assert.equal((await sourceAfter.listSnapshots()).length, 1);
    const fourth = await replicate(sourceAfter, dest);
    assert.equal(fourth.snapshots, 3, 'the destination still has the three snapshots');
    assert.equal((await assertConsistent(dest, allIds, 'after forget and prune at the source')).length, 3);
  });

  it('re-copies a key the destination holds at the wrong size, and removes temp files an interrupted copy left', async () => {
    const { repo } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    await replicate(repo, dest);
    const pack = (await new LocalBackend(dest, nodeFs).list('data'))[0];
    const file = path.join(dest, ...pack.split('/'));
    fs.truncateSync(file, 10);
    fs.writeFileSync(path.join(dest, 'data', '00', `00ab.tmp-deadbeef1`), 'partial');
    fs.writeFileSync(path.join(dest, 'snapshots', `x.tmp-deadbeef2`), 'partial');
    const result = await replicate(repo, dest);
    assert.equal(result.objectsCopied, 1);
    assert.equal(result.tempsRemoved, 2);
    assert.deepEqual(
      listAll(dest).filter((p) => p.includes('.tmp-') || p.includes('.pb-tmp-')),
      [],
    );
    await assertConsistent(
      dest,
      (await repo.listSnapshots()).map((s) => s.id),
      'after the repair',
    );
  });

  it('cut off at every write in turn, the destination stays consistent and a rerun completes it', async () => {
    const { repo } = await sourceStore(temp);
    const sourceIds = (await repo.listSnapshots()).map((s) => s.id);
    const counting = new FaultyBackend(new LocalBackend(temp.fresh('count'), nodeFs));
    await replicate(repo, counting);
    const total = counting.writes;
    assert.ok(total >= 6, `a copy takes several writes (${total})`);
    for (let failAt = 1; failAt <= total; failAt++) {
      const dest = temp.fresh(`cut-${failAt}`);
      const faulty = new FaultyBackend(new LocalBackend(dest, nodeFs), failAt);
      const { code } = await rejectionCode(() => replicate(repo, faulty));
      assert.equal(code, 'IO_ERROR', `write ${failAt}`);
      const listed = await assertConsistent(dest, sourceIds, `cut at write ${failAt} of ${total}`);
      assert.ok(
        listed.length < sourceIds.length || failAt === total,
        `cut at ${failAt}: not every snapshot can be there yet`,
      );
      const rerun = await replicate(repo, dest);
      assert.equal(rerun.snapshots, sourceIds.length);
      assert.deepEqual(await assertConsistent(dest, sourceIds, `rerun after a cut at ${failAt}`), sourceIds);
      assert.deepEqual(
        listAll(dest).filter((p) => p.includes('.tmp-') || p.includes('.pb-tmp-') || p.startsWith('locks/')),
        [],
        `cut at ${failAt}: no temp file or lock is left`,
      );
    }
  });

  it('aborted mid-copy, it stops with CANCELLED, the destination is consistent, and a rerun continues', async () => {
    const { repo } = await sourceStore(temp);
    const sourceIds = (await repo.listSnapshots()).map((s) => s.id);
    const dest = temp.fresh('dest');
    const controller = new AbortController();
    const { code, message } = await rejectionCode(() =>
      replicate(repo, dest, {
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.objectsDone === 2) controller.abort();
        },
      }),
    );
    assert.equal(code, 'CANCELLED');
    assert.match(message, /next copy continues/);
    assert.deepEqual(await assertConsistent(dest, sourceIds, 'after the abort'), []);
    const rerun = await replicate(repo, dest);
    assert.equal(rerun.objectsCopied, (await copiedKeys(repo.backend)).length - 2, 'the rerun sends only the rest');
    assert.deepEqual(await assertConsistent(dest, sourceIds, 'after the rerun'), sourceIds);
  });

  it("refuses a destination holding another store, or someone else's files, writing nothing", async () => {
    const { repo } = await sourceStore(temp);
    const other = temp.fresh('other');
    await (await openRepo(other)).close();
    const before = listAll(other);
    const mismatch = await rejectionCode(() => replicate(repo, other));
    assert.equal(mismatch.code, 'STORE_MISMATCH');
    assert.match(mismatch.message, /holds another backup store .*nothing was written/);
    assert.deepEqual(listAll(other), before);

    const foreign = temp.make('foreign');
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine\n');
    const refused = await rejectionCode(() => replicate(repo, foreign));
    assert.equal(refused.code, 'REPO_NOT_FOUND');
    assert.deepEqual(listAll(foreign), ['notes.txt']);

    const self = await rejectionCode(() => replicate(repo, path.join(repo.location, 'sub')));
    assert.equal(self.code, 'USAGE');
  });

  it('a destination copied to before that holds no store now (a drive unplugged) is refused, writing nothing; --fresh copies again', async () => {
    const { repo } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    await replicate(repo, dest);
    // The drive goes away: its mount point stays behind, empty.
    fs.renameSync(dest, `${dest}-unplugged`);
    fs.mkdirSync(dest);
    const refused = await rejectionCode(() => replicate(repo, dest));
    assert.equal(refused.code, 'REPO_NOT_FOUND');
    assert.match(
      refused.message,
      /held a copy of this store \(last copied .*\) but holds no store now: is its drive connected, or its share mounted\? Nothing was written/,
    );
    assert.deepEqual(fs.readdirSync(dest), []);
    // The folder gone altogether: refused as well, and not made.
    fs.rmdirSync(dest);
    assert.equal((await rejectionCode(() => replicate(repo, dest))).code, 'REPO_NOT_FOUND');
    assert.equal(fs.existsSync(dest), false);

    const cli = await runCliCaptured(['copy', '--repo', repo.location, '--to', dest]);
    assert.equal(cli.code, 1);
    assert.equal(cli.stderr.length, 1);
    assert.match(cli.stderr[0], /^project-backup: .* holds no store now: .*copy with --fresh/);
    const fresh = await runCliCaptured(['copy', '--repo', repo.location, '--to', dest, '--fresh']);
    assert.equal(fresh.code, 0, fresh.stderr.join('\n'));
    assert.match(fresh.stdout[0], /^Created the store at /);
    const ids = (await repo.listSnapshots()).map((s) => s.id);
    assert.deepEqual(await assertConsistent(dest, ids, 'after the fresh copy'), ids);
  });

  it('one copy into a destination at a time: a second is refused while the first holds its claim', async () => {
    const { repo } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    await replicate(repo, dest);
    const backend = new LocalBackend(dest, nodeFs);
    const claim = await Lock.tryClaim(backend, 'replicate', 'a copy in another window');
    assert.ok(claim);
    const { code, message } = await rejectionCode(() => replicate(repo, dest));
    assert.equal(code, 'REPO_LOCKED');
    assert.match(message, /Another copy into .* is running/);
    await claim.release();
    await replicate(repo, dest);
  });

  it('records each copy in the source, flat under meta/, for the health view', async () => {
    const { repo } = await sourceStore(temp);
    const near = temp.fresh('near');
    const far = temp.fresh('far');
    await replicate(repo, near);
    await replicate(repo, far, { offsite: true, now: () => new Date('2031-02-03T04:05:06Z') });
    const keys = (await repo.backend.list('meta')).filter((k) => k.startsWith(REPLICA_PREFIX));
    assert.equal(keys.length, 2);
    for (const key of keys) assert.match(key, /^meta\/replica-[0-9a-f]{16}$/);
    const records = await loadReplicaRecords(repo);
    assert.deepEqual(
      records.map((r) => [r.destination, r.snapshots, r.offsite]),
      [
        [near, 2, undefined],
        [far, 2, true],
      ],
    );
    assert.equal(records[1].time, '2031-02-03T04:05:06.000Z');
    assert.ok(records[0].objectsCopied > 0 && records[0].bytesCopied > 0);
    // Copying again to the same destination replaces its record rather than adding one.
    await replicate(repo, near);
    assert.equal((await loadReplicaRecords(repo)).length, 2);
    // A later copy that does not say --offsite keeps the mark; the time is when the copy listed the store.
    let calls = 0;
    await replicate(repo, far, {
      now: () => new Date(calls++ === 0 ? '2031-03-01T00:00:00Z' : '2031-03-01T00:09:00Z'),
    });
    const farRecord = (await loadReplicaRecords(repo)).find((r) => r.destination === far)!;
    assert.equal(farRecord.offsite, true);
    assert.equal(farRecord.time, '2031-03-01T00:00:00.000Z');
    // A replica's own records are not copied on: the destination has its own history.
    assert.deepEqual(
      (await new LocalBackend(far, nodeFs).list('meta')).filter((k) => k.startsWith(REPLICA_PREFIX)),
      [],
    );
  });

  it('a label or pin changed at the source reaches the destination, even when the record keeps its size', async () => {
    const { repo } = await sourceStore(temp);
    const dest = temp.fresh('dest');
    const [first] = await repo.listSnapshots();
    await setLabel(repo, first.id, 'aaaa');
    await replicate(repo, dest);
    // Same length, other text: the record's size does not change, its bytes do.
    await setLabel(repo, first.id, 'bbbb');
    const again = await replicate(repo, dest);
    assert.equal(again.snapshotsCopied, 1);
    const copy = await Repository.open(dest);
    assert.equal((await copy.loadSnapshot(first.id)).label, 'bbbb');
    await setPinned(repo, first.id, true);
    await replicate(repo, dest);
    assert.equal((await (await Repository.open(dest)).loadSnapshot(first.id)).pinned, true);
    // Nothing changed: nothing is copied.
    assert.equal((await replicate(repo, dest)).objectsCopied, 0);
  });

  it('copies an encrypted store as sealed bytes; the copy opens with the same passphrase', async () => {
    const ws = temp.make('ws');
    writeTree(ws, REPLICA_SPEC);
    const dir = temp.fresh('sealed');
    const repo = await openRepo(dir, { encrypt: true, scryptN: 1024, passphrase: async () => 'correct horse' });
    await snapshotterFor(repo, ws).snapshot();
    const dest = temp.fresh('dest');
    const result = await replicate(repo, dest, { offsite: true });
    assert.equal(result.snapshots, 1);
    const locked = await rejectionCode(() => Repository.open(dest));
    assert.equal(locked.code, 'PASSPHRASE_REQUIRED');
    const ids = (await repo.listSnapshots()).map((s) => s.id);
    assert.deepEqual(
      await assertConsistent(dest, ids, 'the encrypted copy', (l) =>
        Repository.open(l, { passphrase: async () => 'correct horse' }),
      ),
      ids,
    );
    const [record] = await loadReplicaRecords(repo);
    assert.equal(record.destination, dest);
    const raw = fs.readFileSync(
      path.join(dir, ...(await repo.backend.list('meta')).find((k) => k.startsWith(REPLICA_PREFIX))!.split('/')),
    );
    assert.ok(!raw.includes(Buffer.from(dest)), 'the record is sealed');
  });

  describe('the copy command', () => {
    it('copies, prints one line (or JSON), and exits 0; errors are one line and exit 1, usage exit 2', async () => {
      const { repo } = await sourceStore(temp);
      const dest = temp.fresh('dest');
      const first = await runCliCaptured(['copy', '--repo', repo.location, '--to', dest]);
      assert.equal(first.code, 0, first.stderr.join('\n'));
      assert.equal(first.stdout.length, 1);
      assert.match(
        first.stdout[0],
        /^Created the store at .*: \d+ objects copied \(.*\), 0 already there; 2 snapshots there now\.$/,
      );
      const second = await runCliCaptured(['copy', '--repo', repo.location, '--to', dest, '--json', '--offsite']);
      assert.equal(second.code, 0);
      const json = second.json<Record<string, unknown>>();
      assert.equal(json.objectsCopied, 0);
      assert.equal(json.snapshots, 2);
      assert.equal(json.offsite, true);
      assert.equal(json.destination, dest);

      const other = temp.fresh('other');
      await (await openRepo(other)).close();
      const mismatch = await runCliCaptured(['copy', '--repo', repo.location, '--to', other]);
      assert.equal(mismatch.code, 1);
      assert.equal(mismatch.stderr.length, 1);
      assert.match(mismatch.stderr[0], /^project-backup: .* holds another backup store/);

      const usage = await runCliCaptured(['copy', '--repo', repo.location]);
      assert.equal(usage.code, 2);
      const verify = await runCliCaptured(['verify', '--repo', dest, '--read-data']);
      assert.equal(verify.code, 0, verify.stdout.join('\n'));
    });
  });
});
