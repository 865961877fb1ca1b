// Pack files: many small blobs in one file, so a first snapshot of 10,000 files writes a handful of files
// rather than 10,000 (git's loose objects are what makes its first commit slow).
// Layout: [stored unit…][sealed header][u32 LE header length][magic "PBP1"]. A stored unit is one blob, or a
// bundle: several small blobs compressed together (cross-file redundancy compresses far better than each
// file alone); a bundled blob's entry names the unit and its offset inside the unit's plaintext.
// Invariant: a pack is immutable and named by the SHA-256 of its bytes, so tampering is detectable.

import { BackupError } from '../errors';
import type { ObjectCodec } from './codec';

export type BlobType = 'data' | 'tree';

export interface PackEntry {
  type: BlobType;
  id: string;
  /** Where the stored unit holding this blob starts in the pack. */
  offset: number;
  /** Bytes of the stored unit (sealed, maybe compressed). */
  length: number;
  /** Bytes of this blob's plaintext. */
  rawLength: number;
  compressed: boolean;
  /** For a blob inside a bundle: its offset in the bundle's plaintext; undefined for a unit of its own. */
  inner?: number;
}

const FLAG_COMPRESSED = 1;
const FLAG_BUNDLED = 2;

export function entryFlags(entry: PackEntry): number {
  return (entry.compressed ? FLAG_COMPRESSED : 0) | (entry.inner !== undefined ? FLAG_BUNDLED : 0);
}

export function applyFlags(flags: number, inner: number): Pick<PackEntry, 'compressed' | 'inner'> {
  return (flags & FLAG_BUNDLED) !== 0
    ? { compressed: (flags & FLAG_COMPRESSED) !== 0, inner }
    : { compressed: (flags & FLAG_COMPRESSED) !== 0 };
}

const MAGIC = Buffer.from('PBP1', 'ascii');
/** type u8, flags u8, id 32, offset u32, length u32, rawLength u32, inner u32 */
export const ENTRY_SIZE = 1 + 1 + 32 + 4 + 4 + 4 + 4;
const TYPE_CODES: Record<BlobType, number> = { data: 0, tree: 1 };

export function typeFromCode(code: number, what: string): BlobType {
  if (code === 0) return 'data';
  if (code === 1) return 'tree';
  throw new BackupError('OBJECT_DAMAGED', `${what} names an unknown blob type ${code}; it is damaged.`);
}

export function writeEntry(out: Buffer, at: number, entry: PackEntry): void {
  out.writeUInt8(TYPE_CODES[entry.type], at);
  out.writeUInt8(entryFlags(entry), at + 1);
  out.write(entry.id, at + 2, 32, 'hex');
  out.writeUInt32LE(entry.offset, at + 34);
  out.writeUInt32LE(entry.length, at + 38);
  out.writeUInt32LE(entry.rawLength, at + 42);
  out.writeUInt32LE(entry.inner ?? 0, at + 46);
}

export function readEntry(data: Buffer, at: number, what: string): PackEntry {
  return {
    type: typeFromCode(data.readUInt8(at), what),
    id: data.toString('hex', at + 2, at + 34),
    offset: data.readUInt32LE(at + 34),
    length: data.readUInt32LE(at + 38),
    rawLength: data.readUInt32LE(at + 42),
    ...applyFlags(data.readUInt8(at + 1), data.readUInt32LE(at + 46)),
  };
}

export function encodePackHeader(entries: readonly PackEntry[]): Buffer {
  const header = Buffer.alloc(entries.length * ENTRY_SIZE);
  entries.forEach((entry, i) => writeEntry(header, i * ENTRY_SIZE, entry));
  return header;
}

/** Builds the trailer that makes a pack self-describing, so a lost index can be rebuilt from the packs alone. */
export function packTrailer(entries: readonly PackEntry[], codec: ObjectCodec): Buffer {
  return packTrailerOf(encodePackHeader(entries), codec);
}

/** The trailer for a header already in its binary layout (ENTRY_SIZE bytes an entry, in pack order). */
export function packTrailerOf(header: Buffer, codec: ObjectCodec): Buffer {
  return Buffer.concat(packTrailerParts(header, codec));
}

/** The trailer as its two parts (sealed header, then length and magic), for a writer that need not join them. */
export function packTrailerParts(header: Buffer, codec: ObjectCodec): [Buffer, Buffer] {
  const sealed = codec.seal(header);
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(sealed.length, 0);
  MAGIC.copy(tail, 4);
  return [sealed, tail];
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
  const dataEnd = pack.length - 8 - headerLength;
  for (let at = 0; at < header.length; at += ENTRY_SIZE) {
    const entry = readEntry(header, at, what);
    if (entry.offset + entry.length > dataEnd)
      throw new BackupError('OBJECT_DAMAGED', `${what} lists more data than it holds; it is damaged.`, { what });
    entries.push(entry);
  }
  return entries;
}

export function packKey(packId: string): string {
  return `data/${packId.slice(0, 2)}/${packId}`;
}
