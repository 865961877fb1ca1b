// What every CLI command shares: parsed arguments, where to print, how to open the store, and the one
// place where errors become a sentence and an exit code.

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import * as path from 'node:path';
import { BackupError } from '../core/errors';
import { Repository } from '../core/repository/repository';
import { identifyWorkspace, workspaceIdFor } from '../core/snapshot/workspace';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import type { FsPort } from '../core/storage/fsPort';
import { normalizeLocation } from '../core/storage/locate';

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
}

export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  repo: { type: 'string', short: 'r' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export function parse(args: string[], options: Options, usage: string) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}

export function repoPath(values: Record<string, unknown>, io: Io, usage: string): string {
  const repo = (values.repo as string | undefined) ?? io.env.PROJECT_BACKUP_REPO;
  if (!repo) throw new UsageError(`No store given: pass --repo <dir> or set PROJECT_BACKUP_REPO.\n${usage}`);
  return normalizeLocation(repo);
}

export async function openRepo(values: Record<string, unknown>, io: Io, usage: string, create = false): Promise<Repository> {
  return Repository.open(repoPath(values, io, usage), {
    create,
    port: io.port,
    onStaleLock: (info) => io.err(`Removed a stale lock left by pid ${info.pid} on ${info.host} (${info.purpose}).`),
    onDamagedIndex: (key) => io.err(`Warning: ${key} is damaged and was skipped; run \`project-backup verify\` to see what depends on it.`),
  });
}

/** Keeps the snapshots of one workspace; works even when the workspace folder is gone (recovery). */
export async function filterWorkspace(all: SnapshotRecord[], workspace: string | undefined): Promise<SnapshotRecord[]> {
  if (!workspace) return all;
  const abs = path.resolve(workspace);
  let id: string;
  try {
    id = (await identifyWorkspace((await import('../core/storage/fsPort')).nodeFs, abs)).id;
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    id = workspaceIdFor(abs);
  }
  return all.filter((s) => s.workspace.id === id || s.workspace.path === abs);
}

export function needPositionals(positionals: string[], count: number, usage: string): void {
  if (positionals.length < count) throw new UsageError(`Missing arguments.\n${usage}`);
  if (positionals.length > count) throw new UsageError(`Unexpected argument "${positionals[count]}".\n${usage}`);
}
