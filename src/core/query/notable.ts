// Notable moments in a workspace's history, told from consecutive snapshots (pure: no I/O, no clock): a
// burst of files deleted, emptied or rewritten outside the editor, and git moving the work tree (a branch
// switch, a pull, a rebase). Each names the snapshot just before it, which is what a user wants back.
// Invariant: a burst is counted in files (never folders), only from changes nobody made in the editor, and
// only along one unbroken chain of snapshots within BURST_WINDOW_MS; one burst is reported once.

import type { Change } from './diff';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { plural } from '../format';

/**
 * A burst is at least BURST_MIN_FILES files, or BURST_SHARE of the workspace's files when that is more, within
 * BURST_WINDOW_MS. 20 files: more than anyone deletes by hand in a few seconds, fewer than any `git clean`,
 * `rm -rf src` or runaway generator; 10%: a 5,000-file project needs 500, so a build that cleans its output
 * folder is not taken for a loss. A few seconds: the watcher's batches of one command arrive within them.
 */
export const BURST_MIN_FILES = 20;
export const BURST_SHARE = 0.1;
export const BURST_WINDOW_MS = 10_000;
/** A git operation that moves HEAD and changes at least this many files is a notable moment (a pull, a rebase). */
export const GIT_MANY_FILES = 10;

/** How many files a burst needs in a workspace of `workspaceFiles` files. */
export function burstThreshold(workspaceFiles: number): number {
  return Math.max(BURST_MIN_FILES, Math.ceil(BURST_SHARE * Math.max(0, workspaceFiles)));
}

/** One snapshot of the watcher's (external changes, saves), with the one before it. */
export interface Step {
  before: SnapshotRecord;
  after: SnapshotRecord;
  /** What changed from `before` to `after` (diffTrees). */
  changes: readonly Change[];
  /**
   * The workspace's own files in `before` (without its `.git`, whose objects would make 10% of a small
   * project unreachable): the base of BURST_SHARE. `before.stats.files` when absent.
   */
  workspaceFiles?: number;
}

export type BurstKind = 'deleted' | 'rewritten';

/** A burst of one kind, reported once; `files` keeps growing while the burst goes on (Restore Them takes them all). */
export interface Burst {
  kind: BurstKind;
  /** The snapshot just before the burst: what Restore Them restores from, what Compare compares with. */
  before: SnapshotRecord;
  /** The newest snapshot of the burst so far. */
  after: SnapshotRecord;
  /** Files (and symlinks) deleted or emptied, or rewritten, workspace-relative, in the order seen. */
  files: string[];
  /** Of `files`, those emptied (still there, now 0 bytes) rather than deleted. */
  emptied: string[];
  /** The fewest paths that restore every file of the burst: a deleted folder once, not each file in it. */
  restorePaths(): string[];
}

/** Git moved HEAD between two snapshots (read from their records' `git`). */
export interface GitMove {
  before: SnapshotRecord;
  after: SnapshotRecord;
  /** The automatic label for `before`. */
  label: string;
}

interface Open {
  started: number;
  /** The base of the threshold: the workspace's files when the burst began. */
  files: number;
  before: SnapshotRecord;
  /** The snapshot before the first step that lost files (deleted or emptied), and before the first that rewrote one. */
  lossBefore?: SnapshotRecord;
  rewriteBefore?: SnapshotRecord;
  /** The snapshot before the step in which git moved HEAD. */
  gitBefore?: SnapshotRecord;
  last: SnapshotRecord;
  deleted: Map<string, 'file' | 'dir'>;
  emptied: Set<string>;
  rewritten: Set<string>;
  gitMoved: boolean;
  reported: Partial<Record<BurstKind, Burst>>;
  gitReported: boolean;
}

export interface StepOutcome {
  /** Bursts that crossed the threshold with this step (each kind at most once per burst). */
  bursts: Burst[];
  /** Git moved HEAD with this step (once per burst). */
  gitMove?: GitMove;
}

/**
 * Follows the watcher's snapshots and tells when they add up to a burst. Feed every snapshot the editor
 * takes for saves and external changes, in order; `ignore` says which changes the user or the extension
 * made itself (saved, deleted in the editor, restored). `reflog` (gitInfo.ts lastHeadMove) names what moved
 * HEAD, for the label.
 */
