// Collects the new blobs of one operation (a snapshot) into bundles and packs, dedups against the index
// and against itself, and makes everything durable and visible at `finish`.
// Invariants: packs are written before the index file that names them; memory stays bounded (one open
// pack, at most MAX_PACKS_IN_FLIGHT being written) however fast files are read.

import { createHash } from 'node:crypto';
import { compress } from './compression';
import type { Packed } from './compression';
import { encodeIndex } from './indexFile';
import type { IndexedPack } from './indexFile';
import type { BlobType, PackEntry } from './pack';
import { packKey, packTrailer } from './pack';
import type { Repository } from './repository';
import { decodeTree, encodeTree } from './tree';
import type { TreeEntry } from './tree';
import { sha256Hex } from './codec';

/** Target size of a pack: big enough that a first snapshot writes few files, small enough to rewrite in prune. */
export const PACK_SIZE = 16 * 1024 * 1024;
const MAX_PACKS_IN_FLIGHT = 1;
/** Blobs below this size are compressed together in bundles of about BUNDLE_SIZE. */
export const BUNDLE_BELOW = 32 * 1024;
export const BUNDLE_SIZE = 128 * 1024;

interface OpenBundle {
  parts: Buffer[];
  members: Array<{ type: BlobType; id: string; inner: number; rawLength: number }>;
  size: number;
}

interface OpenPack {
  parts: Buffer[];
  entries: PackEntry[];
  size: number;
}

/**
 * Collects new blobs of one operation into packs. Dedups against the index and against itself, so two
 * identical files in one snapshot are stored once. `finish` makes everything durable and visible.
 */
export class BlobWriter {
  private current: OpenPack = { parts: [], entries: [], size: 0 };
  private bundle: OpenBundle = { parts: [], members: [], size: 0 };
  private readonly pending = new Set<string>();
  private readonly writes: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly written: IndexedPack[] = [];
  /** Every pack this writer began to save, with its size: what `abandon` removes (a failed save may leave it whole). */
  private readonly started = new Map<string, number>();
  private failure: unknown;
  bytesAdded = 0;
  dataAdded = 0;
  blobsAdded = 0;
  /** The index file `finish` wrote, if it wrote one (prune replaces it with its own). */
  indexKey: string | undefined;

  constructor(private readonly repo: Repository) {}

  /** The packs written and durable so far, with their entries (prune indexes them itself). */
  get packs(): readonly IndexedPack[] {
    return this.written;
  }

  /**
   * Stores `plain` unless the store already has it; returns its id. `rewrite` stores it even when the index
   * knows it (prune copies still-needed blobs out of packs it is about to delete).
   */
  async add(type: BlobType, plain: Buffer, options: { rewrite?: boolean } = {}): Promise<string> {
    const id = this.repo.codec.id(plain);
    if ((!options.rewrite && this.repo.hasBlob(id)) || this.pending.has(id)) return id;
    this.pending.add(id);
    this.dataAdded += plain.length;
    this.blobsAdded++;
    if (plain.length < BUNDLE_BELOW) {
      const bundle = this.bundle;
      bundle.members.push({ type, id, inner: bundle.size, rawLength: plain.length });
      bundle.parts.push(plain);
      bundle.size += plain.length;
      if (bundle.size >= BUNDLE_SIZE) {
        this.bundle = { parts: [], members: [], size: 0 };
        await this.storeBundle(bundle);
      }
    } else {
      this.append([{ type, id, rawLength: plain.length }], await compress(plain), false);
    }
    await this.backpressure();
    if (this.failure) throw this.failure;
    return id;
  }

  private async storeBundle(bundle: OpenBundle): Promise<void> {
    if (bundle.members.length === 0) return;
    if (bundle.members.length === 1) {
      const [only] = bundle.members;
      this.append([{ type: only.type, id: only.id, rawLength: only.rawLength }], await compress(bundle.parts[0]), false);
      return;
    }
    this.append(bundle.members, await compress(Buffer.concat(bundle.parts, bundle.size)), true);
  }

