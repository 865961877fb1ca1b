// Verify: proves every snapshot can be restored, or names each damaged or missing object once with every
// snapshot and path that needs it, reading the store as it is on disk (own index, no caches) under a shared lock.
// Invariant: memory grows with the damage found, not the store: paths are collected only below damaged folders.

import { createHash } from 'node:crypto';
import { inflateRaw } from 'node:zlib';
import { promisify } from 'node:util';
import { BackupError, isBackupError } from '../errors';
import { plural } from '../format';
import { configChecksum } from '../repository/config';
import type { ObjectCodec } from '../repository/codec';
import type { PackEntry } from '../repository/pack';
import { decodePack, packKey } from '../repository/pack';
import type { Repository } from '../repository/repository';
import { SNAPSHOT_ID_PATTERN, decodeSnapshot, isUnchecksummed } from '../repository/snapshotRecord';
import { MAX_TREE_DEPTH, decodeTree, tooDeep } from '../repository/tree';
import type { Tree, TreeEntry } from '../repository/tree';
import type { Damage, DamageRecord } from './damage';
import { DamageLedger } from './damage';
import { PackIndex } from './packIndex';
import { entryProblem } from '../repository/safePath';
import { blobOf, missingMessage, openUnit } from './units';

const inflateRawAsync = promisify(inflateRaw);

export type { Damage } from './damage';

export interface VerifyOptions {
  /** Also read every pack in full and check every blob's content hash (slow: reads the whole store). */
  readData?: boolean;
  /** percent 0-100 of packs to read fully */
  readDataSubset?: number; // ignored when readData is set (it reads them all)
  signal?: AbortSignal;
  /** Phases in order: snapshots, index, packs, data (only when reading data), trees, paths (only when damaged). In `trees`, `total` grows as folders are found. */
  onProgress?: (done: number, total: number, phase: string) => void;
  /** for tests: deterministic subset choice */
  random?: () => number;
}

export interface VerifyReport {
  ok: boolean;
  /** Snapshot records checked (damaged ones included). */
  snapshots: number;
  /** Distinct trees reachable from the snapshots, each checked once. */
  trees: number;
  /** Data blobs in the index. */
  blobs: number;
  /** Packs the index names. */
  packs: number;
  /** Packs read in full (readData, readDataSubset). */
  packsRead: number;
  /** Bytes read from the store: records, index files, trees and packs. */
  bytesRead: number;
  damage: Damage[];
  /**
   * What is not damage but worth saying: records and a config written before they carried checksums (older
   * format: nothing vouches for their bytes), stat caches that are damaged and will be discarded (harmless).
   */
  notes: string[];
}

/** What verify reads of a store: its objects as they are on disk (it trusts no cache or index in memory), and its shared lock. */
export type VerifyRepo = Pick<Repository, 'backend' | 'codec' | 'location' | 'readLock' | 'readOnly'>;

/** Checks the store behind `repo`; see VerifyOptions. Throws CANCELLED, REPO_LOCKED, USAGE (bad subset) or I/O errors; damage is reported, never thrown. */
export async function verifyRepository(repo: VerifyRepo, options: VerifyOptions = {}): Promise<VerifyReport> {
  const subset = options.readDataSubset;
  if (subset !== undefined && !(Number.isFinite(subset) && subset >= 0 && subset <= 100)) {
    throw new BackupError('USAGE', `The share of packs to read must be a percentage from 0 to 100, not ${subset}.`, {
      readDataSubset: subset,
    });
  }
  return new Verifier(repo, options).run();
}

/** [sealed header][u32 header length]["PBP1"]: a pack is at least this much longer than its last blob. */
const TRAILER = 8;
/** Decompressed bundles kept while walking trees: folders written together share bundles. */
const UNIT_CACHE = 16;
/** Trees kept for the second pass (only trees above damage are read again). */
const TREE_CACHE = 10_000;

interface Root {
  id: string;
  time: string;
  tree: string;
}

interface Frame {
  id: string;
  entries: readonly TreeEntry[];
  next: number;
  dirty: boolean;
  /** Components of the longest entry path below this tree, so far. */
  height: number;
}

