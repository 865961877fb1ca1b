// Retention as a pure function: tables of snapshot times and a policy -> the snapshots kept, each with the
// reasons it is kept. Times are written in local time (new Date(y, m, d, h)), so the tables hold in any
// time zone; the DST tables pin a zone with a real DST change and check that calendar buckets still follow
// the wall clock on 23- and 25-hour days.

import assert from 'node:assert/strict';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { applyPolicy, isEmptyPolicy, parseDuration } from '../../src/core/retention/policy';
import type { RetentionPolicy } from '../../src/core/retention/policy';
import { rejectionCode, zeroStats } from './helpers/fixtures';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface SnapSpec {
  id: string;
  /** Local time [year, month (1-12), day, hour, minute] or an ISO instant. */
  at: [number, number, number, number?, number?] | string;
  ws?: string;
  pinned?: boolean;
  label?: string;
}

function toDate(at: SnapSpec['at']): Date {
  return typeof at === 'string' ? new Date(at) : new Date(at[0], at[1] - 1, at[2], at[3] ?? 12, at[4] ?? 0);
}

function snap(spec: SnapSpec): SnapshotRecord {
  const ws = spec.ws ?? 'a';
  return {
    v: 1,
    id: spec.id,
    time: toDate(spec.at).toISOString(),
    workspace: { path: `/work/${ws}`, id: `ws-${ws}` },
    host: 'test',
    trigger: 'manual',
    tree: '0'.repeat(64),
    stats: zeroStats(),
    tool: 'test',
    ...(spec.pinned ? { pinned: true } : {}),
    ...(spec.label ? { label: spec.label } : {}),
  };
}

interface Case {
  name: string;
  snapshots: SnapSpec[];
  policy: RetentionPolicy;
  now?: SnapSpec['at'];
  /** Every kept id with its reasons, in order; every id not listed must be removed. */
  kept: Record<string, string[]>;
}

function check(c: Case): void {
  const records = c.snapshots.map(snap);
  const decisions = applyPolicy(records, c.policy, toDate(c.now ?? [2030, 1, 1]));
  assert.deepEqual(
    decisions.map((d) => d.snapshot.id),
    records.map((r) => r.id),
    'one decision per snapshot, in the input order',
  );
  const actual: Record<string, string[]> = {};
  for (const d of decisions) {
    assert.equal(d.keep, d.reasons.length > 0, `${d.snapshot.id}: keep iff it has a reason`);
    if (d.keep) actual[d.snapshot.id] = d.reasons;
  }
  assert.deepEqual(actual, c.kept);
}

