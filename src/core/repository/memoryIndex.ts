// The in-memory index: blob id -> pack, offset, lengths. Built for 100,000s of blobs: an entry is 32 bytes
// of binary id and six 32-bit fields in typed arrays, found through an open-addressing table of slot
// numbers (a Uint32Array), so no entry costs a JS object, a 64-character string or a Map node, and the
// memory it takes can be read from its own buffers (`bytes`; about 70 bytes an entry).
// Invariant: a lookup answers only for the exact full id (all 32 bytes are compared).

import type { BlobType, PackEntry } from './pack';
import { ENTRY_SIZE, applyFlags, entryFlags } from './pack';
import { INDEX_MAGIC, walkIndex, walkIndexInTurns } from './indexFile';

export interface IndexLocation extends PackEntry {
  packId: string;
}

const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;
const FIELDS = 6; // pack number, offset, length, rawLength, type | flags << 1, inner
const WORDS = 8; // an id is 8 32-bit words
/** Probes before an id goes to the overflow map: only a crafted index (ids sharing their first bytes) gets there. */
const MAX_PROBE = 64;
const MIN_TABLE = 1 << 10;
/** Entries the first chunk holds at first (see addChunk). */
const FIRST_CHUNK = 64;
/**
 * Bytes of an index file's layout made between two chances for the loop to turn (the deflate awaits each
 * piece): 1 MiB was 20,000 entries and held the editor's loop 23 ms at the end of a first snapshot of
 * 200,000 files (#16).
 */
export const INDEX_PIECE = 256 * 1024;

export class MemoryIndex {
  private readonly packIds: string[] = [];
  private readonly packNumbers = new Map<string, number>();
  private readonly fields: Uint32Array[] = [];
  private readonly ids: Uint32Array[] = [];
  /** The same memory as `ids`, as bytes (one view per chunk). */
  private readonly idBytes: Buffer[] = [];
  /** Open addressing: slot number + 1 at the position its id hashes to (or the next free one); 0 is empty. */
  private table = new Uint32Array(MIN_TABLE);
  /** Ids that found no free position within MAX_PROBE (a hostile index), by hex. */
  private readonly overflow = new Map<string, number>();
  private count = 0;
  /** The id being looked up or inserted, as words (and as bytes through `scratch`). */
  private readonly scratchWords = new Uint32Array(WORDS);
  private readonly scratch = Buffer.from(this.scratchWords.buffer);

  get size(): number {
    return this.count;
  }

  /** Bytes held by the index's own arrays (ids, fields, table): what it costs, whatever the number of blobs. */
  get bytes(): number {
    let total = this.table.byteLength;
    for (const f of this.fields) total += f.byteLength;
    for (const i of this.ids) total += i.byteLength;
    return total;
  }

  /** The number of a pack (added on first use), for addEntryAt. */
  packNumber(packId: string): number {
    let n = this.packNumbers.get(packId);
    if (n === undefined) {
      n = this.packIds.length;
      this.packIds.push(packId);
      this.packNumbers.set(packId, n);
    }
    return n;
  }

  /** Whether slot `no` holds the id in scratchWords. */
  private holdsScratch(no: number): boolean {
    const words = this.ids[no >>> CHUNK_BITS];
    const at = (no & (CHUNK - 1)) * WORDS;
    const s = this.scratchWords;
    return (
      words[at] === s[0] &&
      words[at + 1] === s[1] &&
      words[at + 2] === s[2] &&
      words[at + 3] === s[3] &&
      words[at + 4] === s[4] &&
      words[at + 5] === s[5] &&
      words[at + 6] === s[6] &&
      words[at + 7] === s[7]
    );
  }

