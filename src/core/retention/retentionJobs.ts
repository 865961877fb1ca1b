// Forget and prune as use cases (#13), in the plan/apply shape of the other jobs. planForget and planPrune
// decide without a lock and change nothing (what `--dry-run` prints, what a front shows before asking);
// applyForget and applyPrune take their own lock (forget a shared one, prune the store alone) and decide
// again under it before they change anything: retention must judge the snapshots as they are when it
// removes them (a pin or label set in another window meanwhile is honoured), and prune must see every
// snapshot written up to the moment it holds the store alone. `prune: true` makes forget free the space
// its removals held in the same job, so no front sequences forget and prune itself.

import { BackupError } from '../errors';
import { forget } from './forget';
import type { ForgetOptions, ForgetReport, ForgetRepo } from './forget';
import { prune } from './prune';
import type { PruneOptions, PruneReport, PruneRepo } from './prune';

/** What forget, then prune, need of the store. */
export type RetentionRepo = ForgetRepo & PruneRepo;

export interface ForgetRequest extends Omit<ForgetOptions, 'dryRun' | 'signal'> {
  /** Then prune (under its exclusive lock) to free what only the removed snapshots held. */
  prune?: boolean;
}

/** `preview: false` skips working out what would go (a front that applies at once, without showing it). */
export interface PlanOptions {
  signal?: AbortSignal;
  preview?: boolean;
}

export interface ForgetPlan {
  /** The decisions as they stand now (a dry run): what apply removes unless something changed meanwhile. Absent without preview. */
  forget?: ForgetReport;
  /** With `prune`: what the prune after it would free, counting the planned removals as done. */
  prune?: PruneReport;
  /** Forget holds a shared lock (snapshots go on); prune, when asked, the store alone. */
  locks: Array<'shared' | 'exclusive'>;
}

export interface ForgetResult {
  forget: ForgetReport;
  prune?: PruneReport;
}

export interface ApplyForgetOptions {
  signal?: AbortSignal;
  onProgress?: (message: string) => void;
  /**
   * With a plan that prunes: asked once forget is done, with what it removed; the prune runs only when it
   * says yes (the editor's scheduled retention prunes when something went, at most once a day).
   */
  pruneIf?: (forgot: ForgetReport) => boolean | Promise<boolean>;
}

export interface PrunePlan {
  /** What prune would do now (a dry run); absent without preview. */
  report?: PruneReport;
  lock: 'exclusive';
}

const forgetRequests = new WeakMap<ForgetPlan, { repo: RetentionRepo; request: ForgetRequest }>();
const pruneRequests = new WeakMap<
  PrunePlan,
  { repo: PruneRepo; options: Omit<PruneOptions, 'dryRun' | 'signal' | 'onProgress' | 'assumeForgotten'> }
>();

/** What forget (and, asked, the prune after it) would remove now; changes nothing and takes no lock. */
export async function planForget(
  repo: RetentionRepo,
  request: ForgetRequest,
  options: PlanOptions = {},
): Promise<ForgetPlan> {
  const { prune: thenPrune, ...forgetOptions } = request;
  if (forgetOptions.maxSize !== undefined && !(Number.isFinite(forgetOptions.maxSize) && forgetOptions.maxSize >= 0)) {
    throw new BackupError(
      'USAGE',
      `The size budget must be a number of bytes of 0 or more (got ${String(forgetOptions.maxSize)}).`,
    );
  }
  const plan: ForgetPlan = { locks: thenPrune ? ['shared', 'exclusive'] : ['shared'] };
  if (options.preview !== false) {
    plan.forget = await forget(repo, { ...forgetOptions, dryRun: true, signal: options.signal });
    const going = [...plan.forget.removed, ...plan.forget.removedForSize].map((s) => s.id);
    if (thenPrune) plan.prune = await prune(repo, { dryRun: true, signal: options.signal, assumeForgotten: going });
  }
  forgetRequests.set(plan, { repo, request });
  return plan;
}

/** Removes what the policy lets go (deciding again under the lock), then prunes when the plan says so. */
export async function applyForget(plan: ForgetPlan, options: ApplyForgetOptions = {}): Promise<ForgetResult> {
  const held = forgetRequests.get(plan);
  if (!held) throw new BackupError('USAGE', 'This forget plan was not made by planForget.');
  const { repo, request } = held;
  const { prune: thenPrune, ...forgetOptions } = request;
  const report = await forget(repo, { ...forgetOptions, signal: options.signal });
  const pruned =
    thenPrune && (!options.pruneIf || (await options.pruneIf(report)))
      ? await prune(repo, { signal: options.signal, onProgress: options.onProgress })
      : undefined;
  return { forget: report, ...(pruned ? { prune: pruned } : {}) };
}

/** What prune would remove now; changes nothing and takes no lock. */
export async function planPrune(
  repo: PruneRepo,
  options: Omit<PruneOptions, 'dryRun' | 'onProgress' | 'signal' | 'assumeForgotten'> & PlanOptions = {},
): Promise<PrunePlan> {
  const { signal, preview, ...rest } = options;
  const plan: PrunePlan = {
    lock: 'exclusive',
    ...(preview !== false ? { report: await prune(repo, { ...rest, dryRun: true, signal }) } : {}),
  };
  pruneRequests.set(plan, { repo, options: rest });
  return plan;
}

/** Prunes under the exclusive lock (waiting for snapshots in flight), deciding again once it holds the store alone. */
export async function applyPrune(
  plan: PrunePlan,
  options: { signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<PruneReport> {
  const held = pruneRequests.get(plan);
  if (!held) throw new BackupError('USAGE', 'This prune plan was not made by planPrune.');
  return prune(held.repo, { ...held.options, signal: options.signal, onProgress: options.onProgress });
}
