// Readers while prune repacks (#11.4): restore and mirror, as real CLI processes in a loop, never fail because
// prune moved the blobs of a snapshot it keeps. Readers that hold a shared lock keep prune waiting; readers of a
// read-only view of the store (no lock possible) find the moved blobs by reloading the index and retrying.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MIRROR_STATE } from '../../src/core/export/mirror';
import { Repository } from '../../src/core/repository/repository';
import { prune } from '../../src/core/retention/prune';
import { DIST_CLI, readTree, seededText, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';
import type { ReadTree } from './helpers/fixtures';
import { readOnlyBindMount, runCli } from './helpers/readOnly';

const ROUNDS = 5;

describe('readers while prune repacks', function () {
  this.timeout(300_000);
  const temp = useTempDirs();

  before(function () {
    if (!fs.existsSync(DIST_CLI)) this.skip(); // npm test builds dist/cli.js before the unit suite
  });

  it('restore and mirror in a loop while prune repacks report nothing missing from a snapshot prune keeps (#11.4)', async () => {
    const ws = temp.make('ws');
    const store = path.join(temp.make('media'), 'store');
    const out = temp.make('out');
    const ro = readOnlyBindMount(path.dirname(store));
    const views = [store, ...(ro ? [path.join(ro.path, 'store')] : [])];
    const expected = new Map<string, ReadTree>();
    let target: string | undefined;
    let done = false;
    const failures: string[] = [];
    let runs = 0;

    const snapshot = async (label?: string): Promise<string> => {
      const run = await runCli(['snapshot', ws, '--repo', store, '--json', ...(label ? ['--label', label] : [])]);
      assert.equal(run.code, 0, run.stderr);
      return (JSON.parse(run.stdout) as { id: string }).id;
    };

    // One reader per (view, command): each run reads the snapshot that was the target when it started.
    const reader = async (view: string, kind: 'restore' | 'mirror', n: number): Promise<void> => {
      const mirrorDir = path.join(out, `mirror-${n}`);
      for (let i = 0; !done; i++) {
        const id = target as string;
        const dest = kind === 'restore' ? path.join(out, `restore-${n}-${i}`) : mirrorDir;
        const args =
          kind === 'restore' ? ['restore', id, '--repo', view, '--target', dest] : ['mirror', id, dest, '--repo', view];
        const run = await runCli(args);
        runs++;
        if (run.code !== 0) {
          failures.push(
            `${kind} of ${id.slice(0, 8)} from ${view === store ? 'the store' : 'a read-only view'}: ${run.stderr.trim()}`,
          );
        } else {
          const got = readTree(dest, { ignore: [MIRROR_STATE] });
          if (JSON.stringify(got) !== JSON.stringify(expected.get(id)))
            failures.push(`${kind} of ${id.slice(0, 8)}: the content differs from the snapshot`);
        }
        if (kind === 'restore') fs.rmSync(dest, { recursive: true, force: true });
      }
    };

    try {
      fs.mkdirSync(path.join(ws, 'keep'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'keep', 'first.txt'), 'first');
      target = await snapshot('start');
      expected.set(target, readTree(ws));
      const readers = views.flatMap((view, v) => [reader(view, 'restore', v * 2), reader(view, 'mirror', v * 2 + 1)]);
      for (let round = 0; round < ROUNDS; round++) {
        // Kept files and churn land in the same packs; the churn is then deleted and forgotten, so prune
        // rewrites those packs: the kept files of the snapshot the readers are reading move to new packs.
        fs.mkdirSync(path.join(ws, 'churn'), { recursive: true });
        for (let i = 0; i < 30; i++) {
          fs.writeFileSync(path.join(ws, 'keep', `r${round}-${i}.txt`), seededText(4000 + i * 50, round * 1000 + i));
          fs.writeFileSync(path.join(ws, 'churn', `c${i}.txt`), seededText(6000, round * 1000 + 500 + i));
        }
        await snapshot();
        fs.rmSync(path.join(ws, 'churn'), { recursive: true });
        const kept = await snapshot(`round ${round}`);
        expected.set(kept, readTree(ws));
        target = kept;
        const forget = await runCli(['forget', '--repo', store, '--keep-last', '1']);
        assert.equal(forget.code, 0, forget.stderr);
        const prune = await runCli(['prune', '--repo', store, '--json']);
        assert.equal(prune.code, 0, prune.stderr);
        assert.ok(
          (JSON.parse(prune.stdout) as { packsRewritten: number }).packsRewritten > 0,
          'prune rewrote packs the readers read',
        );
      }
      done = true;
      await Promise.all(readers);
    } finally {
      done = true;
      ro?.dispose();
    }
    assert.deepEqual(failures, [], `${failures.length} of ${runs} reader runs failed`);
    const verify = await runCli(['verify', '--read-data', '--repo', store]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  it('a reader whose index is older than the snapshot it reads finds its blobs, also after prune moved them (#11.4)', async () => {
    const ws = temp.make('ws');
    const store = temp.fresh('store');
    writeTree(ws, { 'a.txt': seededText(5000, 1) });
    const writer = await Repository.open(store, { create: true });
    await snapshotterFor(writer, ws).snapshot();
    // The reader (a restore, a mirror, an editor window) loaded the index before the next snapshot landed.
    const reader = await Repository.open(store);
    writeTree(ws, { 'b.txt': seededText(7000, 2), 'churn.txt': seededText(9000, 3) });
    const first = (await snapshotterFor(writer, ws).snapshot()).snapshot;
    fs.rmSync(`${ws}/churn.txt`);
    const kept = (await snapshotterFor(writer, ws).snapshot({ label: 'kept' })).snapshot;
    const tree = await reader.loadTree(kept.tree);
    const b = tree.entries.find((e) => e.name === 'b.txt');
    assert.ok(b && b.type === 'file');
    assert.equal((await reader.loadBlob(b.content[0])).toString(), seededText(7000, 2));
    // Now prune moves it (its pack also held the forgotten churn): the same reader still finds it.
    await writer.removeSnapshot(first.id);
    const report = await prune(writer);
    assert.ok(report.packsRewritten + report.packsDeleted > 0);
    assert.equal((await reader.loadBlob(b.content[0])).toString(), seededText(7000, 2));
    await reader.close();
    await writer.close();
  });
});
