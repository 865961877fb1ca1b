// The in-memory index: blob id -> pack, offset, lengths. Built for 100,000s of blobs: entries live in
// typed arrays and a Map keyed by a 48-bit id prefix, not as one object and one 64-character string each,
// so opening a store costs milliseconds and little memory. Invariant: a lookup answers only for the exact
// full id (prefix collisions are resolved by comparing all 32 bytes).

import type { BlobType, PackEntry } from './pack';
import { applyFlags, entryFlags } from './pack';
import { walkIndex } from './indexFile';

export interface IndexLocation extends PackEntry {
  packId: string;
}

const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const FIELDS = 6; // pack number, offset, length, rawLength, type | flags << 1, inner

function prefixOf(hex: string): number {
  return parseInt(hex.slice(0, 12), 16);
}

export class MemoryIndex {
  private readonly packIds: string[] = [];
  private readonly packNumbers = new Map<string, number>();
  private readonly fields: Uint32Array[] = [];
  private readonly ids: Buffer[] = [];
  private readonly byPrefix = new Map<number, number>();
  /** Ids whose 48-bit prefix another id already holds (about one in 10^9 pairs at a million blobs). */
  private readonly collisions = new Map<string, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  private packNumber(packId: string): number {
    let n = this.packNumbers.get(packId);
    if (n === undefined) {
      n = this.packIds.length;
      this.packIds.push(packId);
      this.packNumbers.set(packId, n);
    }
    return n;
  }

  private slot(): number {
    const no = this.count++;
    if ((no & (CHUNK - 1)) === 0) {
      this.fields.push(new Uint32Array(CHUNK * FIELDS));
      this.ids.push(Buffer.alloc(CHUNK * 32));
    }
    return no;
  }

  private idEquals(no: number, id: Buffer, idAt: number): boolean {
    return this.ids[no >>> CHUNK_BITS].compare(id, idAt, idAt + 32, (no & (CHUNK - 1)) * 32, (no & (CHUNK - 1)) * 32 + 32) === 0;
  }

  /** Adds one blob unless its id is known already (the first location wins; duplicates are harmless). */
  private insert(id: Buffer, idAt: number, pack: number, offset: number, length: number, rawLength: number, typeFlags: number, inner: number): void {
    const prefix = id.readUIntBE(idAt, 6);
    const existing = this.byPrefix.get(prefix);
    if (existing !== undefined) {
      if (this.idEquals(existing, id, idAt)) return;
      const hex = id.toString('hex', idAt, idAt + 32);
      if (this.collisions.has(hex)) return;
      this.collisions.set(hex, this.store(id, idAt, pack, offset, length, rawLength, typeFlags, inner));
      return;
    }
    this.byPrefix.set(prefix, this.store(id, idAt, pack, offset, length, rawLength, typeFlags, inner));
  }

  private store(id: Buffer, idAt: number, pack: number, offset: number, length: number, rawLength: number, typeFlags: number, inner: number): number {
    const no = this.slot();
    const f = this.fields[no >>> CHUNK_BITS];
    const base = (no & (CHUNK - 1)) * FIELDS;
    f[base] = pack;
    f[base + 1] = offset;
    f[base + 2] = length;
    f[base + 3] = rawLength;
    f[base + 4] = typeFlags;
    f[base + 5] = inner;
    id.copy(this.ids[no >>> CHUNK_BITS], (no & (CHUNK - 1)) * 32, idAt, idAt + 32);
    return no;
  }

  /** Adds every entry of an opened index file (see indexFile.openIndex). */
  addIndexFile(data: Buffer, what: string): void {
    // Validate the whole file first, so a file damaged halfway adds nothing rather than half its entries.
    walkIndex(data, what, () => undefined, () => undefined);
    let pack = 0;
    walkIndex(
      data,
      what,
      (packId) => {
        pack = this.packNumber(packId);
      },
      (at) => {
        const typeFlags = data[at] | (data[at + 1] << 1);
        this.insert(data, at + 2, pack, data.readUInt32LE(at + 34), data.readUInt32LE(at + 38), data.readUInt32LE(at + 42), typeFlags, data.readUInt32LE(at + 46));
      },
    );
  }

  addPack(packId: string, entries: readonly PackEntry[]): void {
    const pack = this.packNumber(packId);
    for (const e of entries) {
      this.insert(Buffer.from(e.id, 'hex'), 0, pack, e.offset, e.length, e.rawLength, (e.type === 'tree' ? 1 : 0) | (entryFlags(e) << 1), e.inner ?? 0);
    }
  }

  private find(id: string): number | undefined {
    if (id.length !== 64) return undefined;
    const no = this.byPrefix.get(prefixOf(id));
    if (no === undefined) return undefined;
    const bytes = Buffer.from(id, 'hex');
    if (this.idEquals(no, bytes, 0)) return no;
    return this.collisions.get(id);
  }

  has(id: string): boolean {
    return this.find(id) !== undefined;
  }

  get(id: string): IndexLocation | undefined {
    const no = this.find(id);
    return no === undefined ? undefined : this.at(no);
  }

  private at(no: number): IndexLocation {
    const f = this.fields[no >>> CHUNK_BITS];
    const base = (no & (CHUNK - 1)) * FIELDS;
    const typeFlags = f[base + 4];
    const type: BlobType = typeFlags & 1 ? 'tree' : 'data';
    return {
      id: this.ids[no >>> CHUNK_BITS].toString('hex', (no & (CHUNK - 1)) * 32, (no & (CHUNK - 1)) * 32 + 32),
      packId: this.packIds[f[base]],
      offset: f[base + 1],
      length: f[base + 2],
      rawLength: f[base + 3],
      type,
      ...applyFlags(typeFlags >>> 1, f[base + 5]),
    };
  }

  /** Every indexed blob, for verify and prune. */
  *all(): Generator<IndexLocation> {
    for (let no = 0; no < this.count; no++) yield this.at(no);
  }
}
