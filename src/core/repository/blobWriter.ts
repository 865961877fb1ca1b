// Collects the new blobs of one operation (a snapshot) into bundles and packs, dedups against the index
// and against itself, and makes everything durable and visible at `finish`.
// Invariants: packs are written before the index file that names them; memory stays bounded (one open
// pack, at most MAX_PACKS_IN_FLIGHT being written) however fast files are read, and what it remembers of
// the packs it wrote is a compact table (MemoryIndex), not an object and a string per blob.

import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { BackendStream } from '../storage/backend';
import { compress } from './compression';
import type { Packed } from './compression';
import type { IndexedPack } from './indexFile';
import { INDEX_PIECE, MemoryIndex } from './memoryIndex';
import { yieldIfBusy } from '../eventLoop';
import type { BlobType } from './pack';
import { ENTRY_SIZE, packKey, packTrailerParts } from './pack';
import type { Repository } from './repository';
import { canonicalBytes, canonicalTree } from './tree';
import type { TreeEntry } from './tree';

/** Target size of a pack: big enough that a first snapshot writes few files, small enough to rewrite in prune. */
export const PACK_SIZE = 16 * 1024 * 1024;
/** Pack entries written into a trailer between two chances for the loop to turn (well under 1 ms of work). */
const TRAILER_SLICE = 1024;
/** Trailer bytes hashed between two chances for the loop to turn. */
const HASH_SLICE = 512 * 1024;
const MAX_PACKS_IN_FLIGHT = 1;
/** A streaming pack hands its bytes to the backend in pieces of about this much... */
const STREAM_PIECE = 1024 * 1024;
/** ...and adding waits while more than this is queued for it (the disk is slower than reading). */
const STREAM_QUEUED = 4 * 1024 * 1024;
/** Blobs below this size are compressed together in bundles of about BUNDLE_SIZE. */
export const BUNDLE_BELOW = 32 * 1024;
export const BUNDLE_SIZE = 128 * 1024;

interface OpenBundle {
  parts: Buffer[];
  members: Array<{ type: BlobType; id: string; inner: number; rawLength: number }>;
  size: number;
}

interface OpenPack {
  /** Bytes appended and not yet handed to the stream (without a stream: every byte, until the pack is saved). */
  parts: Buffer[];
  /** Its number in the writer's table (reserved at the first append; named once its id is known)... */
  number: number;
  /** ...and its blobs, which are that table's slots [first, first + count): no object per blob. */
  first: number;
  count: number;
  size: number;
  /** SHA-256 of every byte appended so far: the pack's id once its trailer is added. */
  hash: Hash;
  /** The backend's stream (opened at the first append when the backend has one); undefined after a failed open. */
  stream?: Promise<BackendStream | undefined>;
  /** The chain of stream writes, in order. */
  writing: Promise<void>;
  /** Bytes in `parts`. */
  gathered: number;
  /** Bytes handed to `writing` and not yet written. */
  queued: number;
}

function emptyBundle(): OpenBundle {
  return { parts: [], members: [], size: 0 };
}

function newPack(): OpenPack {
  return {
    parts: [],
    number: -1,
    first: 0,
    count: 0,
    size: 0,
    hash: createHash('sha256'),
    writing: Promise.resolve(),
    gathered: 0,
    queued: 0,
  };
}

/**
 * Collects new blobs of one operation into packs. Dedups against the index and against itself, so two
 * identical files in one snapshot are stored once. `finish` makes everything durable and visible.
 */
export class BlobWriter {
  private current: OpenPack = newPack();
  /** Whether packs go to the backend as they are filled (a local folder) or are gathered first (remote). */
  private readonly streams: boolean;
  /**
   * One open bundle per blob type: trees are bundled with trees, never between file data, so a walk of a
   * snapshot's trees (restore, verify, diff) decompresses a few small bundles of trees, not a bundle of
   * files for every folder.
   */
  private bundles: Record<BlobType, OpenBundle> = { data: emptyBundle(), tree: emptyBundle() };
  /** Ids added and not yet in a pack (the open bundle, blobs being compressed). */
  private readonly pending = new Set<string>();
  private readonly writes: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /**
   * Every blob put into a pack: the packs written and durable, the one being written, the open one (these
   * two under reserved pack numbers until their ids are known). Dedup asks it; `finish` writes it out.
   */
  private written = new MemoryIndex();
  /** Every pack this writer began to save, with its size: what `abandon` removes (a failed save may leave it whole). */
  private readonly started = new Map<string, number>();
  private failure: unknown;
  bytesAdded = 0;
  dataAdded = 0;
  blobsAdded = 0;
  /** The index file `finish` wrote, if it wrote one (prune replaces it with its own). */
  indexKey: string | undefined;

