// Index files: which blob lives in which pack at which offset. Loaded into memory at open, so "do we have
// this content already?" is a map lookup and dedup costs nothing on the hot path.
// Layout (deflated, then sealed): magic "PBI1", u32 pack count, then per pack: 32-byte pack id, u32 entry
// count, entries in the pack header's layout (pack.ts ENTRY_SIZE).
// Invariant: an index file is written only after every pack it names is durable.

import { Readable } from 'node:stream';
import { createInflateRaw, deflateRaw, deflateRawSync, inflateRaw, inflateRawSync } from 'node:zlib';
import { promisify } from 'node:util';
import { yieldEvery, yieldIfBusy } from '../eventLoop';
import { BackupError } from '../errors';
import type { ObjectCodec } from './codec';
import type { PackEntry } from './pack';
import { ENTRY_SIZE, readEntry, writeEntry } from './pack';

export interface IndexedPack {
  packId: string;
  entries: PackEntry[];
}

const deflateRawAsync = promisify(deflateRaw);
const inflateRawAsync = promisify(inflateRaw);
const MAGIC = Buffer.from('PBI1', 'ascii');
export const INDEX_MAGIC: Readonly<Buffer> = MAGIC;

/** Deflates and seals the raw layout (magic, pack count, packs) into an index file's bytes. */
export function sealIndex(raw: Buffer, codec: ObjectCodec): Buffer {
  return codec.seal(deflateRawSync(raw, { level: 1 }));
}

export function encodeIndex(packs: readonly IndexedPack[], codec: ObjectCodec): Buffer {
  return sealIndex(layOutIndex(packs), codec);
}

/**
 * encodeIndex for a whole store's index (prune): laid out with turns of the event loop between packs and
 * deflated on the thread pool, so the editor's host is not held (200,000 blobs: 10 MB of layout, whose
 * synchronous deflate held it 380 ms).
 */
export async function encodeIndexAsync(packs: readonly IndexedPack[], codec: ObjectCodec): Promise<Buffer> {
  const raw = await layOutIndex(packs, true);
  return codec.seal(await deflateRawAsync(raw, { level: 1 }));
}

function layOutIndex(packs: readonly IndexedPack[]): Buffer;
function layOutIndex(packs: readonly IndexedPack[], turns: true): Promise<Buffer>;
function layOutIndex(packs: readonly IndexedPack[], turns = false): Buffer | Promise<Buffer> {
  let size = 8;
  for (const pack of packs) size += 36 + pack.entries.length * ENTRY_SIZE;
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(packs.length, 4);
  let at = 8;
  const writePackHead = (pack: IndexedPack): void => {
    out.write(pack.packId, at, 32, 'hex');
    out.writeUInt32LE(pack.entries.length, at + 32);
    at += 36;
  };
  if (!turns) {
    for (const pack of packs) {
      writePackHead(pack);
      for (const entry of pack.entries) {
        writeEntry(out, at, entry);
        at += ENTRY_SIZE;
      }
    }
    return out;
  }
  // With turns between entries too: one pack of small files lists 100,000 of them (40-50 ms in one go).
  return (async () => {
    let n = 0;
    for (const pack of packs) {
      writePackHead(pack);
      for (const entry of pack.entries) {
        writeEntry(out, at, entry);
        at += ENTRY_SIZE;
        const turn = yieldEvery(++n);
        if (turn) await turn;
      }
    }
    return out;
  })();
}

/** Unseals and inflates an index file, checking its magic; the bytes are then walked without copying. */
export function openIndex(sealed: Buffer, codec: ObjectCodec, what: string): Buffer {
  let data: Buffer;
  try {
    data = inflateRawSync(codec.open(sealed, what));
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError('OBJECT_DAMAGED', `${what} could not be decompressed; it is damaged.`, { what });
  }
  return checkMagic(data, what);
}

/** openIndex with the inflate on the thread pool (a whole store's index: 10 MB at 200,000 blobs). */
export async function openIndexAsync(sealed: Buffer, codec: ObjectCodec, what: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await inflateRawAsync(codec.open(sealed, what));
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError('OBJECT_DAMAGED', `${what} could not be decompressed; it is damaged.`, { what });
  }
  return checkMagic(data, what);
}

function checkMagic(data: Buffer, what: string): Buffer {
  if (data.length < 8 || !data.subarray(0, 4).equals(MAGIC)) {
    throw new BackupError('OBJECT_DAMAGED', `${what} is not an index file; it is damaged.`, { what });
  }
  return data;
}

/**
 * Walks an opened index: `onPack` once per pack, then `onEntry` with the byte offset of each of its
 * entries (see pack.ts ENTRY_SIZE). Validates every length.
 */
export function walkIndex(
  data: Buffer,
  what: string,
  onPack: (packId: string) => void,
  onEntry: (at: number) => void,
): void {
  const steps = indexSteps(data, what, onPack, onEntry);
  while (!steps.next().done);
}

/**
 * walkIndex with turns of the event loop between its steps when they have run their budget (eventLoop.ts):
 * an index file of 26,000 entries walked at once held the editor's loop 25 ms at start-up (#16).
 */
export async function walkIndexInTurns(
  data: Buffer,
  what: string,
  onPack: (packId: string) => void,
  onEntry: (at: number) => void,
): Promise<void> {
  const steps = indexSteps(data, what, onPack, onEntry);
  while (!steps.next().done) {
    const turn = yieldIfBusy();
    if (turn) await turn;
  }
}

