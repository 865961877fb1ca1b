// Replication: copies a store's raw (sealed) objects to another Backend (a folder, an SFTP server) so the
// destination is a complete store of its own, with the same id, that every command can open.
// Invariants: the destination is consistent at every instant: config first (create-once), then packs, then
// index files, then snapshot records, then meta records, each object whole (the backend's atomic save), so a
// snapshot record appears only after everything it needs. Only what the destination lacks (or holds at
// another size) is copied, so a rerun after an interruption continues where it stopped. Deletions at the
// source are never propagated: a destination keeps its history until someone runs forget/prune against it,
// which protects it from a compromised or mistaken source.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../errors';
import { VERIFY_RECORD_KEY } from '../records/verifyRecord';
import { Limiter } from '../limiter';
import { sha256Hex } from '../repository/codec';
import { decodeConfig } from '../repository/config';
import type { Repository } from '../repository/repository';
import { SNAPSHOT_ID_PATTERN } from '../repository/snapshotRecord';
import type { Backend, KeyKind } from '../storage/backend';
import type { FsPort } from '../storage/fsPort';
import { KINDS } from '../storage/localBackend';
import { backendFor, isRemoteLocation, normalizeLocation } from '../storage/locate';
import { Lock } from '../storage/lock';
import type { LockInfo } from '../storage/lock';
import type { RemoteOptions } from '../storage/remote';
import { TEMP_MARKER } from '../storage/atomic';
import { REPLICA_PREFIX, loadReplicaRecords, replicaDestination, saveReplicaRecord } from '../records/replicaRecord';
import type { ReplicaRecord } from '../records/replicaRecord';

export interface ReplicationProgress {
  /** What is being copied now; phases run in this order. */
  phase: 'data' | 'index' | 'snapshots' | 'meta';
  objectsDone: number;
  objectsTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface ReplicateOptions {
  /** Credentials and host-key trust for an sftp:// destination given as a location. */
  remote?: RemoteOptions;
  /** The file-system port for a folder destination given as a location; the source's by default. */
  port?: FsPort;
  /** Record the destination as offsite (in another place) in the source's replica record. */
  offsite?: boolean;
  /**
   * Start a new copy at a destination that held one before and holds no store now. Without it that is
   * refused (REPO_NOT_FOUND): an unplugged drive leaves an empty mount point, and a copy there would fill
   * the disk under it and be hidden once the drive is back.
   */
  fresh?: boolean;
  /**
   * Remember the copy in the source's replica records (the default). Off when the source is itself a copy
   * being read back into a lost store (bringBack.ts): nothing but a reader's lock is written into it then.
   */
  record?: boolean;
  signal?: AbortSignal;
  /** Called after each object copied (and once before the first, with the totals). */
  onProgress?: (progress: ReplicationProgress) => void;
  onStaleLock?: (info: LockInfo, key: string) => void;
  /** Whole objects copied at once. Default 4. */
  concurrency?: number;
  now?: () => Date;
}

export interface ReplicationResult {
  /** The destination, without credentials. */
  destination: string;
  /** The destination held no store before this copy. */
  created: boolean;
  objectsCopied: number;
  bytesCopied: number;
  /** Objects the destination already had. */
  objectsSkipped: number;
  /** Snapshot records copied by this run. */
  snapshotsCopied: number;
  /** Snapshots at the destination now (its own older ones included: deletions are not propagated). */
  snapshots: number;
  /** Temp files left at the destination by interrupted writers, removed. */
  tempsRemoved: number;
}

/** Temp files younger than this may belong to a live writer of the destination (someone snapshotting into it). */
const TEMP_STALE_MS = 60 * 60_000;
/** Index files compacted away at the source while we copy: list again this many times at most. */
const INDEX_RELISTS = 5;

/**
 * Copies `source` to `destination`: a location (folder or sftp:// URL; its backend is opened with
 * `options.remote` and closed afterwards) or a Backend the caller owns. Records the copy in the source
 * (`loadReplicaRecords`). Throws STORE_MISMATCH (another store is there, nothing written), REPO_LOCKED
 * (another copy to that destination is running), REPO_NOT_FOUND (it held a copy before and is empty now:
 * see `fresh`; or a folder of other files), CANCELLED, OBJECT_DAMAGED (a source pack does not match its
 * name: nothing after the packs is copied), and the backends' errors (REMOTE_UNREACHABLE, AUTH_FAILED,
 * HOST_KEY_REJECTED, NO_SPACE, PERMISSION_DENIED, …).
 */
export async function replicate(
  source: Repository,
  destination: string | Backend,
  options: ReplicateOptions = {},
): Promise<ReplicationResult> {
  if (typeof destination !== 'string') return new Replication(source, destination, options).run();
  const location = normalizeLocation(destination);
  refuseSelf(source, location);
  const backend = await backendFor(location, options.port ?? source.port, options.remote);
  try {
    return await new Replication(source, backend, options).run();
  } finally {
    await backend.close?.();
  }
}

function refuseSelf(source: Repository, location: string): void {
  if (isRemoteLocation(location) !== isRemoteLocation(source.location)) return;
  const a = replicaDestination(location);
  const b = replicaDestination(source.location);
  const sep = isRemoteLocation(location) ? '/' : path.sep;
  if (a === b || a.startsWith(b + sep)) {
    throw new BackupError('USAGE', `${a} is the store itself (or inside it); copy it to another folder or server.`, {
      destination: a,
    });
  }
}

interface Plan {
  kind: Exclude<KeyKind, 'config' | 'locks' | 'cache'>;
  copy: Array<[key: string, size: number]>;
}

class Replication {
  private readonly display: string;
  private objectsDone = 0;
  private bytesDone = 0;
  private objectsTotal = 0;
  private bytesTotal = 0;
  private readonly limiter: Limiter;
  private readonly concurrency: number;

