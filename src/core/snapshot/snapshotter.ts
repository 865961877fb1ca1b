// Takes snapshots of one workspace: a full scan (with the stat cache, so unchanged folders cost one
// readdir and a few lstat calls) or an incremental one of given paths (the on-save case, O(paths × depth)).
// Invariants: every snapshot is a complete tree; data and index are durable before the record is written;
// a snapshot equal to its parent is not created; a file is never stored torn.

import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { BackupError, isBackupError } from '../errors';
import { formatBytes } from '../format';
import { WorkPool } from '../workPool';
import { countChanges, diffTrees } from '../query/diff';
import type { Change } from '../query/diff';
import type { BlobWriter, DeflatedWriter, Repository } from '../repository/repository';
import { entryAt } from '../query/browse';
import { historyIdsFrom, loadLineageRecords } from '../records/lineageRecords';
import type { SkippedPath, SnapshotRecord, SnapshotRules, SnapshotStats, Trigger } from '../repository/snapshotRecord';
import type { TreeEntry } from '../repository/tree';
import { findEntry, sameEntries } from '../repository/tree';
import { DEFAULT_EXCLUDES, Rules, isGitPath } from '../scan/rules';
import type { GitignoreLayer } from '../scan/rules';
import { Scanner } from '../scan/scanner';
import type { FileSig, Skip } from '../scan/scanner';
import { StatCache } from '../scan/statCache';
import type { SubtreeTotals } from '../scan/statCache';
import { removeInterruptedLeftovers } from '../retention/leftovers';
import { StoreFence } from '../storage/storeFence';
import { setAutoLabel, setLabel, setPinned } from './annotate';
import { storeFile } from './fileReader';
import { applyChanges, subtreeTotals } from './totals';
import { GitInfoReader } from '../workspace/gitInfo';
import { identifyWorkspace } from '../workspace/workspace';
import type { WorkspaceIdentity } from '../workspace/workspace';

export const TOOL_VERSION = 'project-backup/0.1.0';
const SKIPPED_KEPT = 100;
const PATHS_KEPT = 20;

export interface SnapshotterOptions {
  workspace: string;
  /** Default trigger of snapshots taken by this snapshotter. */
  trigger?: Trigger;
  excludes?: readonly string[];
  includes?: readonly string[];
  gitignore?: boolean;
  /** Files larger than this many bytes are skipped and reported; 0 = no limit. */
  maxFileSize?: number;
  /** Read branch and HEAD with git when the workspace is a repository (default true). */
  git?: boolean;
  /**
   * Full snapshots include the workspace's `.git` whole (default true), so a restored project is a working
   * repository with its unpushed commits, branches and stashes; incremental (on-save) snapshots never scan
   * it and carry the last full snapshot's `.git` forward. See Rules.includeGit.
   */
  includeGit?: boolean;
  /** How many files are read at once. */
  concurrency?: number;
}

export interface Progress {
  files: number;
  bytes: number;
  current?: string;
}

export interface SnapshotRequest {
  /** Only these paths (workspace-relative or absolute); a path that no longer exists becomes a deletion. */
  paths?: readonly string[];
  label?: string;
  /**
   * A label for a notable moment, given automatically (the record's `autoLabel`; see annotate.ts
   * setAutoLabel): ignored when `label` is given, and when nothing changed it goes to the existing snapshot
   * only if that one has no label.
   */
  autoLabel?: string;
  pinned?: boolean;
  trigger?: Trigger;
  /** Content to store instead of what is on disk (unsaved editor buffers), by workspace-relative path. */
  contents?: ReadonlyMap<string, Buffer>;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** One sentence about a wait the user should know of (the store locked by another process), said once. */
  onNotice?: (message: string) => void;
}

export interface SnapshotResult {
  /** False when nothing changed: `snapshot` is then the existing one the workspace already matches. */
  created: boolean;
  snapshot: SnapshotRecord;
  /** What changed against the parent snapshot; empty for a first snapshot, where everything is new. */
  changes: Change[];
  skipped: Skip[];
  /**
   * Set when nothing changed but the request carried a label or a pin: they were applied to `snapshot`,
   * the existing one that holds this state (`previousLabel` is the label it had, if another).
   */
  annotated?: { label?: string; previousLabel?: string; pinned?: boolean };
  /** The snapshot this one was compared with (its parent), when there is one: what "just before" was. */
  parent?: SnapshotRecord;
}