  /** Puts one stored unit into the current pack (synchronously, so concurrent adds never interleave). */
  private append(members: ReadonlyArray<{ type: BlobType; id: string; rawLength: number; inner?: number }>, packed: Packed, bundled: boolean): void {
    let sealed = this.repo.codec.seal(packed.data);
    // zlib hands back small results as views of larger chunks; holding the view would hold the chunk.
    if (sealed.byteLength * 2 < sealed.buffer.byteLength) sealed = Buffer.from(sealed);
    const offset = this.current.size;
    for (const m of members) {
      this.current.entries.push({
        type: m.type,
        id: m.id,
        offset,
        length: sealed.length,
        rawLength: m.rawLength,
        compressed: packed.compressed,
        ...(bundled ? { inner: m.inner ?? 0 } : {}),
      });
    }
    this.current.parts.push(sealed);
    this.current.size += sealed.length;
    if (this.current.size >= PACK_SIZE) this.flushPack();
  }

  /** Reading is faster than fsync, and every pack waiting to be written is 16 MiB held. */
  private async backpressure(): Promise<void> {
    while (this.inFlight.size > MAX_PACKS_IN_FLIGHT) await Promise.race(this.inFlight);
  }

  /** Stores a tree and remembers it parsed, since the snapshot's diff and the next save read it again. */
  async addTree(entries: readonly TreeEntry[]): Promise<string> {
    const bytes = encodeTree(entries);
    const id = await this.add('tree', bytes);
    this.repo.rememberTree(id, decodeTree(bytes, 'new tree'));
    return id;
  }

  private flushPack(): void {
    const pack = this.current;
    this.current = { parts: [], entries: [], size: 0 };
    if (pack.entries.length === 0) return;
    const write = (async () => {
      const bytes = [...pack.parts, packTrailer(pack.entries, this.repo.codec)];
      // Hash the parts in place: concatenating a 16 MiB pack just to hash it doubled peak memory.
      const hash = createHash('sha256');
      for (const part of bytes) hash.update(part);
      const packId = hash.digest('hex');
      this.started.set(packId, bytes.reduce((n, part) => n + part.length, 0));
      await this.repo.backend.save(packKey(packId), bytes);
      this.written.push({ packId, entries: pack.entries });
      for (const part of bytes) this.bytesAdded += part.length;
    })();
    const tracked = write.then(
      () => {
        this.inFlight.delete(tracked);
      },
      (error) => {
        this.failure ??= error;
        this.inFlight.delete(tracked);
      },
    );
    this.inFlight.add(tracked);
    this.writes.push(write);
  }

  /** Writes the last pack and the index. After this resolves, every blob added is durable and indexed. */
  async finish(): Promise<void> {
    const bundle = this.bundle;
    this.bundle = { parts: [], members: [], size: 0 };
    await this.storeBundle(bundle);
    this.flushPack();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure;
    if (this.written.length === 0) return;
    const indexBytes = encodeIndex(this.written, this.repo.codec);
    const indexKey = `index/${sha256Hex(indexBytes)}`;
    await this.repo.backend.save(indexKey, indexBytes);
    this.bytesAdded += indexBytes.length;
    this.indexKey = indexKey;
    this.repo.registerPacks(this.written, indexKey);
  }

  /**
   * After a failure before `finish` wrote the index: removes the packs this writer wrote, which no index
   * names, so no other process can use them (a full disk must not stay full of a failed snapshot's data).
   * A pack some index names after all (another writer stored the same bytes and indexed them) is kept.
   * Never throws; returns the bytes removed and the bytes it could not remove. Idempotent.
   */
  async abandon(): Promise<{ removed: number; left: number }> {
    const result = { removed: 0, left: 0 };
    if (this.indexKey) return result;
    this.bundle = { parts: [], members: [], size: 0 };
    this.current = { parts: [], entries: [], size: 0 };
    this.failure ??= new Error('abandoned');
    await Promise.allSettled(this.writes);
    if (this.started.size === 0) return result;
    await this.repo.refreshIndex().catch(() => undefined);
    const named = new Set<string>();
    for (const at of this.repo.indexed()) if (this.started.has(at.packId)) named.add(at.packId);
    for (const [packId, size] of this.started) {
      if (named.has(packId)) continue;
      try {
        await this.repo.backend.remove(packKey(packId));
        result.removed += size;
      } catch {
        result.left += size;
      }
    }
    this.started.clear();
    this.written.length = 0;
    return result;
  }
}
