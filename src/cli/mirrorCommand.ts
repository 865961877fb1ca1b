// `project-backup mirror <snapshot> <folder> --repo <dir> [--json]`: makes a plain folder an exact copy of
// a snapshot, rewriting only what changed since the snapshot it mirrored before. Exit 1 when some entries
// could not be mirrored (each is named on stderr); the rest of the mirror is complete.

import { formatTime, plural, shortId } from '../core/format';
import { mirror } from '../core/export/mirror';
import type { Io } from './context';
import { EXIT_ERROR, EXIT_OK, needPositionals, openRepo, parse, printProblems } from './context';

export const MIRROR_USAGE = `Usage: project-backup mirror <snapshot> <folder> --repo <dir> [--json]
  The folder must be new, empty, or an earlier mirror; it may not be inside the workspace or the store.`;

export async function mirrorCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, {}, MIRROR_USAGE);
  if (values.help) return (io.out(MIRROR_USAGE), EXIT_OK);
  needPositionals(positionals, 2, MIRROR_USAGE);
  const repo = await openRepo(values, io, MIRROR_USAGE);
  const snapshot = await repo.resolveSnapshot(positionals[0]);
  // The mirror takes its own (shared) lock: snapshots go on meanwhile, prune waits.
  {
    const result = await mirror(repo, snapshot, positionals[1], { signal });
    if (values.json) {
      io.out(
        JSON.stringify({
          snapshot: result.snapshot,
          time: snapshot.time,
          folder: result.folder,
          previous: result.previous ?? null,
          written: result.written,
          deleted: result.deleted,
          unchanged: result.unchanged,
          problems: result.problems,
        }),
      );
    } else {
      const from = result.previous && result.previous !== result.snapshot ? ` (was ${shortId(result.previous)})` : '';
      io.out(
        `Mirrored snapshot ${shortId(snapshot.id)} (${formatTime(snapshot.time)}) into ${result.folder}${from}: ` +
          `${plural(result.written, 'item')} written, ${result.deleted} deleted, ${result.unchanged} unchanged.`,
      );
      printProblems(io, result.problems, 'mirrored', false);
    }
    return result.problems.length > 0 ? EXIT_ERROR : EXIT_OK;
  }
}
