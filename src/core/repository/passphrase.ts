// Checking and changing the passphrase of an encrypted store, from its config alone (no index, no lock).
// Invariants: the old passphrase is checked before anything is written; a change re-wraps the same master
// secret, so no data is rewritten, and replaces the config in one atomic save, so a crash leaves either the
// old passphrase or the new one working, never neither. Processes that have the store open keep working:
// they hold the master secret and never read the config again.

import { BackupError, isBackupError } from '../errors';
import type { Backend } from '../storage/backend';
import type { FsPort } from '../storage/fsPort';
import { nodeFs } from '../storage/fsPort';
import { backendFor } from '../storage/locate';
import type { RemoteOptions } from '../storage/remote';
import type { RepoConfig } from './config';
import { decodeConfig, encodeConfig } from './config';
import type { MasterSecret } from './crypto';
import { parseEncryption, unwrapSecret, wrapSecret } from './crypto';

export interface PassphraseOptions {
  port?: FsPort;
  /** Credentials and host-key trust for a remote (sftp://) location, as for Repository.open. */
  remote?: RemoteOptions;
  /** Tests only: the scrypt cost N of the new wrapping; otherwise the store keeps the cost it has. */
  scryptN?: number;
}

/** Resolves when `passphrase` opens the encrypted store at `location`; throws WRONG_PASSPHRASE when it does not. */
export async function verifyPassphrase(
  location: string,
  passphrase: string,
  options: PassphraseOptions = {},
): Promise<void> {
  await withConfig(location, passphrase, options, async () => undefined);
}

/**
 * Makes `newPassphrase` the passphrase of the encrypted store at `location` and `oldPassphrase` stop
 * working. Throws WRONG_PASSPHRASE (nothing written) when the old one does not open the store.
 */
export async function changePassphrase(
  location: string,
  oldPassphrase: string,
  newPassphrase: string,
  options: PassphraseOptions = {},
): Promise<void> {
  await withConfig(location, oldPassphrase, options, async (backend, config, secret) => {
    const kdf = parseEncryption(config, backend.location).kdf;
    const params = { N: options.scryptN ?? kdf.N, r: kdf.r, p: kdf.p };
    const rewrapped: RepoConfig = { ...config, encryption: await wrapSecret(secret, newPassphrase, config.id, params) };
    await backend.save('config', encodeConfig(rewrapped));
  });
}

/** Runs `use` with the stored config of an encrypted store and its master secret; reads nothing else. */
async function withConfig(
  location: string,
  passphrase: string,
  options: PassphraseOptions,
  use: (backend: Backend, config: RepoConfig, secret: MasterSecret) => Promise<void>,
): Promise<void> {
  const backend = await backendFor(location, options.port ?? nodeFs, options.remote);
  try {
    await use(backend, ...(await unlockConfig(backend, passphrase)));
  } finally {
    await backend.close?.();
  }
}

/**
 * Resolves when the store at `location` exists and is encrypted; throws REPO_NOT_FOUND or USAGE (not
 * encrypted) otherwise. Asking for a passphrase before this would tell the user a plain store is encrypted.
 */
export async function assertEncrypted(location: string, options: PassphraseOptions = {}): Promise<void> {
  const backend = await backendFor(location, options.port ?? nodeFs, options.remote);
  try {
    await encryptedConfig(backend);
  } finally {
    await backend.close?.();
  }
}

async function unlockConfig(backend: Backend, passphrase: string): Promise<[RepoConfig, MasterSecret]> {
  const config = await encryptedConfig(backend);
  if (passphrase === '') {
    throw new BackupError(
      'PASSPHRASE_REQUIRED',
      `The store at ${backend.location} is encrypted and needs a passphrase, and none was given.`,
      { location: backend.location, creating: false },
    );
  }
  return [config, await unwrapSecret(config, passphrase, backend.location)];
}

async function encryptedConfig(backend: Backend): Promise<RepoConfig> {
  let bytes: Buffer;
  try {
    bytes = await backend.load('config');
  } catch (error) {
    if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
    throw new BackupError('REPO_NOT_FOUND', `There is no backup store at ${backend.location} (no config file).`, {
      location: backend.location,
    });
  }
  const config = decodeConfig(bytes, backend.location);
  if (!config.encryption) {
    throw new BackupError('USAGE', `The store at ${backend.location} is not encrypted, so it has no passphrase.`, {
      location: backend.location,
    });
  }
  return config;
}
