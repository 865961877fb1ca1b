// Pack files: many small blobs in one file, so a first snapshot of 10,000 files writes a handful of files
// rather than 10,000 (git's loose objects are what makes its first commit slow).
// Layout: [blob…][sealed header][u32 LE header length][magic "PBP1"]. Invariant: a pack is immutable and
// named by the SHA-256 of its bytes, so a torn or altered pack is detectable by re-hashing.

import { BackupError } from '../errors';
import type { ObjectCodec } from './codec';

export type BlobType = 'data' | 'tree';

export interface PackEntry {
  type: BlobType;
  id: string;
  offset: number;
  /** Bytes stored in the pack (sealed, maybe compressed). */
  length: number;
  /** Bytes of the plaintext. */
  rawLength: number;
  compressed: boolean;
}

const MAGIC = Buffer.from('PBP1', 'ascii');
const ENTRY_SIZE = 1 + 1 + 32 + 4 + 4;
const TYPE_CODES: Record<BlobType, number> = { data: 0, tree: 1 };

export function typeFromCode(code: number, what: string): BlobType {
  if (code === 0) return 'data';
  if (code === 1) return 'tree';
  throw new BackupError('OBJECT_DAMAGED', `${what} names an unknown blob type ${code}; it is damaged.`);
}

export function encodePackHeader(entries: readonly PackEntry[]): Buffer {
  const header = Buffer.alloc(entries.length * ENTRY_SIZE);
  let at = 0;
  for (const entry of entries) {
    header.writeUInt8(TYPE_CODES[entry.type], at);
    header.writeUInt8(entry.compressed ? 1 : 0, at + 1);
    header.write(entry.id, at + 2, 32, 'hex');
    header.writeUInt32LE(entry.length, at + 34);
    header.writeUInt32LE(entry.rawLength, at + 38);
    at += ENTRY_SIZE;
  }
  return header;
}

/** Builds the trailer that makes a pack self-describing, so a lost index can be rebuilt from the packs alone. */
export function packTrailer(entries: readonly PackEntry[], codec: ObjectCodec): Buffer {
  const sealed = codec.seal(encodePackHeader(entries));
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(sealed.length, 0);
  MAGIC.copy(tail, 4);
  return Buffer.concat([sealed, tail]);
}

/** Reads the entries of a whole pack from its trailer; throws OBJECT_DAMAGED on anything malformed. */
export function decodePack(pack: Buffer, codec: ObjectCodec, what: string): PackEntry[] {
  if (pack.length < 8 || !pack.subarray(pack.length - 4).equals(MAGIC)) {
    throw new BackupError('OBJECT_DAMAGED', `${what} is not a pack file (bad trailer); it is damaged.`, { what });
  }
  const headerLength = pack.readUInt32LE(pack.length - 8);
  if (headerLength > pack.length - 8) {
    throw new BackupError('OBJECT_DAMAGED', `${what} has a header longer than the file; it is damaged.`, { what });
  }
  const header = codec.open(pack.subarray(pack.length - 8 - headerLength, pack.length - 8), what);
  if (header.length % ENTRY_SIZE !== 0) {
    throw new BackupError('OBJECT_DAMAGED', `${what} has a malformed header; it is damaged.`, { what });
  }
  const entries: PackEntry[] = [];
  let offset = 0;
  const dataEnd = pack.length - 8 - headerLength;
  for (let at = 0; at < header.length; at += ENTRY_SIZE) {
    const entry: PackEntry = {
      type: typeFromCode(header.readUInt8(at), what),
      compressed: header.readUInt8(at + 1) === 1,
      id: header.toString('hex', at + 2, at + 34),
      length: header.readUInt32LE(at + 34),
      rawLength: header.readUInt32LE(at + 38),
      offset,
    };
    offset += entry.length;
    if (offset > dataEnd) throw new BackupError('OBJECT_DAMAGED', `${what} lists more data than it holds; it is damaged.`, { what });
    entries.push(entry);
  }
  return entries;
}

export function packKey(packId: string): string {
  return `data/${packId.slice(0, 2)}/${packId}`;
}
