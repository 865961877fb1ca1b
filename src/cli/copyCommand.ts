// `project-backup copy --repo <dir> --to <destination> [--offsite] [--fresh] [--json]`: replicates the store to a folder
// or an SFTP server, copying only what the destination lacks; a rerun after an interruption continues. The
// destination is a complete store: every command opens it with --repo. Deletions are not propagated.

import { formatBytes, plural, thousands } from '../core/format';
import { replicate } from '../core/replicate/replicate';
import type { Io } from './context';
import { EXIT_OK, UsageError, needPositionals, openRepo, parse } from './context';
import { REMOTE_HELP, explainRemote, remoteOptions } from './remote';

export const COPY_USAGE = `Usage: project-backup copy --repo <dir> --to <folder | sftp://user@host[:port]/path | s3://host[:port]/bucket/folder> [--offsite] [--fresh] [--ssh-key <file>] [--known-hosts <file>] [--host-key SHA256:…] [--password-file <file>] [--json]
  Copies what the destination lacks (packs, then index, then snapshots: it is consistent at every moment).
  Snapshots forgotten here stay at the destination until forget/prune runs there. --offsite records that the
  destination is in another place (for \`status\`). A destination that held a copy before and holds no store
  now (a drive not connected, a share not mounted) is refused; --fresh starts the copy there again.
  ${REMOTE_HELP}`;

export async function copyCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    { to: { type: 'string' }, offsite: { type: 'boolean' }, fresh: { type: 'boolean' } },
    COPY_USAGE,
  );
  if (values.help) return (io.out(COPY_USAGE), EXIT_OK);
  needPositionals(positionals, 0, COPY_USAGE);
  const to = values.to as string | undefined;
  if (!to) throw new UsageError(`Where to? Pass --to <folder or sftp://user@host/path>.\n${COPY_USAGE}`);
  const repo = await openRepo(values, io, COPY_USAGE);
  const result = await replicate(repo, to, {
    remote: remoteOptions(values, io),
    offsite: values.offsite === true ? true : undefined,
    fresh: values.fresh === true,
    signal,
    onStaleLock: (info) => io.err(`Removed a stale lock left by pid ${info.pid} on ${info.host} (${info.purpose}).`),
  }).catch(explainRemote);
  if (values.json) {
    io.out(JSON.stringify({ ...result, offsite: values.offsite === true }));
    return EXIT_OK;
  }
  const what =
    result.objectsCopied === 0
      ? 'nothing new to copy'
      : `${plural(result.objectsCopied, 'object')} copied (${formatBytes(result.bytesCopied)})`;
  const cleaned = result.tempsRemoved > 0 ? `, ${plural(result.tempsRemoved, 'leftover temp file')} removed` : '';
  io.out(
    `${result.created ? 'Created the store at' : 'Copied to'} ${result.destination}: ${what}, ${thousands(result.objectsSkipped)} already there${cleaned}; ` +
      `${plural(result.snapshots, 'snapshot')} there now.`,
  );
  return EXIT_OK;
}
