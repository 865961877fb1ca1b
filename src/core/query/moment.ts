// "Go to Time": a moment typed the way people say it ("yesterday 17:00", "2 hours ago", "10:30", an ISO
// date) turned into a time, and the snapshot that shows the workspace as it was then (pure: `now` is given).
// Invariant: a moment is never in the future (a bare time later than now means yesterday's), and the
// snapshot for a moment is the newest taken at or before it, never one taken after.

import type { SnapshotRecord } from '../repository/snapshotRecord';

const UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 7 * 86_400_000,
  week: 7 * 86_400_000,
  weeks: 7 * 86_400_000,
};

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** "17:00", "5pm", "5:30 pm", "17:00:30" → [hours, minutes, seconds]; undefined when not a clock time. */
function parseClock(text: string): [number, number, number] | undefined {
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(am|pm)?$/.exec(text);
  if (!m || (m[2] === undefined && m[4] === undefined)) return undefined;
  let hours = Number(m[1]);
  const minutes = Number(m[2] ?? 0);
  const seconds = Number(m[3] ?? 0);
  if (m[4]) {
    if (hours < 1 || hours > 12) return undefined;
    hours = (hours % 12) + (m[4] === 'pm' ? 12 : 0);
  }
  if (hours > 23 || minutes > 59 || seconds > 59) return undefined;
  return [hours, minutes, seconds];
}

function at(day: Date, clock: [number, number, number] | undefined): Date {
  // A day without a time means the end of that day: "what it looked like on Monday" is Monday evening's state.
  return clock
    ? new Date(day.getFullYear(), day.getMonth(), day.getDate(), ...clock)
    : new Date(day.getFullYear(), day.getMonth(), day.getDate(), 23, 59, 59, 999);
}

function daysBefore(now: Date, n: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() - n);
}

/** "2 hours ago", "90 minutes ago", "2h30m ago", "an hour ago", "3 days", "1d" → ms; undefined otherwise. */
function parseAgo(text: string): number | undefined {
  const body = text.replace(/\s+ago$/, '').replace(/^(an?|one)\s+/, '1 ');
  let total = 0;
  let matched = '';
  for (const m of body.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)\s*(?:and\s*|,\s*)?/g)) {
    const unit = UNITS[m[2]];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    matched += m[0];
  }
  return matched.replace(/\s+/g, '') === body.replace(/\s+/g, '') && matched ? total : undefined;
}

/**
 * The moment `text` names, relative to `now`, or undefined when it names none. Understood: "now";
 * "2 hours ago", "90 min ago", "2h30m ago", "an hour ago", "3 days ago"; a clock time ("10:30", "5pm",
 * "17:00:15": today, or yesterday when today's is still to come); "today 9:00", "yesterday 17:00",
 * "yesterday", "monday 10:00", "last friday" (the most recent such day before today); an ISO date or date and
 * time ("2024-05-01", "2024-05-01 10:30", "2024-05-01T10:30:00Z"). A day without a time is the end of that day.
 */
export function parseMoment(text: string, now: Date): Date | undefined {
  const t = text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/ at (?=\d)/, ' ');
  if (!t) return undefined;
  if (t === 'now') return new Date(now.getTime());
  const ago = parseAgo(t);
  if (ago !== undefined) return /\bago$/.test(t) || /^\d/.test(t) ? new Date(now.getTime() - ago) : undefined;

  const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[ t](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (iso) {
    const [y, mo, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return undefined;
    if (iso[7]) {
      const parsed = Date.parse(text.trim().replace(' ', 'T'));
      return Number.isNaN(parsed) ? undefined : capped(new Date(parsed), now);
    }
    const day = new Date(y, mo - 1, d);
    if (day.getMonth() !== mo - 1) return undefined; // 2024-02-31
    const clock: [number, number, number] | undefined =
      iso[4] !== undefined ? [Number(iso[4]), Number(iso[5]), Number(iso[6] ?? 0)] : undefined;
    if (clock && (clock[0] > 23 || clock[1] > 59 || clock[2] > 59)) return undefined;
    return capped(at(day, clock), now);
  }

  const [first, ...rest] = t.split(' ');
  const restText = rest.join(' ');
  const clockOnly = parseClock(t);
  if (clockOnly) {
    const today = at(now, clockOnly);
    return today.getTime() <= now.getTime() ? today : at(daysBefore(now, 1), clockOnly);
  }
  const clock = restText ? parseClock(restText) : undefined;
  if (restText && !clock && first !== 'last') return undefined;
  if (first === 'today') return capped(at(now, clock), now);
  if (first === 'yesterday') return at(daysBefore(now, 1), clock);
  const weekdayText = first === 'last' ? rest[0] : first;
  const weekdayClock = first === 'last' ? (rest.length > 1 ? parseClock(rest.slice(1).join(' ')) : undefined) : clock;
  if (first === 'last' && rest.length > 1 && !weekdayClock) return undefined;
  const weekday = WEEKDAYS.findIndex(
    (name) => weekdayText !== undefined && weekdayText.length >= 3 && name.startsWith(weekdayText),
  );
  if (weekday >= 0) {
    const back = (now.getDay() - weekday + 7) % 7 || 7;
    return at(daysBefore(now, back), weekdayClock);
  }
  return undefined;
}

function capped(moment: Date, now: Date): Date {
  return moment.getTime() > now.getTime() ? new Date(now.getTime()) : moment;
}

/** The newest snapshot taken at or before `moment` (snapshots oldest first), or undefined when all are later. */
export function snapshotAt(snapshots: readonly SnapshotRecord[], moment: Date): SnapshotRecord | undefined {
  let found: SnapshotRecord | undefined;
  for (const s of snapshots) {
    if (Date.parse(s.time) <= moment.getTime()) {
      if (!found || Date.parse(s.time) >= Date.parse(found.time)) found = s;
    }
  }
  return found;
}