  constructor(
    private readonly source: Repository,
    private readonly dest: Backend,
    private readonly options: ReplicateOptions,
  ) {
    this.display = replicaDestination(dest.location);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.limiter = new Limiter(this.concurrency);
  }

  async run(): Promise<ReplicationResult> {
    this.checkAbort();
    const created = await this.ensureConfig();
    const purpose = `a copy to ${this.display}`;
    // Shared on the source: snapshots go on, but prune cannot delete a pack we are about to copy.
    const sourceLock = await this.source.readLock(purpose);
    // Lock files are not sealed: in an encrypted store they do not name the destination either.
    const destPurpose = this.source.codec.encrypted ? 'a copy' : purpose;
    let claim: Lock | undefined;
    let destLock: Lock | undefined;
    try {
      // One copy into a destination at a time, across processes and machines; then a shared lock, so
      // nobody prunes the destination under us.
      claim = await Lock.tryClaim(this.dest, 'replicate', destPurpose, { onStale: this.options.onStaleLock });
      if (!claim) {
        throw new BackupError(
          'REPO_LOCKED',
          `Another copy into ${this.display} is running; try again when it finishes.`,
          { destination: this.display },
        );
      }
      destLock = await Lock.acquire(this.dest, {
        exclusive: false,
        purpose: destPurpose,
        onStale: this.options.onStaleLock,
      });
      const tempsRemoved = await this.removeStaleTemps([claim.key, destLock.key]);
      this.previous = (await loadReplicaRecords(this.source)).find((r) => r.destination === this.display);
      // The copy holds what the source held when it was listed: a snapshot made while it runs is newer
      // than this time, so the health view shows the destination behind until the next copy.
      const listedAt = (this.options.now?.() ?? new Date()).toISOString();
      const result = await this.copyAll();
      const snapshots = result.snapshots;
      const offsite = this.options.offsite ?? this.previous?.offsite; // a copy without --offsite keeps the mark
      // A source that cannot be written (read without a lock) cannot remember the copy; the copy is whole.
      if (!this.source.readOnly && this.options.record !== false)
        await saveReplicaRecord(this.source, {
          destination: this.display,
          time: listedAt,
          snapshots,
          objectsCopied: result.objectsCopied,
          bytesCopied: result.bytesCopied,
          ...(offsite !== undefined ? { offsite } : {}),
          records: Object.fromEntries([...this.digests].sort((a, b) => (a[0] < b[0] ? -1 : 1))),
        });
      return { destination: this.display, created, tempsRemoved, ...result };
    } finally {
      await destLock?.release().catch(() => undefined);
      await claim?.release().catch(() => undefined);
      await sourceLock?.release();
    }
  }

