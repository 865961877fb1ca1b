// The index as verify reads it from disk (no caches): where each blob is, and for each pack the raw index
// entries naming it (ENTRY_SIZE bytes each: 52 bytes a blob, not an object), decoded only when that pack
// is checked. A damaged index file is refused whole, so its blobs count as missing where they are needed.

import type { ObjectCodec } from '../repository/codec';
import { openIndexAsync, walkIndexInTurns, walkIndexPieces } from '../repository/indexFile';
import type { IndexLocation } from '../repository/memoryIndex';
import { MemoryIndex } from '../repository/memoryIndex';
import type { PackEntry } from '../repository/pack';
import { ENTRY_SIZE, readEntry } from '../repository/pack';

export class PackIndex {
  private readonly index = new MemoryIndex();
  private readonly packEntries = new Map<string, Buffer[]>();

  constructor(private readonly codec: ObjectCodec) {}

  /** Adds the index file stored at `key`. Throws OBJECT_DAMAGED, having added nothing, when it is damaged. */
  async add(key: string, sealed: Buffer): Promise<void> {
    const what = `Index file ${key}`;
    const slices: Array<[string, Buffer]> = [];
    // Inflated on the thread pool and walked in turns: verify runs in the editor's host too (#16).
    const data = await openIndexAsync(sealed, this.codec, what);
    // Walk once to validate and find each pack's run of entries; only a whole, valid file is used.
    let pack = '';
    let first = -1;
    let last = -1;
    const close = () => {
      if (first >= 0) slices.push([pack, data.subarray(first, last + ENTRY_SIZE)]);
      first = last = -1;
    };
    await walkIndexInTurns(
      data,
      what,
      (packId) => {
        close();
        pack = packId;
      },
      (at) => {
        if (first < 0) first = at;
        last = at;
      },
    );
    close();
    await this.index.addIndexFileInTurns(data, what);
    for (const [packId, slice] of slices) {
      let list = this.packEntries.get(packId);
      if (!list) this.packEntries.set(packId, (list = []));
      list.push(slice);
    }
  }

  /**
   * Adds the plain index file whose deflated bytes come as `pieces` (read as they are consumed): the file is
   * never whole in memory, only each pack's run of entries is kept, copied out as it is inflated. Throws
   * OBJECT_DAMAGED, having added nothing, when it is damaged.
   */
  async addPieces(key: string, pieces: AsyncIterable<Buffer>): Promise<void> {
    const what = `Index file ${key}`;
    const before = this.index.size;
    const runs: Array<[string, Buffer[]]> = [];
    let run: Buffer[] = [];
    // Runs are copied into shared slabs of 8,192 entries, each pack's run a slice of one: a fresh slab for
    // every pack (hundreds of small packs in a store of on-save snapshots) allocated and zeroed 400 KiB a
    // pack, which held the editor's loop 49 ms in verify and kept a slab per pack alive (#16).
    let buffer = Buffer.allocUnsafe(0);
    let used = 0;
    let start = 0;
    const keep = () => {
      if (used > start) run.push(buffer.subarray(start, used));
      start = used;
    };
    let pack = 0;
    try {
      await walkIndexPieces(
        pieces,
        what,
        (packId) => {
          keep();
          run = [];
          runs.push([packId, run]);
          pack = this.index.packNumber(packId);
        },
        (data, at) => {
          if (used + ENTRY_SIZE > buffer.length) {
            keep();
            // Only the slices up to `used` are ever read: what is past them need not be zeroed.
            buffer = Buffer.allocUnsafe(ENTRY_SIZE * 8192);
            used = start = 0;
          }
          data.copy(buffer, used, at, at + ENTRY_SIZE);
          used += ENTRY_SIZE;
          this.index.addEntryAt(pack, data, at);
        },
      );
      keep();
    } catch (error) {
      this.index.truncate(before);
      throw error;
    }
    for (const [packId, slices] of runs) {
      let list = this.packEntries.get(packId);
      if (!list) this.packEntries.set(packId, (list = []));
      list.push(...slices);
    }
  }

  get(id: string): IndexLocation | undefined {
    return this.index.get(id);
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** Whether the index resolves `id` to this pack (a blob stored twice is read from its first location). */
  usedFrom(id: string, packId: string): boolean {
    return this.index.get(id)?.packId === packId;
  }

  /**
   * The index entries of one pack, decoded one at a time: a pack of bundled small files can hold a whole
   * store's blobs, so they are never all held as objects. In writing order, hence by offset.
   */
  *entriesOf(packId: string): Generator<PackEntry> {
    for (const slice of this.packEntries.get(packId) ?? []) {
      for (let at = 0; at < slice.length; at += ENTRY_SIZE)
        yield readEntry(slice, at, `The index of pack ${packId.slice(0, 12)}`);
    }
  }

  /** Where the last blob the index places in a pack ends (offset + length): how long the pack must be. */
  extentOf(packId: string): number {
    let end = 0;
    for (const slice of this.packEntries.get(packId) ?? []) {
      for (let at = 0; at < slice.length; at += ENTRY_SIZE)
        end = Math.max(end, slice.readUInt32LE(at + 34) + slice.readUInt32LE(at + 38));
    }
    return end;
  }

  /** The packs the index names. */
  packIds(): string[] {
    return [...this.packEntries.keys()];
  }

  get packCount(): number {
    return this.packEntries.size;
  }

  /** Data blobs in the index (trees aside). */
  blobCount(): number {
    return this.index.dataCount();
  }
}