interface Overlay {
  entries: Map<string, TreeEntry>;
  children: Map<string, Overlay>;
}

interface Run {
  writer: BlobWriter;
  cache: StatCache;
  skipped: Skip[];
  progress: Progress;
  request: SnapshotRequest;
  lastReport: number;
  parentTree?: string;
  /**
   * Keep the trees written parsed: an incremental snapshot reads a folder it has just scanned again (a
   * second path into it) before its writer's index exists. A full scan never does, so it keeps none.
   */
  rememberTrees: boolean;
  /**
   * Whether this run has read the store's index. A full scan defers it until it first needs it (a file to
   * store, a folder whose tree changed): a run that changes nothing never reads it, which keeps a no-change
   * snapshot from paying for the whole index (#16). Until then, cached trees are presumed present.
   */
  indexReady: boolean;
  /** Trees the stat cache gave before the index was read: checked as soon as it is. */
  presumed: string[];
}

/** The stat cache named a tree the store no longer has (pruned since): the run starts over with the index. */
class PresumedTreeMissing extends Error {}

/** The rules to record with a snapshot: only what differs from the defaults, so most records carry none. */
function recordedRules(options: {
  excludes?: readonly string[];
  includes?: readonly string[];
  gitignore?: boolean;
}): SnapshotRules | undefined {
  const rules: SnapshotRules = {};
  const excludes = options.excludes ?? DEFAULT_EXCLUDES;
  if (excludes.length !== DEFAULT_EXCLUDES.length || excludes.some((e, i) => e !== DEFAULT_EXCLUDES[i]))
    rules.excludes = [...excludes];
  if (options.includes?.length) rules.includes = [...options.includes];
  if (options.gitignore) rules.gitignore = true;
  return Object.keys(rules).length ? rules : undefined;
}

export class Snapshotter {
  private rules: Rules;
  private scanner: Scanner;
  private readonly pool: WorkPool;
  private readonly git: GitInfoReader | undefined;
  private identity: WorkspaceIdentity | undefined;
  private storeChecked = false;

  constructor(
    private readonly repo: Repository,
    private readonly options: SnapshotterOptions,
  ) {
    const root = path.resolve(options.workspace);
    this.rules = new Rules({
      excludes: options.excludes,
      includes: options.includes,
      gitignore: options.gitignore,
      excludeAbsolute: [repo.location],
      includeGit: options.includeGit ?? true,
    });
    this.scanner = new Scanner(root, { rules: this.rules, maxFileSize: options.maxFileSize }, repo.port);
    this.pool = new WorkPool(options.concurrency ?? 8);
    this.git = options.git === false ? undefined : new GitInfoReader(root, repo.port);
  }

  async workspace(): Promise<WorkspaceIdentity> {
    if (!this.identity) {
      this.identity = await identifyWorkspace(this.repo.port, this.options.workspace);
      // Walk the real path and exclude the store by its real path too: a workspace opened through a
      // symlink (/tmp on macOS, a linked home folder) must still leave its store out.
      const realStore = await this.repo.port.realpath(this.repo.location).catch(() => this.repo.location);
      this.rules = new Rules({
        excludes: this.options.excludes,
        includes: this.options.includes,
        gitignore: this.options.gitignore,
        excludeAbsolute: [this.repo.location, realStore],
        includeGit: this.options.includeGit ?? true,
      });
      this.scanner = new Scanner(
        this.identity.path,
        { rules: this.rules, maxFileSize: this.options.maxFileSize },
        this.repo.port,
      );
    }
    return this.identity;
  }

  /**
   * The newest snapshot of this workspace, from any writer; for a workspace without snapshots of its own
   * that continues another's history (query/lineage.ts), the newest of that history, so its first snapshot
   * continues the same line. Only that first snapshot reads the lineage records: saves stay O(paths).
   */
  async latest(): Promise<SnapshotRecord | undefined> {
    const { id } = await this.workspace();
    const own = await this.repo.newestSnapshot(new Set([id]));
    if (own) return own;
    const history = new Set(historyIdsFrom(await loadLineageRecords(this.repo), id).slice(1));
    if (history.size === 0) return undefined;
    return this.repo.newestSnapshot(history);
  }