  /**
   * The destination's config: the source's bytes, created once; a destination holding another store is
   * refused before anything is written. Returns whether this copy created the store.
   */
  private async ensureConfig(): Promise<boolean> {
    const mine = await this.source.backend.load('config');
    const myId = decodeConfig(mine, this.source.location).id;
    const theirs = await this.dest.load('config').catch((error: unknown) => {
      if (isBackupError(error, 'OBJECT_MISSING')) return undefined;
      throw error;
    });
    if (theirs) {
      this.refuseOther(decodeConfig(theirs, this.display).id, myId);
      return false;
    }
    await this.refuseVanishedCopy();
    await this.refuseForeignFolder();
    await this.dest.createLayout?.();
    const stored = await this.dest.createOnce('config', mine);
    if (stored !== mine) this.refuseOther(decodeConfig(stored, this.display).id, myId); // another store won a race
    return stored === mine;
  }

  private refuseOther(theirId: string, myId: string): void {
    if (theirId === myId) return;
    throw new BackupError(
      'STORE_MISMATCH',
      `${this.display} holds another backup store (id ${theirId.slice(0, 8)}, not ${myId.slice(0, 8)}); nothing was written, choose a new folder for this copy.`,
      { destination: this.display, id: theirId },
    );
  }

  /** A destination this store was copied to before, holding no store now: missing, not new (see `fresh`). */
  private async refuseVanishedCopy(): Promise<void> {
    if (this.options.fresh) return;
    const before = (await loadReplicaRecords(this.source)).find((r) => r.destination === this.display);
    if (!before) return;
    throw new BackupError(
      'REPO_NOT_FOUND',
      `${this.display} held a copy of this store (last copied ${before.time}) but holds no store now: is its drive connected, or its share mounted? Nothing was written; to start the copy there again from nothing, copy with --fresh (in the editor: add it as a destination again).`,
      { destination: this.display, missingCopy: true },
    );
  }

  /** A store is only created in an empty or missing folder, so a typo never sprays our layout into someone's files. */
  private async refuseForeignFolder(): Promise<void> {
    const names = await this.dest.rootEntries?.();
    if (!names) return;
    const ours = new Set<string>([...KINDS, 'config']);
    const foreign = names.filter(
      (name) => !name.startsWith('.') && !ours.has(name) && !name.startsWith(`config${TEMP_MARKER}`),
    );
    if (foreign.length > 0) {
      throw new BackupError(
        'REPO_NOT_FOUND',
        `${this.display} is not empty and holds no backup store; choose an empty or new folder for the copy (nothing was written).`,
        { destination: this.display },
      );
    }
    // Our layout without a config is a first copy interrupted before the config (harmless) unless it holds
    // records: then it is a damaged store, and a config of ours would not match it.
    if ((await this.dest.list('index')).length > 0 || (await this.dest.list('snapshots')).length > 0) {
      throw new BackupError(
        'REPO_CORRUPT',
        `${this.display} holds backups but no config file; it is a damaged store, so nothing was written there.`,
        { destination: this.display },
      );
    }
  }

  /**
   * Temp files at the destination: when no one but us holds a lock there, every one is left by an
   * interrupted writer; otherwise only old ones are, as a live writer may be finishing a young one.
   */
  private async removeStaleTemps(ownLocks: string[]): Promise<number> {
    if (!this.dest.removeStaleTemps) return 0;
    const others = (await this.dest.list('locks')).filter((key) => !ownLocks.includes(key));
    return this.dest.removeStaleTemps(others.length === 0 ? 0 : TEMP_STALE_MS);
  }

