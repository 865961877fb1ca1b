// Encrypted stores: the master secret, how the config keeps it wrapped under the passphrase, and the codec
// that seals every stored object with it.
// Invariants: the passphrase and the master secret are never written anywhere in the clear, nor put in a
// message; the master secret never changes for the life of a store (changing the passphrase re-wraps it),
// so data written before a passphrase change stays readable; opening a sealed object either returns exactly
// the bytes that were sealed or throws OBJECT_DAMAGED.

import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';
import { BackupError } from '../errors';
import type { ObjectCodec } from './codec';
import type { RepoConfig } from './config';

/** The cost of deriving the wrapping key from a passphrase (scrypt). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** About 0.3 s and 128 MiB per guess on a current machine: an offline attack on the config stays slow. */
export const DEFAULT_SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 17, r: 8, p: 1 });

/** What an encrypted store's config holds under `encryption`. Public: nothing here helps without the passphrase. */
// A type, not an interface, so it fits the config's `Record<string, unknown>` slot.
export type EncryptionConfig = {
  version: 1;
  cipher: 'aes-256-gcm';
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** The master secret sealed with the passphrase key: base64 of nonce (12) | ciphertext | tag (16). */
  masterKey: string;
};

/** The secret every object of a store is sealed and named with. Random, made once when the store is created. */
export interface MasterSecret {
  /** AES-256-GCM key for every sealed object. */
  encryptionKey: Buffer;
  /** HMAC-SHA256 key for blob ids, so an id does not confirm a guessed content. */
  idKey: Buffer;
  /** The chunker's gear seed (hex), so chunk boundaries do not fingerprint content either. */
  chunkerSeed: string;
}

const KEY_BYTES = 32;
const SEED_BYTES = 16;
const SECRET_BYTES = 2 * KEY_BYTES + SEED_BYTES;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SALT_BYTES = 32;
/** Binds a wrapped master secret to its store: a key block copied into another store's config does not open it. */
const WRAP_LABEL = 'project-backup master key v1 for store ';

// Bounds on scrypt parameters read from a config: below, the test-only floor; above, a hostile config
// could make us allocate gigabytes.
const MIN_LOG_N = 10;
const MAX_LOG_N = 20;
const MAX_SCRYPT_MEMORY = 2 ** 30;

export function newMasterSecret(): MasterSecret {
  return {
    encryptionKey: randomBytes(KEY_BYTES),
    idKey: randomBytes(KEY_BYTES),
    chunkerSeed: randomBytes(SEED_BYTES).toString('hex'),
  };
}

/**
 * Turns a new plain config into an encrypted one: the master secret wrapped under `passphrase`, and the
 * chunker seed removed from the config (it lives in the secret). `scryptN` lowers the cost, for tests only.
 */
export async function encryptConfig(
  config: RepoConfig,
  secret: MasterSecret,
  passphrase: string,
  scryptN?: number,
): Promise<RepoConfig> {
  const params = { ...DEFAULT_SCRYPT, ...(scryptN === undefined ? {} : { N: scryptN }) };
  return {
    ...config,
    chunker: { ...config.chunker, seed: '' },
    encryption: await wrapSecret(secret, passphrase, config.id, params),
  };
}

/** Seals the master secret under a key derived from the passphrase with a fresh salt. */
export async function wrapSecret(
  secret: MasterSecret,
  passphrase: string,
  storeId: string,
  params: ScryptParams,
): Promise<EncryptionConfig> {
  refuseEmpty(passphrase);
  checkScrypt(
    params,
    () => new BackupError('USAGE', `The scrypt cost must be a power of two from 2^${MIN_LOG_N} to 2^${MAX_LOG_N}.`),
  );
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(passphrase, salt, params);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(WRAP_LABEL + storeId, 'utf8'));
  const body = Buffer.concat([cipher.update(encodeSecret(secret)), cipher.final()]);
  return {
    version: 1,
    cipher: 'aes-256-gcm',
    kdf: { name: 'scrypt', ...params, salt: salt.toString('base64') },
    masterKey: Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64'),
  };
}

/**
 * The master secret of an encrypted store, with the scrypt parameters its config names (never ours).
 * Throws WRONG_PASSPHRASE when the passphrase does not open it; reads nothing but the config given.
 */