/** Runs `fn` with process.env.TZ set (Node re-reads it on assignment), restoring it afterwards. */
function inZone(zone: string, fn: () => void): void {
  const before = process.env.TZ;
  process.env.TZ = zone;
  try {
    fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

describe('retention policy', () => {
  describe('applyPolicy (tables)', () => {
    const cases: Case[] = [
      {
        name: 'an empty policy keeps everything',
        snapshots: [
          { id: 's1', at: [2024, 1, 1] },
          { id: 's2', at: [2024, 1, 2] },
          { id: 's3', at: [2024, 1, 3] },
        ],
        policy: {},
        kept: { s1: ['no-policy'], s2: ['no-policy'], s3: ['latest', 'no-policy'] },
      },
      {
        name: 'a policy of zeros is empty too: it never deletes a whole history',
        snapshots: [
          { id: 's1', at: [2024, 1, 1] },
          { id: 's2', at: [2024, 1, 2] },
        ],
        policy: { keepLast: 0, keepDaily: 0, keepWithin: 0 },
        kept: { s1: ['no-policy'], s2: ['latest', 'no-policy'] },
      },
      {
        name: 'keepLast keeps the N newest, whatever the input order',
        snapshots: [
          { id: 's3', at: [2024, 1, 3] },
          { id: 's1', at: [2024, 1, 1] },
          { id: 's4', at: [2024, 1, 4] },
          { id: 's2', at: [2024, 1, 2] },
        ],
        policy: { keepLast: 2 },
        kept: { s3: ['last-2'], s4: ['latest', 'last-1'] },
      },
      {
        name: 'keepLast larger than the history keeps all',
        snapshots: [
          { id: 's1', at: [2024, 1, 1] },
          { id: 's2', at: [2024, 1, 2] },
        ],
        policy: { keepLast: 10 },
        kept: { s1: ['last-2'], s2: ['latest', 'last-1'] },
      },
      {
        name: 'keepHourly keeps the newest of each of the last N hours that have snapshots',
        snapshots: [
          { id: 'h10a', at: [2024, 5, 1, 10, 5] },
          { id: 'h10b', at: [2024, 5, 1, 10, 40] },
          { id: 'h11', at: [2024, 5, 1, 11, 10] },
          { id: 'h12a', at: [2024, 5, 1, 12, 0] },
          { id: 'h12b', at: [2024, 5, 1, 12, 30] },
          { id: 'h13', at: [2024, 5, 1, 13, 59] },
        ],
        policy: { keepHourly: 3 },
        kept: { h11: ['hourly-3'], h12b: ['hourly-2'], h13: ['latest', 'hourly-1'] },
      },
      {
        name: 'keepDaily counts days that have snapshots, not calendar days (gaps are skipped)',
        snapshots: [
          { id: 'd1a', at: [2024, 1, 1, 9] },
          { id: 'd1b', at: [2024, 1, 1, 18] },
          { id: 'd5', at: [2024, 1, 5, 8] },
          { id: 'd9a', at: [2024, 1, 9, 0, 0] },
          { id: 'd9b', at: [2024, 1, 9, 23, 59] },
        ],
        policy: { keepDaily: 3 },
        kept: { d1b: ['daily-3'], d5: ['daily-2'], d9b: ['latest', 'daily-1'] },
      },
      {
        name: 'keepDaily splits at local midnight: 23:59 and 00:01 are two days',
        snapshots: [
          { id: 'late', at: [2024, 3, 1, 23, 59] },
          { id: 'early', at: [2024, 3, 2, 0, 1] },
        ],
        policy: { keepDaily: 2 },
        kept: { late: ['daily-2'], early: ['latest', 'daily-1'] },
      },
      {
        name: 'keepWeekly uses ISO weeks (Monday to Sunday) across a year boundary',
        snapshots: [
          { id: 'sun-w52', at: [2024, 12, 29, 23] }, // Sunday: 2024-W52
          { id: 'mon-w01', at: [2024, 12, 30, 1] }, // Monday: 2025-W01
          { id: 'wed-w01', at: [2025, 1, 1, 10] }, // 2025-W01
          { id: 'mon-w51', at: [2024, 12, 16] }, // 2024-W51
        ],
        policy: { keepWeekly: 2 },
        kept: { 'sun-w52': ['weekly-2'], 'wed-w01': ['latest', 'weekly-1'] },
      },
      {
        name: 'keepMonthly and keepYearly pick the newest of each month and year',
        snapshots: [
          { id: '2022-06', at: [2022, 6, 15] },
          { id: '2022-12', at: [2022, 12, 31, 22] },
          { id: '2023-01', at: [2023, 1, 1, 1] },
          { id: '2023-01b', at: [2023, 1, 20] },
          { id: '2023-03', at: [2023, 3, 3] },
        ],
        policy: { keepMonthly: 2, keepYearly: 3 },
        kept: { '2022-12': ['yearly-2'], '2023-01b': ['monthly-2'], '2023-03': ['latest', 'monthly-1', 'yearly-1'] },
      },
      {
        name: 'keepWithin keeps everything at most that old relative to `now`, not to the clock',
        snapshots: [
          { id: 'old', at: [2024, 1, 8, 10, 59] },
          { id: 'edge', at: [2024, 1, 8, 11, 0] },
          { id: 'recent', at: [2024, 1, 10, 9] },
          { id: 'future', at: [2024, 1, 11] },
        ],
        policy: { keepWithin: 2 * DAY },
        now: [2024, 1, 10, 11, 0],
        kept: { edge: ['within'], recent: ['within'], future: ['latest', 'within'] },
      },
      {
        name: 'pinned and labelled snapshots are always kept, the newest always as latest',
        snapshots: [
          { id: 'pinned', at: [2024, 1, 1], pinned: true },
          { id: 'labelled', at: [2024, 1, 2], label: 'before refactor' },
          { id: 'both', at: [2024, 1, 3], pinned: true, label: 'release' },
          { id: 'plain', at: [2024, 1, 4] },
          { id: 'newest', at: [2024, 1, 5] },
        ],
        policy: { keepLast: 1 },
        kept: {
          pinned: ['pinned'],
          labelled: ['labelled'],
          both: ['pinned', 'labelled'],
          newest: ['latest', 'last-1'],
        },
      },
      {
        name: 'the newest snapshot is kept even when no rule covers it',
        snapshots: [
          { id: 'a', at: [2020, 1, 1] },
          { id: 'b', at: [2020, 1, 2] },
        ],
        policy: { keepWithin: HOUR },
        now: [2024, 1, 1],
        kept: { b: ['latest'] },
      },
      {
        name: 'several workspaces: rules apply to each on its own, each keeps its newest',
        snapshots: [
          { id: 'a1', at: [2024, 1, 1], ws: 'a' },
          { id: 'b1', at: [2024, 1, 1, 13], ws: 'b' },
          { id: 'a2', at: [2024, 1, 2], ws: 'a' },
          { id: 'a3', at: [2024, 1, 3], ws: 'a' },
          { id: 'c1', at: [2023, 1, 1], ws: 'c' },
          { id: 'b2', at: [2024, 1, 2, 13], ws: 'b' },
        ],
        policy: { keepLast: 2 },
        kept: {
          b1: ['last-2'],
          a2: ['last-2'],
          a3: ['latest', 'last-1'],
          c1: ['latest', 'last-1'],
          b2: ['latest', 'last-1'],
        },
      },
      {
        name: 'rules combine: one snapshot can be kept for many reasons',
        snapshots: [
          { id: 'mon', at: [2024, 4, 1, 9] },
          { id: 'tue', at: [2024, 4, 2, 9] },
          { id: 'tue2', at: [2024, 4, 2, 10] },
        ],
        policy: {
          keepLast: 1,
          keepHourly: 1,
          keepDaily: 2,
          keepWeekly: 1,
          keepMonthly: 1,
          keepYearly: 1,
          keepWithin: HOUR,
        },
        now: [2024, 4, 2, 10, 30],
        kept: {
          mon: ['daily-2'],
          tue2: ['latest', 'last-1', 'hourly-1', 'daily-1', 'weekly-1', 'monthly-1', 'yearly-1', 'within'],
        },
      },
      {
        name: 'equal times are ordered by id, so the result does not depend on the input order',
        snapshots: [
          { id: 'bbb', at: [2024, 1, 1, 12, 0] },
          { id: 'aaa', at: [2024, 1, 1, 12, 0] },
          { id: 'ccc', at: [2024, 1, 1, 12, 0] },
        ],
        policy: { keepLast: 1 },
        kept: { ccc: ['latest', 'last-1'] },
      },
      {
        name: 'no snapshots: no decisions',
        snapshots: [],
        policy: { keepLast: 3 },
        kept: {},
      },
    ];
    for (const c of cases) it(c.name, () => check(c));
  });

  describe('daylight saving time', () => {
    const cases: Array<Case & { zone: string }> = [
      {
        name: 'Europe/Berlin, clocks back (2024-10-27, a 25-hour day): the repeated 02:xx hour is one hourly bucket',
        zone: 'Europe/Berlin',
        snapshots: [
          { id: 'h01', at: '2024-10-26T23:30:00Z' }, // 01:30 CEST
          { id: 'h02-first', at: '2024-10-27T00:10:00Z' }, // 02:10 CEST
          { id: 'h02-second', at: '2024-10-27T01:10:00Z' }, // 02:10 CET, one hour later
        ],
        policy: { keepHourly: 2 },
        kept: { h01: ['hourly-2'], 'h02-second': ['latest', 'hourly-1'] },
      },
      {
        name: 'Europe/Berlin, the 25-hour day is one daily bucket from 00:00 to 23:59 local',
        zone: 'Europe/Berlin',
        snapshots: [
          { id: 'sat-late', at: '2024-10-26T21:59:00Z' }, // Sat 23:59 CEST
          { id: 'sun-early', at: '2024-10-26T22:01:00Z' }, // Sun 00:01 CEST
          { id: 'sun-late', at: '2024-10-27T22:59:00Z' }, // Sun 23:59 CET (24 h 58 min later)
          { id: 'mon-early', at: '2024-10-27T23:01:00Z' }, // Mon 00:01 CET
        ],
        policy: { keepDaily: 3 },
        kept: { 'sat-late': ['daily-3'], 'sun-late': ['daily-2'], 'mon-early': ['latest', 'daily-1'] },
      },
      {
        name: 'America/New_York, clocks forward (2024-03-10, a 23-hour day) is still one day',
        zone: 'America/New_York',
        snapshots: [
          { id: 'sat', at: '2024-03-10T04:59:00Z' }, // Sat 23:59 EST
          { id: 'sun-early', at: '2024-03-10T05:01:00Z' }, // Sun 00:01 EST
          { id: 'sun-late', at: '2024-03-11T03:59:00Z' }, // Sun 23:59 EDT (22 h 58 min later)
          { id: 'mon', at: '2024-03-11T04:01:00Z' }, // Mon 00:01 EDT
        ],
        policy: { keepDaily: 2 },
        kept: { 'sun-late': ['daily-2'], mon: ['latest', 'daily-1'] },
      },
      {
        name: 'America/New_York: a week containing the 23-hour day is still Monday to Sunday',
        zone: 'America/New_York',
        snapshots: [
          { id: 'sun-mar10', at: '2024-03-11T03:30:00Z' }, // Sun 23:30 EDT: week 2024-W10
          { id: 'mon-mar11', at: '2024-03-11T04:30:00Z' }, // Mon 00:30 EDT: week 2024-W11
          { id: 'mon-mar4', at: '2024-03-04T05:30:00Z' }, // Mon 00:30 EST: week 2024-W10
        ],
        policy: { keepWeekly: 5 },
        kept: { 'sun-mar10': ['weekly-2'], 'mon-mar11': ['latest', 'weekly-1'] },
      },
      {
        name: 'Australia/Lord_Howe (a 30-minute DST shift): local days still bucket by the wall clock',
        zone: 'Australia/Lord_Howe',
        snapshots: [
          { id: 'day1', at: '2024-04-06T12:00:00Z' }, // Sat 23:00 +11
          { id: 'day2-early', at: '2024-04-06T13:30:00Z' }, // Sun 00:30 +11
          { id: 'day2-late', at: '2024-04-07T13:00:00Z' }, // Sun 23:30 +10:30 (shift on Sunday 02:00)
        ],
        policy: { keepDaily: 2 },
        kept: { day1: ['daily-2'], 'day2-late': ['latest', 'daily-1'] },
      },
    ];
    for (const c of cases) it(c.name, () => inZone(c.zone, () => check(c)));

    it('the zone really changes bucketing (guards the DST tables against a silently ignored TZ)', () => {
      // Saturday 23:30 and Sunday 00:30 in UTC; Sunday 01:30 and 02:30 in Berlin.
      const records = [snap({ id: 'x', at: '2024-10-26T23:30:00Z' }), snap({ id: 'y', at: '2024-10-27T00:30:00Z' })];
      let berlin: string[] = [];
      let utc: string[] = [];
      inZone(
        'Europe/Berlin',
        () =>
          (berlin = applyPolicy(records, { keepDaily: 5 }, new Date())
            .filter((d) => d.keep)
            .map((d) => d.snapshot.id)),
      );
      inZone(
        'UTC',
        () =>
          (utc = applyPolicy(records, { keepDaily: 5 }, new Date())
            .filter((d) => d.keep)
            .map((d) => d.snapshot.id)),
      );
      assert.deepEqual(berlin, ['y'], 'both on Sunday in Berlin: one daily bucket');
      assert.deepEqual(utc, ['x', 'y'], 'Saturday and Sunday in UTC: two daily buckets');
    });
  });

  describe('malformed policies', () => {
    const bad: Array<[string, RetentionPolicy]> = [
      ['a negative count', { keepLast: -1 }],
      ['a fractional count', { keepDaily: 1.5 }],
      ['NaN', { keepHourly: Number.NaN }],
      ['a negative duration', { keepWithin: -5 }],
      ['an infinite duration', { keepWithin: Number.POSITIVE_INFINITY }],
    ];
    for (const [name, policy] of bad) {
      it(`refuses ${name} with USAGE`, async () => {
        const { code } = await rejectionCode(async () =>
          applyPolicy([snap({ id: 's', at: [2024, 1, 1] })], policy, new Date(2024, 0, 2)),
        );
        assert.equal(code, 'USAGE');
      });
    }

    it('isEmptyPolicy: only rules that keep something count', () => {
      assert.equal(isEmptyPolicy({}), true);
      assert.equal(isEmptyPolicy({ keepLast: 0, keepWithin: 0 }), true);
      assert.equal(isEmptyPolicy({ keepYearly: 1 }), false);
      assert.equal(isEmptyPolicy({ keepWithin: 1 }), false);
    });
  });

  describe('parseDuration', () => {
    const table: Array<[string, number | undefined]> = [
      ['30m', 30 * 60_000],
      ['12h', 12 * HOUR],
      ['1d12h', 36 * HOUR],
      ['2w', 14 * DAY],
      ['1y', 365 * DAY],
      ['90s', 90_000],
      ['1.5h', 90 * 60_000],
      ['1w2d3h4m5s', 7 * DAY + 2 * DAY + 3 * HOUR + 4 * 60_000 + 5000],
      [' 2D ', 2 * DAY],
      ['', undefined],
      ['10', undefined],
      ['abc', undefined],
      ['5x', undefined],
      ['-1d', undefined],
      ['1d 2h', undefined],
      ['d', undefined],
    ];
    for (const [text, expected] of table) {
      it(`${JSON.stringify(text)} -> ${expected === undefined ? 'undefined' : `${expected} ms`}`, () =>
        assert.equal(parseDuration(text), expected));
    }
  });
});
