// What every CLI command shares: parsed arguments, where to print, how to open the store, and the one
// place where errors become a sentence and an exit code.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import * as path from 'node:path';
import { BackupError, describeFsError, isBackupError } from '../core/errors';
import { summarizeProblems } from '../core/problemSummary';
import type { EntryProblem } from '../core/problemSummary';
import { Repository } from '../core/repository/repository';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import type { FsPort } from '../core/storage/fsPort';
import { nodeFs } from '../core/storage/fsPort';
import { normalizeLocation } from '../core/storage/locate';
import { workspaceSnapshots } from './workspaceOption';
import { REMOTE_OPTIONS, closeAfterCommand, explainRemote, remoteOptions } from './remote';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Raw bytes to stdout (for `cat`). */
  write(data: Buffer): Promise<void>;
  env: NodeJS.ProcessEnv;
  /**
   * The file-system port the store is opened with; the real file system when absent. A test seam: fault
   * tests inject ENOSPC, EACCES and EIO through it and check that the CLI still exits 1 with one line.
   */
  port?: FsPort;
  /** Asks the user for a secret without echo; absent (or undefined back) when there is no terminal to ask. */
  readSecret?(prompt: string): Promise<string | undefined>;
}

export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  repo: { type: 'string', short: 'r' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'password-file': { type: 'string' },
  ...REMOTE_OPTIONS,
};

/** Options where an empty value means something (`tag --label ''` removes the label); every other is refused. */
const EMPTY_ALLOWED = new Set(['label']);

export function parse(args: string[], options: Options, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  // An empty folder, store or destination (`--to ''`, often an unset shell variable) would resolve to the
  // current folder or be silently ignored: refuse it before anything is read or written.
  for (const [name, value] of Object.entries(parsed.values)) {
    const values = Array.isArray(value) ? value : [value];
    if (!EMPTY_ALLOWED.has(name) && values.some((v) => typeof v === 'string' && v.trim() === '')) {
      throw new UsageError(`--${name} was given an empty value; give it a value or leave it out.\n${usage}`);
    }
  }
  return parsed;
}

export function repoPath(values: Record<string, unknown>, io: Io, usage: string): string {
  const repo = (values.repo as string | undefined) ?? io.env.PROJECT_BACKUP_REPO;
  if (!repo) throw new UsageError(`No store given: pass --repo <dir> or set PROJECT_BACKUP_REPO.\n${usage}`);
  return normalizeLocation(repo);
}

/** `index: false` for a command that never asks the store's own index (verify reads the store by its own means). */
export async function openRepo(
  values: Record<string, unknown>,
  io: Io,
  usage: string,
  create = false,
  options: { index?: boolean } = {},
): Promise<Repository> {
  return Repository.open(repoPath(values, io, usage), {
    create,
    index: options.index,
    port: io.port,
    remote: remoteOptions(values, io),
    passphrase: passphraseSource(values, io, PASSPHRASE),
    onStaleLock: (info) => io.err(`Removed a stale lock left by pid ${info.pid} on ${info.host} (${info.purpose}).`),
    onReadOnly: (error) => io.err(readOnlyLine(error)),
    onDamagedIndex: (key) =>
      io.err(`Warning: ${key} is damaged and was skipped; run \`project-backup verify\` to see what depends on it.`),
  })
    .catch(explainPassphrase)
    .catch(explainRemote)
    .then((repo) => closeAfterCommand(io, repo));
}

/** The one line a reader prints when it reads a store it cannot write without a lock. */
export function readOnlyLine(error: BackupError): string {
  return error.code === 'NO_SPACE'
    ? 'The disk of the store is full: reading without a lock.'
    : 'The store is read-only: reading without a lock.';
}

/** Where the CLI finds a passphrase: a file option, then an environment variable, then the terminal. */
export interface SecretSpec {
  fileOption: string;
  envName: string;
  prompt: string;
  /** Ask twice on the terminal (a new passphrase: a typo there would lock the user out). */
  confirm?: boolean;
}

export const PASSPHRASE: SecretSpec = {
  fileOption: 'password-file',
  envName: 'PROJECT_BACKUP_PASSWORD',
  prompt: 'Passphrase: ',
};
export const NEW_PASSPHRASE: SecretSpec = {
  fileOption: 'new-password-file',
  envName: 'PROJECT_BACKUP_NEW_PASSWORD',
  prompt: 'New passphrase: ',
  confirm: true,
};

/**
 * A passphrase source for the core: asked only when a store turns out to be encrypted. A file loses one
 * trailing line break (echo and editors add one); undefined means none was given anywhere.
 */
export function passphraseSource(
  values: Record<string, unknown>,
  io: Io,
  spec: SecretSpec,
): () => Promise<string | undefined> {
  return async () => {
    const file = values[spec.fileOption] as string | undefined;
    if (file !== undefined) {
      const where = path.resolve(file);
      let data: Buffer;
      try {
        data = await (io.port ?? nodeFs).readFile(where);
      } catch (error) {
        throw describeFsError(error, 'reading the passphrase file', where);
      }
      return data.toString('utf8').replace(/\r?\n$/, '');
    }
    const fromEnv = io.env[spec.envName];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (!io.readSecret) return undefined;
    const typed = await io.readSecret(spec.prompt);
    if (typed === undefined || !spec.confirm) return typed;
    if ((await io.readSecret('Repeat it: ')) !== typed)
      throw new BackupError('USAGE', 'The two passphrases typed differ; nothing was changed.');
    return typed;
  };
}

/** The core cannot know our options: a missing passphrase gets a sentence that says how to give one here. */
export function explainPassphrase(error: unknown): never {
  if (isBackupError(error, 'PASSPHRASE_REQUIRED'))
    throw missingPassphrase(PASSPHRASE, String(error.data.location), error.data.creating === true);
  throw error;
}

export function missingPassphrase(spec: SecretSpec, location: string, creating = false): BackupError {
  const what =
    spec === NEW_PASSPHRASE
      ? 'The new passphrase is missing'
      : creating
        ? 'Creating an encrypted store needs a passphrase'
        : `The store at ${location} is encrypted`;
  return new BackupError('PASSPHRASE_REQUIRED', `${what}: set ${spec.envName} or pass --${spec.fileOption} <file>.`, {
    location,
    creating,
  });
}

/**
 * Keeps the snapshots of the workspace `--workspace` names: a folder path (works even when the folder is
 * gone), or the name or id of a workspace the store holds (see workspaceOption.ts).
 */
export function filterWorkspace(
  repo: Repository,
  all: SnapshotRecord[],
  workspace: string | undefined,
): Promise<SnapshotRecord[]> {
  return workspaceSnapshots(repo, all, workspace);
}

export function needPositionals(positionals: string[], count: number, usage: string): void {
  if (positionals.length < count) throw new UsageError(`Missing arguments.\n${usage}`);
  if (positionals.length > count) throw new UsageError(`Unexpected argument "${positionals[count]}".\n${usage}`);
}

/**
 * Prints the entries a restore, mirror or export could not write: each one when they are few, else a
 * summary (how many, why, the first few) that says where the full list is, never hundreds of lines.
 */
export function printProblems(io: Io, problems: readonly EntryProblem[], verb: string, json: boolean): void {
  const fullList = json
    ? 'Every one is listed in the JSON output above.'
    : 'To list every one, run the same command with --json.';
  for (const line of summarizeProblems(problems, { verb, fullList }).lines) io.err(line);
}
