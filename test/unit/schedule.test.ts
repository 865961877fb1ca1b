// Schedules as tables of (now, settings, last run) -> next run: a fake clock by construction.

import * as assert from 'node:assert/strict';
import { catchUpDue, nextDaily, nextRun, parseClock, reminderDue } from '../../src/core/schedule/schedule';
import type { ScheduleSettings } from '../../src/core/schedule/schedule';

const at = (y: number, mo: number, d: number, h: number, mi = 0) => new Date(y, mo - 1, d, h, mi, 0, 0);
const off: ScheduleSettings = { everyMinutes: 0, dailyAt: '', catchUpAfterHours: 0 };

describe('schedule', () => {
  it('parses HH:MM and nothing else', () => {
    assert.deepEqual(parseClock('09:30'), { hours: 9, minutes: 30 });
    assert.deepEqual(parseClock('23:59'), { hours: 23, minutes: 59 });
    assert.deepEqual(parseClock('7:05'), { hours: 7, minutes: 5 });
    for (const bad of ['24:00', '12:60', '', '9', 'noon', '12:3']) assert.equal(parseClock(bad), undefined, bad);
  });

  it('next daily run is today when still ahead, else tomorrow', () => {
    assert.deepEqual(nextDaily(at(2026, 11, 25, 8), { hours: 9, minutes: 0 }), at(2026, 11, 25, 9));
    assert.deepEqual(nextDaily(at(2026, 11, 25, 9), { hours: 9, minutes: 0 }), at(2026, 11, 26, 9));
    assert.deepEqual(nextDaily(at(2026, 12, 31, 23, 30), { hours: 1, minutes: 0 }), at(2027, 1, 1, 1));
  });

  const table: Array<[string, Date, ScheduleSettings, Date | undefined, Date | undefined]> = [
    ['no schedule', at(2026, 11, 25, 10), off, undefined, undefined],
    [
      'every 30 min, never ran: 30 min from now',
      at(2026, 11, 25, 10),
      { ...off, everyMinutes: 30 },
      undefined,
      at(2026, 11, 25, 10, 30),
    ],
    [
      'every 30 min, ran 10 min ago: in 20 min',
      at(2026, 11, 25, 10),
      { ...off, everyMinutes: 30 },
      at(2026, 11, 25, 9, 50),
      at(2026, 11, 25, 10, 20),
    ],
    [
      'every 30 min, missed while asleep: now',
      at(2026, 11, 25, 10),
      { ...off, everyMinutes: 30 },
      at(2026, 11, 25, 6),
      at(2026, 11, 25, 10),
    ],
    [
      'daily 18:00, morning: tonight',
      at(2026, 11, 25, 10),
      { ...off, dailyAt: '18:00' },
      at(2026, 11, 24, 18),
      at(2026, 11, 25, 18),
    ],
    [
      'daily 18:00, ran today: tomorrow',
      at(2026, 11, 25, 19),
      { ...off, dailyAt: '18:00' },
      at(2026, 11, 25, 18),
      at(2026, 11, 26, 18),
    ],
    [
      'daily 18:00, editor was closed at 18:00 yesterday: now',
      at(2026, 11, 25, 10),
      { ...off, dailyAt: '18:00' },
      at(2026, 11, 23, 18),
      at(2026, 11, 25, 10),
    ],
    [
      'both: the earlier wins',
      at(2026, 11, 25, 17, 50),
      { ...off, everyMinutes: 60, dailyAt: '18:00' },
      at(2026, 11, 25, 17, 40),
      at(2026, 11, 25, 18),
    ],
    ['an invalid daily time is ignored', at(2026, 11, 25, 10), { ...off, dailyAt: '25:00' }, undefined, undefined],
  ];
  for (const [name, now, settings, last, expected] of table) {
    it(`next run: ${name}`, () => assert.deepEqual(nextRun(now, settings, last), expected));
  }

  it('catch-up on start-up when the last snapshot is older than the threshold, or there is none', () => {
    const now = at(2026, 11, 25, 9);
    assert.equal(catchUpDue(now, at(2026, 11, 24, 8), 24), true);
    assert.equal(catchUpDue(now, at(2026, 11, 24, 10), 24), false);
    assert.equal(catchUpDue(now, undefined, 24), true);
    assert.equal(catchUpDue(now, undefined, 0), false, '0 turns it off');
  });

  it('reminds once per quiet period, never when snapshots succeed', () => {
    const now = at(2026, 11, 25, 12);
    assert.equal(reminderDue(now, at(2026, 11, 25, 11), undefined, 24), false);
    assert.equal(reminderDue(now, at(2026, 11, 24, 11), undefined, 24), true);
    assert.equal(reminderDue(now, at(2026, 11, 24, 11), at(2026, 11, 25, 10), 24), false, 'reminded two hours ago');
    assert.equal(reminderDue(now, undefined, undefined, 24), true);
    assert.equal(reminderDue(now, undefined, undefined, 0), false);
  });
});