  /** Whether `packs` is wanted after `finish` (prune); otherwise the table of written blobs is let go then. */
  private readonly keepPacks: boolean;

  constructor(
    private readonly repo: Repository,
    options: { keepPacks?: boolean } = {},
  ) {
    this.keepPacks = options.keepPacks === true;
    this.streams = typeof repo.backend.openStream === 'function';
  }

  /** The packs written and durable so far, with their entries (prune indexes them itself); after `finish` only with keepPacks. */
  get packs(): readonly IndexedPack[] {
    const byPack = new Map<string, IndexedPack>();
    for (const { packId, ...entry } of this.written.all()) {
      let pack = byPack.get(packId);
      if (!pack) byPack.set(packId, (pack = { packId, entries: [] }));
      pack.entries.push(entry);
    }
    return [...byPack.values()];
  }

  /**
   * Stores `plain` unless the store already has it; returns its id. `rewrite` stores it even when the index
   * knows it (prune copies still-needed blobs out of packs it is about to delete).
   */
  async add(type: BlobType, plain: Buffer, options: { rewrite?: boolean } = {}): Promise<string> {
    const id = this.repo.codec.id(plain);
    if ((!options.rewrite && this.repo.hasBlob(id)) || this.pending.has(id) || this.written.has(id)) return id;
    this.pending.add(id);
    this.dataAdded += plain.length;
    this.blobsAdded++;
    if (plain.length < BUNDLE_BELOW) {
      const bundle = this.bundles[type];
      bundle.members.push({ type, id, inner: bundle.size, rawLength: plain.length });
      bundle.parts.push(plain);
      bundle.size += plain.length;
      if (bundle.size >= BUNDLE_SIZE) {
        this.bundles[type] = emptyBundle();
        await this.storeBundle(bundle);
      }
    } else {
      this.append([{ type, id, rawLength: plain.length }], await compress(plain), false);
    }
    await this.backpressure();
    if (this.failure) {
      await this.dropOpenPack();
      throw this.failure;
    }
    return id;
  }

  /**
   * Once the writer has failed nothing can be committed: the open pack's temp file is closed and removed
   * now, since a caller that stops at the error without `abandon` (prune) must not leave it behind.
   */
  private async dropOpenPack(): Promise<void> {
    const open = this.current;
    if (!open.stream) return;
    this.current = newPack();
    await open.writing.catch(() => undefined);
    await (await open.stream)?.abort();
  }

  private async storeBundle(bundle: OpenBundle): Promise<void> {
    if (bundle.members.length === 0) return;
    if (bundle.members.length === 1) {
      const [only] = bundle.members;
      this.append(
        [{ type: only.type, id: only.id, rawLength: only.rawLength }],
        await compress(bundle.parts[0]),
        false,
      );
      return;
    }
    this.append(bundle.members, await compress(Buffer.concat(bundle.parts, bundle.size)), true);
  }

  /** Puts one stored unit into the current pack (synchronously, so concurrent adds never interleave). */
  private append(
    members: ReadonlyArray<{ type: BlobType; id: string; rawLength: number; inner?: number }>,
    packed: Packed,
    bundled: boolean,
  ): void {
    let sealed = this.repo.codec.seal(packed.data);
    // zlib hands back small results as views of larger chunks; holding the view would hold the chunk.
    if (sealed.byteLength * 2 < sealed.buffer.byteLength) sealed = Buffer.from(sealed);
    const pack = this.current;
    if (pack.number < 0) {
      pack.number = this.written.reservePack();
      pack.first = this.written.size;
    }
    for (const m of members) {
      const added = this.written.addBlob(
        pack.number,
        m.id,
        m.type,
        pack.size,
        sealed.length,
        m.rawLength,
        packed.compressed,
        bundled ? (m.inner ?? 0) : undefined,
      );
      // A pack's blobs must be consecutive slots; `add` never lets the same id in twice.
      if (!added || this.written.size !== pack.first + pack.count + 1)
        throw new Error(`Blob ${m.id.slice(0, 12)} was put into a pack twice.`);
      pack.count++;
      this.pending.delete(m.id);
    }
    pack.parts.push(sealed);
    pack.gathered += sealed.length;
    pack.size += sealed.length;
    pack.hash.update(sealed);
    if (this.streams) {
      if (!pack.stream) {
        pack.stream = this.repo.backend.openStream!('data').catch((error: unknown) => {
          this.failure ??= error;
          return undefined;
        });
      }
      if (pack.gathered >= STREAM_PIECE) this.drain(pack);
    }
    if (pack.size >= PACK_SIZE) this.flushPack();
  }

