// The history of a selection (#15): line diffs (Myers) are correct against a brute-force check on random
// edits, a region is mapped back through edits above it, and regionHistory lists exactly the versions in
// which the selected lines were different, following them when lines are added above.

import assert from 'node:assert/strict';
import { lineDiff, mapRangeBack, splitLines } from '../../src/core/query/lineDiff';
import type { Hunk } from '../../src/core/query/lineDiff';
import { regionHistory } from '../../src/core/query/regionHistory';
import { openRepo, snapshotterFor, useTempDirs, writeTree, xorshift32 } from './helpers/fixtures';

/** Applies hunks to `a` with the lines of `b`: must give `b` back. */
function apply(a: string[], b: string[], hunks: Hunk[]): string[] {
  const out: string[] = [];
  let ai = 0;
  for (const h of hunks) {
    out.push(...a.slice(ai, h.aStart), ...b.slice(h.bStart, h.bEnd));
    ai = h.aEnd;
  }
  return [...out, ...a.slice(ai)];
}

/** Length of a longest common subsequence (the number of unchanged lines a minimal diff keeps). */
function lcs(a: string[], b: string[]): number {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      dp[i][j] = a[i - 1] === b[j - 1] ? dp[i - 1][j - 1] + 1 : Math.max(dp[i - 1][j], dp[i][j - 1]);
  return dp[a.length][b.length];
}

describe('the history of a selection (#15)', () => {
  const temp = useTempDirs();

  it('lineDiff turns a into b, and keeps as many lines as a minimal diff (300 random cases)', () => {
    const next = xorshift32(1234);
    const rnd = () => next() / 2 ** 32;
    for (let i = 0; i < 300; i++) {
      const a = Array.from({ length: Math.floor(rnd() * 30) }, () => `l${Math.floor(rnd() * 8)}`);
      const b = a.filter(() => rnd() > 0.2).flatMap((l) => (rnd() > 0.85 ? [l, `n${Math.floor(rnd() * 8)}`] : [l]));
      const hunks = lineDiff(a, b);
      assert.deepEqual(apply(a, b, hunks), b, JSON.stringify({ a, b, hunks }));
      const kept = a.length - hunks.reduce((s, h) => s + (h.aEnd - h.aStart), 0);
      assert.equal(kept, lcs(a, b), JSON.stringify({ a, b, hunks }));
    }
  });

  it('mapRangeBack follows a region through lines added above it, and says when it did not exist', () => {
    const old = ['a', 'b', 'c', 'd'];
    const now = ['x', 'y', 'a', 'b', 'C', 'd', 'new'];
    const hunks = lineDiff(old, now);
    assert.deepEqual(mapRangeBack(hunks, 2, 4), { start: 0, end: 2 }, 'a, b: two lines down now');
    assert.deepEqual(mapRangeBack(hunks, 4, 5), { start: 2, end: 3 }, 'C was c');
    const added = mapRangeBack(hunks, 6, 7);
    assert.equal(added.end - added.start, 0, 'the last line did not exist');
  });

  it('regionHistory lists the versions where the selected function differed, newest first, across edits above it', async () => {
    const ws = temp.make('ws');
    const repo = await openRepo(temp.fresh('store'));
    const snapshotter = snapshotterFor(repo, ws);
    const file = (header: string, body: string) => `${header}function area(r) {\n  ${body}\n}\nconst other = 1;\n`;
    writeTree(ws, { 'geo.js': file('', 'return 3 * r * r;') });
    const v1 = (await snapshotter.snapshot()).snapshot;
    writeTree(ws, { 'geo.js': file('', 'return Math.PI * r * r;') });
    await snapshotter.snapshot();
    // Lines added above; the function itself unchanged.
    writeTree(ws, { 'geo.js': file('// geometry\n// helpers\n', 'return Math.PI * r * r;') });
    await snapshotter.snapshot();
    // Only the line below the function changes: not a change of the region.
    writeTree(ws, {
      'geo.js': file('// geometry\n// helpers\n', 'return Math.PI * r * r;').replace('other = 1', 'other = 2'),
    });
    const v4 = (await snapshotter.snapshot()).snapshot;
    const current = file('// geometry\n// helpers\n', 'return Math.PI * r ** 2;').replace('other = 1', 'other = 2');
    const snapshots = await repo.listSnapshots();
    const lines = splitLines(current);
    const start = lines.indexOf('function area(r) {');
    const found = await regionHistory(repo, snapshots, 'geo.js', current, start, start + 3);
    assert.deepEqual(
      found.map((f) => f.text.split('\n')[1].trim()),
      ['return Math.PI * r * r;', 'return 3 * r * r;'],
    );
    assert.equal(found[0].snapshot.id, v4.id, 'the newest version differs from the editor (r ** 2)');
    assert.equal(found[0].start, 2, 'in it the function is two lines down');
    assert.equal(found[1].snapshot.id, v1.id);
    assert.equal(found[1].start, 0);
  });
});
