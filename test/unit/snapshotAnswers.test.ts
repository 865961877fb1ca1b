// Smaller wrong answers of `snapshot` (#11.12): a label given when nothing changed, and a wait on a lock
// held by a process that is not (or no longer) a backup.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalBackend } from '../../src/core/storage/localBackend';
import { nodeFs } from '../../src/core/storage/fsPort';
import { Lock, REFRESH_MS } from '../../src/core/storage/lock';
import type { LockInfo } from '../../src/core/storage/lock';
import { openRepo, runCliCaptured, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

describe('snapshot: smaller wrong answers (#11.12)', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ ws: string; store: string }> {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', 'b/c.txt': 'c' });
    const store = temp.fresh('store');
    return { ws, store };
  }

  it('snapshot --label with nothing changed labels the snapshot that holds this state, and says so (#11.12)', async () => {
    const { ws, store } = await setup();
    assert.equal((await runCliCaptured(['snapshot', ws, '--repo', store])).code, 0);
    const run = await runCliCaptured(['snapshot', ws, '--repo', store, '--label', 'before the refactor']);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.match(
      run.stdout.join('\n'),
      /no new snapshot was made; that snapshot is now labelled "before the refactor"/,
    );
    const repo = await openRepo(store);
    const all = await repo.listSnapshots();
    assert.equal(all.length, 1);
    assert.equal(all[0].label, 'before the refactor');

    // A second label replaces the first, and the output names the one it replaced; --pin pins it.
    const again = await runCliCaptured(['snapshot', ws, '--repo', store, '--label', 'release', '--pin', '--json']);
    assert.equal(again.code, 0, again.stderr.join('\n'));
    const json = again.json<{ created: boolean; label: string; annotated: unknown }>();
    assert.equal(json.created, false);
    assert.equal(json.label, 'release');
    assert.deepEqual(json.annotated, { label: 'release', previousLabel: 'before the refactor', pinned: true });
    const [record] = await (await openRepo(store)).listSnapshots();
    assert.equal(record.label, 'release');
    assert.equal(record.pinned, true);
  });

  it("the same in core, which the editor's Snapshot Workspace uses; a label it already has changes nothing (#11.12)", async () => {
    const { ws, store } = await setup();
    const repo = await openRepo(store);
    const first = await snapshotterFor(repo, ws).snapshot();
    const labelled = await snapshotterFor(repo, ws).snapshot({ label: '  milestone ' });
    assert.equal(labelled.created, false);
    assert.equal(labelled.snapshot.id, first.snapshot.id);
    assert.equal(labelled.snapshot.label, 'milestone');
    assert.deepEqual(labelled.annotated, { label: 'milestone' });
    const same = await snapshotterFor(repo, ws).snapshot({ label: 'milestone' });
    assert.equal(same.annotated, undefined);
    assert.equal((await (await openRepo(store)).loadSnapshot(first.snapshot.id)).label, 'milestone');
  });

  it('a snapshot waiting for a lock says once what it waits for, then goes on when the lock is released (#11.12)', async () => {
    const { ws, store } = await setup();
    const repo = await openRepo(store);
    await snapshotterFor(repo, ws).snapshot();
    fs.writeFileSync(path.join(ws, 'a.txt'), 'changed');
    const holder = await Lock.acquire(new LocalBackend(store, nodeFs), { exclusive: true, purpose: 'prune' });
    const notices: string[] = [];
    let release: Promise<void> | undefined;
    const result = await snapshotterFor(repo, ws).snapshot({
      onNotice: (message) => {
        notices.push(message);
        release ??= holder.release();
      },
    });
    await release;
    assert.equal(result.created, true);
    assert.equal(notices.length, 1, notices.join('\n'));
    assert.match(
      notices[0],
      new RegExp(
        `^Waiting for the store at .*: it is locked by prune \\(pid ${process.pid} on .*\\); giving up after 10 minutes\\.$`,
      ),
    );
  });

  it('a lock held by a live process that does not refresh it (pid reuse) is given up on after a bounded wait, with one sentence (#11.12)', async () => {
    const store = temp.fresh('store');
    await openRepo(store);
    const backend = new LocalBackend(store, nodeFs);
    // Our parent process is alive and is no backup; the lock claims it 3 minutes ago, never refreshed since.
    let clock = Date.now();
    const info: LockInfo = {
      host: os.hostname(),
      pid: process.ppid,
      time: new Date(clock - 3 * REFRESH_MS).toISOString(),
      exclusive: true,
      purpose: 'prune',
    };
    await backend.save('locks/foreign', Buffer.from(JSON.stringify(info)));
    const notices: string[] = [];
    const started = clock;
    // A fast clock: each look at it is 2 s later, so a wait of minutes passes in a few real ones.
    const now = () => (clock += 2000);
    const error = await Lock.acquire(backend, {
      exclusive: false,
      purpose: 'a snapshot',
      waitMs: 10 * 60_000,
      now,
      onWait: (m) => notices.push(m),
    }).then(
      () => assert.fail('the lock was taken'),
      (e: Error & { code?: string }) => e,
    );
    assert.equal(error.code, 'REPO_LOCKED');
    assert.match(
      error.message,
      /has not been refreshed since, so its process may have ended and its pid been reused; it expires at .*, try again then\.$/,
    );
    assert.ok(clock - started < 60_000, `gave up only after ${(clock - started) / 1000} s`);
    assert.equal(notices.length, 1);
    assert.match(notices[0], /giving up after 30 s\.$/);
    assert.ok(fs.existsSync(path.join(store, 'locks', 'foreign')), 'the foreign lock was removed');
  });
});
