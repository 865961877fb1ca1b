// `project-backup forget --repo <dir> [--keep-* N]... [--keep-within <duration>] [--max-size <size>]
// [--workspace <dir>] [--prune] [--dry-run] [--json]`: removes the snapshots a retention policy lets go and
// says why each kept one stays. Pinned and labelled snapshots and the newest of each workspace always stay.

import * as path from 'node:path';
import { BackupError } from '../core/errors';
import { formatBytes, formatTime, parseSize, plural, shortId } from '../core/format';
import { parseDuration } from '../core/retention/policy';
import type { RetentionPolicy } from '../core/retention/policy';
import { applyForget, planForget } from '../core/retention/retentionJobs';
import type { Repository } from '../core/repository/repository';
import { identifyWorkspace, workspaceIdFor } from '../core/workspace/workspace';
import { nodeFs } from '../core/storage/fsPort';
import type { Io } from './context';
import { EXIT_OK, UsageError, filterWorkspace, needPositionals, openRepo, parse } from './context';
import { describePrune, pruneWarnings } from './pruneCommand';

export const FORGET_USAGE = `Usage: project-backup forget --repo <dir> [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--keep-yearly N] [--keep-within <duration>] [--max-size <size>] [--workspace <dir>] [--prune] [--dry-run] [--json]
  Durations: 30m, 12h, 1d12h, 2w, 1y. Sizes: 500M, 2G, 1.5GiB.
  Pinned and labelled snapshots and the newest of each workspace are always kept.`;

const COUNTS = [
  ['keep-last', 'keepLast'],
  ['keep-hourly', 'keepHourly'],
  ['keep-daily', 'keepDaily'],
  ['keep-weekly', 'keepWeekly'],
  ['keep-monthly', 'keepMonthly'],
  ['keep-yearly', 'keepYearly'],
] as const;

function policyFrom(values: Record<string, unknown>): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const [flag, rule] of COUNTS) {
    const text = values[flag] as string | undefined;
    if (text === undefined) continue;
    if (!/^\d+$/.test(text.trim())) throw new UsageError(`--${flag} takes a whole number, such as 7.\n${FORGET_USAGE}`);
    policy[rule] = Number(text.trim());
  }
  const within = values['keep-within'] as string | undefined;
  if (within !== undefined) {
    const ms = parseDuration(within);
    if (ms === undefined)
      throw new UsageError(`--keep-within takes a duration such as 30m, 12h, 1d12h, 2w or 1y.\n${FORGET_USAGE}`);
    policy.keepWithin = ms;
  }
  return policy;
}

/** The id `--workspace` names, resolved the way `list --workspace` matches (works when the folder is gone). */
async function workspaceIdOf(repo: Repository, workspace: string): Promise<string> {
  const abs = path.resolve(workspace);
  let id: string;
  try {
    id = (await identifyWorkspace(nodeFs, abs)).id;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    id = workspaceIdFor(abs);
  }
  const matched = await filterWorkspace(repo, await repo.listSnapshots(), workspace);
  return matched.some((s) => s.workspace.id === id) || matched.length === 0
    ? id
    : matched[matched.length - 1].workspace.id;
}

