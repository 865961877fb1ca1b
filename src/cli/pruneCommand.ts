// `project-backup prune --repo <dir> [--dry-run] [--json]`: removes the data no snapshot needs any more.
// Waits for snapshots in flight (it needs the store alone), and can be interrupted safely at any moment.

import { formatBytes, plural } from '../core/format';
import type { PruneReport } from '../core/retention/prune';
import { applyPrune, planPrune } from '../core/retention/retentionJobs';
import type { Io } from './context';
import { EXIT_OK, needPositionals, openRepo, parse } from './context';

export const PRUNE_USAGE = 'Usage: project-backup prune --repo <dir> [--dry-run] [--json]';

/** One sentence about a prune, shared with `forget --prune`. */
export function describePrune(report: PruneReport): string {
  const parts: string[] = [];
  if (report.packsDeleted) parts.push(`delete ${plural(report.packsDeleted, 'pack')}`);
  if (report.packsRewritten) parts.push(`rewrite ${plural(report.packsRewritten, 'pack')}`);
  if (report.blobsRemoved) parts.push(`remove ${plural(report.blobsRemoved, 'unused object')}`);
  if (report.tempFilesRemoved) parts.push(`remove ${plural(report.tempFilesRemoved, 'old temp file')}`);
  if (parts.length === 0)
    return report.dryRun
      ? 'Dry run: nothing to prune; every stored object is used by a snapshot.'
      : 'Nothing to prune: every stored object is used by a snapshot.';
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
  const sizes = `${formatBytes(report.bytesBefore)} -> ${formatBytes(report.bytesAfter)}`;
  if (report.dryRun)
    return `Dry run: prune would ${list}, freeing about ${formatBytes(Math.max(0, report.bytesFreed))} (${sizes}); nothing was changed.`;
  const done = list
    .replace(/\bdelete\b/, 'deleted')
    .replace(/\brewrite\b/, 'rewrote')
    .replace(/\bremove\b/g, 'removed');
  return `Pruned: ${done}; freed ${formatBytes(Math.max(0, report.bytesFreed))} (${sizes}).`;
}

/** Printed on stderr: the store is damaged, which prune works around but cannot repair. */
export function pruneWarnings(report: PruneReport): string[] {
  return report.missingBlobs > 0
    ? [
        `warning: ${plural(report.missingBlobs, 'object')} that snapshots need ${report.missingBlobs === 1 ? 'is' : 'are'} missing from the store; run verify.`,
      ]
    : [];
}

export async function pruneCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, { 'dry-run': { type: 'boolean', short: 'n' } }, PRUNE_USAGE);
  if (values.help) return (io.out(PRUNE_USAGE), EXIT_OK);
  needPositionals(positionals, 0, PRUNE_USAGE);
  const repo = await openRepo(values, io, PRUNE_USAGE);
  // A dry run is the plan; otherwise the job decides once it holds the store alone.
  const dryRun = values['dry-run'] === true;
  const plan = await planPrune(repo, { signal, preview: dryRun });
  const report = plan.report ?? (await applyPrune(plan, { signal }));
  for (const line of pruneWarnings(report)) io.err(line);
  io.out(values.json ? JSON.stringify(report) : describePrune(report));
  return EXIT_OK;
}