export class BurstTracker {
  private open: Open | undefined;

  constructor(private readonly windowMs = BURST_WINDOW_MS) {}

  add(step: Step, ignore: (change: Change) => boolean = () => false, reflog?: string): StepOutcome {
    const time = Date.parse(step.after.time);
    const o = this.continueOrStart(step, time);
    o.last = step.after;
    const lost = o.deleted.size + o.emptied.size;
    const rewrites = o.rewritten.size;
    for (const change of step.changes) {
      if (ignore(change)) continue;
      const entry = change.after ?? change.before;
      const type = entry?.type === 'dir' ? 'dir' : 'file';
      if (change.kind === 'deleted') {
        o.deleted.set(change.path, type);
        o.emptied.delete(change.path);
        o.rewritten.delete(change.path);
      } else if (change.kind === 'added') {
        // Deleted and written again within the burst (a generator that wipes and regenerates): a rewrite.
        if (o.deleted.get(change.path) === 'file' && type === 'file') o.rewritten.add(change.path);
        o.deleted.delete(change.path);
      } else if (type === 'file') {
        const before = change.before?.type === 'file' ? change.before.size : 0;
        const after = change.after?.type === 'file' ? change.after.size : 0;
        if (after === 0 && before > 0) o.emptied.add(change.path);
        else {
          o.emptied.delete(change.path);
          o.rewritten.add(change.path);
        }
      }
    }
    // "Just before" is the snapshot before the step where the loss (or rewrite) began, not the burst's first
    // step, which may hold an unrelated change made a moment earlier.
    if (!o.lossBefore && o.deleted.size + o.emptied.size > lost) o.lossBefore = step.before;
    if (!o.rewriteBefore && o.rewritten.size > rewrites) o.rewriteBefore = step.before;
    if (!o.gitBefore && movedHead(step.before, step.after)) o.gitBefore = step.before;
    if (movedHead(o.before, step.after)) o.gitMoved = true;
    const outcome: StepOutcome = { bursts: [] };
    if (o.gitMoved) {
      // Git changed the work tree on purpose (checkout, pull, rebase): git has those files, so no alarm;
      // the moment before is labelled instead.
      if (!o.gitReported) {
        const before = o.gitBefore ?? o.before;
        const label = gitMoveLabel(before, step.after, this.changedFiles(o), reflog);
        if (label) {
          o.gitReported = true;
          outcome.gitMove = { before, after: step.after, label };
        }
      }
      return outcome;
    }
    const threshold = burstThreshold(o.files);
    const lostFiles = this.lostFiles(o);
    const deleted = o.reported.deleted;
    if (deleted) this.update(deleted, o, lostFiles);
    else if (lostFiles.length >= threshold)
      outcome.bursts.push((o.reported.deleted = this.burst('deleted', o, lostFiles)));
    const rewritten = [...o.rewritten];
    const rewrite = o.reported.rewritten;
    if (rewrite) this.update(rewrite, o, rewritten);
    else if (rewritten.length >= threshold)
      outcome.bursts.push((o.reported.rewritten = this.burst('rewritten', o, rewritten)));
    return outcome;
  }

  private continueOrStart(step: Step, time: number): Open {
    const o = this.open;
    if (o && o.last.id === step.before.id && time - o.started <= this.windowMs) return o;
    // The window starts with this step: its changes happened since the snapshot before, within the debounce.
    this.open = {
      started: time,
      files: step.workspaceFiles ?? step.before.stats.files,
      before: step.before,
      last: step.before,
      deleted: new Map(),
      emptied: new Set(),
      rewritten: new Set(),
      gitMoved: false,
      reported: {},
      gitReported: false,
    };
    return this.open;
  }

  private lostFiles(o: Open): string[] {
    const out: string[] = [];
    for (const [p, type] of o.deleted) if (type === 'file') out.push(p);
    for (const p of o.emptied) out.push(p);
    return out;
  }

  private changedFiles(o: Open): number {
    return this.lostFiles(o).length + o.rewritten.size;
  }

