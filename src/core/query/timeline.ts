// A workspace's history as a timeline people can find their way in (pure: times in, rows out): snapshots
// grouped by local day, each day's bursts of work summarised as sessions, and labelled or pinned snapshots
// standing out on their own; plus the words every row uses, so labels and triggers never say a thing twice.
// Invariants: every snapshot that changed a file, or carries a label or pin, is in exactly one row; counts
// count files, never folders; rows that changed nothing (and are not marked) are left out.

import type { SnapshotRecord, Trigger } from '../repository/snapshotRecord';
import { plural } from '../format';

/** A gap longer than this between two snapshots ends a work session: a coffee break, not the next save. */
export const SESSION_GAP_MS = 15 * 60_000;

/** Files the snapshot changed (added, modified or deleted; folders never count). */
export function changedFiles(s: SnapshotRecord): number {
  return s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
}

/** Labelled (by the user or automatically) or pinned: a moment to find again, shown on its own. */
export function isNotable(s: SnapshotRecord): boolean {
  return Boolean(s.label) || s.pinned === true;
}

/**
 * A row that would say "0 changes": a snapshot after the first that changed no file (only folders, or a
 * state the watcher saw twice) and carries no label or pin. It is still restorable from Go to Time.
 */
export function changedNothing(s: SnapshotRecord): boolean {
  return s.parent !== undefined && changedFiles(s) === 0 && !isNotable(s);
}

export interface SessionRow {
  kind: 'session';
  /** Oldest first. */
  snapshots: SnapshotRecord[];
}

export interface SnapshotRow {
  kind: 'snapshot';
  snapshot: SnapshotRecord;
}

export type DayItem = SessionRow | SnapshotRow;

export interface TimelineDay {
  /** Local date, YYYY-MM-DD. */
  key: string;
  /** "Today", "Yesterday", "Mon, 3 Mar" (the year when not this year's). */
  label: string;
  /** Newest first. */
  items: DayItem[];
  /** Snapshots in the day's rows. */
  count: number;
  /** Only the newest day opens by itself; older ones are collapsed. */
  expanded: boolean;
}

const pad = (n: number) => String(n).padStart(2, '0');

function dayKey(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function dayLabel(time: Date, now: Date): string {
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(now) - day(time)) / 86_400_000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return time.toLocaleDateString('en-US', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: time.getFullYear() === now.getFullYear() ? undefined : 'numeric',
  });
}

/**
 * The timeline of `snapshots` (oldest first, as listed): days newest first, each with its sessions and
 * notable snapshots newest first. Within a day, consecutive unmarked snapshots with gaps of at most `gapMs`
 * form a session; a notable snapshot (or a first one) stands alone and ends the session before it; a session of one
 * snapshot is shown as that snapshot.
 */
export function buildTimeline(snapshots: readonly SnapshotRecord[], now: Date, gapMs = SESSION_GAP_MS): TimelineDay[] {
  const days = new Map<string, { first: Date; items: DayItem[]; count: number }>();
  let open: SessionRow | undefined;
  let openDay = '';
  for (const s of snapshots) {
    if (changedNothing(s)) continue;
    const time = new Date(s.time);
    const key = dayKey(time);
    let day = days.get(key);
    if (!day) days.set(key, (day = { first: time, items: [], count: 0 }));
    day.count++;
    // A first snapshot stands alone too: in a session, its whole content would count as the session's files.
    if (isNotable(s) || s.parent === undefined) {
      day.items.push({ kind: 'snapshot', snapshot: s });
      open = undefined;
      continue;
    }
    const last = open?.snapshots[open.snapshots.length - 1];
    if (open && last && openDay === key && time.getTime() - Date.parse(last.time) <= gapMs) {
      open.snapshots.push(s);
      continue;
    }
    open = { kind: 'session', snapshots: [s] };
    openDay = key;
    day.items.push(open);
  }
  const out: TimelineDay[] = [...days].map(([key, day]) => ({
    key,
    label: dayLabel(day.first, now),
    items: day.items
      .map((item): DayItem =>
        item.kind === 'session' && item.snapshots.length === 1
          ? { kind: 'snapshot', snapshot: item.snapshots[0] }
          : item,
      )
      .reverse(),
    count: day.count,
    expanded: false,
  }));
  out.sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  if (out.length) out[0].expanded = true;
  return out;
}

/** "on save", "external change", "before restore", ... */
export function triggerPhrase(trigger: Trigger): string {
  switch (trigger) {
    case 'save':
      return 'on save';
    case 'external':
      return 'external change';
    case 'pre-restore':
      return 'before restore';
    case 'restore':
      return 'restored';
    case 'schedule':
      return 'scheduled';
    case 'startup':
      return 'at start-up';
    case 'cli':
      return 'from the command line';
    case 'api':
      return 'checkpoint';
    default:
      return trigger;
  }
}

