// "Backup: Go to Time...": moments typed the way people say them, as a table of text -> local time, and the
// snapshot that shows the workspace as of a moment. `now` is Wednesday 15 May 2024, 14:00 local time.

import assert from 'node:assert/strict';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { parseMoment, snapshotAt } from '../../src/core/query/moment';

const NOW = new Date(2024, 4, 15, 14, 0, 0);
const local = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => new Date(y, mo - 1, d, h, mi, s, ms);
const endOf = (y: number, mo: number, d: number) => local(y, mo, d, 23, 59, 59, 999);

function snap(id: string, time: Date): SnapshotRecord {
  return {
    v: 1,
    id,
    time: time.toISOString(),
    workspace: { path: '/w', id: 'w' },
    host: 'h',
    trigger: 'save',
    tree: '0'.repeat(64),
    stats: {
      files: 1,
      dirs: 0,
      symlinks: 0,
      bytes: 1,
      filesNew: 0,
      filesChanged: 1,
      filesDeleted: 0,
      bytesAdded: 0,
      dataAdded: 0,
      blobsAdded: 0,
      skipped: 0,
    },
    tool: 't',
  };
}

describe('Go to Time: typed moments', () => {
  const table: Array<[string, Date | undefined]> = [
    ['now', NOW],
    ['2 hours ago', local(2024, 5, 15, 12)],
    ['90 min ago', local(2024, 5, 15, 12, 30)],
    ['2h30m ago', local(2024, 5, 15, 11, 30)],
    ['an hour ago', local(2024, 5, 15, 13)],
    ['3 days ago', local(2024, 5, 12, 14)],
    ['1 week ago', local(2024, 5, 8, 14)],
    ['45 seconds ago', local(2024, 5, 15, 13, 59, 15)],
    ['10:30', local(2024, 5, 15, 10, 30)],
    ['14:00', NOW],
    ['17:00', local(2024, 5, 14, 17) /* later today: yesterday's 17:00 */],
    ['9am', local(2024, 5, 15, 9)],
    ['5:30 pm', local(2024, 5, 14, 17, 30)],
    ['12am', local(2024, 5, 15, 0)],
    ['08:15:30', local(2024, 5, 15, 8, 15, 30)],
    ['today 9:00', local(2024, 5, 15, 9)],
    ['today', NOW /* the end of today is still to come: now */],
    ['yesterday 17:00', local(2024, 5, 14, 17)],
    ['Yesterday at 5pm', local(2024, 5, 14, 17)],
    ['yesterday', endOf(2024, 5, 14)],
    ['monday 10:00', local(2024, 5, 13, 10)],
    ['last friday', endOf(2024, 5, 10)],
    ['wed', endOf(2024, 5, 8) /* today is Wednesday: the one before */],
    ['2024-05-01', endOf(2024, 5, 1)],
    ['2024-05-01 10:30', local(2024, 5, 1, 10, 30)],
    ['2024-05-01T10:30:15', local(2024, 5, 1, 10, 30, 15)],
    ['2024-05-01T10:30:00Z', new Date(Date.UTC(2024, 4, 1, 10, 30))],
    ['2030-01-01', NOW /* never in the future */],
    ['', undefined],
    ['soon', undefined],
    ['25:00', undefined],
    ['13pm', undefined],
    ['2024-02-31', undefined],
    ['2024-13-01', undefined],
    ['yesterday teatime', undefined],
    ['5 parsecs ago', undefined],
    ['10', undefined],
  ];
  for (const [text, expected] of table) {
    it(`"${text}" -> ${expected ? expected.toString().slice(0, 24) : 'not a moment'}`, () => {
      const got = parseMoment(text, NOW);
      assert.equal(got?.getTime(), expected?.getTime(), `${text}: got ${got?.toString()}`);
    });
  }
});

describe('Go to Time: the snapshot as of a moment', () => {
  const a = snap('a'.repeat(32), local(2024, 5, 15, 9));
  const b = snap('b'.repeat(32), local(2024, 5, 15, 10));
  const c = snap('c'.repeat(32), local(2024, 5, 15, 11));

  it('is the newest snapshot at or before the moment, never one after it', () => {
    assert.equal(snapshotAt([a, b, c], local(2024, 5, 15, 10, 30))?.id, b.id);
    assert.equal(snapshotAt([a, b, c], local(2024, 5, 15, 10))?.id, b.id, 'a snapshot taken at the moment shows it');
    assert.equal(snapshotAt([a, b, c], local(2024, 5, 15, 12))?.id, c.id);
    assert.equal(
      snapshotAt([a, b, c], local(2024, 5, 15, 8)),
      undefined,
      'before the first snapshot there is nothing to show',
    );
  });
});