  private async copyAll(): Promise<Omit<ReplicationResult, 'destination' | 'created' | 'tempsRemoved'>> {
    // List in the reverse of the copy order: a snapshot record is written only after its index and packs,
    // so index files listed after the records name everything those records need, and packs listed after
    // the index files hold everything they name. Anything newer is left for the next copy.
    const snapshotSizes = filterMap(await sizesOf(this.source.backend, 'snapshots'), (key) =>
      SNAPSHOT_ID_PATTERN.test(key.slice('snapshots/'.length)),
    );
    const metaSizes = filterMap(
      await sizesOf(this.source.backend, 'meta'),
      (key) => !key.startsWith(REPLICA_PREFIX) && key !== VERIFY_RECORD_KEY,
    );
    const indexSizes = await sizesOf(this.source.backend, 'index');
    const dataSizes = await sizesOf(this.source.backend, 'data');

    const destSnapshots = await sizesOf(this.dest, 'snapshots');
    const plans: Plan[] = [
      { kind: 'data', copy: missing(dataSizes, await sizesOf(this.dest, 'data')) },
      { kind: 'index', copy: missing(indexSizes, await sizesOf(this.dest, 'index')) },
      {
        kind: 'snapshots',
        copy: [
          ...missing(snapshotSizes, destSnapshots),
          ...(await this.rewrittenRecords(snapshotSizes, destSnapshots)),
        ],
      },
      { kind: 'meta', copy: missing(metaSizes, await sizesOf(this.dest, 'meta')) },
    ];
    const listed = dataSizes.size + indexSizes.size + snapshotSizes.size + metaSizes.size;
    for (const plan of plans) {
      this.objectsTotal += plan.copy.length;
      for (const [, size] of plan.copy) this.bytesTotal += size;
    }
    const objectsSkipped = listed - this.objectsTotal;
    this.report('data');

    let snapshotsCopied = 0;
    for (const plan of plans) {
      const copied = await this.copyKind(plan);
      if (plan.kind === 'index') await this.catchUpIndex(indexSizes, dataSizes, copied.vanished);
      if (plan.kind === 'snapshots') snapshotsCopied = copied.keys.length;
    }
    const snapshots = new Set(
      [...destSnapshots.keys()].filter((key) => SNAPSHOT_ID_PATTERN.test(key.slice('snapshots/'.length))),
    );
    for (const key of snapshotSizes.keys()) snapshots.add(key);
    return {
      objectsCopied: this.objectsDone,
      bytesCopied: this.bytesDone,
      objectsSkipped,
      snapshotsCopied,
      snapshots: snapshots.size,
    };
  }

  /** Digests of the snapshot records as the destination now holds them (saved in the replica record). */
  private readonly digests = new Map<string, string>();
  /** This destination's record from the last copy, if any. */
  private previous: ReplicaRecord | undefined;

