// What a destination holds, asked when the local store cannot be read (it is missing): whether a store is
// there, which one (its id), and how many snapshots, read from its config and its listing only, so neither
// the store's key nor its index is needed. Invariant: read-only; a destination that cannot be reached says
// why in one sentence instead of failing the caller.

import { BackupError, isBackupError } from '../errors';
import { decodeConfig } from '../repository/config';
import { SNAPSHOT_ID_PATTERN } from '../repository/snapshotRecord';
import type { FsPort } from '../storage/fsPort';
import { backendFor } from '../storage/locate';
import type { RemoteOptions } from '../storage/remote';

export interface CopyProbe {
  location: string;
  /** A store is there (its config is). */
  holdsStore: boolean;
  storeId?: string;
  encrypted?: boolean;
  /** Snapshot records there, of every workspace. */
  snapshots?: number;
  /** Why it could not be read (unreachable, refused, damaged config). */
  error?: string;
}

export async function probeCopy(location: string, port: FsPort, remote?: RemoteOptions): Promise<CopyProbe> {
  let backend;
  try {
    backend = await backendFor(location, port, remote);
    let bytes: Buffer;
    try {
      bytes = await backend.load('config');
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING')) return { location, holdsStore: false };
      throw error;
    }
    const config = decodeConfig(bytes, location);
    const snapshots = (await backend.list('snapshots')).filter((key) =>
      SNAPSHOT_ID_PATTERN.test(key.slice('snapshots/'.length)),
    ).length;
    return {
      location,
      holdsStore: true,
      storeId: config.id,
      encrypted: config.encryption !== null && config.encryption !== undefined,
      snapshots,
    };
  } catch (error) {
    return {
      location,
      holdsStore: false,
      error: error instanceof BackupError ? error.message : `${location} cannot be read: ${(error as Error).message}.`,
    };
  } finally {
    await backend?.close?.().catch(() => undefined);
  }
}
