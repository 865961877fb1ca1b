// Retention policy: which snapshots to keep and why, as a pure function of their times (kopia's retention_policy.go).
// Invariants: never reads the clock; pinned and user-labelled snapshots and the newest of each workspace are always
// kept, automatically labelled ones for AUTO_LABEL_KEEP_MS; a policy without a single rule keeps everything, so a
// blank setting never deletes a whole history.

import { BackupError } from '../errors';
import type { SnapshotRecord } from '../repository/snapshotRecord';

export interface RetentionPolicy {
  /** The N newest snapshots. */
  keepLast?: number;
  /** The newest snapshot of each of the last N local hours that have snapshots. */
  keepHourly?: number;
  /** The newest snapshot of each of the last N local calendar days that have snapshots. */
  keepDaily?: number;
  /** The newest snapshot of each of the last N ISO weeks (Monday to Sunday, local time) that have snapshots. */
  keepWeekly?: number;
  /** The newest snapshot of each of the last N local calendar months that have snapshots. */
  keepMonthly?: number;
  /** The newest snapshot of each of the last N local calendar years that have snapshots. */
  keepYearly?: number;
  /** ms: every snapshot at most this old (relative to `now`; future ones too). */
  keepWithin?: number;
  /**
   * ms: how long a snapshot labelled automatically (a notable moment: a branch switch, a restore, a mass
   * deletion; `autoLabel`) is kept for its label; AUTO_LABEL_KEEP_MS when absent. After that it is kept only
   * if another rule keeps it. A label typed by the user is kept forever.
   */
  keepAutoLabelled?: number;
}

/**
 * Automatic labels mark moments worth going back to while they are recent (the state before a branch switch,
 * a pull, a restore, a mass deletion). 30 days: long enough to notice a loss after a holiday, short enough
 * that a busy repository's many branch switches do not pin its history down forever.
 */
export const AUTO_LABEL_KEEP_MS = 30 * 86_400_000;

/**
 * Whether a snapshot's label keeps it: a user's label always, an automatic one while younger than
 * `keepAutoLabelled` (default AUTO_LABEL_KEEP_MS) at `now`.
 */
export function labelKeeps(snapshot: SnapshotRecord, now: Date, keepAutoLabelled = AUTO_LABEL_KEEP_MS): boolean {
  if (!snapshot.label) return false;
  if (!snapshot.autoLabel) return true;
  return now.getTime() - Date.parse(snapshot.time) <= keepAutoLabelled;
}

export interface Decision {
  snapshot: SnapshotRecord;
  keep: boolean;
  /** Why it is kept, e.g. "latest", "last-1", "daily-2", "within", "pinned", "labelled", "auto-labelled"; empty when it goes. */
  reasons: string[];
}

type BucketRule = 'keepHourly' | 'keepDaily' | 'keepWeekly' | 'keepMonthly' | 'keepYearly';

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** ISO 8601 week of a local calendar date, e.g. "2024-W01"; computed on the date alone, so DST cannot shift it. */
function isoWeek(d: Date): string {
  // Calendar arithmetic in UTC on the local date's fields: every day is 24 h there.
  const day = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const weekday = day.getUTCDay() || 7; // Monday 1 … Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${pad(week)}`;
}