  /**
   * Snapshot records present at both ends with the same size whose bytes differ: a label or pin rewrote
   * the record at the source. Known by the digest recorded at the last copy; without one (a first copy
   * by this version), by comparing with the destination's bytes once.
   */
  private async rewrittenRecords(
    source: Map<string, number>,
    dest: Map<string, number>,
  ): Promise<Array<[string, number]>> {
    const previous = this.previous?.records ?? {};
    const changed: Array<[string, number]> = [];
    const limiter = new Limiter(8);
    await Promise.all(
      [...source].map(([key, size]) =>
        limiter.run(async () => {
          if (dest.get(key) !== size) return; // copied anyway, as missing
          const bytes = await this.source.backend.load(key).catch((error: unknown) => {
            if (isBackupError(error, 'OBJECT_MISSING')) return undefined; // forgotten meanwhile
            throw error;
          });
          if (!bytes) return;
          const digest = recordDigest(bytes);
          const known = previous[key];
          if (known === digest) return (this.digests.set(key, digest), undefined);
          if (known === undefined) {
            const theirs = await this.dest.load(key).catch(() => undefined);
            if (theirs?.equals(bytes)) return (this.digests.set(key, digest), undefined);
          }
          changed.push([key, size]);
        }),
      ),
    );
    return changed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  /**
   * Index files can vanish under us: a snapshot process compacts many small ones into one (it writes the new
   * file before removing the old). Whatever vanished is in a newer file, so list again and copy the new ones,
   * after the packs they name (which may be newer than our first listing too).
   */
  private async catchUpIndex(
    knownIndex: Map<string, number>,
    knownData: Map<string, number>,
    vanished: number,
  ): Promise<void> {
    for (let round = 0; vanished > 0; round++) {
      if (round === INDEX_RELISTS) {
        throw new BackupError(
          'IO_ERROR',
          `Index files of the store at ${this.source.location} keep vanishing while they are copied; try the copy again.`,
          { destination: this.display },
        );
      }
      const index = await sizesOf(this.source.backend, 'index');
      const data = await sizesOf(this.source.backend, 'data');
      const freshData = missing(
        filterMap(data, (key) => !knownData.has(key)),
        await sizesOf(this.dest, 'data'),
      );
      const freshIndex = missing(
        filterMap(index, (key) => !knownIndex.has(key)),
        await sizesOf(this.dest, 'index'),
      );
      for (const [key, size] of index) knownIndex.set(key, size);
      for (const [key, size] of data) knownData.set(key, size);
      for (const [, size] of [...freshData, ...freshIndex]) this.bytesTotal += size;
      this.objectsTotal += freshData.length + freshIndex.length;
      await this.copyKind({ kind: 'data', copy: freshData });
      vanished = (await this.copyKind({ kind: 'index', copy: freshIndex })).vanished;
    }
  }

  /** Copies one kind's objects, `concurrency` at a time; none of the next kind starts before all of these are in place. */
  private async copyKind(plan: Plan): Promise<{ keys: string[]; vanished: number }> {
    const keys: string[] = [];
    let vanished = 0;
    let failure: unknown;
    let next = 0;
    const worker = async () => {
      while (next < plan.copy.length && failure === undefined) {
        if (this.options.signal?.aborted) {
          failure ??= this.cancelled();
          return;
        }
        const [key] = plan.copy[next++];
        try {
          const bytes = await this.limiter.run(() => this.copyOne(plan.kind, key));
          if (bytes === undefined) vanished++;
          else {
            keys.push(key);
            this.objectsDone++;
            this.bytesDone += bytes;
            this.report(plan.kind);
          }
        } catch (error) {
          failure ??= error;
        }
      }
    };
    // Workers finish what they started before the failure is thrown: nothing is written after we return.
    await Promise.all(Array.from({ length: Math.min(this.concurrency, plan.copy.length) }, worker));
    if (failure !== undefined) throw failure;
    return { keys, vanished };
  }

  /** Copies one object; undefined when it vanished at the source (an index compacted, a snapshot forgotten). */
  private async copyOne(kind: Plan['kind'], key: string): Promise<number | undefined> {
    let bytes: Buffer;
    try {
      bytes = await this.source.backend.load(key);
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING') && kind !== 'data') return undefined;
      if (isBackupError(error, 'OBJECT_MISSING')) {
        throw new BackupError(
          'OBJECT_MISSING',
          `Pack ${key} vanished from the store at ${this.source.location} while it was copied; run verify there (nothing after the packs was copied).`,
          { key },
        );
      }
      throw error;
    }
    // Packs and index files are named by the SHA-256 of their bytes: never spread a damaged one.
    if ((kind === 'data' || kind === 'index') && sha256Hex(bytes) !== key.slice(key.lastIndexOf('/') + 1)) {
      throw new BackupError(
        'OBJECT_DAMAGED',
        `${key} in the store at ${this.source.location} does not match its checksum; run verify there (nothing that depends on it was copied).`,
        { key },
      );
    }
    await this.dest.save(key, bytes, { durable: true });
    if (kind === 'snapshots') this.digests.set(key, recordDigest(bytes));
    return bytes.length;
  }

  private report(phase: ReplicationProgress['phase']): void {
    this.options.onProgress?.({
      phase,
      objectsDone: this.objectsDone,
      objectsTotal: this.objectsTotal,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
    });
  }

  private checkAbort(): void {
    if (this.options.signal?.aborted) throw this.cancelled();
  }

  private cancelled(): BackupError {
    return new BackupError(
      'CANCELLED',
      `The copy to ${this.display} was cancelled; what was copied is complete and kept, and the next copy continues from there.`,
      { destination: this.display },
    );
  }
}

function recordDigest(bytes: Buffer): string {
  return sha256Hex(bytes).slice(0, 16);
}

/** Keys of a kind with their sizes: one listing where the backend can, else a size per key. */
export async function sizesOf(backend: Backend, kind: KeyKind): Promise<Map<string, number>> {
  if (backend.sizes) return backend.sizes(kind);
  const keys = await backend.list(kind);
  const limiter = new Limiter(8);
  const sizes = new Map<string, number>();
  await Promise.all(
    keys.map((key) =>
      limiter.run(async () => {
        const size = await backend.size(key);
        if (size !== undefined) sizes.set(key, size);
      }),
    ),
  );
  return sizes;
}

/** What the destination lacks, or holds at another size (a torn copy by some other tool), sorted for a stable order. */
function missing(source: Map<string, number>, dest: Map<string, number>): Array<[string, number]> {
  return [...source]
    .filter(([key, size]) => dest.get(key) !== size)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function filterMap(map: Map<string, number>, keep: (key: string) => boolean): Map<string, number> {
  return new Map([...map].filter(([key]) => keep(key)));
}