  /** Hands the pack's gathered bytes to its stream, after what was handed before. */
  private drain(pack: OpenPack): void {
    if (pack.parts.length === 0) return;
    const parts = pack.parts;
    const bytes = pack.gathered;
    pack.parts = [];
    pack.gathered = 0;
    pack.queued += bytes;
    pack.writing = pack.writing.then(async () => {
      const stream = await pack.stream;
      if (!stream) throw this.failure;
      await stream.write(parts);
      pack.queued -= bytes;
    });
    // The chain stays rejected for whoever awaits it; the failure is also the writer's.
    pack.writing.catch((error: unknown) => {
      this.failure ??= error;
    });
  }

  /** Reading is faster than writing: hold at most a few MiB queued for the open pack, and one pack being committed (a gathered one is 16 MiB held). */
  private async backpressure(): Promise<void> {
    while (this.current.queued > STREAM_QUEUED && !this.failure) await this.current.writing.catch(() => undefined);
    while (this.inFlight.size > MAX_PACKS_IN_FLIGHT) await Promise.race(this.inFlight);
  }

  /**
   * Stores a tree and, with `remember` (the default), keeps it parsed, since the next save reads the trees
   * on its paths again. A full scan does not: it writes every folder's tree, and keeping each for a while
   * only made 200,000 entries' objects live long enough to fill the old generation with garbage.
   */
  async addTree(entries: readonly TreeEntry[], options: { remember?: boolean } = {}): Promise<string> {
    // The canonical entries are what decodeTree would give back for these bytes: remembered as they are.
    const tree = canonicalTree(entries);
    const id = await this.add('tree', canonicalBytes(tree));
    if (options.remember !== false) this.repo.rememberTree(id, tree);
    return id;
  }

  /**
   * The pack's trailer, built and hashed into the pack's id a slice at a time with turns of the loop between:
   * at 200,000 small files a pack lists about 100,000 blobs, and building and hashing its 5 MiB header in one
   * go held the editor's event loop 26-33 ms at every pack (#16).
   */
  private async trailerOf(pack: OpenPack, written: MemoryIndex): Promise<[Buffer, Buffer]> {
    const header = Buffer.allocUnsafe(pack.count * ENTRY_SIZE);
    for (let from = 0; from < pack.count; from += TRAILER_SLICE) {
      const to = Math.min(pack.count, from + TRAILER_SLICE);
      written.writeRawEntries(pack.first + from, pack.first + to, header, from * ENTRY_SIZE);
      const turn = yieldIfBusy();
      if (turn) await turn;
    }
    const trailer = packTrailerParts(header, this.repo.codec);
    for (const part of trailer) {
      for (let at = 0; at < part.length; at += HASH_SLICE) {
        pack.hash.update(part.subarray(at, at + HASH_SLICE));
        const turn = yieldIfBusy();
        if (turn) await turn;
      }
    }
    return trailer;
  }

  private flushPack(): void {
    const pack = this.current;
    this.current = newPack();
    if (pack.count === 0) return;
    const written = this.written;
    const write = (async () => {
      const trailer = await this.trailerOf(pack, written);
      const trailerLength = trailer[0].length + trailer[1].length;
      const packId = pack.hash.digest('hex');
      this.started.set(packId, pack.size + trailerLength);
      if (pack.stream) {
        pack.parts.push(...trailer);
        pack.gathered += trailerLength;
        this.drain(pack);
        try {
          await pack.writing;
          const stream = await pack.stream;
          if (!stream) throw this.failure;
          await stream.commit(packKey(packId));
        } catch (error) {
          await (await pack.stream)?.abort();
          throw error;
        }
      } else {
        await this.repo.backend.save(packKey(packId), [...pack.parts, ...trailer]);
      }
      written.namePack(pack.number, packId);
      this.bytesAdded += pack.size + trailerLength;
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
    const open = this.bundles;
    this.bundles = { data: emptyBundle(), tree: emptyBundle() };
    await this.storeBundle(open.data);
    await this.storeBundle(open.tree);
    this.flushPack();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure;
    if (this.written.size === 0) return;
    const { key: indexKey, bytes } = await this.repo.saveDeflated(
      'index',
      this.written.rawPieces(INDEX_PIECE, true),
      (sha256) => `index/${sha256}`,
    );
    this.bytesAdded += bytes;
    this.indexKey = indexKey;
    // The repository takes the table over when its own index is empty (a first snapshot), rather than copying it.
    this.repo.registerPacks(this.written, indexKey, !this.keepPacks);
    if (!this.keepPacks) this.written = new MemoryIndex();
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
    this.bundles = { data: emptyBundle(), tree: emptyBundle() };
    const open = this.current;
    this.current = newPack();
    this.failure ??= new Error('abandoned');
    // The open pack's temp file goes too (it was never committed under any key).
    await open.writing.catch(() => undefined);
    await (await open.stream)?.abort();
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
    this.written = new MemoryIndex();
    return result;
  }
}