/** Bucket keys from local calendar fields (never ms arithmetic), so 23- and 25-hour days are still one day. */
const BUCKETS: ReadonlyArray<{ rule: BucketRule; reason: string; key: (d: Date) => string }> = [
  {
    rule: 'keepHourly',
    reason: 'hourly',
    key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}`,
  },
  { rule: 'keepDaily', reason: 'daily', key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` },
  { rule: 'keepWeekly', reason: 'weekly', key: isoWeek },
  { rule: 'keepMonthly', reason: 'monthly', key: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}` },
  { rule: 'keepYearly', reason: 'yearly', key: (d) => String(d.getFullYear()) },
];

const COUNT_RULES = ['keepLast', 'keepHourly', 'keepDaily', 'keepWeekly', 'keepMonthly', 'keepYearly'] as const;

/** Throws USAGE for a negative, fractional or non-numeric rule. */
function validate(policy: RetentionPolicy): void {
  for (const rule of COUNT_RULES) {
    const value = policy[rule];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) {
      throw new BackupError(
        'USAGE',
        `The retention rule ${rule} must be a whole number of 0 or more (got ${String(value)}).`,
        { rule, value },
      );
    }
  }
  for (const rule of ['keepWithin', 'keepAutoLabelled'] as const) {
    const value = policy[rule];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new BackupError(
        'USAGE',
        `The retention rule ${rule} must be a duration of 0 or more (got ${String(value)}).`,
        { rule, value },
      );
    }
  }
}

/** Whether the policy has no rule that keeps anything (then nothing is removed at all). */
export function isEmptyPolicy(policy: RetentionPolicy): boolean {
  return COUNT_RULES.every((rule) => !policy[rule]) && !policy.keepWithin;
}

/** Newest first; equal times by id, so the result does not depend on the input order. */
function newestFirst(a: SnapshotRecord, b: SnapshotRecord): number {
  const ta = Date.parse(a.time);
  const tb = Date.parse(b.time);
  return ta !== tb ? tb - ta : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Decides, per workspace (by `workspace.id`), which snapshots the policy keeps and why. Returns one decision
 * per snapshot, in the input order. Bucket rules keep the newest snapshot of each of the last N hours, days,
 * ISO weeks, months or years (local time) that have any snapshot. Throws USAGE for a malformed policy.
 */
export function applyPolicy(snapshots: readonly SnapshotRecord[], policy: RetentionPolicy, now: Date): Decision[] {
  validate(policy);
  const empty = isEmptyPolicy(policy);
  const reasons = new Map<SnapshotRecord, string[]>(snapshots.map((s) => [s, []]));
  const groups = new Map<string, SnapshotRecord[]>();
  for (const s of snapshots) {
    let group = groups.get(s.workspace.id);
    if (!group) groups.set(s.workspace.id, (group = []));
    group.push(s);
  }
  const cutoff = now.getTime() - (policy.keepWithin ?? 0);

  for (const group of groups.values()) {
    const sorted = [...group].sort(newestFirst);
    const why = (s: SnapshotRecord) => reasons.get(s) as string[];
    why(sorted[0]).push('latest');
    if (empty) {
      for (const s of sorted) why(s).push('no-policy');
    }
    sorted.slice(0, policy.keepLast ?? 0).forEach((s, i) => why(s).push(`last-${i + 1}`));
    for (const bucket of BUCKETS) {
      const limit = policy[bucket.rule] ?? 0;
      let count = 0;
      let previous: string | undefined;
      for (const s of sorted) {
        if (count >= limit) break;
        const key = bucket.key(new Date(s.time));
        if (key === previous) continue;
        previous = key;
        count++;
        why(s).push(`${bucket.reason}-${count}`);
      }
    }
    if (policy.keepWithin) {
      for (const s of sorted) if (Date.parse(s.time) >= cutoff) why(s).push('within');
    }
    for (const s of sorted) {
      if (s.pinned) why(s).push('pinned');
      if (s.label && !s.autoLabel) why(s).push('labelled');
      else if (labelKeeps(s, now, policy.keepAutoLabelled)) why(s).push('auto-labelled');
    }
  }
  return snapshots.map((snapshot) => {
    const kept = reasons.get(snapshot) as string[];
    return { snapshot, keep: kept.length > 0, reasons: kept };
  });
}

const DURATION_UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/**
 * Parses durations such as `30m`, `12h`, `1d12h`, `2w`, `1y` into ms (s seconds, m minutes, h hours, d days,
 * w weeks, y 365 days). Undefined when malformed, or a bare number (is `30` minutes or days?).
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+(\.\d+)?[smhdwy])+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, , unit] of trimmed.matchAll(/(\d+(\.\d+)?)([smhdwy])/g))
    total += Number(amount) * DURATION_UNITS[unit];
  return Math.round(total);
}