  async snapshot(request: SnapshotRequest = {}): Promise<SnapshotResult> {
    const identity = await this.workspace();
    // The scan leaves the store out below the workspace; a workspace that is the store has nothing else.
    if (!this.storeChecked)
      this.storeChecked = !!(await StoreFence.refuseInside(
        this.repo.port,
        this.repo.location,
        identity.path,
        'snapshot',
        'a snapshot always leaves the store out; snapshot the folder you work in',
      ));
    // Snapshots only wait for an exclusive lock (prune), which can take minutes on a big store.
    const purpose = `a snapshot of ${identity.path}`;
    let lock = await this.repo.lock(false, purpose, 10 * 60_000, request.onNotice);
    if (lock.interrupted > 0) {
      // A writer was killed: its packs may fill the disk this snapshot needs. Cleared when the store is free.
      await lock.release();
      const left = await removeInterruptedLeftovers(this.repo).catch(() => undefined);
      if (left && (left.packsRemoved > 0 || left.tempsRemoved > 0)) {
        request.onNotice?.(
          `Removed ${formatBytes(left.bytesRemoved)} that an interrupted backup had left in the store.`,
        );
      }
      lock = await this.repo.lock(false, purpose, 10 * 60_000, request.onNotice);
    }
    try {
      for (let preload = false; ; preload = true) {
        try {
          return await this.take(identity, request, preload);
        } catch (error) {
          if (!(error instanceof PresumedTreeMissing) || preload) throw error;
        }
      }
    } finally {
      await lock.release();
    }
  }