/** What a label already says about a trigger, so the trigger is not said again after it. */
const SAID_BY_LABEL: Partial<Record<Trigger, RegExp>> = {
  'pre-restore': /restor/i,
  restore: /restor/i,
  external: /outside the editor|external/i,
  save: /\bsav(e|ed|ing)\b/i,
  startup: /start-?up/i,
  schedule: /schedul/i,
};

/** The trigger's phrase, or undefined when the label already says it ("before restoring ..." for a pre-restore). */
export function triggerUnlessSaid(s: SnapshotRecord): string | undefined {
  if (s.label && SAID_BY_LABEL[s.trigger]?.test(s.label)) return undefined;
  return triggerPhrase(s.trigger);
}

export interface RowText {
  /** The row's label: the time and, when there is one, the snapshot's label. */
  label: string;
  /** The short description after it (may be cut off by a narrow view: the tooltip says everything). */
  description: string;
}

function clock(iso: string, seconds = true): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

/** A time in a label: "10:02:33" on the day of `now`, else "2024-05-14 17:00". */
export function shortTime(iso: string, now: Date): string {
  const d = new Date(iso);
  if (dayKey(d) === dayKey(now)) return clock(iso);
  return `${dayKey(d)} ${clock(iso, false)}`;
}

/** "10:02:33  before switching to main" / "3 files · on save". */
export function snapshotRowText(s: SnapshotRecord): RowText {
  const files =
    s.parent === undefined ? `first snapshot, ${plural(s.stats.files, 'file')}` : plural(changedFiles(s), 'file');
  const trigger = triggerUnlessSaid(s);
  return {
    label: s.label ? `${clock(s.time)}  ${s.label}` : clock(s.time),
    description: s.label ? [files, trigger].filter(Boolean).join(' · ') : [trigger, files].filter(Boolean).join(' · '),
  };
}

/** "10:02–10:47" and "23 snapshots · 14 files" (`files`: the files the session changed, when known). */
export function sessionRowText(session: SessionRow, files?: number): RowText {
  const first = session.snapshots[0];
  const last = session.snapshots[session.snapshots.length - 1];
  const start = clock(first.time, false);
  const end = clock(last.time, false);
  const parts = [plural(session.snapshots.length, 'snapshot')];
  if (files !== undefined) parts.push(plural(files, 'file'));
  return { label: start === end ? start : `${start}–${end}`, description: parts.join(' · ') };
}

/** The full text of a session, for its tooltip: when, how long, how many snapshots of which kind, files. */
export function sessionSummary(session: SessionRow, files?: number): string {
  const first = session.snapshots[0];
  const last = session.snapshots[session.snapshots.length - 1];
  const minutes = Math.round((Date.parse(last.time) - Date.parse(first.time)) / 60_000);
  const byTrigger = new Map<string, number>();
  for (const s of session.snapshots)
    byTrigger.set(triggerPhrase(s.trigger), (byTrigger.get(triggerPhrase(s.trigger)) ?? 0) + 1);
  const kinds = [...byTrigger].map(([phrase, n]) => `${n} ${phrase}`).join(', ');
  const text = sessionRowText(session, files);
  const changed = files === undefined ? '' : `; ${plural(files, 'file')} changed from its start to its end`;
  return `Work session ${text.label} (${minutes < 1 ? 'under a minute' : plural(minutes, 'minute')}): ${plural(session.snapshots.length, 'snapshot')} (${kinds})${changed}.`;
}

export interface TimelineFilter {
  /** Only snapshots with one of these triggers. */
  triggers?: readonly Trigger[];
  /** Only snapshots whose label contains this text (any case). */
  label?: string;
  /** Only labelled or pinned snapshots (the notable moments). */
  notable?: boolean;
  /** Only these snapshots (those that changed a path, found by the caller with query/browse.ts history). */
  ids?: ReadonlySet<string>;
}

/** The snapshots a filter lets through, in their order. */
export function applyFilter(snapshots: readonly SnapshotRecord[], filter: TimelineFilter): SnapshotRecord[] {
  const label = filter.label?.trim().toLowerCase();
  return snapshots.filter(
    (s) =>
      (!filter.triggers?.length || filter.triggers.includes(s.trigger)) &&
      (!label || (s.label ?? '').toLowerCase().includes(label)) &&
      (!filter.notable || isNotable(s)) &&
      (!filter.ids || filter.ids.has(s.id)),
  );
}
