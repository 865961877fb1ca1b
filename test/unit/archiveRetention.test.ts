// Retention keeps the snapshots archive chains depend on: the base of the next differential archive (the
// last full one) and of the next incremental archive (the last archive of any kind).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { exportArchive } from '../../src/core/export/archive';
import { forget } from '../../src/core/retention/forget';
import { openRepo, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

describe('retention and archive chains', () => {
  const temp = useTempDirs();

  it('keeps the snapshots of the last full archive and the last archive, with the reason "archive-base"', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'one' });
    const repo = await openRepo(temp.fresh('store'), { create: true });
    const snapshotter = snapshotterFor(repo, ws);
    const first = (await snapshotter.snapshot()).snapshot;
    const out = temp.make('archives');
    await exportArchive(repo, { snapshot: first, file: path.join(out, 'full.zip') });
    fs.writeFileSync(path.join(ws, 'a.txt'), 'two');
    const second = (await snapshotter.snapshot()).snapshot;
    await exportArchive(repo, { snapshot: second, file: path.join(out, 'incr.zip'), since: 'last' });
    fs.writeFileSync(path.join(ws, 'a.txt'), 'three');
    const third = (await snapshotter.snapshot()).snapshot;
    fs.writeFileSync(path.join(ws, 'a.txt'), 'four');
    const fourth = (await snapshotter.snapshot()).snapshot;

    const report = await forget(repo, { policy: { keepLast: 1 }, now: new Date(Date.parse(fourth.time) + 1000) });
    const kept = new Map(report.decisions.map((d) => [d.snapshot.id, d]));
    assert.deepEqual(kept.get(first.id)?.reasons.includes('archive-base'), true, 'the full archive base was not kept');
    assert.deepEqual(kept.get(second.id)?.reasons.includes('archive-base'), true, 'the last archive base was not kept');
    assert.equal(kept.get(third.id)?.keep, false, 'a snapshot no chain needs should go');
    assert.deepEqual(
      report.removed.map((s) => s.id),
      [third.id],
    );
    // And the next differential archive still has its base.
    const diff = await exportArchive(repo, { snapshot: fourth, file: path.join(out, 'diff.zip'), since: 'full' });
    assert.equal(diff.base, first.id);
  });
});
