// The repository: content addressing, packs and index, trees and snapshot records on top of a Backend.
// Invariants: an object's id is checked against its bytes every time it is read (no silent corruption);
// data is written before the index that names it, and the index before any snapshot that uses it.

import { createHash } from 'node:crypto';
import { inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';

import { BackupError, isBackupError } from '../errors';
import type { Backend, KeyKind } from '../storage/backend';
import type { FsPort } from '../storage/fsPort';
import { nodeFs } from '../storage/fsPort';
import { backendFor } from '../storage/locate';
import { Lock } from '../storage/lock';
import type { ObjectCodec } from './codec';
import { StoreFiles } from './storeFiles';
import { decompress } from './compression';
import { BUNDLE_BELOW, BUNDLE_SIZE, BlobWriter } from './blobWriter';
export { BlobWriter } from './blobWriter';
import type { RepoConfig } from './config';
import { openStoreConfig } from './openStore';
import type { OpenOptions } from './openStore';
export type { OpenOptions } from './openStore';
import { addIndexFile, openDeflated, saveDeflated } from './storedPieces';
import type { DeflatedWriter } from './storedPieces';
export type { DeflatedWriter } from './storedPieces';
import { INDEX_PIECE, MemoryIndex } from './memoryIndex';
import type { IndexLocation } from './memoryIndex';
export type { IndexLocation } from './memoryIndex';
import { packKey } from './pack';
import type { SnapshotRecord } from './snapshotRecord';
import { SNAPSHOT_ID_PATTERN, decodeSnapshot, encodeSnapshot, snapshotKey } from './snapshotRecord';
import { newestSnapshot } from './snapshotStamps';
import type { Stamp } from './snapshotStamps';
import type { Tree } from './tree';
import { decodeTree } from './tree';

/** On the thread pool: a stat cache of 200,000 files inflated on the loop held it for tens of ms (#16). */
const inflateRawAsync = promisify(inflateRaw);

/** A bundle's plaintext is at most this (the last blob may overshoot BUNDLE_SIZE). */
const MAX_UNIT = BUNDLE_SIZE + BUNDLE_BELOW;
/** Restore walks files in tree order, which follows bundle order closely but not exactly: keep a few. */
const UNIT_CACHE = 32;
/**
 * Parsed trees kept, counted in entries (each a few hundred bytes as objects and strings), not in trees: a
 * count of trees let a first snapshot of 200,000 files keep every tree it wrote, 40 MB of objects.
 */
export const TREE_CACHE_ENTRIES = 20_000;
/** How many times a read looks for a blob again while the store's index changes under it (a prune mid-way). */
const MOVED_RETRIES = 8;

export class Repository {
  private index = new MemoryIndex();
  private loadedIndexFiles = new Set<string>();
  /** While the index is rebuilt aside: what writers registered meanwhile, added before it is swapped in. */
  private registeredDuringRebuild: Array<[MemoryIndex, string]> | undefined;
  private readonly damagedIndexFiles = new Set<string>();
  private readonly treeCache = new Map<string, Tree>();
  private treeCacheSize = 0;
  private readonly snapshotCache = new Map<string, SnapshotRecord>();
  private readonly stampMemo: { stamps?: Map<string, Stamp> } = {};
  private readonly unitCache = new Map<string, Promise<Buffer>>();
  /** The index listing under which a fresh index was found to lack a blob (see loadBlob). */
  private settledListing: string | undefined;
  /** Set when a reader found that the store cannot be written (see readLock): optional records are not written. */
  readOnly = false;

  private constructor(
    readonly backend: Backend,
    /** The config as this process uses it: in an encrypted store chunker.seed is the secret seed, so never write it back. */
    readonly config: RepoConfig,
    readonly codec: ObjectCodec,
    readonly port: FsPort,
    private readonly options: OpenOptions,
  ) {
    this.files = new StoreFiles(backend, codec, port);
  }

  /** The store's files below the index (packs, index files, temp files), for prune and forget. */
  readonly files: StoreFiles;

  static async open(location: string, options: OpenOptions = {}): Promise<Repository> {
    const port = options.port ?? nodeFs;
    const backend = await backendFor(location, port, options.remote);
    try {
      const { codec, config } = await openStoreConfig(backend, location, port, options);
      const repo = new Repository(backend, config, codec, port, options);
      if (options.index !== false) await repo.refreshIndex();
      return repo;
    } catch (error) {
      // A store that cannot be opened must not leave its connection (an SFTP session) behind.
      await backend.close?.().catch(() => undefined);
      throw error;
    }
  }

  get location(): string {
    return this.backend.location;
  }

  now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** `onWait` hears once, in one sentence, that the lock is held by another process and what is awaited. */
  lock(exclusive: boolean, purpose: string, waitMs?: number, onWait?: (message: string) => void): Promise<Lock> {
    // Lock files are not sealed (other processes read them without the key), and a purpose names folders
    // such as "a snapshot of /home/ann/secret-project": an encrypted store keeps only its first words.
    const shown = this.codec.encrypted ? purpose.replace(/ (?:of|into|to) .*$/s, '') : purpose;
    return Lock.acquire(this.backend, { exclusive, purpose: shown, waitMs, onStale: this.options.onStaleLock, onWait });
  }

  /**
   * A shared lock for a command that only reads (restore, mirror, export, verify, the source of a copy).
   * A store that cannot be written (read-only media or mount, a full disk, a folder this user may only read)
   * is read without one, so the data on it can always be got back: no prune can run through a store that
   * cannot be written, and a prune through another path (another user, a read-write mount elsewhere) is
   * survived by loadBlob's reload-and-retry. Returns undefined then, sets `readOnly`, and tells the front end
   * once through `onReadOnly`. Throws REPO_LOCKED like `lock`.
   */
  async readLock(purpose: string, waitMs?: number): Promise<Lock | undefined> {
    if (this.readOnly) return undefined;
    try {
      return await this.lock(false, purpose, waitMs);
    } catch (error) {
      if (!isBackupError(error) || (error.code !== 'PERMISSION_DENIED' && error.code !== 'NO_SPACE')) throw error;
      this.readOnly = true;
      this.options.onReadOnly?.(error);
      return undefined;
    }
  }

  // ---- index ---------------------------------------------------------------------------------------

  /**
   * Loads index files written since the last call (by us or another process). Cheap when nothing is new.
   * One refresh at a time: a file is added in turns of the event loop, and a second refresh beside it could
   * add the same file, or start the index over while the first still adds to the old one.
   */
  refreshIndex(): Promise<void> {
    return this.queueRefresh(false);
  }

  private refreshing: Promise<void> = Promise.resolve();

  private queueRefresh(rebuild: boolean): Promise<void> {
    const run = this.refreshing.then(() => this.refreshIndexNow(rebuild));
    this.refreshing = run.catch(() => undefined);
    return run;
  }

  private async refreshIndexNow(rebuild: boolean): Promise<void> {
    // A file can vanish between listing and loading when another process compacts the index; its
    // entries are then in a newer file, so list again rather than miss them.
    for (let attempt = 0; attempt < 5; attempt++) {
      let vanished = false;
      const keys = await this.backend.list('index');
      const listed = new Set(keys);
      // Another process compacted or pruned the index: what we hold may name blobs that are gone, and
      // deduplicating against them would make a snapshot point at missing data. Start over, aside: readers
      // keep the index they have until the new one is whole (restore's readers, seeing it empty half-way,
      // called a blob of a deleted pack "missing from the store" instead of naming the pack).
      const startOver = rebuild || [...this.loadedIndexFiles].some((key) => !listed.has(key));
      rebuild = false;
      const index = startOver ? new MemoryIndex() : this.index;
      const loaded = startOver ? new Set<string>() : this.loadedIndexFiles;
      if (startOver) this.registeredDuringRebuild = [];
      try {
        for (const key of keys) {
          if (loaded.has(key)) continue;
          const what = `Index file ${key}`;
          const before = index.size;
          try {
            await addIndexFile(this.backend, this.codec, index, key, what);
          } catch (error) {
            if (isBackupError(error, 'OBJECT_MISSING')) {
              vanished = true;
              continue;
            }
            if (!isBackupError(error, 'OBJECT_DAMAGED')) throw error;
            // One damaged index file must not make the whole store unopenable: verify reports it, and the
            // blobs it named show up as missing where they are needed. What it added before the damage goes.
            index.truncate(before);
            if (!this.damagedIndexFiles.has(key)) this.options.onDamagedIndex?.(key, error);
            this.damagedIndexFiles.add(key);
            continue;
          }
          loaded.add(key);
        }
        if (startOver) {
          for (const [written, key] of this.registeredDuringRebuild ?? []) {
            index.addAll(written);
            loaded.add(key);
          }
          this.index = index;
          this.loadedIndexFiles = loaded;
          this.unitCache.clear();
        }
      } finally {
        if (startOver) this.registeredDuringRebuild = undefined;
      }
      if (!vanished) return;
    }
  }

  /**
   * A token for the store's index files as they are now (their names and versions), when the backend can
   * give one cheaply (a local folder) and every index file this process read was whole; undefined otherwise.
   * Equal tokens mean the same index: a snapshot that checked its trees against it need not read it again.
   */
  async indexToken(): Promise<string | undefined> {
    if (!this.backend.versions || this.damagedIndexFiles.size > 0) return undefined;
    const versions = await this.backend.versions('index');
    const parts = [...versions].map(([key, version]) => `${key}=${version}`).sort();
    return createHash('sha256')
      .update(`${this.location}\n${parts.join('\n')}`)
      .digest('hex');
  }

  /**
   * Folds many small index files (one per on-save snapshot) into one, so opening the store stays one
   * read rather than thousands. Safe alongside other writers: the new file is durable before any old one
   * is removed, and it holds every entry of the files it replaces.
   */
  async compactIndex(threshold = 64): Promise<boolean> {
    // Listing is cheap; reading every index file is not: a run that will not compact reads none of them.
    if ((await this.backend.list('index')).length < threshold) return false;
    await this.refreshIndex();
    const replaced = (await this.backend.list('index')).filter((key) => this.loadedIndexFiles.has(key));
    if (replaced.length < threshold) return false;
    const { key } = await this.saveDeflated(
      'index',
      this.index.rawPieces(INDEX_PIECE, true),
      (sha256) => `index/${sha256}`,
    );
    this.loadedIndexFiles.add(key);
    for (const old of replaced) {
      if (old === key) continue;
      await this.backend.remove(old);
      this.loadedIndexFiles.delete(old);
    }
    return true;
  }

  hasBlob(id: string): boolean {
    return this.index.has(id);
  }

  locate(id: string): IndexLocation | undefined {
    return this.index.get(id);
  }

  indexSize(): number {
    return this.index.size;
  }

  /** Every indexed blob (for verify and prune). */
  indexed(): Iterable<IndexLocation> {
    return this.index.all();
  }

  /**
   * Drops the loaded index and loads the store's index files again. Prune calls it once it has replaced the
   * index files, so this process never reads from a removed pack or dedups against a removed blob.
   */
  reloadIndex(): Promise<void> {
    return this.queueRefresh(true);
  }

  // ---- reading ---------------------------------------------------------------------------------------

  /**
   * The plaintext of a blob, verified against its id. Throws OBJECT_MISSING or OBJECT_DAMAGED.
   * A blob that is not where our index says (or not in it) may have been moved by a prune or named by an
   * index file written since we loaded ours: the index is loaded again and the read retried, for as long as
   * the store's index keeps changing under us (a prune mid-way), so a reader never fails because a writer
   * repacked. It is missing only when a fresh index still does not hold it where it can be read.
   */
  async loadBlob(id: string): Promise<Buffer> {
    let lastError: BackupError | undefined;
    /** The blob where the index now says it is; undefined when it is not there (a pack gone: look again). */
    const tryIndexed = async (): Promise<Buffer | undefined> => {
      const at = this.index.get(id);
      if (!at) return undefined;
      try {
        return await this.loadBlobAt(at);
      } catch (error) {
        if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
        lastError = error;
        return undefined;
      }
    };
    const found = await tryIndexed();
    if (found) return found;
    let listing = await this.indexListing();
    // The index was read afresh and nothing changed since: the blob is missing (damage), and looking again
    // for every missing blob of a damaged snapshot would reload the index for each one.
    if (listing !== this.settledListing) {
      for (let attempt = 0; attempt < MOVED_RETRIES; attempt++) {
        // First the cheap refresh (new index files only), then everything again: the files we kept may
        // all name packs a prune has removed.
        if (attempt === 0) await this.refreshIndex();
        else await this.reloadIndex();
        const moved = await tryIndexed();
        if (moved) return moved;
        const now = await this.indexListing();
        if (attempt > 0 && now === listing) {
          this.settledListing = now;
          break;
        }
        listing = now;
        // A prune removes old index files before old packs: give it a moment to get there.
        await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** Math.min(attempt, 5)));
      }
    }
    throw (
      lastError ??
      new BackupError('OBJECT_MISSING', `Object ${id.slice(0, 12)} is missing from the store at ${this.location}.`, {
        id,
      })
    );
  }

  /** The names of the store's index files, as one string to compare. */
  private async indexListing(): Promise<string> {
    return (await this.backend.list('index')).sort().join(',');
  }

  /**
   * The plaintext of the copy of a blob stored at `at`, verified against its id (prune reads a blob from the
   * copy it chose when a blob is in several packs). Throws OBJECT_MISSING or OBJECT_DAMAGED.
   */
  async loadBlobAt(at: IndexLocation): Promise<Buffer> {
    const id = at.id;
    let unit: Buffer;
    try {
      unit = await this.loadUnit(at);
    } catch (error) {
      // A bundle is shared by many blobs: name the one this caller asked for, not the first asker.
      if (isBackupError(error, 'OBJECT_DAMAGED') && typeof error.data.id === 'string' && error.data.id !== id) {
        throw new BackupError(
          'OBJECT_DAMAGED',
          `Object ${id.slice(0, 12)} in pack ${at.packId.slice(0, 12)} cannot be decompressed; it is damaged.`,
          { id, pack: at.packId },
        );
      }
      throw error;
    }
    const plain = at.inner === undefined ? unit : unit.subarray(at.inner, at.inner + at.rawLength);
    if (plain.length !== at.rawLength || this.codec.id(plain) !== id) {
      throw new BackupError(
        'OBJECT_DAMAGED',
        `Object ${id.slice(0, 12)} in pack ${at.packId.slice(0, 12)} does not match its checksum; it is damaged.`,
        { id, pack: at.packId },
      );
    }
    return plain;
  }

  /**
   * The plaintext of a stored unit (a blob or a bundle). Bundles are cached as promises, so the many files
   * of one bundle that a restore asks for at once share one read and one decompression.
   */
  private loadUnit(at: IndexLocation): Promise<Buffer> {
    if (at.inner === undefined) return this.readUnit(at);
    const key = `${at.packId}:${at.offset}`;
    let unit = this.unitCache.get(key);
    if (!unit) {
      if (this.unitCache.size >= UNIT_CACHE) this.unitCache.delete(this.unitCache.keys().next().value as string);
      unit = this.readUnit(at);
      this.unitCache.set(key, unit);
      unit.catch(() => this.unitCache.delete(key));
    }
    return unit;
  }

  private async readUnit(at: IndexLocation): Promise<Buffer> {
    const sealed = await this.backend.loadRange(packKey(at.packId), at.offset, at.length);
    try {
      const expected = at.inner === undefined ? at.rawLength : MAX_UNIT;
      return decompress(this.codec.open(sealed, `Object ${at.id.slice(0, 12)}`), at.compressed, expected);
    } catch (error) {
      if (isBackupError(error)) throw error;
      throw new BackupError(
        'OBJECT_DAMAGED',
        `Object ${at.id.slice(0, 12)} in pack ${at.packId.slice(0, 12)} cannot be decompressed; it is damaged.`,
        { id: at.id, pack: at.packId },
      );
    }
  }

  async loadTree(id: string): Promise<Tree> {
    const cached = this.treeCache.get(id);
    if (cached) {
      // Most recently used last (Map iteration order is insertion order): the on-save path's trees stay.
      this.treeCache.delete(id);
      this.treeCache.set(id, cached);
      return cached;
    }
    const tree = decodeTree(await this.loadBlob(id), `Tree ${id.slice(0, 12)}`);
    this.rememberTree(id, tree);
    return tree;
  }

  rememberTree(id: string, tree: Tree): void {
    const old = this.treeCache.get(id);
    if (old) {
      this.treeCache.delete(id);
      this.treeCacheSize -= old.entries.length + 1;
    }
    this.treeCache.set(id, tree);
    this.treeCacheSize += tree.entries.length + 1;
    // Drop the least recently used until the cache fits; the newest tree stays even when it alone is larger.
    while (this.treeCacheSize > TREE_CACHE_ENTRIES && this.treeCache.size > 1) {
      const [oldest, dropped] = this.treeCache.entries().next().value as [string, Tree];
      this.treeCache.delete(oldest);
      this.treeCacheSize -= dropped.entries.length + 1;
    }
  }

  /** Entries (plus one per tree) of the parsed trees kept in memory; at most TREE_CACHE_ENTRIES but for one larger tree. */
  get cachedTreeEntries(): number {
    return this.treeCacheSize;
  }

  // ---- writing ---------------------------------------------------------------------------------------

  /** `keepPacks`: the writer's `packs` stay readable after `finish` (prune); otherwise its table goes to the index. */
  newWriter(options: { keepPacks?: boolean } = {}): BlobWriter {
    return new BlobWriter(this, options);
  }

  /** Called by a finished writer: its packs are durable and its index is written. */
  registerPacks(written: MemoryIndex, indexKey: string, adopt = false): void {
    if (adopt && this.index.size === 0) this.index = written;
    else this.index.addAll(written);
    this.loadedIndexFiles.add(indexKey);
    this.registeredDuringRebuild?.push([written, indexKey]);
  }

  // ---- snapshots -------------------------------------------------------------------------------------

  async saveSnapshot(record: SnapshotRecord): Promise<void> {
    await this.backend.save(snapshotKey(record.id), this.codec.seal(encodeSnapshot(record)));
    this.snapshotCache.set(record.id, record);
  }

  async removeSnapshot(id: string): Promise<void> {
    await this.backend.remove(snapshotKey(id));
    this.snapshotCache.delete(id);
  }

  async loadSnapshot(id: string): Promise<SnapshotRecord> {
    let data: Buffer;
    try {
      data = await this.backend.load(snapshotKey(id));
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING'))
        throw new BackupError('SNAPSHOT_NOT_FOUND', `No snapshot ${id} in the store at ${this.location}.`, { id });
      throw error;
    }
    const record = decodeSnapshot(this.codec.open(data, `Snapshot ${id.slice(0, 8)}`), `Snapshot ${id.slice(0, 8)}`);
    if (record.id !== id)
      throw new BackupError(
        'OBJECT_DAMAGED',
        `Snapshot file ${id.slice(0, 8)} holds snapshot ${record.id.slice(0, 8)}; it is damaged.`,
        { id },
      );
    this.snapshotCache.set(id, record);
    return record;
  }

  /**
   * Every snapshot, oldest first. `reload` re-reads records already seen (labels and pins may have
   * changed in another process); otherwise only new records are read, which keeps the on-save path cheap.
   * Damaged records are reported through `onDamaged` and left out rather than hiding every other snapshot.
   */
  async listSnapshots(
    options: { reload?: boolean; onDamaged?: (key: string, error: BackupError) => void } = {},
  ): Promise<SnapshotRecord[]> {
    const keys = await this.backend.list('snapshots');
    const present = new Set<string>();
    const records: SnapshotRecord[] = [];
    for (const key of keys) {
      const id = key.slice('snapshots/'.length);
      if (!SNAPSHOT_ID_PATTERN.test(id)) continue;
      present.add(id);
      const cached = options.reload ? undefined : this.snapshotCache.get(id);
      if (cached) {
        records.push(cached);
        continue;
      }
      try {
        records.push(await this.loadSnapshot(id));
      } catch (error) {
        if (isBackupError(error, 'SNAPSHOT_NOT_FOUND')) continue; // forgotten meanwhile
        if (isBackupError(error, 'OBJECT_DAMAGED') && options.onDamaged) {
          options.onDamaged(key, error);
          continue;
        }
        throw error;
      }
    }
    for (const id of [...this.snapshotCache.keys()]) if (!present.has(id)) this.snapshotCache.delete(id);
    return records.sort(compareSnapshots);
  }

  /**
   * The newest snapshot of any of these workspaces, reading only the records this store has not stamped yet
   * (see snapshotStamps.ts): what a snapshot asks for its parent, at a cost that does not grow with history.
   */
  newestSnapshot(workspaceIds: ReadonlySet<string>): Promise<SnapshotRecord | undefined> {
    return newestSnapshot(
      {
        listIds: async () =>
          (await this.backend.list('snapshots'))
            .map((key) => key.slice('snapshots/'.length))
            .filter((id) => SNAPSHOT_ID_PATTERN.test(id)),
        load: async (id) => {
          // Read fresh (another process may have labelled it), but keep the object already handed out when
          // nothing changed: callers compare records they were given before.
          const before = this.snapshotCache.get(id);
          const record = await this.loadSnapshot(id);
          if (before && JSON.stringify(before) === JSON.stringify(record)) {
            this.snapshotCache.set(id, before);
            return before;
          }
          return record;
        },
        known: (id) => {
          const record = this.snapshotCache.get(id);
          return record && { time: record.time, workspace: record.workspace.id };
        },
        loadCache: (name) => this.loadCache(name),
        saveCache: (name, data) => this.saveCache(name, data),
        listAll: (onDamaged) => this.listSnapshots({ onDamaged }),
        memo: this.stampMemo,
      },
      workspaceIds,
    );
  }

  /**
   * Resolves an id, a unique id prefix, or `latest`, optionally among the snapshots of one workspace (its
   * id, or every id of its history: see query/lineage.ts).
   */
  async resolveSnapshot(ref: string, workspaceId?: string | readonly string[]): Promise<SnapshotRecord> {
    // A full id is read directly; otherwise damaged records are passed over, so one bad record does not
    // stop restore, ls or cat of every other snapshot (verify reports it).
    if (SNAPSHOT_ID_PATTERN.test(ref.toLowerCase())) return this.loadSnapshot(ref.toLowerCase());
    const all = await this.listSnapshots({ onDamaged: () => undefined });
    const ids = workspaceId === undefined ? undefined : typeof workspaceId === 'string' ? [workspaceId] : workspaceId;
    const pool = ids ? all.filter((s) => ids.includes(s.workspace.id)) : all;
    if (ref === 'latest') {
      const latest = pool[pool.length - 1];
      if (!latest)
        throw new BackupError(
          'SNAPSHOT_NOT_FOUND',
          `The store at ${this.location} has no snapshots${workspaceId ? ' of this workspace' : ''} yet.`,
          { ref },
        );
      return latest;
    }
    const lower = ref.toLowerCase();
    const matches = pool.filter((s) => s.id.startsWith(lower));
    if (matches.length === 0 || lower.length === 0)
      throw new BackupError('SNAPSHOT_NOT_FOUND', `No snapshot matches "${ref}" in the store at ${this.location}.`, {
        ref,
      });
    if (matches.length > 1)
      throw new BackupError(
        'SNAPSHOT_AMBIGUOUS',
        `"${ref}" matches ${matches.length} snapshots; give more characters of the id.`,
        { ref },
      );
    return matches[0];
  }

  // ---- caches (stat cache etc.): sealed like everything else, disposable ------------------------------

  async loadCache(name: string): Promise<Buffer | undefined> {
    try {
      return await inflateRawAsync(this.codec.open(await this.backend.load(this.cacheKey(name)), `Cache ${name}`));
    } catch {
      return undefined; // a cache is an optimisation: anything wrong with it means "no cache"
    }
  }

  /** Saves a cache given whole or in pieces (see saveDeflated: never held whole, uncompressed or not). */
  async saveCache(name: string, data: Buffer | Iterable<Buffer>): Promise<void> {
    await this.saveDeflated('cache', Buffer.isBuffer(data) ? [data] : data, this.cacheKey(name), { durable: false });
  }

  /** See storedPieces.openDeflated: a value written as it is made (the stat cache of a full scan). */
  openDeflated(kind: KeyKind, key: string, options: { durable?: boolean } = {}): DeflatedWriter {
    return openDeflated(this.backend, this.codec, kind, key, options);
  }

  /** See storedPieces.saveDeflated: pieces deflated into one stored value, never whole in memory. */
  saveDeflated(
    kind: KeyKind,
    pieces: Iterable<Buffer>,
    key: string | ((sha256: string) => string),
    options: { durable?: boolean } = {},
  ): Promise<{ key: string; bytes: number }> {
    return saveDeflated(this.backend, this.codec, kind, pieces, key, options);
  }

  /** The key a cache is stored under (see cacheKey). */
  cacheKeyOf(name: string): string {
    return this.cacheKey(name);
  }

  /**
   * Cache names carry a hash of the workspace path (stat-<workspace id>), which would let anyone confirm a
   * guessed path: an encrypted store names its caches by a keyed hash instead.
   */
  private cacheKey(name: string): string {
    return this.codec.encrypted
      ? `cache/${this.codec.id(Buffer.from(`cache:${name}`, 'utf8')).slice(0, 32)}`
      : `cache/${name}`;
  }

  /** Drops caches and ends a remote backend's connection; a remote store reconnects if used again. */
  async close(): Promise<void> {
    this.treeCache.clear();
    this.treeCacheSize = 0;
    this.unitCache.clear();
    await this.backend.close?.();
  }
}

export function compareSnapshots(a: SnapshotRecord, b: SnapshotRecord): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