  private burst(kind: BurstKind, o: Open, files: string[]): Burst {
    const burst: Burst = {
      kind,
      before: (kind === 'deleted' ? o.lossBefore : o.rewriteBefore) ?? o.before,
      after: o.last,
      files,
      emptied: kind === 'deleted' ? [...o.emptied] : [],
      restorePaths: () => (kind === 'deleted' ? coverOf(o.deleted, o.emptied) : [...o.rewritten]),
    };
    return burst;
  }

  private update(burst: Burst, o: Open, files: string[]): void {
    burst.after = o.last;
    burst.files = files;
    if (burst.kind === 'deleted') burst.emptied = [...o.emptied];
  }
}

/** The fewest paths that bring back every deleted entry and emptied file: a deleted folder stands for what it held. */
function coverOf(deleted: ReadonlyMap<string, 'file' | 'dir'>, emptied: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const p of deleted.keys()) {
    let covered = false;
    for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
      if (deleted.get(p.slice(0, i)) === 'dir') {
        covered = true;
        break;
      }
    }
    if (!covered) out.push(p);
  }
  return [...out, ...emptied].sort();
}

/** Whether git moved HEAD (another branch or commit) between two snapshots, as their records tell. */
export function movedHead(before: SnapshotRecord, after: SnapshotRecord): boolean {
  const a = before.git;
  const b = after.git;
  if (!a?.head || !b?.head) return a?.branch !== undefined && b?.branch !== undefined && a.branch !== b.branch;
  return a.head !== b.head || a.branch !== b.branch;
}

/**
 * The automatic label for the snapshot before git moved HEAD, or undefined when the move is not notable
 * (a commit: HEAD moves, no file changes). `reflog` is the message of the newest entry of `.git/logs/HEAD`
 * ("checkout: moving from main to fix", "pull: Fast-forward", "rebase (finish): returning to refs/heads/main").
 */
export function gitMoveLabel(
  before: SnapshotRecord,
  after: SnapshotRecord,
  filesChanged: number,
  reflog?: string,
): string | undefined {
  const from = before.git;
  const to = after.git;
  if (!to) return undefined;
  if (to.branch !== from?.branch) {
    const target = to.branch ?? (to.head ? to.head.slice(0, 8) : undefined);
    return target ? `before switching to ${target}` : undefined;
  }
  if (filesChanged < GIT_MANY_FILES) return undefined;
  const what = gitOperation(reflog);
  const files = plural(filesChanged, 'file');
  return what
    ? `before ${what} on ${to.branch ?? 'a detached HEAD'} (${files} changed)`
    : `before git changed ${files} on ${to.branch ?? 'a detached HEAD'}`;
}

/** "pull", "rebase", "merge", "reset", "checkout" (of a commit) from a reflog message; undefined for others. */
export function gitOperation(reflog: string | undefined): string | undefined {
  const match = /^\s*(pull|rebase|merge|reset|checkout|cherry-pick|revert|am)\b/.exec(reflog ?? '');
  if (!match) return undefined;
  return match[1] === 'pull' && /--rebase|\(finish\)|\(start\)/.test(reflog ?? '') ? 'pull --rebase' : match[1];
}

/** The automatic label before a burst: "before 48 files deleted outside the editor". */
export function burstLabel(burst: Pick<Burst, 'kind' | 'files' | 'emptied'>): string {
  return `before ${burstSentence(burst)}`;
}

/** "48 files deleted outside the editor", "48 files deleted or emptied outside the editor", "48 files rewritten ...". */
export function burstSentence(burst: Pick<Burst, 'kind' | 'files' | 'emptied'>): string {
  const n = burst.files.length;
  if (burst.kind === 'rewritten') return `${plural(n, 'file')} rewritten outside the editor`;
  const emptied = burst.emptied.length;
  const verb = emptied === 0 ? 'deleted' : emptied === n ? 'emptied' : 'deleted or emptied';
  return `${plural(n, 'file')} ${verb} outside the editor`;
}

/** The automatic label of the snapshot taken before a restore (the undo point). */
export function restoreLabel(what: string, from: string): string {
  return `before restoring ${what} from ${from}`;
}
