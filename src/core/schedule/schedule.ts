// When automatic snapshots are due: every N minutes, daily at a time, and a catch-up on start-up when the
// last snapshot is too old. Pure functions of explicit times (no clock inside), so they are tested with
// tables and the editor drives them with its own timer.

export interface ScheduleSettings {
  /** Minutes between snapshots; 0 = off. */
  everyMinutes: number;
  /** "HH:MM" in local time, or '' for none. */
  dailyAt: string;
  /** On start-up, snapshot when the last one is older than this many hours; 0 = off. */
  catchUpAfterHours: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Parses "HH:MM" (24 h); undefined for anything else. */
export function parseClock(text: string): { hours: number; minutes: number } | undefined {
  const match = /^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$/.exec(text);
  return match ? { hours: Number(match[1]), minutes: Number(match[2]) } : undefined;
}

/** The next daily run strictly after `after`, in local time (DST-safe: built from calendar fields). */
export function nextDaily(after: Date, clock: { hours: number; minutes: number }): Date {
  const candidate = new Date(after.getFullYear(), after.getMonth(), after.getDate(), clock.hours, clock.minutes, 0, 0);
  if (candidate > after) return candidate;
  return new Date(after.getFullYear(), after.getMonth(), after.getDate() + 1, clock.hours, clock.minutes, 0, 0);
}

/**
 * The next time a scheduled snapshot is due after `now`, given when the last scheduled one ran (undefined
 * if never); undefined when no schedule is set. An interval schedule counts from the last run, and a
 * missed interval (the machine slept) is due at once rather than skipped.
 */
export function nextRun(now: Date, settings: ScheduleSettings, lastScheduled: Date | undefined): Date | undefined {
  const candidates: Date[] = [];
  if (settings.everyMinutes > 0) {
    const from = lastScheduled ?? now;
    const due = new Date(from.getTime() + settings.everyMinutes * MINUTE);
    candidates.push(due < now ? now : due);
  }
  const clock = parseClock(settings.dailyAt);
  if (clock) {
    // A daily run missed since the last scheduled one (the editor was closed at that time) is due now.
    const since = lastScheduled ?? now;
    const missed = nextDaily(since, clock);
    candidates.push(lastScheduled && missed <= now ? now : nextDaily(now, clock));
  }
  if (candidates.length === 0) return undefined;
  return new Date(Math.min(...candidates.map((d) => d.getTime())));
}

/** Whether start-up should take a catch-up snapshot: the last one is older than the threshold (or none exists). */
export function catchUpDue(now: Date, lastSnapshot: Date | undefined, catchUpAfterHours: number): boolean {
  if (catchUpAfterHours <= 0) return false;
  if (!lastSnapshot) return true;
  return now.getTime() - lastSnapshot.getTime() >= catchUpAfterHours * HOUR;
}

/** Whether to remind the user: no successful snapshot for `afterHours`, and not reminded within that time. */
export function reminderDue(
  now: Date,
  lastSnapshot: Date | undefined,
  lastReminder: Date | undefined,
  afterHours: number,
): boolean {
  if (afterHours <= 0) return false;
  const limit = afterHours * HOUR;
  const quiet = !lastSnapshot || now.getTime() - lastSnapshot.getTime() >= limit;
  const notRecentlyReminded = !lastReminder || now.getTime() - lastReminder.getTime() >= limit;
  return quiet && notRecentlyReminded;
}
