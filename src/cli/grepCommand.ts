// `project-backup grep <text> --repo <dir> [--workspace <dir>] [--ignore-case] [--json]`: lines containing
// a text in any stored version of any text file. Each distinct content is read once, so it stays fast with
// thousands of snapshots; binary files and files over 4 MiB are not searched.

import { formatTime, plural, shortId } from '../core/format';
import { grepContent } from '../core/query/search';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import type { Io } from './context';
import { EXIT_OK, filterWorkspace, needPositionals, openRepo, parse } from './context';

export const GREP_USAGE = 'Usage: project-backup grep <text> --repo <dir> [--workspace <dir>] [--ignore-case] [--json]';

/** Paths and lines come from a store: control characters would drive the terminal, so they are escaped. */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export function snapshotsJson(snapshots: readonly SnapshotRecord[]) {
  return snapshots.map((s) => ({ id: s.id, time: s.time, label: s.label ?? null }));
}

export async function grepCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    { workspace: { type: 'string', short: 'w' }, 'ignore-case': { type: 'boolean', short: 'i' } },
    GREP_USAGE,
  );
  if (values.help) return (io.out(GREP_USAGE), EXIT_OK);
  needPositionals(positionals, 1, GREP_USAGE);
  const repo = await openRepo(values, io, GREP_USAGE);
  const snapshots = await filterWorkspace(
    repo,
    await repo.listSnapshots({ onDamaged: (key, error) => io.err(`${key}: ${error.message}`) }),
    values.workspace as string | undefined,
  );
  const result = await grepContent(repo, snapshots, positionals[0], {
    ignoreCase: values['ignore-case'] === true,
    signal,
    onProblem: (p, reason) => io.err(`not searched: ${printable(p)}: ${reason}`),
  });
  if (values.json) {
    io.out(
      JSON.stringify({
        matches: result.matches.map((m) => ({
          path: m.path,
          line: m.line,
          text: m.text,
          snapshots: snapshotsJson(m.snapshots),
        })),
        contentsRead: result.contentsRead,
        binarySkipped: result.binarySkipped,
        largeSkipped: result.largeSkipped,
      }),
    );
    return EXIT_OK;
  }
  for (const m of result.matches) {
    const newest = m.snapshots[0];
    const older = m.snapshots.length > 1 ? ` +${m.snapshots.length - 1}` : '';
    io.out(
      `${shortId(newest.id)}${older}  ${formatTime(newest.time)}  ${printable(m.path)}:${m.line}: ${printable(m.text)}`,
    );
  }
  const files = new Set(result.matches.map((m) => m.path)).size;
  const skipped =
    result.binarySkipped + result.largeSkipped
      ? `; ${result.binarySkipped} binary and ${result.largeSkipped} large versions skipped`
      : '';
  io.out(
    result.matches.length
      ? `${plural(result.matches.length, 'match', 'matches')} in ${plural(files, 'file')} (${plural(result.contentsRead, 'distinct version')} read in ${plural(snapshots.length, 'snapshot')}${skipped}). "+N": also in N older snapshots.`
      : `No matches in ${plural(snapshots.length, 'snapshot')} (${plural(result.contentsRead, 'distinct version')} read${skipped}).`,
  );
  return EXIT_OK;
}
