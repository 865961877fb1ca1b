// How stored objects are named and sealed. A plain store names content by SHA-256 and stores it as is;
// an encrypted store (crypto.ts EncryptedCodec, behind the same interface) names it by a keyed hash and
// seals it with AES-256-GCM. Invariant: `id` is a pure function of the plaintext and the store's keys, so
// dedup works the same in both kinds of store.

import * as crypto from 'node:crypto';
import { BackupError } from '../errors';

export interface ObjectCodec {
  readonly encrypted: boolean;
  /** The id of a plaintext object: 64 hex characters. Pure and deterministic. */
  id(plain: Buffer): string;
  /** Seals bytes for storage (identity when unencrypted). */
  seal(plain: Buffer): Buffer;
  /** Reverses `seal`; throws BackupError OBJECT_DAMAGED naming `what` when the bytes are not authentic. */
  open(sealed: Buffer, what: string): Buffer;
}

/** crypto.hash (Node 20.12+): one call, no Hash object per blob (a first snapshot hashes 100,000s of them). */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer | string, encoding: 'hex') => string }).hash;

export function sha256Hex(data: Buffer | string): string {
  return oneShot ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}

export class PlainCodec implements ObjectCodec {
  readonly encrypted = false;
  id(plain: Buffer): string {
    return sha256Hex(plain);
  }
  seal(plain: Buffer): Buffer {
    return plain;
  }
  open(sealed: Buffer, what: string): Buffer {
    if (!Buffer.isBuffer(sealed)) throw new BackupError('OBJECT_DAMAGED', `${what} could not be read.`);
    return sealed;
  }
}

export const ID_PATTERN = /^[0-9a-f]{64}$/;
