// `project-backup verify --repo <dir> [--read-data | --read-data-subset <percent>] [--json]`: checks that
// every snapshot can be restored. Exit 0 when the store is sound, EXIT_DAMAGE (3) when something is damaged
// or missing, so a script can tell "the store is damaged" from "verify could not run" (1).

import { formatBytes, plural } from '../core/format';
import type { Damage, VerifyReport } from '../core/check/verify';
import { applyVerify, planVerify } from '../core/check/verifyJob';
import type { Io } from './context';
import { EXIT_OK, UsageError, needPositionals, openRepo, parse } from './context';

export const VERIFY_USAGE =
  'Usage: project-backup verify --repo <dir> [--read-data | --read-data-subset <percent>] [--json]';

/** Verify found damaged or missing objects (the report says which, and what depends on them). */
export const EXIT_DAMAGE = 3;

/** Lines listed per damaged object before "…and N more": enough to act on, short enough to scan. */
const LIST_LIMIT = 20;

export async function verifyCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    { 'read-data': { type: 'boolean' }, 'read-data-subset': { type: 'string' } },
    VERIFY_USAGE,
  );
  if (values.help) return (io.out(VERIFY_USAGE), EXIT_OK);
  needPositionals(positionals, 0, VERIFY_USAGE);
  const readData = values['read-data'] === true;
  const subsetText = values['read-data-subset'] as string | undefined;
  if (readData && subsetText !== undefined)
    throw new UsageError(`--read-data reads every pack; give it or --read-data-subset, not both.\n${VERIFY_USAGE}`);
  const readDataSubset = subsetText === undefined ? undefined : parsePercent(subsetText);
  // Verify builds its own index from the files on disk: the store's index in memory too would be a second copy.
  const repo = await openRepo(values, io, VERIFY_USAGE, false, { index: false });
  // The job remembers its result in the store (for `status` and the editor's health view); a store we may
  // only read (a mounted copy) is still verified, and failing to remember it is only a warning.
  const { report, recordError } = await applyVerify(planVerify(repo, { readData, readDataSubset }), { signal });
  if (recordError) io.err(`Warning: the verify result could not be recorded in the store (${recordError})`);
  if (values.json) io.out(JSON.stringify(report));
  else for (const line of describeReport(report)) io.out(line);
  return report.ok ? EXIT_OK : EXIT_DAMAGE;
}

function parsePercent(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const value = match ? Number(match[1]) : NaN;
  if (!(value >= 0 && value <= 100))
    throw new UsageError(`--read-data-subset takes a percentage from 0 to 100, not "${text}".\n${VERIFY_USAGE}`);
  return value;
}

function describeReport(report: VerifyReport): string[] {
  const read =
    report.packsRead > 0 ? ` (read ${plural(report.packsRead, 'pack')}, ${formatBytes(report.bytesRead)})` : '';
  const verdict = report.ok ? 'no damage' : plural(report.damage.length, 'damaged object');
  const lines = [
    `Checked ${plural(report.snapshots, 'snapshot')}, ${plural(report.trees, 'tree')}, ${plural(report.blobs, 'blob')} in ${plural(report.packs, 'pack')}${read}: ${verdict}.`,
  ];
  for (const damage of report.damage) lines.push('', ...describeDamage(damage));
  for (const note of report.notes) lines.push(`Note: ${note}`);
  return lines;
}

function describeDamage(damage: Damage): string[] {
  const lines = [`${damage.kind} ${damage.object}: ${damage.reason}`];
  if (damage.snapshots.length === 0) {
    lines.push('  no snapshot depends on it');
    return lines;
  }
  const shown = damage.snapshots.slice(0, 10).map((id) => id.slice(0, 8));
  const moreSnapshots = damage.snapshots.length - shown.length;
  lines.push(
    `  ${plural(damage.snapshots.length, 'snapshot')} depend${damage.snapshots.length === 1 ? 's' : ''} on it: ${shown.join(', ')}${moreSnapshots > 0 ? ` …and ${moreSnapshots} more` : ''}`,
  );
  // Exactly LIST_LIMIT paths print in full; only a longer list is cut (to LIST_LIMIT - 1 and a count).
  const files = damage.files.length > LIST_LIMIT ? damage.files.slice(0, LIST_LIMIT - 1) : damage.files;
  for (const file of files) lines.push(`  ${file}`);
  if (files.length < damage.files.length) lines.push(`  …and ${damage.files.length - files.length} more`);
  return lines;
}
