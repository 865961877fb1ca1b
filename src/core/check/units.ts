// Reading the units of a pack for verify: the same checks and sentences as Repository.loadBlob, so verify
// and restore name a problem alike. A unit is one sealed, compressed blob, or a bundle of small blobs.

import { BackupError, isBackupError } from '../errors';
import { BUNDLE_BELOW, BUNDLE_SIZE } from '../repository/blobWriter';
import type { ObjectCodec } from '../repository/codec';
import { decompress } from '../repository/compression';
import type { PackEntry } from '../repository/pack';

/** The plaintext of a bundle is at most this (the last blob may overshoot BUNDLE_SIZE); as in repository.ts. */
const MAX_UNIT = BUNDLE_SIZE + BUNDLE_BELOW;

export function missingMessage(id: string, location: string): string {
  return `Object ${id.slice(0, 12)} is missing from the store at ${location}.`;
}

/** The plaintext of a stored unit (a blob, or a bundle of small blobs). Throws OBJECT_DAMAGED. */
export function openUnit(sealed: Buffer, at: PackEntry, packId: string, codec: ObjectCodec): Buffer {
  try {
    const expected = at.inner === undefined ? at.rawLength : MAX_UNIT;
    return decompress(codec.open(sealed, `Object ${at.id.slice(0, 12)}`), at.compressed, expected);
  } catch (error) {
    if (isBackupError(error)) throw error;
    throw new BackupError(
      'OBJECT_DAMAGED',
      `Object ${at.id.slice(0, 12)} in pack ${packId.slice(0, 12)} cannot be decompressed; it is damaged.`,
      { id: at.id, pack: packId },
    );
  }
}

/** One blob's plaintext out of its unit, checked against its id. Throws OBJECT_DAMAGED. */
export function blobOf(unit: Buffer, at: PackEntry, packId: string, codec: ObjectCodec): Buffer {
  const plain = at.inner === undefined ? unit : unit.subarray(at.inner, at.inner + at.rawLength);
  if (plain.length !== at.rawLength || codec.id(plain) !== at.id) {
    throw new BackupError(
      'OBJECT_DAMAGED',
      `Object ${at.id.slice(0, 12)} in pack ${packId.slice(0, 12)} does not match its checksum; it is damaged.`,
      { id: at.id, pack: packId },
    );
  }
  return plain;
}