  private async take(identity: WorkspaceIdentity, request: SnapshotRequest, preload: boolean): Promise<SnapshotResult> {
    let writer: BlobWriter | undefined;
    let cacheOut: DeflatedWriter | undefined;
    try {
      const parent = await this.latest();
      const gitInfo = this.git ? this.git.read(parent?.git) : Promise.resolve(undefined);
      writer = this.repo.newWriter();
      const started = this.repo.now();
      const cacheName = `stat-${identity.id}`;
      // A parent from the history this workspace continues describes another folder: scan this one whole.
      const incremental = request.paths !== undefined && parent !== undefined && parent.workspace.id === identity.id;
      // The on-save path reads only the paths it was given: it must not pay for loading the whole cache.
      const cache = incremental
        ? StatCache.empty(this.rules.fingerprint, started.getTime())
        : await StatCache.decodeAsync(await this.repo.loadCache(cacheName), this.rules.fingerprint, started.getTime());
      // The next cache goes into the store as the scan records it (once anything changed), not held to the end.
      if (!incremental) {
        cache.streamWhenDirty(() => {
          const out = this.repo.openDeflated('cache', this.repo.cacheKeyOf(cacheName), { durable: false });
          cacheOut = out;
          return (piece) => out.write(piece);
        });
      }
      const run: Run = {
        writer,
        cache,
        skipped: [],
        progress: { files: 0, bytes: 0 },
        request,
        lastReport: 0,
        parentTree: parent?.tree,
        rememberTrees: incremental,
        indexReady: false,
        presumed: [],
      };
      // The on-save path looks up the trees along its paths at once; so does a retry after a pruned tree.
      if (incremental || preload) await this.ensureIndex(run);

      let tree: string;
      let totals: SubtreeTotals | undefined;
      if (incremental) {
        tree = await this.incremental(run, parent as SnapshotRecord, request.paths ?? []);
      } else {
        const built = await this.buildDir(run, '', []);
        tree = built.tree;
        totals = built.totals;
      }
      this.checkCancelled(request);
      // A tree other than the parent's becomes a new snapshot: every tree the cache gave must be in the store.
      // The parent's own tree is trusted only against the index the cache was checked with: a damaged or
      // replaced index file must make the next snapshot store what it lost again.
      const unchanged = parent !== undefined && parent.tree === tree && parent.workspace.id === identity.id;
      const tokenName = `index-seen-${identity.id}`;
      if (!unchanged || !run.indexReady) {
        const seen = unchanged ? (await this.repo.loadCache(tokenName))?.toString('utf8') : undefined;
        if (!unchanged || seen === undefined || seen !== (await this.repo.indexToken())) await this.ensureIndex(run);
      }
      await writer.finish();
      if (!incremental && cache.dirty) await this.saveCache(cache, cacheName, cacheOut);
      cacheOut = undefined;
      const remember = async () => {
        // The index this full scan checked its cached trees against (see indexToken): the next one may trust it.
        // Only a run that made no snapshot writes it: nothing may be written after a snapshot's record, whose
        // failure would have to fail a snapshot that exists. A change's run reads the index anyway.
        if (incremental || !run.indexReady) return;
        const token = await this.repo.indexToken().catch(() => undefined);
        if (token) await this.repo.saveCache(tokenName, Buffer.from(token, 'utf8')).catch(() => undefined);
      };

      // (A parent from a history this workspace continues is another folder's: the first snapshot here is
      // made even when its files are the same, so the workspace has its own line from then on.)
      if (parent && parent.tree === tree && parent.workspace.id === identity.id) {
        // A label or pin asked for this state goes to the snapshot that already holds it, never nowhere.
        const { record, annotated } = await this.annotate(parent, request);
        // A day of saves leaves an index file each, and a full scan that finds nothing new is where they are
        // folded into one (else every later run lists and checks thousands: the cost of a run would grow
        // with the store's history). Tidying is optional: a store it cannot write to still had its snapshot.
        if (!incremental && (await this.repo.compactIndex().catch(() => false))) await this.ensureIndex(run);
        await remember();
        return {
          created: false,
          snapshot: record,
          changes: [],
          skipped: run.skipped,
          ...(annotated ? { annotated } : {}),
        };
      }
      // A first snapshot is all new: listing 100,000 "added" changes would only cost memory.
      const changes = parent ? await diffTrees(this.repo, parent.tree, tree) : [];
      const counts = parent
        ? countChanges(changes)
        : { filesNew: (totals?.files ?? 0) + (totals?.symlinks ?? 0), filesChanged: 0, filesDeleted: 0 };
      totals ??= applyChanges(parent?.stats, changes);
      const stats: SnapshotStats = {
        ...totals,
        ...counts,
        bytesAdded: writer.bytesAdded,
        dataAdded: writer.dataAdded,
        blobsAdded: writer.blobsAdded,
        skipped: run.skipped.length,
      };
      const record: SnapshotRecord = {
        v: 1,
        id: randomBytes(16).toString('hex'),
        time: this.uniqueTime(started, parent),
        workspace: { path: identity.path, id: identity.id },
        host: os.hostname(),
        trigger: request.trigger ?? this.options.trigger ?? 'manual',
        tree,
        stats,
        tool: TOOL_VERSION,
      };
      if (request.label) record.label = request.label;
      else if (request.autoLabel?.trim()) {
        record.label = request.autoLabel.trim();
        record.autoLabel = true;
      }
      if (request.pinned) record.pinned = true;
      if (parent) record.parent = parent.id;
      if (run.skipped.length)
        record.skipped = run.skipped
          .slice(0, SKIPPED_KEPT)
          .map((s): SkippedPath => ({ path: s.path, reason: s.reason }));
      if (incremental) record.paths = (request.paths ?? []).slice(0, PATHS_KEPT).map((p) => this.relative(p));
      const rules = recordedRules(this.options);
      if (rules) record.rules = rules;
      const git = await gitInfo;
      if (git && (git.branch || git.head)) record.git = git;
      await this.repo.saveSnapshot(record);
      // Full scans are the occasional, already-slow path: tidy the index there, never on save.
      if (!incremental) await this.repo.compactIndex().catch(() => false);
      return { created: true, snapshot: record, changes, skipped: run.skipped, ...(parent ? { parent } : {}) };
    } catch (error) {
      await cacheOut?.abort();
      throw await this.cleanUp(writer, error);
    }
  }

  /**
   * Reads the store's index for this run (once), then checks the trees the stat cache was trusted for before
   * it: a tree that prune removed since the cache was written makes the run start over with the index read.
   * A run that ends on its parent's tree never needs it: every tree it reused is part of that kept snapshot.
   */
  private async ensureIndex(run: Run): Promise<void> {
    if (run.indexReady) return;
    await this.repo.refreshIndex();
    run.indexReady = true;
    if (run.presumed.some((id) => !this.repo.hasBlob(id))) throw new PresumedTreeMissing();
    run.presumed = [];
  }

