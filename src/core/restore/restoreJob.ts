// Restore as one use case (#13), the shape restic's prune has: planRestore decides every change once and
// returns a plain plan the front shows and confirms (counts, the first changes, what it locks, whether it
// first takes an undo snapshot); applyRestore carries out exactly that plan: it takes the store's shared
// lock, takes the undo snapshot the plan names, then writes, without walking the snapshot or the target
// again to decide. The CLI and the editor only ask and print.
// Invariants: the plan holds names, not file contents or parsed trees (a few MB for 200,000 files); a plan
// is applied at most once; nothing is written before the undo snapshot the plan promised exists.

import * as path from 'node:path';
import { BackupError } from '../errors';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { Snapshotter } from '../snapshot/snapshotter';
import type { FsPort } from '../storage/fsPort';
import { Restorer } from './restorer';
import type { DecidedRestore, RestoreOptions, RestorePlan, RestoreRepo, RestoreResult } from './restorer';

/** What the pre-restore snapshot needs of the store: what the snapshotter needs (it writes a snapshot). */
export type UndoRepo = ConstructorParameters<typeof Snapshotter>[0];
/** What the restore job needs of the store. */
export type RestoreJobRepo = RestoreRepo & UndoRepo;

/** The snapshot taken before the first write, so the restore can be undone by restoring it. */
export interface UndoRequest {
  /** The workspace snapshotted (the folder the restore changes). */
  workspace: string;
  /** A label for the undo point (a notable moment in the timeline). */
  autoLabel?: string;
  /**
   * Take it even when the plan changes nothing on disk (the editor holds unsaved text over files that
   * already match: the text goes into the undo snapshot before the editor shows the restored file).
   */
  evenIfUnchanged?: boolean;
}

export interface RestoreRequest extends Omit<RestoreOptions, 'dryRun' | 'beforeWrite' | 'onProgress'> {
  /**
   * Snapshot what the target holds before changing it (restoring over a workspace). 'auto': when the
   * target is the snapshot's workspace or a folder inside it, snapshot that workspace.
   */
  undo?: UndoRequest | 'auto';
  /** The target's file system (the workspace's); by default the store's port. */
  fs?: FsPort;
}

export interface RestoreJobPlan extends RestorePlan {
  snapshot: SnapshotRecord;
  target: string;
  /** Held while the plan is applied: shared, so snapshots go on and prune waits. Planning takes none. */
  lock: 'shared';
  /** The undo snapshot apply takes first (set only when there is something to undo). */
  undo?: UndoRequest;
}

export interface ApplyRestoreOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * How the undo snapshot is taken (the editor's goes through its save queue and adds unsaved text); by
   * default a full snapshot of `undo.workspace` with the trigger `pre-restore`.
   */
  takeUndo?: (undo: UndoRequest, signal?: AbortSignal) => Promise<SnapshotRecord>;
}

export interface RestoreJobResult extends RestoreResult {
  plan: RestoreJobPlan;
  /** The snapshot taken before writing (restore it to undo). */
  undo?: SnapshotRecord;
}

interface Held {
  repo: RestoreJobRepo;
  restorer: Restorer;
  decided: DecidedRestore;
  applied: boolean;
}

/** What a plan carries that the front neither shows nor touches: the steps and the store. */
const held = new WeakMap<RestoreJobPlan, Held>();

/** Decides every change of restoring `snapshot` (`request.paths`, or all of it) into `request.target`; reads only, takes no lock. */
export async function planRestore(
  repo: RestoreJobRepo,
  snapshot: SnapshotRecord,
  request: RestoreRequest,
): Promise<RestoreJobPlan> {
  const { fs, undo: asked, ...options } = request;
  const undo = await resolveUndo(asked, request.target, snapshot);
  const restorer = new Restorer(repo, { fs });
  const decided = await restorer.plan(snapshot, options);
  const plan: RestoreJobPlan = {
    ...decided.plan,
    snapshot,
    target: path.resolve(request.target),
    lock: 'shared',
    ...(undo && (decided.plan.total > 0 || undo.evenIfUnchanged) ? { undo } : {}),
  };
  // The plan's problems are the decided plan's own list: what apply adds goes to the result's.
  held.set(plan, {
    repo,
    restorer,
    decided: { plan: decided.plan, steps: decided.steps, slots: decided.slots },
    applied: false,
  });
  return plan;
}

