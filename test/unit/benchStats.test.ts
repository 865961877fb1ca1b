// The bench's summaries of repeated steps (bench/stats.ts, #16): a ratio must be taken pair by pair, never
// as the ratio of two medians from different repetitions, so a slow repetition (the disk writing back the
// previous tool's store) counts against both tools of that pair alike.

import * as assert from 'node:assert/strict';
import { alternatingOrder, formatRatio, median, pairedRatio } from '../../bench/stats';

describe('bench statistics (#16)', () => {
  it('median: the middle value, the mean of the middle two for an even count, NaN for none', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    assert.equal(median([7]), 7);
  });

  it('paired ratio: the median of per-pair ratios, which differs from the ratio of the medians when pairs differ', () => {
    // Repetition 2 ran on a slow disk: both tools slow. Per pair ours is 0.5x every time.
    const ours = [100, 1000, 110];
    const theirs = [200, 2000, 220];
    const r = pairedRatio(ours, theirs)!;
    assert.deepEqual(r.ratios, [0.5, 0.5, 0.5]);
    assert.equal(r.median, 0.5);
    // With unequal pairs the median of the ratios is not median(ours) / median(theirs).
    const s = pairedRatio([10, 30, 20], [20, 10, 40])!;
    assert.deepEqual(s.ratios, [0.5, 3, 0.5]);
    assert.equal(s.median, 0.5);
    assert.equal(s.min, 0.5);
    assert.equal(s.max, 3);
    assert.notEqual(s.median, median([10, 30, 20]) / median([20, 10, 40]));
  });

  it('paired ratio: pairs with a missing side or a zero divisor are left out; none left gives undefined', () => {
    assert.deepEqual(pairedRatio([10, undefined, 30, 5], [20, 40, NaN, 0])!.ratios, [0.5]);
    assert.equal(pairedRatio([1], [0]), undefined);
    assert.equal(pairedRatio([], []), undefined);
  });

  it('alternating order: as given, then reversed (A B, B A, A B), without changing the input', () => {
    const tools = ['ours', 'git', 'restic'];
    assert.deepEqual(alternatingOrder(tools, 0), ['ours', 'git', 'restic']);
    assert.deepEqual(alternatingOrder(tools, 1), ['restic', 'git', 'ours']);
    assert.deepEqual(alternatingOrder(tools, 2), ['ours', 'git', 'restic']);
    assert.deepEqual(tools, ['ours', 'git', 'restic']);
  });

  it('formatRatio: the median with its spread when there are several pairs', () => {
    assert.equal(formatRatio(pairedRatio([10, 30, 20], [20, 10, 40])), '0.50x (0.50-3.00)');
    assert.equal(formatRatio(pairedRatio([10], [4])), '2.50x');
    assert.equal(formatRatio(undefined), '-');
  });
});