  /** Whether a tree the stat cache names can be reused: known to the index, or presumed until it is read. */
  private treeKnown(run: Run, id: string): boolean {
    if (run.indexReady) return this.repo.hasBlob(id);
    run.presumed.push(id);
    return true;
  }

  /** The cache only saves work next time: failing to write it must not fail the snapshot. */
  private async saveCache(cache: StatCache, cacheName: string, streamed: DeflatedWriter | undefined): Promise<void> {
    if (!streamed) {
      await this.repo.saveCache(cacheName, cache.encodeParts()).catch(() => undefined);
      return;
    }
    cache.finishStream();
    await streamed.finish().catch(() => streamed.abort());
  }

  /**
   * A snapshot that failed removes the packs only it wrote (still under its lock, before any index names
   * them), so a full disk is not left full of them for the next, smaller snapshot; the error says so.
   */
  private async cleanUp(writer: BlobWriter | undefined, error: unknown): Promise<unknown> {
    if (!writer) return error;
    const { removed, left } = await writer.abandon();
    if ((!removed && !left) || isBackupError(error, 'CANCELLED')) return error;
    const sentence = error instanceof Error ? error.message.replace(/\.$/, '') : String(error);
    const what = left
      ? `; it left ${formatBytes(left)} of data it could not remove, which prune removes`
      : `; the ${formatBytes(removed)} this snapshot had written were removed`;
    const code = isBackupError(error) ? error.code : 'IO_ERROR';
    const data = isBackupError(error) ? error.data : {};
    return new BackupError(code, `${sentence}${what}.`, { ...data, removedBytes: removed, leftBytes: left });
  }

  private async annotate(
    parent: SnapshotRecord,
    request: SnapshotRequest,
  ): Promise<{ record: SnapshotRecord; annotated?: SnapshotResult['annotated'] }> {
    const auto = request.label === undefined ? request.autoLabel?.trim() : undefined;
    if (auto && !parent.label && !request.pinned) {
      const labelled = await setAutoLabel(this.repo, parent.id, auto);
      return labelled ? { record: labelled, annotated: { label: auto } } : { record: parent };
    }
    const label = request.label?.trim();
    const relabel = label !== undefined && label !== '' && parent.label !== label;
    const pin = request.pinned === true && !parent.pinned;
    if (!relabel && !pin) return { record: parent };
    let record = parent;
    if (relabel) record = await setLabel(this.repo, record.id, label);
    if (pin) record = await setPinned(this.repo, record.id, true);
    const annotated: NonNullable<SnapshotResult['annotated']> = {};
    if (relabel) annotated.label = label;
    if (relabel && parent.label) annotated.previousLabel = parent.label;
    if (pin) annotated.pinned = true;
    return { record, annotated };
  }

  /** Snapshot times order history; two saves in one millisecond must still come out in order. */
  private uniqueTime(now: Date, parent: SnapshotRecord | undefined): string {
    let time = now.getTime();
    if (parent) time = Math.max(time, Date.parse(parent.time) + 1);
    return new Date(time).toISOString();
  }

  private checkCancelled(request: SnapshotRequest): void {
    if (request.signal?.aborted)
      throw new BackupError('CANCELLED', 'The snapshot was cancelled; nothing was recorded.');
  }

  private report(run: Run, current: string, bytes: number): void {
    run.progress.files++;
    run.progress.bytes += bytes;
    const onProgress = run.request.onProgress;
    if (!onProgress) return;
    const now = Date.now();
    if (now - run.lastReport < 100) return;
    run.lastReport = now;
    onProgress({ ...run.progress, current });
  }

  /** Normalises a request path to a workspace-relative slash path; refuses paths outside the workspace. */
  relative(p: string): string {
    const root = this.identity?.path ?? path.resolve(this.options.workspace);
    const given = path.resolve(path.isAbsolute(p) ? p : path.join(root, p));
    const outside = (rel: string) =>
      rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
    let rel = path.relative(root, given);
    if (outside(rel)) {
      // Also accept the un-resolved spelling of the workspace (a symlinked path to it).
      const alt = path.relative(path.resolve(this.options.workspace), given);
      if (outside(alt)) {
        throw new BackupError('UNSAFE_PATH', `${p} is not inside the workspace ${root}.`, { path: p });
      }
      rel = alt;
    }
    return rel.split(path.sep).join('/');
  }

