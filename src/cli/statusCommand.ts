// `project-backup status --repo <dir> --workspace <dir> [--to <destination>…] [--json]`: the 3-2-1 health of
// one workspace, the same report the editor's Backup Health view shows. Exit 0 whatever the gaps (they are
// the output); `--json` gives `meets321` and `gaps` for scripts that want to alert.

import * as path from 'node:path';
import { BackupError } from '../core/errors';
import { formatTime, plural } from '../core/format';
import { gatherHealth } from '../core/health/gather';
import type { CopyStatus, HealthReport } from '../core/health/health';
import { healthSummary } from '../core/health/health';
import { identifyWorkspace, workspaceIdFor } from '../core/workspace/workspace';
import { nodeFs } from '../core/storage/fsPort';
import type { Io } from './context';
import { EXIT_OK, UsageError, needPositionals, openRepo, parse } from './context';

export const STATUS_USAGE =
  'Usage: project-backup status --repo <dir> --workspace <dir> [--to <destination>]… [--offsite: the --to destinations are offsite] [--json]';

export async function statusCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { workspace: { type: 'string', short: 'w' }, to: { type: 'string', multiple: true }, offsite: { type: 'boolean' } },
    STATUS_USAGE,
  );
  if (values.help) return (io.out(STATUS_USAGE), EXIT_OK);
  needPositionals(positionals, 0, STATUS_USAGE);
  const workspaceArg = values.workspace as string | undefined;
  if (!workspaceArg) throw new UsageError(`Name the workspace with --workspace <dir>.\n${STATUS_USAGE}`);
  const workspace = path.resolve(workspaceArg);
  const port = io.port ?? nodeFs;
  let workspaceId: string;
  try {
    workspaceId = (await identifyWorkspace(port, workspace)).id;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    workspaceId = workspaceIdFor(workspace); // a lost workspace still has its backups' health
  }
  const repo = await openRepo(values, io, STATUS_USAGE);
  const given = ((values.to as string[] | undefined) ?? []).map((location) => ({
    location,
    offsite: values.offsite === true ? true : undefined,
  }));
  const report = await gatherHealth(repo, port, { workspace, workspaceId, destinations: given });
  if (values.json) io.out(JSON.stringify(report, null, 2));
  else for (const line of describeHealth(report)) io.out(line);
  return EXIT_OK;
}

function when(iso: string | undefined): string {
  return iso ? formatTime(iso) : 'never';
}

const KIND_LABEL: Record<CopyStatus['kind'], string> = {
  workspace: 'workspace',
  store: 'local store',
  destination: 'destination',
};

export function describeHealth(report: HealthReport): string[] {
  const lines = [
    `${healthSummary(report)}`,
    `  copies:            ${report.copies} (3 wanted)`,
    `  distinct media:    ${report.media} (2 wanted)`,
    `  offsite:           ${report.offsite ? 'yes' : 'no'}`,
    `  encrypted:         ${report.encrypted ? 'yes' : 'no'}`,
    `  last snapshot:     ${when(report.lastSnapshot)} (${plural(report.snapshotCount, 'snapshot')} of this workspace)`,
    `  last replication:  ${when(report.lastReplication)}`,
    `  last verify:       ${report.lastVerify ? `${formatTime(report.lastVerify.time)}, ${report.lastVerify.ok ? 'no damage' : 'DAMAGE FOUND'}` : 'never'}`,
    '',
    'Copies:',
  ];
  for (const l of report.locations) {
    const flags = [
      l.counts ? 'counts' : 'does not count',
      l.offsite ? 'offsite' : 'onsite',
      l.medium ?? 'medium unknown',
    ];
    if (l.kind === 'destination') flags.push(`last copy ${when(l.lastUpdate)}`);
    lines.push(
      `  ${KIND_LABEL[l.kind].padEnd(12)} ${l.location}  [${flags.join(', ')}]${l.note ? ` ${l.note}` : ''}${l.warning ? ` (check: ${l.warning})` : ''}`,
    );
  }
  if (report.gaps.length) {
    lines.push('', 'Gaps:');
    for (const gap of report.gaps) lines.push(`  - ${gap.message} Fix: ${fixHint(gap.fix, report)}`);
  } else {
    lines.push('', 'No gaps.');
  }
  return lines;
}

function fixHint(fix: HealthReport['gaps'][number]['fix'], report: HealthReport): string {
  const repo = JSON.stringify(report.store);
  switch (fix) {
    case 'snapshotNow':
      return `project-backup snapshot ${JSON.stringify(report.workspace)} --repo ${repo}`;
    case 'addDestination':
      return `project-backup copy --repo ${repo} --to <folder on another drive>`;
    case 'addOffsiteDestination':
      return `project-backup copy --repo ${repo} --to sftp://user@host/path --offsite`;
    case 'replicateNow':
      return `project-backup copy --repo ${repo} --to <destination>`;
    case 'verifyNow':
      return `project-backup verify --repo ${repo}`;
    case 'encryptStore':
      return `project-backup init --repo <new folder> --encrypt, then snapshot into it`;
    case 'includeGit':
      return `project-backup snapshot ${JSON.stringify(report.workspace)} --repo ${repo} (without --no-git)`;
  }
}