export async function forgetCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...Object.fromEntries(COUNTS.map(([flag]) => [flag, { type: 'string' as const }])),
      'keep-within': { type: 'string' },
      'max-size': { type: 'string' },
      workspace: { type: 'string', short: 'w' },
      prune: { type: 'boolean' },
      'dry-run': { type: 'boolean', short: 'n' },
    },
    FORGET_USAGE,
  );
  if (values.help) return (io.out(FORGET_USAGE), EXIT_OK);
  needPositionals(positionals, 0, FORGET_USAGE);
  const policy = policyFrom(values);
  let maxSize: number | undefined;
  if (values['max-size'] !== undefined) {
    maxSize = parseSize(values['max-size'] as string);
    if (maxSize === undefined)
      throw new UsageError(`--max-size takes a size such as 500M, 2G or 1073741824.\n${FORGET_USAGE}`);
  }
  if (!Object.values(policy).some((v) => v) && maxSize === undefined) {
    throw new UsageError(
      `forget needs at least one rule (--keep-last, --keep-daily, … or --max-size); without one it would keep everything.\n${FORGET_USAGE}`,
    );
  }
  const dryRun = values['dry-run'] === true;
  const repo = await openRepo(values, io, FORGET_USAGE);
  const workspace = values.workspace as string | undefined;
  const workspaceId = workspace ? await workspaceIdOf(repo, workspace) : undefined;

  // A dry run is the plan; otherwise the job decides under its lock, then prunes when asked.
  const plan = await planForget(
    repo,
    { policy, workspaceId, now: new Date(), maxSize, prune: values.prune === true },
    { signal, preview: dryRun },
  );
  const { forget: report, prune: pruned } = plan.forget
    ? { forget: plan.forget, prune: plan.prune }
    : await applyForget(plan, { signal });
  const goingIds = [...report.removed, ...report.removedForSize].map((s) => s.id);

  const forSize = new Set(report.removedForSize.map((s) => s.id));
  if (values.json) {
    io.out(
      JSON.stringify({
        dryRun,
        snapshots: report.decisions.map((d) => ({
          id: d.snapshot.id,
          time: d.snapshot.time,
          workspace: d.snapshot.workspace,
          label: d.snapshot.label ?? null,
          pinned: d.snapshot.pinned ?? false,
          keep: d.keep,
          reasons: d.reasons,
          forSize: forSize.has(d.snapshot.id),
        })),
        removed: report.removed.map((s) => s.id),
        removedForSize: report.removedForSize.map((s) => s.id),
        storeBytes: report.storeBytes,
        projectedBytes: report.projectedBytes ?? null,
        maxSize: maxSize ?? null,
        prune: pruned ?? null,
      }),
    );
    for (const line of pruned ? pruneWarnings(pruned) : []) io.err(line);
    return EXIT_OK;
  }

  if (report.decisions.length === 0) {
    io.out(workspace ? `No snapshots of ${path.resolve(workspace)}.` : 'No snapshots yet.');
  } else {
    const going = dryRun ? 'would remove' : 'remove';
    const width = Math.max(4, going.length);
    for (const d of report.decisions) {
      const s = d.snapshot;
      const why = d.keep
        ? d.reasons.join(', ')
        : forSize.has(s.id)
          ? `(over --max-size ${formatBytes(maxSize ?? 0)})`
          : '';
      io.out(
        [(d.keep ? 'keep' : going).padEnd(width), shortId(s.id), formatTime(s.time), s.workspace.path, why]
          .join('  ')
          .trimEnd(),
      );
    }
    const count = goingIds.length;
    const sizeNote = report.removedForSize.length ? ` (${report.removedForSize.length} for --max-size)` : '';
    const kept = report.decisions.length - count;
    io.out(
      dryRun
        ? `Dry run: would remove ${count} of ${plural(report.decisions.length, 'snapshot')}${sizeNote} and keep ${kept}; nothing was changed.`
        : count
          ? `Removed ${count} of ${plural(report.decisions.length, 'snapshot')}${sizeNote}; kept ${kept}.`
          : `Removed nothing: the policy keeps all ${plural(report.decisions.length, 'snapshot')}.`,
    );
  }
  if (maxSize !== undefined && report.projectedBytes !== undefined) {
    const over =
      report.projectedBytes > maxSize
        ? '; still over it: the rest is pinned, labelled or the newest of its workspace'
        : '';
    io.out(
      `Store: ${formatBytes(report.storeBytes)} now, about ${formatBytes(report.projectedBytes)} after prune (budget ${formatBytes(maxSize)}${over}).`,
    );
  }
  if (pruned) {
    for (const line of pruneWarnings(pruned)) io.err(line);
    io.out(describePrune(pruned));
  } else if (!dryRun && goingIds.length > 0) {
    io.out('Run `project-backup prune` to free the space only they used.');
  }
  return EXIT_OK;
}