  // ---- full scan -------------------------------------------------------------------------------------

  private async buildDir(
    run: Run,
    relDir: string,
    parentLayers: readonly GitignoreLayer[],
  ): Promise<{ tree: string; totals: SubtreeTotals }> {
    this.checkCancelled(run.request);
    const listing = await this.scanner.list(relDir, parentLayers);
    if (listing.skipped.length) run.skipped.push(...listing.skipped);
    const cursor = run.cache.cursor(relDir);
    const cached = cursor.dir;
    if (listing.unreadable) {
      // A folder we cannot list keeps its previous version, rather than every file in it showing as deleted.
      if (cached && this.treeKnown(run, cached.tree)) {
        run.cache.reuse(relDir, cached);
        return { tree: cached.tree, totals: cached.totals };
      }
      await this.ensureIndex(run);
      const before = run.parentTree
        ? await entryAt(this.repo, run.parentTree, relDir).catch(() => undefined)
        : undefined;
      if (before?.type === 'dir') {
        const kept = await subtreeTotals(this.repo, before.tree);
        return { tree: before.tree, totals: kept };
      }
    }
    let reusable = cached !== undefined && cached.count === listing.entries.length && this.treeKnown(run, cached.tree);
    const count = listing.entries.length;
    const entries: Array<TreeEntry | undefined> = new Array(count);
    // Per entry: the trusted signature slot (>= 0), or the signature to record, or undefined (not recorded).
    const sigSource: Array<number | FileSig | undefined> = new Array(count);
    const totals: SubtreeTotals = { files: 0, dirs: 0, symlinks: 0, bytes: 0 };
    const fromCache: number[] = [];
    const toRead: number[] = [];
    const reads: Promise<void>[] = [];

    // Files first (reads start on the pool), folders after, one at a time: a depth-first walk keeps only
    // one path of listings in memory, where starting every folder at once held all 100,000 stats.
    for (let k = 0; k < count; k++) {
      const entry = listing.entries[k];
      if (entry.kind === 'dir') continue;
      const stat = entry.stat!;
      const slot = cursor.trusted(entry.name, stat);
      if (slot >= 0) {
        sigSource[k] = slot;
        fromCache.push(k);
        continue;
      }
      reusable = false;
      if (entry.kind === 'symlink') {
        const abs = this.scanner.absolute(entry.relPath);
        reads.push(
          this.repo.port.readlink(abs).then(
            (target) => {
              entries[k] = { type: 'symlink', name: entry.name, target };
              sigSource[k] = stat;
            },
            () => {
              run.skipped.push({ path: entry.relPath, reason: 'symlink vanished while being read' });
            },
          ),
        );
        continue;
      }
      toRead.push(k);
    }
    // Storing a file asks the index whether its blobs are new.
    if (toRead.length > 0) await this.ensureIndex(run);
    // The folder's files are one batch on the pool: they are read while its sub-folders are walked.
    const fileReads = this.pool.run(toRead.length, async (i) => {
      const k = toRead[i];
      const entry = listing.entries[k];
      this.checkCancelled(run.request);
      const outcome = await storeFile(
        this.repo,
        run.writer,
        this.repo.port,
        this.scanner.absolute(entry.relPath),
        entry.stat,
      );
      if (outcome.ok) {
        entries[k] = {
          type: 'file',
          name: entry.name,
          mode: outcome.stat.mode & 0o7777,
          size: outcome.size,
          content: outcome.content,
        };
        sigSource[k] = outcome.stat;
        this.report(run, entry.relPath, outcome.size);
      } else {
        run.skipped.push({ path: entry.relPath, reason: outcome.reason });
      }
    });
    // A failure is awaited below, after the sub-folders; until then it must not count as unhandled.
    fileReads.catch(() => undefined);
    for (let k = 0; k < count; k++) {
      const entry = listing.entries[k];
      if (entry.kind !== 'dir') continue;
      const sub = await this.buildDir(run, entry.relPath, listing.layers);
      entries[k] = { type: 'dir', name: entry.name, tree: sub.tree };
      totals.dirs += 1 + sub.totals.dirs;
      totals.files += sub.totals.files;
      totals.symlinks += sub.totals.symlinks;
      totals.bytes += sub.totals.bytes;
      if (run.cache.previousDir(entry.relPath)?.tree !== sub.tree) reusable = false;
    }
    await Promise.all([fileReads, ...reads]);

    if (reusable && cached) {
      run.cache.reuse(relDir, cached);
      return { tree: cached.tree, totals: cached.totals };
    }
    await this.ensureIndex(run);
    const previous = cached && this.repo.hasBlob(cached.tree) ? await this.repo.loadTree(cached.tree) : undefined;
    for (const k of fromCache) {
      const entry = listing.entries[k];
      const old = previous ? findEntry(previous, entry.name) : undefined;
      if (old && old.type === entry.kind) {
        entries[k] = old;
        continue;
      }
      // The cache trusted a file its tree does not have (a pruned tree): read it after all.
      sigSource[k] = undefined;
      const abs = this.scanner.absolute(entry.relPath);
      if (entry.kind === 'symlink') {
        const target = await this.repo.port.readlink(abs).catch(() => undefined);
        if (target !== undefined) entries[k] = { type: 'symlink', name: entry.name, target };
        continue;
      }
      const outcome = await storeFile(this.repo, run.writer, this.repo.port, abs, entry.stat);
      if (outcome.ok)
        entries[k] = {
          type: 'file',
          name: entry.name,
          mode: outcome.stat.mode & 0o7777,
          size: outcome.size,
          content: outcome.content,
        };
      else run.skipped.push({ path: entry.relPath, reason: outcome.reason });
    }
    // Keep the previous version of a file we could not read this time, rather than recording it as deleted.
    for (let k = 0; k < count; k++) {
      if (entries[k] || listing.entries[k].kind === 'dir' || !previous) continue;
      const old = findEntry(previous, listing.entries[k].name);
      if (old && old.type !== 'dir') entries[k] = old;
    }
    const recorder = run.cache.recorder();
    const present: TreeEntry[] = [];
    for (let k = 0; k < count; k++) {
      const entry = entries[k];
      if (!entry) continue;
      present.push(entry);
      if (entry.type === 'file') {
        totals.files++;
        totals.bytes += entry.size;
      } else if (entry.type === 'symlink') totals.symlinks++;
      const source = sigSource[k];
      if (typeof source === 'number') recorder.addTrusted(entry.name, source);
      else if (source) recorder.add(entry.name, source);
    }
    const tree = await run.writer.addTree(present, { remember: run.rememberTrees });
    recorder.finish(relDir, tree, totals, count);
    return { tree, totals };
  }

