// The command-line front: parses, calls core, prints. Scripts depend on its commands, output and exit
// codes (0 done, 1 error with one sentence on stderr, 2 usage), so they stay stable.

import { BackupError } from './core/errors';
import { deflateOnEveryCore } from './core/repository/compression';
import { setLoopShared } from './core/eventLoop';
import type { Io } from './cli/context';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, UsageError } from './cli/context';
import { closeOpened } from './cli/remote';
import { exportCommand } from './cli/exportCommand';
import { findCommand } from './cli/findCommand';
import { forgetCommand } from './cli/forgetCommand';
import { grepCommand } from './cli/grepCommand';
import { initCommand } from './cli/initCommand';
import { mirrorCommand } from './cli/mirrorCommand';
import { passwdCommand } from './cli/passwdCommand';
import { promptHidden } from './cli/prompt';
import { pruneCommand } from './cli/pruneCommand';
import { copyCommand } from './cli/copyCommand';
import { catCommand, diffCommand, historyCommand, listCommand, lsCommand } from './cli/readCommands';
import { restoreCommand } from './cli/restoreCommand';
import { snapshotCommand } from './cli/snapshotCommand';
import { statusCommand } from './cli/statusCommand';
import { tagCommand } from './cli/tagCommand';
import { verifyCommand } from './cli/verifyCommand';
import { workspacesCommand } from './cli/workspacesCommand';

export const USAGE = `Project Backup: incremental, deduplicated snapshots of a workspace.

Usage: project-backup <command> [options]

Commands:
  snapshot <workspace>          take a snapshot (--path <p> for only those paths)
  workspaces                    the workspaces the store holds (name, last path, last snapshot, size)
  list                          list snapshots (--workspace <name|id|path> for one workspace)
  ls <snapshot> [<path>]        list the files of a snapshot (--workspace: "latest" is that workspace's)
  cat <snapshot> <path>         print a file as it was in a snapshot
  history <path>                the versions of one file (--workspace <dir>)
  diff <snapshot> <snapshot>    what changed between two snapshots
  restore <snapshot>            restore into --target <dir> (--path, --dry-run, --delete, --workspace)
  verify                        check the store (--read-data re-reads everything); exit 3 on damage
  forget                        remove snapshots by a retention policy (--keep-daily N ..., --prune)
  prune                         remove data no snapshot needs, and leftovers of crashed runs
  export <snapshot> <file>      a .zip or .tar.gz (--since-full: differential, --since-last: incremental)
  mirror <snapshot> <folder>    make a plain folder an exact copy of a snapshot
  copy --to <destination>       copy the store to a folder or sftp://user@host/path (only what it lacks)
  tag <snapshot>                label (--label) and pin (--pin, --unpin) a snapshot
  find <glob>                   file names across every snapshot, deleted files included
  grep <text>                   text inside every stored version of text files
  init                          create an empty store (--encrypt: sealed with a passphrase)
  passwd                        change the passphrase of an encrypted store
  status                        3-2-1 health of a workspace's backups (--workspace <dir>)

Every command takes --repo <dir> (or PROJECT_BACKUP_REPO) and most take --json.
An encrypted store's passphrase: PROJECT_BACKUP_PASSWORD, --password-file <file>, or the terminal.
--repo may be sftp://user@host/path too (--ssh-key, --known-hosts, --host-key: see copy --help).
<snapshot> is an id, a unique prefix of one, or "latest" (the store's newest; with --workspace, that workspace's).
Exit codes: 0 done, 1 error, 2 usage, 3 damage found by verify.`;

type Command = (args: string[], io: Io, signal: AbortSignal) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  snapshot: snapshotCommand,
  workspaces: workspacesCommand,
  list: listCommand,
  ls: lsCommand,
  cat: catCommand,
  history: historyCommand,
  diff: diffCommand,
  restore: restoreCommand,
  verify: verifyCommand,
  forget: forgetCommand,
  prune: pruneCommand,
  export: exportCommand,
  mirror: mirrorCommand,
  copy: copyCommand,
  tag: tagCommand,
  find: findCommand,
  grep: grepCommand,
  init: initCommand,
  passwd: passwdCommand,
  status: statusCommand,
};

export async function runCli(
  argv: string[],
  io: Io,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // Asked for: usage on stdout, exit 0. No command at all is a usage error: stderr, exit 2.
    if (name) io.out(USAGE);
    else io.err(USAGE);
    return name ? EXIT_OK : EXIT_USAGE;
  }
  if (name === '--version' || name === 'version') {
    io.out('project-backup 0.1.0');
    return EXIT_OK;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`project-backup: unknown command "${name}".\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  try {
    return await command(rest, io, signal).finally(() => closeOpened(io));
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`project-backup ${name}: ${error.message}`);
      return EXIT_USAGE;
    }
    if (error instanceof BackupError) {
      io.err(`project-backup: ${error.message}`);
      return EXIT_ERROR;
    }
    // Not ours: still one sentence, but keep the detail available for bug reports.
    io.err(`project-backup: unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.PROJECT_BACKUP_DEBUG && error instanceof Error) io.err(error.stack ?? '');
    return EXIT_ERROR;
  }
}

function processIo(): Io {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    write: (data) =>
      new Promise((resolve, reject) => {
        process.stdout.write(data, (error) => (error ? reject(error) : resolve()));
      }),
    env: process.env,
    readSecret: promptHidden,
  };
}

if (require.main === module) {
  // Snapshot and restore keep many small file operations in flight; libuv's default of 4 threads queues
  // them. Must be set before the first asynchronous file operation creates the pool.
  process.env.UV_THREADPOOL_SIZE ??= '8';
  // No editor shares this process's event loop: compression may take every core, and cold files are read
  // synchronously (the fastest way when nothing else waits on the loop).
  deflateOnEveryCore();
  setLoopShared(false);
  const controller = new AbortController();
  let interrupted = false;
  process.on('SIGINT', () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort();
  });
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(EXIT_OK); // `| head` closed the pipe: not an error
  });
  runCli(process.argv.slice(2), processIo(), controller.signal).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`project-backup: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}
