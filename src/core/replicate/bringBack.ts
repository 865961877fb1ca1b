// Bringing a lost local store back from one of its copies (a destination: folder, SFTP or S3): the copy is
// replicated in reverse into the store's folder (or another one), the whole history under the same store id,
// so snapshots continue where they stopped and the destination keeps receiving from it (a new empty store
// would have another id, which every destination refuses). Plan, then apply, as every job.
// Invariants: only a missing or empty folder is filled, or one holding an earlier, interrupted bring-back of
// the same store; another store, a store with snapshots the copy lacks, or a folder of other files is
// refused before anything is written. Nothing but a reader's lock is written into the copy.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../errors';
import { plural } from '../format';
import { VERIFY_RECORD_KEY } from '../records/verifyRecord';
import { decodeConfig } from '../repository/config';
import type { Repository } from '../repository/repository';
import { SNAPSHOT_ID_PATTERN } from '../repository/snapshotRecord';
import { TEMP_MARKER } from '../storage/atomic';
import type { FsPort } from '../storage/fsPort';
import { KINDS, LocalBackend } from '../storage/localBackend';
import { isRemoteLocation } from '../storage/locate';
import { redactLocation } from '../storage/remote';
import type { ReplicationProgress, ReplicationResult } from './replicate';
import { replicate, sizesOf } from './replicate';
import { REPLICA_PREFIX, replicaDestination } from '../records/replicaRecord';

export interface BringBackPlan {
  /** The copy the store comes back from, without credentials. */
  from: string;
  /** The folder it comes back into (absolute). */
  to: string;
  storeId: string;
  encrypted: boolean;
  /** Snapshots (of every workspace) at the copy: all of them come back. */
  snapshots: number;
  /** Snapshots already in the folder: an interrupted bring-back that this one completes. */
  present: number;
  /** What the copy holds (an upper bound of what is copied). */
  objects: number;
  bytes: number;
}

export interface BringBackOptions {
  /** The file-system port of the target folder; the copy's by default. */
  port?: FsPort;
  signal?: AbortSignal;
  onProgress?: (progress: ReplicationProgress) => void;
}

/**
 * What bringing the store back from `copy` (an open destination) into the folder `target` would do. Throws,
 * having written nothing: USAGE for a remote target or a folder holding the store with snapshots the copy
 * lacks, STORE_MISMATCH for a folder holding another store, REPO_NOT_FOUND for a file or a folder of other
 * files, REPO_CORRUPT for our layout holding records without a config.
 */
export async function planBringBack(
  copy: Repository,
  target: string,
  options: Pick<BringBackOptions, 'port'> = {},
): Promise<BringBackPlan> {
  const from = replicaDestination(copy.location);
  if (isRemoteLocation(target)) {
    throw new BackupError(
      'USAGE',
      `A store is brought back into a folder on this computer, not to ${redactLocation(target)}.`,
      { target: redactLocation(target) },
    );
  }
  const to = path.resolve(target);
  const config = decodeConfig(await copy.backend.load('config'), copy.location);
  const theirs = (await copy.backend.list('snapshots')).filter((key) =>
    SNAPSHOT_ID_PATTERN.test(key.slice('snapshots/'.length)),
  );
  const here = await storeInFolder(new LocalBackend(to, options.port ?? copy.port), to);
  if (here && here.id !== config.id) {
    throw new BackupError(
      'STORE_MISMATCH',
      `${to} holds another backup store (id ${here.id.slice(0, 8)}, not ${config.id.slice(0, 8)}); nothing was written, choose an empty folder to bring the store back into.`,
      { target: to, id: here.id },
    );
  }
  if (here) {
    const known = new Set(theirs);
    const newer = here.snapshots.filter((key) => !known.has(key));
    if (newer.length > 0) {
      throw new BackupError(
        'USAGE',
        `The store at ${to} is there, with ${plural(newer.length, 'snapshot')} its copy at ${from} lacks: there is nothing to bring back (nothing was changed).`,
        { target: to },
      );
    }
  }
  let objects = 0;
  let bytes = 0;
  for (const kind of ['data', 'index', 'snapshots', 'meta'] as const) {
    for (const [key, size] of await sizesOf(copy.backend, kind)) {
      if (kind === 'meta' && (key.startsWith(REPLICA_PREFIX) || key === VERIFY_RECORD_KEY)) continue;
      objects++;
      bytes += size;
    }
  }
  return {
    from,
    to,
    storeId: config.id,
    encrypted: config.encryption !== null && config.encryption !== undefined,
    snapshots: theirs.length,
    present: here?.snapshots.length ?? 0,
    objects,
    bytes,
  };
}

/**
 * Copies the store back as planned: every object the folder lacks, in the order replication keeps (a
 * snapshot record after everything it needs), so an interrupted run leaves a consistent store that the
 * next run completes. The copy gets no replica record.
 */
export async function bringBack(
  copy: Repository,
  plan: BringBackPlan,
  options: BringBackOptions = {},
): Promise<ReplicationResult> {
  if (replicaDestination(copy.location) !== plan.from) {
    throw new BackupError(
      'USAGE',
      `The plan brings the store back from ${plan.from}, not from ${replicaDestination(copy.location)}.`,
    );
  }
  return replicate(copy, plan.to, {
    port: options.port,
    signal: options.signal,
    onProgress: options.onProgress,
    fresh: true,
    record: false,
  });
}

/** The store in a local folder (its id and snapshot keys), or undefined when the folder is missing or empty of stores. */
async function storeInFolder(
  folder: LocalBackend,
  to: string,
): Promise<{ id: string; snapshots: string[] } | undefined> {
  let bytes: Buffer | undefined;
  try {
    bytes = await folder.load('config');
  } catch (error) {
    if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
  }
  if (bytes) return { id: decodeConfig(bytes, to).id, snapshots: await folder.list('snapshots') };
  const names = await folder.rootEntries(); // a file where the folder should be is one sentence
  if (!names) return undefined;
  const ours = new Set<string>([...KINDS, 'config']);
  if (names.some((name) => !name.startsWith('.') && !ours.has(name) && !name.startsWith(`config${TEMP_MARKER}`))) {
    throw new BackupError(
      'REPO_NOT_FOUND',
      `${to} is not empty and holds no backup store; choose an empty or new folder to bring the store back into (nothing was written).`,
      { target: to },
    );
  }
  if ((await folder.list('index')).length > 0 || (await folder.list('snapshots')).length > 0) {
    throw new BackupError(
      'REPO_CORRUPT',
      `${to} holds backups but no config file; it is a damaged store, so nothing was written there.`,
      { target: to },
    );
  }
  return undefined;
}