  /** The slot holding the id in scratchWords, or -1. */
  private findScratch(): number {
    const mask = this.table.length - 1;
    let pos = this.scratchWords[0] & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      const held = this.table[pos];
      if (held === 0) return -1;
      if (this.holdsScratch(held - 1)) return held - 1;
      pos = (pos + 1) & mask;
    }
    if (this.overflow.size === 0) return -1;
    return this.overflow.get(this.scratch.toString('hex')) ?? -1;
  }

  /** Puts slot `no` (its id already stored) into the table, or the overflow map when its run is full. */
  private place(no: number): void {
    const words = this.ids[no >>> CHUNK_BITS];
    const at = (no & (CHUNK - 1)) * WORDS;
    const mask = this.table.length - 1;
    let pos = words[at] & mask;
    for (let probe = 0; probe < MAX_PROBE; probe++) {
      if (this.table[pos] === 0) {
        this.table[pos] = no + 1;
        return;
      }
      pos = (pos + 1) & mask;
    }
    this.overflow.set(this.idBytes[no >>> CHUNK_BITS].toString('hex', at * 4, at * 4 + 32), no);
  }

  /** Keeps the table at most half full (short probes), rebuilding it from the stored ids when it doubles. */
  private grow(): void {
    if ((this.count + 1) * 2 <= this.table.length) return;
    this.table = new Uint32Array(this.table.length * 2);
    this.overflow.clear();
    for (let no = 0; no < this.count; no++) this.place(no);
  }

  /** Adds the blob whose id is in scratch unless it is known already (the first location wins; duplicates are harmless). */
  private insertScratch(
    pack: number,
    offset: number,
    length: number,
    rawLength: number,
    typeFlags: number,
    inner: number,
  ): void {
    if (this.findScratch() >= 0) return;
    this.grow();
    const no = this.count++;
    if ((no & (CHUNK - 1)) === 0) this.addChunk(no === 0 ? FIRST_CHUNK : CHUNK);
    else if (no === this.firstCapacity) this.growFirstChunk();
    const f = this.fields[no >>> CHUNK_BITS];
    const base = (no & (CHUNK - 1)) * FIELDS;
    f[base] = pack;
    f[base + 1] = offset;
    f[base + 2] = length;
    f[base + 3] = rawLength;
    f[base + 4] = typeFlags;
    f[base + 5] = inner;
    this.ids[no >>> CHUNK_BITS].set(this.scratchWords, (no & (CHUNK - 1)) * WORDS);
    this.place(no);
  }

  /**
   * A snapshot's own writer indexes a few blobs (an on-save snapshot: two or three): its first chunk starts
   * small and doubles up to CHUNK, rather than 900 KiB of zeroed arrays per snapshot for the collector to
   * reclaim. Every later chunk is CHUNK entries, so `no >>> CHUNK_BITS` still names an entry's chunk.
   */
  private firstCapacity = 0;

  private addChunk(capacity: number): void {
    if (this.fields.length === 0) this.firstCapacity = capacity;
    this.fields.push(new Uint32Array(capacity * FIELDS));
    const words = new Uint32Array(capacity * WORDS);
    this.ids.push(words);
    this.idBytes.push(Buffer.from(words.buffer, words.byteOffset, words.byteLength));
  }

  private growFirstChunk(): void {
    const capacity = Math.min(CHUNK, this.firstCapacity * 2);
    const fields = new Uint32Array(capacity * FIELDS);
    fields.set(this.fields[0]);
    const words = new Uint32Array(capacity * WORDS);
    words.set(this.ids[0]);
    this.fields[0] = fields;
    this.ids[0] = words;
    this.idBytes[0] = Buffer.from(words.buffer, words.byteOffset, words.byteLength);
    this.firstCapacity = capacity;
  }

  /** Adds the entry at `at` of an index file's inflated bytes (see indexFile.walkIndexPieces) unless its id is known. */
  addEntryAt(pack: number, data: Buffer, at: number): void {
    const typeFlags = data[at] | (data[at + 1] << 1);
    data.copy(this.scratch, 0, at + 2, at + 34);
    this.insertScratch(
      pack,
      data.readUInt32LE(at + 34),
      data.readUInt32LE(at + 38),
      data.readUInt32LE(at + 42),
      typeFlags,
      data.readUInt32LE(at + 46),
    );
  }

  /** Forgets every blob added after the first `size` (an index file found damaged halfway through adds nothing). */
  truncate(size: number): void {
    if (size >= this.count) return;
    this.count = size;
    const chunks = size === 0 ? 0 : ((size - 1) >>> CHUNK_BITS) + 1;
    this.fields.length = chunks;
    this.ids.length = chunks;
    this.idBytes.length = chunks;
    this.table.fill(0);
    this.overflow.clear();
    for (let no = 0; no < this.count; no++) this.place(no);
  }

  /** Adds every entry of an opened index file (see indexFile.openIndex). */
  addIndexFile(data: Buffer, what: string): void {
    // Validate the whole file first, so a file damaged halfway adds nothing rather than half its entries.
    walkIndex(
      data,
      what,
      () => undefined,
      () => undefined,
    );
    let pack = 0;
    walkIndex(
      data,
      what,
      (packId) => {
        pack = this.packNumber(packId);
      },
      (at) => this.addEntryAt(pack, data, at),
    );
  }

  /**
   * addIndexFile with turns of the event loop (a store's index is opened in the editor's host): validated
   * whole first, so a file damaged halfway adds nothing, then added.
   */
  async addIndexFileInTurns(data: Buffer, what: string): Promise<void> {
    await walkIndexInTurns(
      data,
      what,
      () => undefined,
      () => undefined,
    );
    let pack = 0;
    await walkIndexInTurns(
      data,
      what,
      (packId) => {
        pack = this.packNumber(packId);
      },
      (at) => this.addEntryAt(pack, data, at),
    );
  }

  addPack(packId: string, entries: readonly PackEntry[]): void {
    const pack = this.packNumber(packId);
    for (const e of entries) {
      if (!this.toScratch(e.id)) continue;
      this.insertScratch(
        pack,
        e.offset,
        e.length,
        e.rawLength,
        (e.type === 'tree' ? 1 : 0) | (entryFlags(e) << 1),
        e.inner ?? 0,
      );
    }
  }

  /** How many data blobs (not trees) it holds. */
  dataCount(): number {
    let count = 0;
    for (let no = 0; no < this.count; no++)
      if ((this.fields[no >>> CHUNK_BITS][(no & (CHUNK - 1)) * FIELDS + 4] & 1) === 0) count++;
    return count;
  }

  /** A pack number for blobs added before the pack's id is known (a writer's open pack); see namePack. */
  reservePack(): number {
    this.packIds.push('');
    return this.packIds.length - 1;
  }

  /** Gives a reserved pack its id, once it is known (the hash of the pack's bytes). */
  namePack(pack: number, packId: string): void {
    this.packIds[pack] = packId;
    if (!this.packNumbers.has(packId)) this.packNumbers.set(packId, pack);
  }

  /** Adds one blob unless its id is known already; returns whether it was added (as the next slot, `size - 1`). */
  addBlob(
    pack: number,
    id: string,
    type: BlobType,
    offset: number,
    length: number,
    rawLength: number,
    compressed: boolean,
    inner?: number,
  ): boolean {
    if (!this.toScratch(id) || this.findScratch() >= 0) return false;
    const flags = (compressed ? 1 : 0) | (inner !== undefined ? 2 : 0); // as pack.ts entryFlags
    this.insertScratch(pack, offset, length, rawLength, (type === 'tree' ? 1 : 0) | (flags << 1), inner ?? 0);
    return true;
  }

  /** Slots [from, to) in a pack header's binary layout (see pack.ts ENTRY_SIZE), in slot order, into `out` at `at`. */
  writeRawEntries(from: number, to: number, out: Buffer, at: number): void {
    for (let no = from; no < to; no++) this.writeRaw(no, out, at + (no - from) * ENTRY_SIZE);
  }

  private writeRaw(no: number, out: Buffer, at: number): void {
    const f = this.fields[no >>> CHUNK_BITS];
    const base = (no & (CHUNK - 1)) * FIELDS;
    const idAt = (no & (CHUNK - 1)) * WORDS * 4;
    out[at] = f[base + 4] & 1;
    out[at + 1] = f[base + 4] >>> 1;
    this.idBytes[no >>> CHUNK_BITS].copy(out, at + 2, idAt, idAt + 32);
    out.writeUInt32LE(f[base + 1], at + 34);
    out.writeUInt32LE(f[base + 2], at + 38);
    out.writeUInt32LE(f[base + 3], at + 42);
    out.writeUInt32LE(f[base + 5], at + 46);
  }

  /** Adds every entry of another index (a writer's, once its packs and index file are durable). */
  addAll(other: MemoryIndex): void {
    for (let no = 0; no < other.count; no++) {
      const f = other.fields[no >>> CHUNK_BITS];
      const base = (no & (CHUNK - 1)) * FIELDS;
      const words = other.ids[no >>> CHUNK_BITS];
      const at = (no & (CHUNK - 1)) * WORDS;
      for (let w = 0; w < WORDS; w++) this.scratchWords[w] = words[at + w];
      this.insertScratch(
        this.packNumber(other.packIds[f[base]]),
        f[base + 1],
        f[base + 2],
        f[base + 3],
        f[base + 4],
        f[base + 5],
      );
    }
  }

  /** Writes a 64-character hex id into scratch; false for anything else (which no blob has). */
  private toScratch(id: string): boolean {
    return id.length === 64 && this.scratch.write(id, 0, 32, 'hex') === 32;
  }

  private find(id: string): number {
    return this.toScratch(id) ? this.findScratch() : -1;
  }

  has(id: string): boolean {
    return this.find(id) >= 0;
  }

  get(id: string): IndexLocation | undefined {
    const no = this.find(id);
    return no < 0 ? undefined : this.at(no);
  }

  private at(no: number): IndexLocation {
    const f = this.fields[no >>> CHUNK_BITS];
    const base = (no & (CHUNK - 1)) * FIELDS;
    const typeFlags = f[base + 4];
    const type: BlobType = typeFlags & 1 ? 'tree' : 'data';
    const at = (no & (CHUNK - 1)) * WORDS * 4;
    return {
      id: this.idBytes[no >>> CHUNK_BITS].toString('hex', at, at + 32),
      packId: this.packIds[f[base]],
      offset: f[base + 1],
      length: f[base + 2],
      rawLength: f[base + 3],
      type,
      ...applyFlags(typeFlags >>> 1, f[base + 5]),
    };
  }

  /**
   * The raw layout of an index file naming every blob held (see indexFile.ts; deflate and seal it with
   * sealIndex), in pieces of at most about `pieceBytes`, written straight from the arrays: no entry becomes
   * an object on the way, and the whole layout is never one buffer. Entries are grouped by pack (packs in
   * the order first seen), in the order added within a pack. With `reuse` every piece is the same buffer
   * refilled: only for a consumer done with a piece before it asks for the next (compression.deflateInto).
   */
  *rawPieces(pieceBytes = INDEX_PIECE, reuse = false): Generator<Buffer> {
    const packs = this.packIds.length;
    const perPack = new Uint32Array(packs);
    for (let no = 0; no < this.count; no++) perPack[this.fields[no >>> CHUNK_BITS][(no & (CHUNK - 1)) * FIELDS]]++;
    // Slot numbers sorted by pack (a counting sort): 4 bytes a blob, for the duration of the encoding.
    const start = new Uint32Array(packs + 1);
    for (let p = 0; p < packs; p++) start[p + 1] = start[p] + perPack[p];
    const fill = start.slice(0, packs);
    const order = new Uint32Array(this.count);
    for (let no = 0; no < this.count; no++)
      order[fill[this.fields[no >>> CHUNK_BITS][(no & (CHUNK - 1)) * FIELDS]]++] = no;
    let used = 0;
    for (let p = 0; p < packs; p++) if (perPack[p] > 0) used++;
    // No bigger than the whole layout: an on-save snapshot's index is a few hundred bytes, not a 1 MiB piece.
    const whole = 8 + used * 36 + this.count * ENTRY_SIZE;
    const size = Math.min(Math.max(pieceBytes, 36 + ENTRY_SIZE), whole);
    let piece = Buffer.alloc(size);
    let at = 8;
    INDEX_MAGIC.copy(piece, 0);
    piece.writeUInt32LE(used, 4);
    for (let p = 0; p < packs; p++) {
      if (perPack[p] === 0) continue;
      if (this.packIds[p] === '') throw new Error('An index cannot name a pack whose id is not known yet.');
      if (at + 36 + ENTRY_SIZE > size) {
        yield piece.subarray(0, at);
        if (!reuse) piece = Buffer.alloc(size);
        at = 0;
      }
      piece.write(this.packIds[p], at, 32, 'hex');
      piece.writeUInt32LE(perPack[p], at + 32);
      at += 36;
      for (let i = start[p]; i < start[p + 1]; i++) {
        if (at + ENTRY_SIZE > size) {
          yield piece.subarray(0, at);
          if (!reuse) piece = Buffer.alloc(size);
          at = 0;
        }
        this.writeRaw(order[i], piece, at);
        at += ENTRY_SIZE;
      }
    }
    yield piece.subarray(0, at);
  }

  /** Every indexed blob, in the order added (so a writer's blobs come pack by pack), for verify, prune and index files. */
  *all(): Generator<IndexLocation> {
    for (let no = 0; no < this.count; no++) yield this.at(no);
  }
}
