// Opening a store: its config read (or created once, atomically, in an empty folder) and unlocked. A wrong
// or missing passphrase is refused here, before the repository takes any lock or writes anything; a folder
// that is someone else's, or holds data without a config, is refused before anything is written to it.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../errors';
import { TEMP_MARKER } from '../storage/atomic';
import type { Backend } from '../storage/backend';
import type { FsPort } from '../storage/fsPort';
import { KINDS, LocalBackend } from '../storage/localBackend';
import type { LockInfo } from '../storage/lock';
import type { RemoteOptions } from '../storage/remote';
import type { ObjectCodec } from './codec';
import { PlainCodec } from './codec';
import type { RepoConfig } from './config';
import { decodeConfig, encodeConfig, newConfig } from './config';
import type { MasterSecret } from './crypto';
import { EncryptedCodec, encryptConfig, newMasterSecret, unwrapSecret, withSecretSeed } from './crypto';

export interface OpenOptions {
  /** Create the store when the folder does not hold one. */
  create?: boolean;
  port?: FsPort;
  now?: () => Date;
  onStaleLock?: (info: LockInfo, key: string) => void;
  /** A reader found the store cannot be written (read-only, full, not ours to write) and reads without a lock. */
  onReadOnly?: (error: BackupError) => void;
  /** An index file that cannot be read; the store still opens without it. */
  onDamagedIndex?: (key: string, error: BackupError) => void;
  /**
   * The passphrase of an encrypted store, asked for only when the store turns out to be encrypted (or is
   * being created with `encrypt`). Undefined means the user gave none.
   */
  passphrase?: () => Promise<string | undefined>;
  /** Create the store encrypted with the passphrase from `passphrase`. Only with `create`. */
  encrypt?: boolean;
  /** Credentials and host-key trust for a remote (sftp://) location; a folder ignores them. */
  remote?: RemoteOptions;
  /**
   * Load the store's index at open (default true). A command that reads the store by its own means (verify
   * builds its own index from disk) opens without it; a blob asked for later still loads it (loadBlob
   * refreshes the index when it does not know a blob), but hasBlob answers false until then.
   */
  index?: boolean;
  /** Tests only: a lower scrypt cost N for a store created with `encrypt` (opening always uses the config's). */
  scryptN?: number;
}

/**
 * Reads (or, with `create`, makes) a store's config on `backend` and unlocks it: the codec its objects are
 * sealed with, and the config this process works with (an encrypted store's chunker seed comes from its
 * secret, so that config is never written back).
 */
export async function openStoreConfig(
  backend: Backend,
  location: string,
  port: FsPort,
  options: OpenOptions,
): Promise<{ codec: ObjectCodec; config: RepoConfig }> {
  const local = backend instanceof LocalBackend;
  const root = local ? path.resolve(location) : backend.location;
  const rootStat = local ? await port.stat(root).catch(() => undefined) : undefined;
  if (rootStat && !rootStat.isDirectory()) {
    throw new BackupError('REPO_NOT_FOUND', `${root} is a file, not a backup store folder.`, { location: root });
  }
  let configBytes: Buffer | undefined;
  let created: MasterSecret | undefined;
  try {
    configBytes = await backend.load('config');
  } catch (error) {
    if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
  }
  if (!configBytes) {
    if (!options.create) {
      const how = local
        ? 'create one with a first snapshot or `init`'
        : 'a remote store is created by `project-backup copy`';
      throw new BackupError('REPO_NOT_FOUND', `There is no backup store at ${root} (no config file); ${how}.`, {
        location: root,
      });
    }
    if (!(backend instanceof LocalBackend)) {
      throw new BackupError(
        'REPO_NOT_FOUND',
        `There is no backup store at ${root}; a remote store is created by \`project-backup copy\`.`,
        { location: root },
      );
    }
    await refuseNonEmptyFolder(port, root);
    // The passphrase is asked for and the key derived before the first byte is written, so a missing or
    // empty passphrase leaves no half-made store behind.
    const fresh = await freshConfig(root, options);
    await backend.createLayout();
    // Create-if-absent, atomically: when several processes create the same store at once (first use
    // from two windows and the CLI), exactly one config wins and every process uses that one.
    configBytes = await backend.createOnce('config', fresh.bytes);
    if (configBytes.equals(fresh.bytes)) created = fresh.secret;
  }
  const config = decodeConfig(configBytes, root);
  const { codec, effective } = await unlock(config, root, options, created);
  return { codec, config: effective };
}