/** Carries out a plan from planRestore, once: lock, undo snapshot (when the plan names one), then the writes it decided. */
export async function applyRestore(plan: RestoreJobPlan, options: ApplyRestoreOptions = {}): Promise<RestoreJobResult> {
  const job = held.get(plan);
  if (!job) throw new BackupError('USAGE', 'This restore plan was not made by planRestore.');
  if (job.applied)
    throw new BackupError('USAGE', 'This restore plan was applied already; plan again to restore again.');
  job.applied = true;
  const { repo } = job;
  let undo: SnapshotRecord | undefined;
  const result = await job.restorer.apply(plan.snapshot, job.decided, {
    target: plan.target,
    signal: options.signal,
    onProgress: options.onProgress,
    // Under the lock, before the first step: nothing is written before the undo point exists.
    prepare: plan.undo
      ? async () => {
          const request = plan.undo as UndoRequest;
          refuseUndoOnReadOnly(repo);
          undo = await (options.takeUndo ?? ((u, signal) => takeUndoSnapshot(repo, u, signal)))(
            request,
            options.signal,
          );
        }
      : undefined,
  });
  return { ...result, plan, undo };
}

/**
 * Decides and makes each change in one pass, for a front that shows no plan before it writes (the CLI, as
 * `restic restore` does): the same decisions, shared lock and undo snapshot as planRestore + applyRestore
 * (the undo taken under the lock before the first write, none when nothing changes), but memory holds one
 * path of trees and a bounded queue of writes rather than the whole plan, and the target is walked once.
 * With `dryRun` it only decides (nothing is written, no undo).
 */
export async function restoreNow(
  repo: RestoreJobRepo,
  snapshot: SnapshotRecord,
  request: RestoreRequest & { dryRun?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<RestoreJobResult> {
  const { fs, undo: asked, ...options } = request;
  const undoRequest = await resolveUndo(asked, request.target, snapshot);
  let undo: SnapshotRecord | undefined;
  const restorer = new Restorer(repo, { fs });
  const result = await restorer.restore(snapshot, {
    ...options,
    beforeWrite: undoRequest
      ? async () => {
          refuseUndoOnReadOnly(repo);
          undo = await takeUndoSnapshot(repo, undoRequest, request.signal);
        }
      : undefined,
  });
  const target = path.resolve(request.target);
  const plan: RestoreJobPlan = {
    ...result.plan,
    snapshot,
    target,
    lock: 'shared',
    ...(undo && undoRequest ? { undo: undoRequest } : {}),
  };
  return { ...result, plan, undo };
}

async function resolveUndo(
  asked: RestoreRequest['undo'],
  target: string,
  snapshot: SnapshotRecord,
): Promise<UndoRequest | undefined> {
  if (asked !== 'auto') return asked;
  return (await insideFolder(target, snapshot.workspace.path)) ? { workspace: snapshot.workspace.path } : undefined;
}

function refuseUndoOnReadOnly(repo: RestoreJobRepo): void {
  if (!repo.readOnly) return;
  throw new BackupError(
    'PERMISSION_DENIED',
    `The store at ${repo.location} cannot be written, so the undo snapshot taken before restoring over the workspace cannot be made; nothing was changed. Restore into another folder, or make the store writable.`,
    { location: repo.location },
  );
}

/** A full snapshot (cheap with the stat cache), so undo puts back exactly what was there, even changes never snapshotted. */
async function takeUndoSnapshot(repo: UndoRepo, undo: UndoRequest, signal?: AbortSignal): Promise<SnapshotRecord> {
  const snapshotter = new Snapshotter(repo, { workspace: undo.workspace, trigger: 'pre-restore' });
  return (
    await snapshotter.snapshot({
      trigger: 'pre-restore',
      signal,
      ...(undo.autoLabel ? { autoLabel: undo.autoLabel } : {}),
    })
  ).snapshot;
}

/** Whether `target` is `folder` or lies inside it, links resolved (the target may not exist yet: its nearest existing ancestor is). */
export async function insideFolder(target: string, folder: string): Promise<boolean> {
  const { realpath } = await import('node:fs/promises');
  const real = async (p: string): Promise<string> => {
    const abs = path.resolve(p);
    try {
      return await realpath(abs);
    } catch {
      const parent = path.dirname(abs);
      return parent === abs ? abs : path.join(await real(parent), path.basename(abs));
    }
  };
  const rel = path.relative(await real(folder), await real(target));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
