// Opening a store from the editor: the passphrase of an encrypted one (asked, remembered, forgotten when it
// no longer works), and the one sentence for a store that has gone missing (see knownStores.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { BackupError, isBackupError } from '../core/errors';
import { Repository } from '../core/repository/repository';
import type { OpenOptions } from '../core/repository/repository';
import { isRemoteLocation } from '../core/storage/locate';
import type { RemoteOptions } from '../core/storage/remote';
import type { Keychain } from './keychain';
import type { KnownStores } from './knownStores';
import type { Logger } from './logger';

export interface StoreAccess {
  keychain: Keychain | undefined;
  log: Logger;
  /** How to log in to a remote store (credentials from the keychain). */
  remoteOptions: ((location: string) => Promise<RemoteOptions>) | undefined;
}

/**
 * Opens a store, asking for its passphrase only if it is encrypted: the remembered one first, then the
 * user, up to three tries. A passphrase is remembered only once it opened the store, and one that no
 * longer does is forgotten.
 */
export async function openWithPassphrase(
  location: string,
  options: OpenOptions,
  access: StoreAccess,
): Promise<Repository> {
  const { keychain, log } = access;
  if (!options.remote && isRemoteLocation(location))
    options = { ...options, remote: await access.remoteOptions?.(location) };
  for (let attempt = 0; ; attempt++) {
    let given: string | undefined;
    try {
      const repo = await Repository.open(location, {
        onStaleLock: (info) => log.info(`Removed a stale lock of pid ${info.pid} on ${info.host} (${info.purpose}).`),
        ...options,
        passphrase: keychain ? async () => (given = await keychain.passphrase(location, attempt)) : undefined,
      });
      if (keychain && given !== undefined && repo.codec.encrypted) await keychain.rememberPassphrase(location, given);
      return repo;
    } catch (error) {
      if (isBackupError(error, 'PASSPHRASE_REQUIRED') && keychain) {
        throw new BackupError(
          'PASSPHRASE_REQUIRED',
          `The backup store ${location} is encrypted and no passphrase was given; run "Backup: Unlock Encrypted Store" to enter it.`,
          { location },
        );
      }
      if (!isBackupError(error, 'WRONG_PASSPHRASE') || !keychain) throw error;
      await keychain.forgetPassphrase(location);
      log.warn(`The passphrase given for ${location} does not open it (attempt ${attempt + 1}).`);
      if (attempt >= 2) {
        keychain.decline(location); // three wrong ones: background snapshots stop asking until Unlock
        throw error;
      }
    }
  }
}

/** A store this editor opened before has no config at its path now. */
export function missingStoreError(storePath: string): BackupError {
  return new BackupError(
    'REPO_NOT_FOUND',
    `The backup store at ${storePath} is missing, though it held snapshots before: connect the drive or share it is on (or point projectBackup.storePath at where it is now); to get it back, history and all, from a destination that holds a copy, run "Backup: Bring the Store Back from a Destination..."; to start a new, empty store there instead, run "Backup: Start a New Store Where the Missing One Was".`,
    { storePath, missingStore: true },
  );
}

/** Why a store cannot be used now, when it is one of the two states the views explain rather than report. */
export type StoreProblem = 'missing' | 'locked';

/** Whether a local store this editor opened before (knownStores.ts) has no config at its path now. */
export async function knownStoreMissing(storePath: string, knownStores: KnownStores | undefined): Promise<boolean> {
  return !isRemoteLocation(storePath) && knownStores?.has(storePath) === true && !(await storeExists(storePath));
}

export function storeProblemOf(error: unknown): StoreProblem | undefined {
  if (isBackupError(error, 'REPO_NOT_FOUND') && error.data.missingStore === true) return 'missing';
  if (isBackupError(error, 'PASSPHRASE_REQUIRED') || isBackupError(error, 'WRONG_PASSPHRASE')) return 'locked';
  return undefined;
}

/** Whether a store (its config file) is at this local path. */
export async function storeExists(storePath: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(path.join(storePath, 'config'))).isFile();
  } catch {
    return false;
  }
}