/** The config of a store about to be created: plain, or encrypted with a new master secret. */
async function freshConfig(root: string, options: OpenOptions): Promise<{ bytes: Buffer; secret?: MasterSecret }> {
  const config = newConfig(options.now?.() ?? new Date());
  if (!options.encrypt) return { bytes: encodeConfig(config) };
  const passphrase = await askPassphrase(root, options, true);
  const secret = newMasterSecret();
  return { bytes: encodeConfig(await encryptConfig(config, secret, passphrase, options.scryptN)), secret };
}

/**
 * The codec a store is read and written with, and the config this process works with (an encrypted
 * store's chunker seed comes from its secret). Reads nothing but the config, and writes nothing: a wrong
 * passphrase is refused before any lock, cache or index is touched. `secret` is the one we just created.
 */
async function unlock(
  config: RepoConfig,
  root: string,
  options: OpenOptions,
  secret?: MasterSecret,
): Promise<{ codec: ObjectCodec; effective: RepoConfig }> {
  if (!config.encryption) {
    if (options.encrypt) {
      throw new BackupError(
        'USAGE',
        `The store at ${root} already exists and is not encrypted; create the encrypted store in a new folder (nothing was changed).`,
        { location: root },
      );
    }
    return { codec: new PlainCodec(), effective: config };
  }
  secret ??= await unwrapSecret(config, await askPassphrase(root, options, false), root);
  return { codec: new EncryptedCodec(secret), effective: withSecretSeed(config, secret) };
}

async function askPassphrase(root: string, options: OpenOptions, creating: boolean): Promise<string> {
  const passphrase = await options.passphrase?.();
  if (passphrase === undefined || (passphrase === '' && !creating)) {
    const doing = creating ? 'Creating the encrypted store at' : 'The store at';
    throw new BackupError(
      'PASSPHRASE_REQUIRED',
      `${doing} ${root} ${creating ? 'needs' : 'is encrypted and needs'} a passphrase, and none was given.`,
      { location: root, creating },
    );
  }
  return passphrase;
}

/** A store is only created in an empty or missing folder, so a typo never sprays our layout into a project. */
async function refuseNonEmptyFolder(port: FsPort, root: string): Promise<void> {
  let stat;
  try {
    stat = await port.stat(root);
  } catch {
    return; // missing: we create it
  }
  if (!stat.isDirectory()) {
    throw new BackupError('REPO_NOT_FOUND', `${root} is a file, not a backup store folder.`, { location: root });
  }
  // Our own layout without a config is a creation that was interrupted (or is under way in another
  // process): carry on. Anything else is someone's folder.
  const ours = new Set<string>([...KINDS, 'config']);
  const all = (await port.readdir(root)).filter((name) => !name.startsWith('.'));
  const names = all.filter((name) => !ours.has(name) && !name.startsWith(`config${TEMP_MARKER}`));
  if (names.length === 0 && all.length > 0 && (await holdsData(port, root))) {
    // Data without a config is a damaged store, not an unfinished one: a new config would not match it.
    throw new BackupError(
      'REPO_CORRUPT',
      `The store at ${root} holds backups but its config file is missing; restore the config from a copy of the store (nothing was changed).`,
      { location: root },
    );
  }
  if (names.length > 0) {
    throw new BackupError(
      'REPO_NOT_FOUND',
      `${root} is not empty and holds no backup store; choose an empty or new folder for the store.`,
      { location: root },
    );
  }
}

/** Whether a store folder holds any index file, snapshot record or pack. */
async function holdsData(port: FsPort, root: string): Promise<boolean> {
  const list = (dir: string) => port.readdir(path.join(root, dir)).catch(() => [] as string[]);
  if ((await list('index')).length || (await list('snapshots')).length) return true;
  for (const sub of await list('data')) if ((await list(`data/${sub}`)).length) return true;
  return false;
}