class Verifier {
  private readonly codec: ObjectCodec;
  private readonly ledger = new DamageLedger();
  private readonly index: PackIndex;
  private readonly missingPacks = new Set<string>();
  private readonly roots: Root[] = [];
  private readonly visited = new Set<string>();
  /** Trees with damage somewhere below them: the only ones the second pass descends into. */
  private readonly dirty = new Set<string>();
  /** Trees holding entries a restore refuses (hostile names, links without a target): their damage record. */
  private readonly refused = new Map<string, DamageRecord>();
  private readonly unitCache = new Map<string, Buffer>();
  private snapshotCount = 0;
  private unchecksummed = 0;
  private readonly notes: string[] = [];
  private packsRead = 0;
  private bytesRead = 0;

  constructor(
    private readonly repo: VerifyRepo,
    private readonly options: VerifyOptions,
  ) {
    this.codec = repo.codec;
    this.index = new PackIndex(repo.codec);
  }

  async run(): Promise<VerifyReport> {
    this.checkCancelled();
    const lock = await this.repo.readLock('verify');
    try {
      // Records before index files: a writer saves the index before the record, so every record we see
      // has its index on disk by the time we list index/ (a concurrent snapshot cannot look damaged).
      await this.checkConfig();
      await this.checkSnapshots();
      await this.loadIndex();
      await this.checkPacks();
      const toRead = this.packsToRead();
      if (toRead.length > 0) await this.readPacks(toRead);
      await this.walkTrees();
      await this.checkCaches();
      if (this.ledger.anyUnreadable || this.refused.size > 0) await this.attribute();
      return this.report();
    } finally {
      this.unitCache.clear();
      await lock?.release();
    }
  }

  // ---- config and caches ---------------------------------------------------------------------------------

  private async checkConfig(): Promise<void> {
    const data = await this.repo.backend.load('config');
    this.bytesRead += data.length;
    const state = configChecksum(data);
    if (state === 'damaged')
      this.ledger.record(
        'config',
        'damaged',
        'the config does not match its checksum; it is damaged (the store id or chunker parameters may be wrong).',
      );
    else if (state === 'absent') this.notes.push('The config is not checksummed (older format).');
  }

  /** Stat caches are disposable: a damaged one is discarded by the next snapshot, so it is a note, not damage. */
  private async checkCaches(): Promise<void> {
    for (const key of await this.repo.backend.list('cache')) {
      try {
        // On the thread pool: a stat cache of 200,000 files inflated here held the editor's loop 73 ms (#16).
        await inflateRawAsync(this.codec.open(await this.repo.backend.load(key), key));
      } catch (error) {
        if (isBackupError(error, 'OBJECT_MISSING')) continue; // replaced meanwhile
        this.notes.push(`${key} is damaged and is discarded (harmless: the next snapshot rebuilds it).`);
      }
    }
  }

  // ---- snapshot records --------------------------------------------------------------------------------

  private async checkSnapshots(): Promise<void> {
    const keys = (await this.repo.backend.list('snapshots'))
      .filter((key) => SNAPSHOT_ID_PATTERN.test(key.slice('snapshots/'.length)))
      .sort();
    for (let i = 0; i < keys.length; i++) {
      this.progress(i, keys.length, 'snapshots');
      const key = keys[i];
      const id = key.slice('snapshots/'.length);
      let data: Buffer;
      try {
        data = await this.repo.backend.load(key);
      } catch (error) {
        if (isBackupError(error, 'OBJECT_MISSING')) continue; // forgotten meanwhile
        throw error;
      }
      this.bytesRead += data.length;
      this.snapshotCount++;
      try {
        // The same checks and sentences as Repository.loadSnapshot.
        const what = `Snapshot ${id.slice(0, 8)}`;
        const record = decodeSnapshot(this.codec.open(data, what), what);
        if (record.id !== id)
          throw new BackupError(
            'OBJECT_DAMAGED',
            `Snapshot file ${id.slice(0, 8)} holds snapshot ${record.id.slice(0, 8)}; it is damaged.`,
            { id },
          );
        this.roots.push({ id, time: record.time, tree: record.tree });
        if (isUnchecksummed(record)) this.unchecksummed++;
      } catch (error) {
        if (!isBackupError(error, 'OBJECT_DAMAGED')) throw error;
        this.ledger.record(key, 'damaged', error.message).snapshots.add(id);
      }
    }
    this.progress(keys.length, keys.length, 'snapshots');
    if (this.unchecksummed > 0)
      this.notes.push(
        `${plural(this.unchecksummed, 'snapshot record')} not checksummed (older format); a label or pin change adds a checksum.`,
      );
    // Oldest first, like every snapshot list, so the report reads in history order.
    this.roots.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  // ---- index files ---------------------------------------------------------------------------------------

  private async loadIndex(): Promise<void> {
    const loaded = new Set<string>();
    // A snapshot compacting the index (allowed beside our shared lock) may remove a file between listing
    // and loading; its entries are then in a newer file, so list again rather than miss them.
    for (let attempt = 0; attempt < 5; attempt++) {
      let vanished = false;
      const keys = (await this.repo.backend.list('index')).sort();
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (loaded.has(key)) continue;
        this.progress(i, keys.length, 'index');
        try {
          await this.addIndexFile(key);
        } catch (error) {
          if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
          vanished = true;
          continue;
        }
        loaded.add(key);
      }
      this.progress(keys.length, keys.length, 'index');
      if (!vanished) break;
    }
  }

