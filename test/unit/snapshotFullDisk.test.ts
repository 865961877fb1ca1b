// A snapshot that fails on a full disk (#11.6) removes the packs only it wrote, so the next, smaller
// snapshot fits, and says so; another writer's packs that no index names yet are never touched.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBackupError } from '../../src/core/errors';
import { Repository } from '../../src/core/repository/repository';
import { LocalBackend } from '../../src/core/storage/localBackend';
import { nodeFs } from '../../src/core/storage/fsPort';
import { MiB, openRepo, packFiles, seededBytes, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';
import { faultyPort } from './helpers/faultyPort';

describe('a snapshot that fails on a full disk (#11.6)', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ ws: string; store: string; before: string[]; foreign: string }> {
    const ws = temp.make('ws');
    writeTree(ws, { 'small.txt': 'small' });
    const store = temp.fresh('store');
    await snapshotterFor(await openRepo(store), ws).snapshot();
    // Another process's pack, written and not yet indexed (its snapshot is still running).
    const foreign = path.join(store, 'data', 'ff', 'f'.repeat(64));
    fs.mkdirSync(path.dirname(foreign), { recursive: true });
    fs.writeFileSync(foreign, seededBytes(1000, 7));
    return { ws, store, before: packFiles(store).sort(), foreign };
  }

  async function assertCleanAndRecovers(
    store: string,
    ws: string,
    before: string[],
    foreign: string,
    error: unknown,
  ): Promise<void> {
    assert.ok(isBackupError(error, 'NO_SPACE'), `expected NO_SPACE, got ${String(error)}`);
    assert.match(
      error.message,
      /^The disk is full while writing .*; the [\d.]+ [KMG]?i?B this snapshot had written were removed\.$/,
    );
    assert.deepEqual(packFiles(store).sort(), before, 'the failed snapshot left packs behind');
    assert.ok(fs.existsSync(foreign), "another writer's unindexed pack was removed");
    assert.deepEqual(await new LocalBackend(store, nodeFs).listTemp(), [], 'temp files left in the store');
    // The disk is as full as before, and the next snapshot (of less data) fits.
    fs.rmSync(path.join(ws, 'big'), { recursive: true, force: true });
    writeTree(ws, { 'note.txt': 'a smaller change' });
    const next = await snapshotterFor(await Repository.open(store), ws).snapshot();
    assert.equal(next.created, true);
  }

  it('fails writing its index: the pack it wrote is removed, nothing else (#11.6)', async () => {
    const { ws, store, before, foreign } = await setup();
    writeTree(ws, { 'big/a.bin': seededBytes(300 * 1024, 1), 'big/b.bin': seededBytes(200 * 1024, 2) });
    const port = faultyPort({ failAt: 1, under: path.join(store, 'index') });
    const error = await snapshotterFor(await Repository.open(store, { port }), ws)
      .snapshot()
      .then(
        () => assert.fail('the snapshot succeeded'),
        (e: unknown) => e,
      );
    assert.ok(port.failed.length > 0);
    await assertCleanAndRecovers(store, ws, before, foreign, error);
  });

  it('fills the disk in its second pack: the first, complete pack is removed too (#11.6)', async function () {
    this.timeout(120_000);
    const { ws, store, before, foreign } = await setup();
    writeTree(ws, Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`big/${i}.bin`, seededBytes(4 * MiB, 10 + i)])));
    // Every write under data/ succeeds until the first pack is renamed into place and its folder synced.
    let phase: 'first pack' | 'dir sync' | 'full' = 'first pack';
    const port = faultyPort({
      failAt: 1,
      under: path.join(store, 'data'),
      skip: (op) => {
        if (phase === 'full') return false;
        if (phase === 'dir sync' && op === 'sync') phase = 'full';
        if (phase === 'first pack' && op === 'rename') phase = 'dir sync';
        return true;
      },
    });
    const error = await snapshotterFor(await Repository.open(store, { port }), ws)
      .snapshot()
      .then(
        () => assert.fail('the snapshot succeeded'),
        (e: unknown) => e,
      );
    assert.equal(phase, 'full');
    assert.ok(port.failed.length > 0);
    await assertCleanAndRecovers(store, ws, before, foreign, error);
  });
});