/** walkIndex in steps of at most 1,024 entries (the generator yields between them; 4,096 took 10-20 ms). */
function* indexSteps(
  data: Buffer,
  what: string,
  onPack: (packId: string) => void,
  onEntry: (at: number) => void,
): Generator<void> {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  const packCount = data.readUInt32LE(4);
  let at = 8;
  for (let p = 0; p < packCount; p++) {
    if (at + 36 > data.length) throw damaged('is truncated');
    onPack(data.toString('hex', at, at + 32));
    const count = data.readUInt32LE(at + 32);
    at += 36;
    if (at + count * ENTRY_SIZE > data.length) throw damaged('is truncated');
    for (let i = 0; i < count; i++) {
      const type = data[at];
      if (type > 1) throw damaged(`names an unknown blob type ${type}`);
      onEntry(at);
      at += ENTRY_SIZE;
      if ((i & 1023) === 1023) yield;
    }
    yield;
  }
  if (at !== data.length) throw damaged('has trailing bytes');
}

export function decodeIndex(sealed: Buffer, codec: ObjectCodec, what: string): IndexedPack[] {
  const data = openIndex(sealed, codec, what);
  const packs: IndexedPack[] = [];
  walkIndex(
    data,
    what,
    (packId) => packs.push({ packId, entries: [] }),
    (at) => packs[packs.length - 1].entries.push(readEntry(data, at, what)),
  );
  return packs;
}

/**
 * decodeIndex for a whole store's index (prune reads every index file): inflated on the thread pool and
 * walked with turns of the event loop, so the editor's host is not held (137 ms at 200,000 blobs).
 */
export async function decodeIndexAsync(sealed: Buffer, codec: ObjectCodec, what: string): Promise<IndexedPack[]> {
  const data = await openIndexAsync(sealed, codec, what);
  const packs: IndexedPack[] = [];
  await walkIndexInTurns(
    data,
    what,
    (packId) => packs.push({ packId, entries: [] }),
    (at) => packs[packs.length - 1].entries.push(readEntry(data, at, what)),
  );
  return packs;
}

/**
 * Walks a plain index file as its deflated bytes arrive in pieces, calling onPack and onEntry (with the
 * inflated piece and the entry's offset in it) as walkIndex does: the file is never whole in memory,
 * deflated or inflated. Throws OBJECT_DAMAGED as openIndex and walkIndex would, possibly after calling back
 * for the entries before the damage (the caller undoes what it added).
 */
export async function walkIndexPieces(
  deflated: AsyncIterable<Buffer>,
  what: string,
  onPack: (packId: string) => void,
  onEntry: (data: Buffer, at: number) => void,
): Promise<void> {
  const damaged = (why: string) => new BackupError('OBJECT_DAMAGED', `${what} ${why}; it is damaged.`, { what });
  const source = Readable.from(deflated, { objectMode: false });
  const inflater = createInflateRaw({ chunkSize: 256 * 1024 });
  source.on('error', (error) => inflater.destroy(error));
  source.pipe(inflater);
  // What is expected next, and how many bytes it takes: the magic and pack count, a pack header, an entry.
  type State = 'magic' | 'pack' | 'entry' | 'end';
  // Changed inside `take`, which the compiler's narrowing does not follow: read through `now`.
  let state = 'magic' as State;
  const now = (): State => state;
  let packsLeft = 0;
  let entriesLeft = 0;
  // A record split between two pieces is put together here.
  const record = Buffer.alloc(Math.max(36, ENTRY_SIZE, 8));
  let held = 0;
  const sizeOf = () => (state === 'magic' ? 8 : state === 'pack' ? 36 : ENTRY_SIZE);
  const take = (data: Buffer, at: number): void => {
    if (state === 'magic') {
      if (!data.subarray(at, at + 4).equals(MAGIC)) throw damaged('is not an index file');
      packsLeft = data.readUInt32LE(at + 4);
    } else if (state === 'pack') {
      onPack(data.toString('hex', at, at + 32));
      entriesLeft = data.readUInt32LE(at + 32);
      packsLeft--;
    } else {
      if (data[at] > 1) throw damaged(`names an unknown blob type ${data[at]}`);
      onEntry(data, at);
      entriesLeft--;
    }
    state = entriesLeft > 0 ? 'entry' : packsLeft > 0 ? 'pack' : 'end';
  };
  // A 256 KiB piece holds 5,000 entries: walked at once, with verify's copy of each, it held the editor's
  // loop 32-36 ms (#16). A turn when the walk has run its budget, asked every 1,024 entries.
  let walked = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const turn = yieldEvery(++walked);
        if (turn) await turn;
        if (now() === 'end') throw damaged('has trailing bytes');
        const size = sizeOf();
        if (held > 0 || chunk.length - at < size) {
          const n = Math.min(size - held, chunk.length - at);
          chunk.copy(record, held, at, at + n);
          held += n;
          at += n;
          if (held < size) break;
          held = 0;
          take(record, 0);
          continue;
        }
        take(chunk, at);
        at += size;
      }
    }
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw damaged('could not be decompressed');
  } finally {
    source.destroy();
    inflater.destroy();
  }
  if (now() !== 'end' || held > 0) throw damaged(now() === 'magic' ? 'is not an index file' : 'is truncated');
}