  // ---- incremental -----------------------------------------------------------------------------------

  private async incremental(run: Run, parent: SnapshotRecord, requested: readonly string[]): Promise<string> {
    const root: Overlay = await this.overlayOf(parent.tree);
    // Saves never scan .git (git rewrites its index on every status): the parent's .git is carried forward
    // until the next full snapshot takes it whole.
    const rels = [...new Set(requested.map((p) => this.relative(p)))].filter((rel) => !isGitPath(rel)).sort();
    // A path below another requested path is covered by it.
    const paths = rels.filter((rel, i) => !rels.slice(0, i).some((other) => rel.startsWith(`${other}/`)));
    for (const rel of paths) {
      this.checkCancelled(run.request);
      await this.applyPath(run, root, rel);
    }
    return this.finalize(run.writer, root, parent.tree);
  }

  private async overlayOf(treeId: string | undefined): Promise<Overlay> {
    const entries = new Map<string, TreeEntry>();
    if (treeId) for (const entry of (await this.repo.loadTree(treeId)).entries) entries.set(entry.name, entry);
    return { entries, children: new Map() };
  }

  /** The overlay of folder `parts` (creating folders the parent snapshot lacks when `create`). */
  private async descend(node: Overlay, parts: readonly string[], create: boolean): Promise<Overlay | undefined> {
    let current = node;
    for (const name of parts) {
      let child = current.children.get(name);
      if (!child) {
        const entry = current.entries.get(name);
        if (entry?.type === 'dir') child = await this.overlayOf(entry.tree);
        else if (create) child = await this.overlayOf(undefined);
        else return undefined;
        current.children.set(name, child);
      }
      current = child;
    }
    return current;
  }