export async function unwrapSecret(config: RepoConfig, passphrase: string, location: string): Promise<MasterSecret> {
  const encryption = parseEncryption(config, location);
  const sealed = Buffer.from(encryption.masterKey, 'base64');
  const key = await deriveKey(passphrase, Buffer.from(encryption.kdf.salt, 'base64'), encryption.kdf);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
  decipher.setAAD(Buffer.from(WRAP_LABEL + config.id, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw wrongPassphrase(location);
  }
  // Authentic but the wrong size: written by a newer or broken version, not a wrong passphrase.
  if (plain.length !== SECRET_BYTES) throw corrupt(location);
  return decodeSecret(plain);
}

/** The error for a passphrase that does not open a store; callers can tell it apart by its code. */
export function wrongPassphrase(location: string): BackupError {
  return new BackupError(
    'WRONG_PASSPHRASE',
    `The passphrase does not open the encrypted store at ${location}; nothing was changed.`,
    { location },
  );
}

/** The config of a store with its chunker seed taken from the secret: what the process works with, never written. */
export function withSecretSeed(config: RepoConfig, secret: MasterSecret): RepoConfig {
  return { ...config, chunker: { ...config.chunker, seed: secret.chunkerSeed } };
}

/** The `encryption` block of a config, checked field by field: a malformed one is a damaged config. */
export function parseEncryption(config: RepoConfig, location: string): EncryptionConfig {
  const raw = config.encryption as Partial<EncryptionConfig> | null;
  const kdf = raw?.kdf;
  const valid =
    raw !== null &&
    typeof raw === 'object' &&
    raw.version === 1 &&
    raw.cipher === 'aes-256-gcm' &&
    typeof kdf === 'object' &&
    kdf !== null &&
    kdf.name === 'scrypt' &&
    typeof kdf.salt === 'string' &&
    typeof raw.masterKey === 'string' &&
    Buffer.from(raw.masterKey, 'base64').length === NONCE_BYTES + SECRET_BYTES + TAG_BYTES &&
    Buffer.from(kdf.salt, 'base64').length >= 16;
  if (!valid) throw corrupt(location);
  checkScrypt(kdf, () => corrupt(location));
  return raw as EncryptionConfig;
}

/**
 * Seals with AES-256-GCM under the store's key (a random 96-bit nonce per object: far below the 2^32
 * objects per key where random nonces would risk repeating) and names blobs by HMAC-SHA256.
 * Layout of a sealed object: nonce (12) | ciphertext | tag (16).
 */
export class EncryptedCodec implements ObjectCodec {
  readonly encrypted = true;
  private readonly encryptionKey: Buffer;
  private readonly idKey: Buffer;

  constructor(secret: MasterSecret) {
    this.encryptionKey = Buffer.from(secret.encryptionKey);
    this.idKey = Buffer.from(secret.idKey);
  }

  id(plain: Buffer): string {
    return createHmac('sha256', this.idKey).update(plain).digest('hex');
  }

  seal(plain: Buffer): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, nonce);
    const body = cipher.update(plain);
    const tail = cipher.final();
    return Buffer.concat([nonce, body, tail, cipher.getAuthTag()]);
  }

  open(sealed: Buffer, what: string): Buffer {
    if (!Buffer.isBuffer(sealed) || sealed.length < NONCE_BYTES + TAG_BYTES) {
      throw new BackupError('OBJECT_DAMAGED', `${what} is too short to be an encrypted object; it is damaged.`, {
        what,
      });
    }
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new BackupError('OBJECT_DAMAGED', `${what} fails its authentication check; it is damaged or was altered.`, {
        what,
      });
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------------------

function refuseEmpty(passphrase: string): void {
  if (passphrase.length === 0)
    throw new BackupError('USAGE', 'An empty passphrase cannot protect a store; choose a non-empty one.');
}

/**
 * scrypt on the thread pool, so an editor stays responsive while it runs. The passphrase is normalized
 * (NFC), so the same passphrase typed on macOS and on Linux derives the same key.
 */
function deriveKey(passphrase: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const maxmem = 256 * params.r * (params.N + params.p) + 32 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(
      Buffer.from(passphrase.normalize('NFC'), 'utf8'),
      salt,
      KEY_BYTES,
      { N: params.N, r: params.r, p: params.p, maxmem },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

function checkScrypt(params: Partial<ScryptParams>, fail: () => BackupError): void {
  const { N, r, p } = params;
  const logN = typeof N === 'number' ? Math.log2(N) : NaN;
  const ok =
    Number.isInteger(logN) &&
    logN >= MIN_LOG_N &&
    logN <= MAX_LOG_N &&
    Number.isInteger(r) &&
    Number.isInteger(p) &&
    r! >= 1 &&
    r! <= 32 &&
    p! >= 1 &&
    p! <= 16 &&
    128 * N! * r! <= MAX_SCRYPT_MEMORY;
  if (!ok) throw fail();
}

function encodeSecret(secret: MasterSecret): Buffer {
  return Buffer.concat([secret.encryptionKey, secret.idKey, Buffer.from(secret.chunkerSeed, 'hex')]);
}

function decodeSecret(plain: Buffer): MasterSecret {
  return {
    encryptionKey: Buffer.from(plain.subarray(0, KEY_BYTES)),
    idKey: Buffer.from(plain.subarray(KEY_BYTES, 2 * KEY_BYTES)),
    chunkerSeed: plain.toString('hex', 2 * KEY_BYTES),
  };
}

function corrupt(location: string): BackupError {
  return new BackupError(
    'REPO_CORRUPT',
    `The encryption settings in the config of the store at ${location} are not valid; the store may be damaged.`,
    { location },
  );
}
