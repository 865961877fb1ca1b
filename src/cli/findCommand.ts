// `project-backup find <glob> --repo <dir> [--workspace <dir>] [--json]`: every path that matched a glob in
// any snapshot, deleted files included: one line per distinct version, with the newest snapshot holding it.

import { formatTime, plural, shortId } from '../core/format';
import { findPaths } from '../core/query/search';
import type { Io } from './context';
import { EXIT_OK, filterWorkspace, needPositionals, openRepo, parse } from './context';
import { printable, snapshotsJson } from './grepCommand';

export const FIND_USAGE = `Usage: project-backup find <glob> --repo <dir> [--workspace <dir>] [--json]
  A glob without a slash matches names at any depth ("*.env"); with one, paths ("src/**/old*").
  Files in a folder that matches are listed too.`;

export async function findCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, { workspace: { type: 'string', short: 'w' } }, FIND_USAGE);
  if (values.help) return (io.out(FIND_USAGE), EXIT_OK);
  needPositionals(positionals, 1, FIND_USAGE);
  const repo = await openRepo(values, io, FIND_USAGE);
  const snapshots = await filterWorkspace(
    repo,
    await repo.listSnapshots({ onDamaged: (key, error) => io.err(`${key}: ${error.message}`) }),
    values.workspace as string | undefined,
  );
  const found = await findPaths(repo, snapshots, positionals[0], {
    signal,
    onProblem: (p, reason) => io.err(`not searched: ${printable(p)}: ${reason}`),
  });
  if (values.json) {
    io.out(
      JSON.stringify(
        found.map((m) => ({
          path: m.path,
          type: m.entry.type,
          ...(m.entry.type === 'file' ? { size: m.entry.size, mode: m.entry.mode } : { target: m.entry.target }),
          snapshots: snapshotsJson(m.snapshots),
        })),
      ),
    );
    return EXIT_OK;
  }
  if (found.length === 0) {
    io.out(`Nothing matches "${positionals[0]}" in ${plural(snapshots.length, 'snapshot')}.`);
    return EXIT_OK;
  }
  for (const m of found) {
    const newest = m.snapshots[0];
    const older = m.snapshots.length > 1 ? `  (and ${plural(m.snapshots.length - 1, 'older snapshot')})` : '';
    const link = m.entry.type === 'symlink' ? ` -> ${printable(m.entry.target)}` : '';
    io.out(`${shortId(newest.id)}  ${formatTime(newest.time)}  ${printable(m.path)}${link}${older}`);
  }
  io.out(
    `${plural(found.length, 'version')} of ${plural(new Set(found.map((m) => m.path)).size, 'path')} in ${plural(snapshots.length, 'snapshot')}.`,
  );
  return EXIT_OK;
}
