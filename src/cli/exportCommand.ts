// `project-backup export <snapshot> <file.zip|file.tar.gz> --repo <dir> [--since <snapshot> | --since-full | --since-last]`
// Writes a snapshot as an ordinary archive that needs no Project Backup to restore: full, or the changes
// since the last full archive (differential), the last archive (incremental) or a given snapshot.

import * as path from 'node:path';
import { formatBytes, formatTime, plural, shortId } from '../core/format';
import { DELETED_FILE, exportArchive, formatOf } from '../core/export/archive';
import type { ExportOptions } from '../core/export/archive';
import type { Io } from './context';
import { EXIT_ERROR, EXIT_OK, UsageError, needPositionals, openRepo, parse, printProblems } from './context';

export const EXPORT_USAGE =
  'Usage: project-backup export <snapshot> <file.zip|file.tar.gz> --repo <dir> [--since <snapshot> | --since-full | --since-last] [--force] [--json]';

export async function exportCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      since: { type: 'string' },
      'since-full': { type: 'boolean' },
      'since-last': { type: 'boolean' },
      force: { type: 'boolean', short: 'f' },
    },
    EXPORT_USAGE,
  );
  if (values.help) return (io.out(EXPORT_USAGE), EXIT_OK);
  needPositionals(positionals, 2, EXPORT_USAGE);
  const file = path.resolve(positionals[1]);
  const format = formatOf(file);
  if (!format)
    throw new UsageError(
      `The archive's name must end in .zip or .tar.gz (or .tgz): ${positionals[1]}.\n${EXPORT_USAGE}`,
    );
  const bases = [values.since !== undefined, values['since-full'] === true, values['since-last'] === true].filter(
    Boolean,
  ).length;
  if (bases > 1) throw new UsageError(`Give at most one of --since, --since-full and --since-last.\n${EXPORT_USAGE}`);

  const repo = await openRepo(values, io, EXPORT_USAGE);
  const snapshot = await repo.resolveSnapshot(positionals[0]);
  let since: ExportOptions['since'];
  if (values['since-full']) since = 'full';
  else if (values['since-last']) since = 'last';
  else if (typeof values.since === 'string') since = await repo.resolveSnapshot(values.since, snapshot.workspace.id);

  const result = await exportArchive(repo, { snapshot, file, format, since, overwrite: values.force === true, signal });
  if (values.json) {
    io.out(
      JSON.stringify({
        id: result.id,
        kind: result.kind,
        file: result.file,
        format: result.format,
        snapshot: snapshot.id,
        base: result.base,
        files: result.files,
        bytes: result.bytes,
        deleted: result.deleted,
        skipped: result.skipped,
      }),
    );
  } else {
    const what =
      result.kind === 'full'
        ? plural(result.files, 'file')
        : `${plural(result.files, 'file')} changed since snapshot ${shortId(result.base ?? '')}, ${result.deleted.length} to remove`;
    io.out(
      `Wrote ${result.kind === 'incremental' ? 'an' : 'a'} ${result.kind} archive of snapshot ${shortId(snapshot.id)} (${formatTime(snapshot.time)}) to ${result.file}: ${what}, ${formatBytes(result.bytes)}.`,
    );
    if (result.kind !== 'full')
      io.out(
        `To apply it: remove the paths listed in ${DELETED_FILE}, then extract it over the state of snapshot ${shortId(result.base ?? '')}.`,
      );
  }
  if (!result.recorded)
    io.err(
      'The archive was not recorded in the store (it cannot be written), so later differential or incremental archives will not build on it.',
    );
  printProblems(io, result.skipped, 'exported', values.json === true);
  return result.skipped.length > 0 ? EXIT_ERROR : EXIT_OK;
}
