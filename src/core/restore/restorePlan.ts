// What a restore decides before it writes: the plan (counts, the first changes, problems), the options
// that shape it and the result of carrying it out. Shared by the restorer (which decides), the steps
// (which write) and the restore job (which shows the plan, then applies it).

import type { Rules } from '../scan/rules';

export interface RestoreProblem {
  path: string;
  reason: string;
}

export type PlanAction = 'create' | 'overwrite' | 'delete';

export interface PlannedChange {
  path: string;
  action: PlanAction;
  type: 'file' | 'dir' | 'symlink';
}

export interface RestorePlan {
  /** The first changes, in the order they were decided (folders before what they hold); at most `keepChanges`. */
  changes: PlannedChange[];
  /**
   * Every file and link to change, by action (`changes` may hold only the first of them). Folders are not
   * counted: "80 to create" for 46 files reads like a miscount.
   */
  counts: Record<PlanAction, number>;
  /** Every change, folders included. */
  total: number;
  unchanged: number;
  /**
   * The snapshot's `.git` was left out because the target has its own (a live repository, whose newer
   * commits an older `.git` would lose): nothing under the target's `.git` changes. See `replaceGit`.
   */
  gitLeft?: boolean;
  /** Entries the store holds that cannot be restored safely or at all (unsafe names, damaged data). */
  problems: RestoreProblem[];
}

export interface RestoreOptions {
  target: string;
  /** Snapshot-relative paths (files or folders) to restore; the whole snapshot when absent or empty. */
  paths?: readonly string[];
  dryRun?: boolean;
  /** Also delete what the target has, inside the restored folders, that the snapshot does not (excluded paths are left alone). */
  deleteExtra?: boolean;
  /** Rules for what `deleteExtra` may touch; defaults to the default excludes. The store itself is never touched. */
  rules?: Rules;
  /**
   * Restore the snapshot's `.git` over a target that has its own (replacing files there and, with
   * `deleteExtra`, deleting what the snapshot's lacks). Without it, a target's `.git` is never written or
   * deleted; a target without one gets the snapshot's.
   */
  replaceGit?: boolean;
  /**
   * A requested path the snapshot does not have is deleted from the target instead of being an error:
   * "make these paths exactly as they were", which is what undoing a restore needs.
   */
  missingAsDelete?: boolean;
  /** Called once, before the first change is written (not at all when nothing changes, nor in a dry run). */
  beforeWrite?: () => Promise<void>;
  /** Called with every change as it is decided, before it is made; a dry run's whole list comes here. */
  onChange?: (change: PlannedChange) => void;
  /** How many changes `plan.changes` keeps (default KEPT_CHANGES; Infinity keeps them all). */
  keepChanges?: number;
  signal?: AbortSignal;
  /** `total` is the number of changes decided so far: the walk decides as it goes. */
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreResult {
  plan: RestorePlan;
  /** Files, links and folders written. */
  restored: number;
  deleted: number;
  /** Files and links written or deleted (folders aside). */
  files: number;
  problems: RestoreProblem[];
}

/** The changes a plan lists by default: enough for a preview, never a list of every file of a big restore. */
export const KEPT_CHANGES = 1000;