  /**
   * The path an incremental snapshot must record for `rel`, as a full scan would see it: the first
   * ancestor that is not a folder on disk (a symlink, a file, or nothing) stands for everything below it,
   * since a scan never goes beyond it (so `link/passwd` with `link -> /etc` records `link`, a link), and
   * so does the first folder the snapshot being built does not hold as a folder (scanned whole, as new).
   */
  private async effectivePath(root: Overlay, rel: string): Promise<string> {
    const parts = rel.split('/');
    let node = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const prefix = parts.slice(0, i + 1).join('/');
      const stat = await this.repo.port.lstat(this.scanner.absolute(prefix)).catch(() => undefined);
      if (!stat?.isDirectory()) return prefix;
      const child = await this.descend(node, [parts[i]], false);
      if (!child) return prefix;
      node = child;
    }
    return rel;
  }

  private async applyPath(run: Run, root: Overlay, requested: string): Promise<void> {
    const rel = await this.effectivePath(root, requested);
    const parts = rel.split('/');
    const name = parts[parts.length - 1];
    const abs = this.scanner.absolute(rel);
    // Unsaved content is for the file the editor has open; beneath a symlink that file is not ours to store.
    const override = rel === requested ? run.request.contents?.get(rel) : undefined;
    const stat = await this.repo.port.lstat(abs).catch(() => undefined);
    if (!stat && !override) {
      // Gone (every folder above it is there: see effectivePath): record the deletion.
      if (await this.scanner.isExcludedPath(rel, false)) return;
      const holder = (await this.descend(root, parts.slice(0, -1), false)) as Overlay;
      holder.entries.delete(name);
      holder.children.delete(name);
      return;
    }
    const isDir = stat?.isDirectory() ?? false;
    if (await this.scanner.isExcludedPath(rel, isDir)) return;
    const holder = (await this.descend(root, parts.slice(0, -1), true)) as Overlay;
    holder.children.delete(name);
    if (override && !stat?.isSymbolicLink()) {
      const id = override.length ? [await run.writer.add('data', override)] : [];
      holder.entries.set(name, {
        type: 'file',
        name,
        mode: stat?.isFile() ? stat.mode & 0o7777 : 0o644,
        size: override.length,
        content: id,
      });
      return;
    }
    if (!stat) return;
    if (stat.isSymbolicLink()) {
      const target = await this.repo.port.readlink(abs).catch(() => undefined);
      if (target !== undefined) holder.entries.set(name, { type: 'symlink', name, target });
      return;
    }
    if (isDir) {
      const built = await this.buildDir(run, rel, await this.scanner.layersAbove(rel));
      holder.entries.set(name, { type: 'dir', name, tree: built.tree });
      return;
    }
    if (!stat.isFile()) {
      run.skipped.push({ path: rel, reason: 'not a regular file, folder or symlink' });
      return;
    }
    const max = this.options.maxFileSize ?? 0;
    if (max > 0 && stat.size > max) {
      run.skipped.push({ path: rel, reason: `larger than the maximum file size (${stat.size} > ${max} bytes)` });
      return;
    }
    const outcome = await storeFile(this.repo, run.writer, this.repo.port, abs, stat);
    if (!outcome.ok) {
      run.skipped.push({ path: rel, reason: outcome.reason });
      return;
    }
    holder.entries.set(name, {
      type: 'file',
      name,
      mode: outcome.stat.mode & 0o7777,
      size: outcome.size,
      content: outcome.content,
    });
    this.report(run, rel, outcome.size);
  }

  /** Writes the trees of every touched folder, bottom up; untouched folders keep their ids. */
  private async finalize(writer: BlobWriter, node: Overlay, original: string | undefined): Promise<string> {
    for (const [name, child] of node.children) {
      const before = node.entries.get(name);
      const tree = await this.finalize(writer, child, before?.type === 'dir' ? before.tree : undefined);
      node.entries.set(name, { type: 'dir', name, tree });
    }
    const entries = [...node.entries.values()];
    if (original && node.children.size === 0 && sameEntries(await this.repo.loadTree(original), entries))
      return original;
    return writer.addTree(entries);
  }
}