  /** Reads and adds one index file (in pieces in a plain store: never whole in memory); throws OBJECT_MISSING. */
  private async addIndexFile(key: string): Promise<void> {
    const backend = this.repo.backend;
    try {
      if (this.codec.encrypted || !backend.loadPieces) {
        const data = await backend.load(key);
        this.bytesRead += data.length;
        await this.index.add(key, data);
        return;
      }
      const counted = async function* (
        pieces: AsyncIterable<Buffer>,
        count: (n: number) => void,
      ): AsyncGenerator<Buffer> {
        for await (const piece of pieces) {
          count(piece.length);
          yield piece;
        }
      };
      await this.index.addPieces(
        key,
        counted(backend.loadPieces(key, 1 << 20), (n) => (this.bytesRead += n)),
      );
    } catch (error) {
      if (isBackupError(error, 'OBJECT_MISSING')) throw error;
      if (!isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      // Its blobs are then missing from the index; each one a snapshot needs is reported where it is used.
      this.ledger.record(key, 'damaged', error.message);
    }
  }

  // ---- packs: present and long enough ------------------------------------------------------------------------

  private async checkPacks(): Promise<void> {
    const packIds = this.index.packIds().sort();
    for (let i = 0; i < packIds.length; i++) {
      this.progress(i, packIds.length, 'packs');
      const packId = packIds[i];
      const key = packKey(packId);
      const end = this.index.extentOf(packId);
      const size = await this.repo.backend.size(key);
      // The sentences are the ones a restore gives (LocalBackend.loadRange), so both name the same problem.
      if (size === undefined) {
        this.missingPacks.add(packId);
        this.markBad(
          packId,
          this.ledger.record(key, 'missing', `The store at ${this.repo.location} is missing ${key}.`),
          () => true,
        );
      } else if (size < end) {
        this.markBad(
          packId,
          this.ledger.record(
            key,
            'damaged',
            `${key} in the store at ${this.repo.location} is shorter than its index says (truncated).`,
          ),
          (e) => e.offset + e.length > size,
        );
      } else if (size < end + TRAILER) {
        // Every blob is still readable, but the pack no longer describes itself: a lost index could not be rebuilt from it.
        this.ledger.record(
          key,
          'damaged',
          `${key} in the store at ${this.repo.location} has lost its header (truncated); the blobs it holds are intact.`,
        );
      }
    }
    this.progress(packIds.length, packIds.length, 'packs');
  }

  private markBad(packId: string, damage: DamageRecord, lost: (entry: PackEntry) => boolean): void {
    for (const entry of this.index.entriesOf(packId)) {
      if (lost(entry) && !this.ledger.isUnreadable(entry.id) && this.index.usedFrom(entry.id, packId))
        this.ledger.markUnreadable(entry.id, damage);
    }
  }

  // ---- packs: read in full ----------------------------------------------------------------------------------

  private packsToRead(): string[] {
    const candidates = this.index
      .packIds()
      .filter((id) => !this.missingPacks.has(id))
      .sort();
    if (this.options.readData) return candidates;
    const percent = this.options.readDataSubset ?? 0;
    if (percent <= 0 || candidates.length === 0) return [];
    // "At least N%": the epsilon keeps 30% of 10 at 3 (10 * 30 / 100 is 3.0000000000000004).
    const count = Math.min(candidates.length, Math.max(1, Math.ceil((candidates.length * percent) / 100 - 1e-9)));
    const random = this.options.random ?? Math.random;
    for (let i = 0; i < count; i++) {
      const j = i + Math.min(candidates.length - i - 1, Math.floor(random() * (candidates.length - i)));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    // One pack at a time, in key order: sequential reads, and memory of one pack.
    return candidates.slice(0, count).sort();
  }

  private async readPacks(packIds: readonly string[]): Promise<void> {
    for (let i = 0; i < packIds.length; i++) {
      this.progress(i, packIds.length, 'data');
      await this.readPack(packIds[i]);
    }
    this.progress(packIds.length, packIds.length, 'data');
  }

  private async readPack(packId: string): Promise<void> {
    const key = packKey(packId);
    let data: Buffer;
    try {
      data = await this.repo.backend.load(key);
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_MISSING')) throw error;
      this.missingPacks.add(packId);
      this.markBad(
        packId,
        this.ledger.record(key, 'missing', `The store at ${this.repo.location} is missing ${key}.`),
        () => true,
      );
      return;
    }
    this.packsRead++;
    this.bytesRead += data.length;
    const problems: string[] = [];
    // A pack is named by the SHA-256 of its bytes (whatever the codec), so any change anywhere shows here.
    if (createHash('sha256').update(data).digest('hex') !== packId)
      problems.push('its content no longer matches its name (SHA-256)');
    try {
      decodePack(data, this.codec, `Pack ${packId.slice(0, 12)}`);
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      problems.push(`its header cannot be read (${error.message.replace(/; it is damaged\.$/, '')})`);
    }
    let damagedBlobs = 0;
    let unitAt = -1;
    let unit: Buffer | undefined;
    let count = 0;
    // A blob listed twice (an index file and its compaction, both present for a moment) is checked twice:
    // harmless, since each object's damage is recorded once, and cheaper than remembering every id.
    for (const entry of this.index.entriesOf(packId)) {
      // Hashing a pack is a long synchronous stretch: let an abort (Ctrl-C) through now and then.
      if (++count % 1024 === 0) await new Promise((resolve) => setImmediate(resolve));
      this.checkCancelled();
      const used = this.index.usedFrom(entry.id, packId);
      if (entry.offset + entry.length > data.length) continue; // the truncation is reported already
      if (used && this.ledger.isUnreadable(entry.id)) continue;
      // Blobs of one bundle are adjacent in writing order: decompress each bundle once, hold one at a time.
      if (entry.offset !== unitAt) {
        unitAt = entry.offset;
        unit = undefined;
        try {
          unit = openUnit(data.subarray(entry.offset, entry.offset + entry.length), entry, packId, this.codec);
        } catch (error) {
          if (!isBackupError(error)) throw error;
        }
      }
      let reason: string | undefined;
      try {
        // A unit that would not open is retried per blob, so each blob gets the sentence a restore gives it.
        blobOf(
          unit ?? openUnit(data.subarray(entry.offset, entry.offset + entry.length), entry, packId, this.codec),
          entry,
          packId,
          this.codec,
        );
      } catch (error) {
        if (!isBackupError(error)) throw error;
        reason = error.message;
      }
      if (reason === undefined) continue;
      if (used) {
        this.ledger.markUnreadable(entry.id, this.ledger.record(entry.id, 'damaged', reason));
        damagedBlobs++;
      } else {
        problems.push(`an unused copy of object ${entry.id.slice(0, 12)} in it is damaged`);
      }
    }
    // Damaged blobs explain a changed hash; otherwise the damage is in bytes no blob needs (header, gaps).
    if (problems.length > 0 && damagedBlobs === 0 && !this.ledger.has(key)) {
      this.ledger.record(
        key,
        'damaged',
        `Pack ${key}: ${problems.join('; ')}; every blob it holds still reads correctly.`,
      );
    }
  }

  // ---- trees -------------------------------------------------------------------------------------------------

  /**
   * Walks every distinct tree once, depth first, marking the trees that have damage below them, and
   * measuring each tree's height: a snapshot deeper than restore allows (MAX_TREE_DEPTH) is damage.
   */
  private async walkTrees(): Promise<void> {
    const heights = new Map<string, number>();
    for (const root of this.roots) {
      this.checkCancelled();
      if (this.visited.has(root.tree)) continue;
      const rootTree = await this.visit(root.tree);
      if (!rootTree) continue;
      const stack: Frame[] = [
        { id: root.tree, entries: rootTree.entries, next: 0, dirty: this.refused.has(root.tree), height: 0 },
      ];
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (top.next === top.entries.length) {
          stack.pop();
          heights.set(top.id, top.height);
          if (stack.length > 0)
            stack[stack.length - 1].height = Math.max(stack[stack.length - 1].height, top.height + 1);
          if (top.dirty) {
            this.dirty.add(top.id);
            if (stack.length > 0) stack[stack.length - 1].dirty = true;
          }
          continue;
        }
        const entry = top.entries[top.next++];
        top.height = Math.max(top.height, 1);
        if (entry.type === 'file') {
          for (const id of entry.content) if (!this.dataUsable(id)) top.dirty = true;
        } else if (entry.type === 'dir') {
          // Ids are content hashes and every tree read is checked against its id, so there are no cycles:
          // a visited tree is finished, and its verdict is final.
          if (this.visited.has(entry.tree)) {
            top.height = Math.max(top.height, (heights.get(entry.tree) ?? 0) + 1);
            if (this.ledger.isUnreadable(entry.tree) || this.dirty.has(entry.tree)) top.dirty = true;
            continue;
          }
          const tree = await this.visit(entry.tree);
          if (tree)
            stack.push({
              id: entry.tree,
              entries: tree.entries,
              next: 0,
              dirty: this.refused.has(entry.tree),
              height: 0,
            });
          else top.dirty = true;
        }
      }
    }
    this.progress(this.visited.size, this.visited.size, 'trees');
    for (const root of this.roots) {
      if ((heights.get(root.tree) ?? 0) <= MAX_TREE_DEPTH) continue;
      const what = `Snapshot ${root.id.slice(0, 8)}`;
      this.ledger.record(`snapshots/${root.id}`, 'damaged', tooDeep(what).message).snapshots.add(root.id);
    }
  }

  /** Checks one tree (first visit only); undefined when it cannot be used, with the damage recorded. */
  private async visit(id: string): Promise<Tree | undefined> {
    this.checkCancelled();
    this.visited.add(id);
    this.progress(this.visited.size - 1, this.visited.size, 'trees');
    if (this.ledger.isUnreadable(id)) return undefined;
    try {
      const tree = await this.loadTree(id);
      // What restore refuses is damage too: the same rules decide both.
      const bad = tree.entries.filter((entry) => this.refusal(entry) !== undefined);
      if (bad.length > 0) {
        const named = bad
          .slice(0, 3)
          .map((entry) => `${JSON.stringify(entry.name)} (${this.refusal(entry)})`)
          .join(', ');
        this.refused.set(
          id,
          this.ledger.record(
            id,
            'damaged',
            `Tree ${id.slice(0, 12)} holds ${bad.length} entr${bad.length === 1 ? 'y' : 'ies'} restore refuses: ${named}${bad.length > 3 ? ', ...' : ''}.`,
          ),
        );
      }
      return tree;
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      this.ledger.markUnreadable(
        id,
        this.ledger.record(id, error.code === 'OBJECT_MISSING' ? 'missing' : 'damaged', error.message),
      );
      return undefined;
    }
  }

  /**
   * Why restore refuses an entry, or undefined: its name or link target (entryProblem), or a file whose blobs,
   * as the index sizes them, do not add up to the size its tree records (restore writes them, then refuses
   * the file). A blob missing from the index is reported where it is used, not here.
   */
  private refusal(entry: TreeEntry): string | undefined {
    const problem = entryProblem(entry);
    if (problem !== undefined || entry.type !== 'file') return problem;
    let size = 0;
    for (const id of entry.content) {
      const at = this.index.get(id);
      if (!at) return undefined;
      size += at.rawLength;
    }
    return size === entry.size ? undefined : `its content is ${size} bytes where the tree says ${entry.size}`;
  }

  private dataUsable(id: string): boolean {
    if (this.ledger.isUnreadable(id)) return false;
    if (this.index.has(id)) return true;
    this.ledger.markUnreadable(id, this.ledger.record(id, 'missing', missingMessage(id, this.repo.location)));
    return false;
  }

  /** Reads a tree from disk with the checks and sentences of Repository.loadTree, but none of its caches. */
  private async loadTree(id: string): Promise<Tree> {
    const at = this.index.get(id);
    if (!at) throw new BackupError('OBJECT_MISSING', missingMessage(id, this.repo.location), { id });
    const cacheKey = `${at.packId}:${at.offset}`;
    let unit = this.unitCache.get(cacheKey);
    if (unit) {
      this.unitCache.delete(cacheKey); // re-insert: most recently used last
    } else {
      const sealed = await this.repo.backend.loadRange(packKey(at.packId), at.offset, at.length);
      this.bytesRead += sealed.length;
      unit = openUnit(sealed, at, at.packId, this.codec);
    }
    if (at.inner !== undefined) {
      this.unitCache.set(cacheKey, unit);
      if (this.unitCache.size > UNIT_CACHE) this.unitCache.delete(this.unitCache.keys().next().value as string);
    }
    return decodeTree(blobOf(unit, at, at.packId, this.codec), `Tree ${id.slice(0, 12)}`);
  }

  // ---- who depends on the damage -------------------------------------------------------------------------------

  /** Second pass: for each snapshot, descends only into trees with damage below them and names the paths. */
  private async attribute(): Promise<void> {
    const trees = new Map<string, Tree>();
    for (let i = 0; i < this.roots.length; i++) {
      this.progress(i, this.roots.length, 'paths');
      const root = this.roots[i];
      const prefix = root.id.slice(0, 8);
      const found: Array<[DamageRecord, string]> = [];
      const rootDamage = this.ledger.explain(root.tree);
      if (rootDamage) found.push([rootDamage, '.']);
      const stack: Array<{ id: string; path: string }> =
        !rootDamage && this.dirty.has(root.tree) ? [{ id: root.tree, path: '' }] : [];
      while (stack.length > 0) {
        this.checkCancelled();
        const { id, path } = stack.pop() as { id: string; path: string };
        let tree = trees.get(id);
        if (!tree) {
          tree = await this.loadTree(id); // read fine in the first pass; a failure now is a real error
          if (trees.size < TREE_CACHE) trees.set(id, tree);
        }
        const refused = this.refused.get(id);
        for (const entry of tree.entries) {
          const rel = path ? `${path}/${entry.name}` : entry.name;
          if (refused && this.refusal(entry)) found.push([refused, rel]);
          if (entry.type === 'file') {
            for (const blob of entry.content) {
              const damage = this.ledger.explain(blob);
              if (damage) found.push([damage, rel]);
            }
          } else if (entry.type === 'dir') {
            const damage = this.ledger.explain(entry.tree);
            if (damage) found.push([damage, rel]);
            else if (this.dirty.has(entry.tree)) stack.push({ id: entry.tree, path: rel });
          }
        }
      }
      found.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
      for (const [damage, rel] of found) {
        damage.snapshots.add(root.id);
        damage.files.add(`${prefix}:${rel}`);
      }
    }
    this.progress(this.roots.length, this.roots.length, 'paths');
  }

  // ---- bookkeeping ---------------------------------------------------------------------------------------------------

  private report(): VerifyReport {
    const order = new Map(this.roots.map((root, i) => [root.id, i]));
    const damage = this.ledger.list(order);
    return {
      ok: damage.length === 0,
      snapshots: this.snapshotCount,
      trees: this.visited.size,
      blobs: this.index.blobCount(),
      packs: this.index.packCount,
      packsRead: this.packsRead,
      bytesRead: this.bytesRead,
      damage,
      notes: this.notes,
    };
  }

  private progress(done: number, total: number, phase: string): void {
    this.checkCancelled();
    this.options.onProgress?.(done, total, phase);
  }

  private checkCancelled(): void {
    if (this.options.signal?.aborted)
      throw new BackupError('CANCELLED', 'The verify was cancelled; nothing in the store was changed.');
  }
}
