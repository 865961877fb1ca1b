// The store's files below the index, for the jobs that work on them (#13): prune (which packs and index
// files there are, their sizes, a pack's trailer, the one new index, removing what is unused, old temp
// files), forget's size budget. They ask the repository (`repo.files`) instead of reaching through its
// backend, codec and port, so the backend stays the repository's business.
// Invariant: nothing here decides what may go; it only reads, writes and removes what a job names.

import { isBackupError } from '../errors';
import type { BackupError } from '../errors';
import { Limiter } from '../limiter';
import type { Backend, KeyKind } from '../storage/backend';
import type { FsPort } from '../storage/fsPort';
import { LocalBackend } from '../storage/localBackend';
import { INTERRUPTED_PREFIX } from '../storage/lock';
import type { ObjectCodec } from './codec';
import { sha256Hex } from './codec';
import { decodeIndexAsync, encodeIndexAsync } from './indexFile';
import type { IndexedPack } from './indexFile';
import { packKey } from './pack';

/** A temp file a writer left in the store (only a local store has them where we can see them). */
export interface StoredTemp {
  file: string;
  size: number;
  mtimeMs: number;
}

export class StoreFiles {
  constructor(
    private readonly backend: Backend,
    private readonly codec: ObjectCodec,
    private readonly port: FsPort,
  ) {}

  /** Keys of one kind (`data/…` packs, `index/…` files, `snapshots/…` records). */
  keys(kind: KeyKind): Promise<string[]> {
    return this.backend.list(kind);
  }

  /** Sizes of the given keys (absent ones left out), a few stats at a time. */
  async sizes(keys: readonly string[]): Promise<Map<string, number>> {
    const limiter = new Limiter(16);
    const sizes = new Map<string, number>();
    await Promise.all(
      keys.map((key) =>
        limiter.run(async () => {
          const size = await this.backend.size(key);
          if (size !== undefined) sizes.set(key, size);
        }),
      ),
    );
    return sizes;
  }

  /**
   * One index file, opened and decoded. Reading errors are thrown as they are (OBJECT_MISSING when it went
   * meanwhile); a file that cannot be decoded throws what `damaged` makes of the BackupError saying why.
   */
  async readIndex(key: string, damaged: (error: BackupError) => Error): Promise<IndexedPack[]> {
    const data = await this.backend.load(key);
    try {
      return await decodeIndexAsync(data, this.codec, `Index file ${key}`);
    } catch (error) {
      if (!isBackupError(error)) throw error;
      throw damaged(error);
    }
  }

  /** The bytes an index file naming `packs` takes (what a dry run counts for the index it would write). */
  async indexBytes(packs: readonly IndexedPack[]): Promise<number> {
    return (await encodeIndexAsync([...packs], this.codec)).length;
  }

  /** Writes one index file naming `packs`, unless a file of that content is there already; returns its key. */
  async saveIndex(packs: readonly IndexedPack[], existing: readonly string[]): Promise<string> {
    const bytes = await encodeIndexAsync([...packs], this.codec);
    const key = `index/${sha256Hex(bytes)}`;
    if (!existing.includes(key)) await this.backend.save(key, bytes);
    return key;
  }

  /** The last `length` bytes of a pack of `size` bytes. */
  packTail(packId: string, size: number, length: number): Promise<Buffer> {
    return this.backend.loadRange(packKey(packId), size - length, length);
  }

  /** Removes one key (a pack, an index file, a marker). */
  remove(key: string): Promise<void> {
    return this.backend.remove(key);
  }

  /** Markers interrupted writers left (storage/lock.ts): the packs they point at are unindexed, so prune's business. */
  async interruptedMarkers(): Promise<string[]> {
    return (await this.backend.list('locks')).filter((key) => key.startsWith(INTERRUPTED_PREFIX));
  }

  /** Temp files in a local store, with their size and age; none for a remote one. */
  async temps(): Promise<StoredTemp[]> {
    if (!(this.backend instanceof LocalBackend)) return [];
    const found: StoredTemp[] = [];
    for (const file of await this.backend.listTemp()) {
      const stat = await this.port.stat(file).catch(() => undefined);
      if (!stat) continue; // renamed into place or removed meanwhile
      found.push({ file, size: stat.size, mtimeMs: stat.mtimeMs });
    }
    return found;
  }

  /** Removes a temp file; false when it was renamed into place or removed meanwhile. */
  async removeTemp(file: string): Promise<boolean> {
    try {
      await this.port.unlink(file);
      return true;
    } catch {
      return false;
    }
  }
}
