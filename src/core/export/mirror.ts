// Keeps a plain folder (no compression, no encryption, no store format: what a file manager opens) an
// exact copy of one snapshot, rewriting only what differs from the snapshot it mirrored before.
// Invariants: every file appears by rename of a complete temp file (the Restorer writes them), so a reader or
// a crash never sees half a file; nothing outside the folder is touched; a folder that is not empty and
// holds no mirror state is refused, and so is one that overlaps the workspace or the store.

import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import { sha256Hex } from '../repository/codec';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { FileEntry } from '../repository/tree';
import { MAX_TREE_DEPTH, tooDeep } from '../repository/tree';
import { Restorer } from '../restore/restorer';
import type { RestoreProblem } from '../restore/restorer';
import { RESTORED_MODE_BITS, entryProblem } from '../repository/safePath';
import { writeFileAtomic } from '../storage/atomic';
import type { FsPort } from '../storage/fsPort';
import { StoreFence, isWithin, realish } from '../storage/storeFence';

/** The mirror's own file, in the folder's root: which snapshot it holds and what each file looked like when written. */
export const MIRROR_STATE = '.project-backup-mirror.json';

/** Paths handed to one Restorer run: its overlap check is quadratic in the number of paths. */
const BATCH = 500;

export interface MirrorOptions {
  /** Stops between files; files written so far are complete, and the next run carries on. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface MirrorResult {
  snapshot: string;
  folder: string;
  /** The snapshot the folder mirrored before this run; undefined for a new mirror. */
  previous?: string;
  /** Files, links and folders created or replaced. */
  written: number;
  /** Paths removed because the snapshot does not have them (a removed folder counts once). */
  deleted: number;
  /** Files and links already as in the snapshot, left alone (those the state file vouches for are not even read). */
  unchanged: number;
  /** Entries that could not be mirrored (unsafe names, damaged data, file-system errors); the rest is done. */
  problems: RestoreProblem[];
}

/** What the state file remembers of one file: its snapshot content and the stat we saw right after writing it. */
interface MirroredFile {
  size: number;
  mode: number;
  /** A digest of the content ids, so a file whose content changed in the snapshot is rewritten. */
  content: string;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

interface MirrorState {
  snapshot: string;
  files: Map<string, MirroredFile>;
}

/** What a mirror needs of the store: its trees and blobs (through the restorer), its shared lock, where it lies. */
export type MirrorRepo = Pick<Repository, 'port' | 'location' | 'readLock' | 'loadTree'> &
  ConstructorParameters<typeof Restorer>[0];

/** What a mirror run will do, to show before it runs (#13): counts, the folder's previous snapshot, the lock. */
export interface MirrorPlan {
  snapshot: SnapshotRecord;
  folder: string;
  /** The snapshot the folder mirrors now; undefined for a new mirror. */
  previous?: string;
  /** Paths removed (what the snapshot no longer has, or what stands where an entry of another type goes). */
  removals: number;
  /** Files, links and folders to write. */
  writes: number;
  unchanged: number;
  /** Entries that cannot be mirrored (unsafe names, damaged data). */
  problems: RestoreProblem[];
  /** Held while the plan is applied: shared, so snapshots go on and prune waits. */
  lock: 'shared';
  /** The state file in the folder, rewritten when done. */
  record: typeof MIRROR_STATE;
}

interface Held {
  repo: MirrorRepo;
  state: MirrorState | undefined;
  compared: Plan;
}

const held = new WeakMap<MirrorPlan, Held>();

/**
 * Compares `folder` with `snapshot`; writes nothing. Throws UNSAFE_PATH when the folder overlaps the
 * workspace or the store, RESTORE_CONFLICT when it is a file or a non-empty folder that is not a mirror.
 */
export async function planMirror(repo: MirrorRepo, snapshot: SnapshotRecord, folder: string): Promise<MirrorPlan> {
  const port = repo.port;
  const target = path.resolve(folder);
  await refuseOverlap(port, target, snapshot.workspace.path, 'workspace');
  const fence = await StoreFence.refuseInside(port, repo.location, target, 'mirror into');
  if (fence.below) {
    throw new BackupError(
      'UNSAFE_PATH',
      `Refusing to mirror into ${target}: it holds the backup store ${repo.location}, which the mirror would delete; choose a folder outside the workspace and the store.`,
      { folder: target, store: repo.location },
    );
  }
  const state = await openFolder(port, target);
  const problems: RestoreProblem[] = [];
  const exists = lstatOrUndefined(port, target)?.isDirectory() === true;
  const compared = await comparePlan(repo, snapshot, target, state?.files ?? new Map(), problems, exists);
  const plan: MirrorPlan = {
    snapshot,
    folder: target,
    ...(state?.snapshot ? { previous: state.snapshot } : {}),
    removals: compared.removals.length,
    writes: compared.writeItems,
    unchanged: compared.unchanged,
    problems,
    lock: 'shared',
    record: MIRROR_STATE,
  };
  held.set(plan, { repo, state, compared });
  return plan;
}

/** Carries out a plan from planMirror under the store's shared lock. CANCELLED when the signal fires; failures of single entries are returned as problems. */
export async function applyMirror(plan: MirrorPlan, options: MirrorOptions = {}): Promise<MirrorResult> {
  const job = held.get(plan);
  if (!job) throw new BackupError('USAGE', 'This mirror plan was not made by planMirror.');
  held.delete(plan);
  const lock = await job.repo.readLock(`a mirror into ${plan.folder}`);
  try {
    return await applyLocked(job, plan, options);
  } finally {
    await lock?.release();
  }
}

/** Makes `folder` an exact copy of `snapshot`: planMirror and applyMirror under one lock (see them for what is thrown). */
export async function mirror(
  repo: MirrorRepo,
  snapshot: SnapshotRecord,
  folder: string,
  options: MirrorOptions = {},
): Promise<MirrorResult> {
  // The job takes its own lock (#13): shared, so prune waits for it (none on a store that cannot be written).
  const lock = await repo.readLock(`a mirror into ${path.resolve(folder)}`);
  try {
    const plan = await planMirror(repo, snapshot, folder);
    const job = held.get(plan) as Held;
    held.delete(plan);
    return await applyLocked(job, plan, options);
  } finally {
    await lock?.release();
  }
}

async function applyLocked(job: Held, mirrorPlan: MirrorPlan, options: MirrorOptions): Promise<MirrorResult> {
  const { repo, compared: plan } = job;
  const port = repo.port;
  const target = mirrorPlan.folder;
  const snapshot = mirrorPlan.snapshot;
  if (!job.state) {
    // Mark the folder as a mirror before the first file lands in it, so an interrupted first run is
    // carried on by the next one rather than refused as someone's non-empty folder.
    await port.mkdir(target, { recursive: true }).catch((error) => {
      throw describeFsError(error, 'creating the mirror folder', target);
    });
    await saveState(port, target, { snapshot: '', files: new Map() });
  }
  const result: MirrorResult = {
    snapshot: snapshot.id,
    folder: target,
    written: 0,
    deleted: 0,
    unchanged: 0,
    problems: [...mirrorPlan.problems],
  };
  if (mirrorPlan.previous) result.previous = mirrorPlan.previous;
  result.unchanged = plan.unchanged;
  const total = plan.removals.length + plan.writeItems;
  let done = 0;
  const cancelled = () =>
    new BackupError(
      'CANCELLED',
      `The mirror into ${target} was cancelled; files written so far are complete, and the next run finishes it.`,
    );

  // Removals first: what the snapshot no longer has, and whatever stands where an entry of another type goes.
  for (const rel of plan.removals) {
    if (options.signal?.aborted) throw cancelled();
    try {
      await port.rm(path.join(target, ...rel.split('/')), { recursive: true, force: true });
      result.deleted++;
    } catch (error) {
      result.problems.push({ path: rel, reason: describeFsError(error, 'removing', path.join(target, rel)).message });
    }
    options.onProgress?.(++done, total);
  }

  const failed = new Set<string>();
  const restorer = new Restorer(repo);
  for (let i = 0; i < plan.writes.length; i += BATCH) {
    if (options.signal?.aborted) throw cancelled();
    const offset = done;
    let restored;
    try {
      restored = await restorer.restore(snapshot, {
        target,
        paths: plan.writes.slice(i, i + BATCH),
        signal: options.signal,
        onProgress: (n) => options.onProgress?.(offset + n, total),
      });
    } catch (error) {
      if (isBackupError(error, 'CANCELLED')) throw cancelled();
      throw error;
    }
    done += restored.plan.total;
    result.written += restored.restored;
    result.unchanged += restored.plan.unchanged;
    for (const problem of restored.problems) {
      failed.add(problem.path);
      result.problems.push(problem);
    }
  }

  // Remember what is now in place. A file that failed is left out, so the next run looks at it again.
  const files = new Map<string, MirroredFile>();
  for (const [rel, { entry, kept }] of plan.files) {
    if (kept) {
      files.set(rel, kept);
      continue;
    }
    if (failed.has(rel)) continue;
    const stat = lstatOrUndefined(port, path.join(target, ...rel.split('/')));
    if (stat?.isFile() && stat.size === entry.size) files.set(rel, signature(entry, stat));
  }
  await saveState(port, target, { snapshot: snapshot.id, files }, snapshot);
  return result;
}

// ---- the folder ------------------------------------------------------------------------------------------

/** A mirror inside the workspace would be snapshotted into itself; one holding the workspace would delete it. (The store: StoreFence.) */
async function refuseOverlap(port: FsPort, target: string, other: string, what: 'workspace'): Promise<void> {
  const mine = await realish(port, target);
  const theirs = await realish(port, other);
  if (isWithin(theirs, mine)) {
    throw new BackupError(
      'UNSAFE_PATH',
      `Refusing to mirror into ${target}: it is inside the ${what} ${other}; choose a folder outside the workspace and the store.`,
      { folder: target, [what]: other },
    );
  }
  if (isWithin(mine, theirs)) {
    throw new BackupError(
      'UNSAFE_PATH',
      `Refusing to mirror into ${target}: it holds the ${what} ${other}, which the mirror would delete; choose a folder outside the workspace and the store.`,
      { folder: target, [what]: other },
    );
  }
}

/**
 * Reads the folder's mirror state (undefined for a missing or empty folder). A non-empty folder without a state file is
 * someone's folder, and the mirror would delete what it holds: refused. A state file that cannot be read
 * still marks the folder as a mirror; every file is then compared by content instead.
 */
async function openFolder(port: FsPort, target: string): Promise<MirrorState | undefined> {
  let stat: Stats | undefined;
  try {
    stat = await port.stat(target);
  } catch (error) {
    if (errnoCode(error) === 'ENOTDIR')
      throw new BackupError('RESTORE_CONFLICT', `Cannot mirror into ${target}: it lies below a file, not a folder.`, {
        folder: target,
      });
    if (errnoCode(error) !== 'ENOENT') throw describeFsError(error, 'opening the mirror folder', target);
  }
  if (stat && !stat.isDirectory())
    throw new BackupError('RESTORE_CONFLICT', `Cannot mirror into ${target}: it is a file, not a folder.`, {
      folder: target,
    });
  if (!stat) return undefined;
  const names = await port.readdir(target).catch((error) => {
    throw describeFsError(error, 'listing the mirror folder', target);
  });
  if (names.length === 0) return undefined;
  if (!names.includes(MIRROR_STATE)) {
    throw new BackupError(
      'RESTORE_CONFLICT',
      `Refusing to mirror into ${target}: it is not empty and is not a mirror (no ${MIRROR_STATE}); choose an empty or new folder, or an earlier mirror.`,
      { folder: target },
    );
  }
  let bytes: Buffer;
  try {
    bytes = await port.readFile(path.join(target, MIRROR_STATE));
  } catch (error) {
    throw describeFsError(error, 'reading the mirror state', path.join(target, MIRROR_STATE));
  }
  return decodeState(bytes) ?? { snapshot: '', files: new Map() };
}

function decodeState(bytes: Buffer): MirrorState | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const raw = parsed as { v?: unknown; snapshot?: unknown; files?: unknown };
  if (raw.v !== 1 || typeof raw.snapshot !== 'string' || !Array.isArray(raw.files)) return undefined;
  const files = new Map<string, MirroredFile>();
  for (const row of raw.files as unknown[]) {
    // A row that does not look right is dropped: that file is compared by content, never trusted.
    if (!Array.isArray(row) || row.length !== 7 || typeof row[0] !== 'string' || typeof row[3] !== 'string') continue;
    const [rel, size, mode, content, mtimeMs, ctimeMs, ino] = row as [
      string,
      unknown,
      unknown,
      string,
      unknown,
      unknown,
      unknown,
    ];
    if (![size, mode, mtimeMs, ctimeMs, ino].every((n) => typeof n === 'number' && Number.isFinite(n))) continue;
    files.set(rel, {
      size: size as number,
      mode: mode as number,
      content,
      mtimeMs: mtimeMs as number,
      ctimeMs: ctimeMs as number,
      ino: ino as number,
    });
  }
  return { snapshot: raw.snapshot, files };
}

async function saveState(port: FsPort, target: string, state: MirrorState, snapshot?: SnapshotRecord): Promise<void> {
  // Rows rather than an object keyed by path: a path is data from the store, and "__proto__" is a valid name.
  const rows = [...state.files].map(([rel, f]) => [rel, f.size, f.mode, f.content, f.mtimeMs, f.ctimeMs, f.ino]);
  const body = {
    v: 1,
    tool: 'project-backup',
    snapshot: state.snapshot,
    time: snapshot?.time ?? null,
    workspace: snapshot?.workspace.path ?? null,
    files: rows,
  };
  const file = path.join(target, MIRROR_STATE);
  await writeFileAtomic(port, file, Buffer.from(JSON.stringify(body), 'utf8')).catch((error) => {
    throw describeFsError(error, 'writing the mirror state', file);
  });
}

// ---- comparing ----------------------------------------------------------------------------------------------

function contentDigest(entry: FileEntry): string {
  return sha256Hex(entry.content.join(',')).slice(0, 32);
}

function signature(entry: FileEntry, stat: Stats): MirroredFile {
  return {
    size: entry.size,
    mode: entry.mode,
    content: contentDigest(entry),
    mtimeMs: stat.mtimeMs,
    ctimeMs: stat.ctimeMs,
    ino: stat.ino,
  };
}

/** Whether the file on disk is the one we wrote for this content: same content, and untouched since (git's stat check). */
function unchangedFile(entry: FileEntry, stat: Stats, known: MirroredFile | undefined): boolean {
  if (!known || !stat.isFile()) return false;
  if (known.size !== entry.size || known.mode !== entry.mode || known.content !== contentDigest(entry)) return false;
  if (
    stat.size !== entry.size ||
    (process.platform !== 'win32' && (stat.mode & 0o7777) !== (entry.mode & RESTORED_MODE_BITS))
  )
    return false;
  return stat.mtimeMs === known.mtimeMs && stat.ctimeMs === known.ctimeMs && stat.ino === known.ino;
}

function lstatOrUndefined(port: FsPort, abs: string): Stats | undefined {
  try {
    return port.lstatSync(abs);
  } catch {
    return undefined; // ENOTDIR: a file where a folder was, so nothing is here
  }
}

interface Plan {
  /** Relative paths to remove first (whole subtrees). */
  removals: string[];
  /** Relative paths for the Restorer: changed files and links, and folders missing on disk (with everything below). */
  writes: string[];
  /** Entries the writes will create or replace (for progress). */
  writeItems: number;
  unchanged: number;
  /** Every file of the snapshot, with its state row when it is unchanged. */
  files: Map<string, { entry: FileEntry; kept?: MirroredFile }>;
}

/**
 * Walks the snapshot and the folder side by side. Unchanged files cost one lstat (never a read); a folder
 * missing on disk is not listed. Trees come from the repository's cache, so each is decoded once.
 */
/** `exists`: the folder is there (planning never creates it; a missing one has nothing to list). */
async function comparePlan(
  repo: MirrorRepo,
  snapshot: SnapshotRecord,
  target: string,
  known: ReadonlyMap<string, MirroredFile>,
  problems: RestoreProblem[],
  exists = true,
): Promise<Plan> {
  const port = repo.port;
  const plan: Plan = { removals: [], writes: [], writeItems: 0, unchanged: 0, files: new Map() };

  const walk = async (treeId: string, prefix: string, abs: string, onDisk: boolean, depth: number): Promise<void> => {
    let entries;
    try {
      entries = (await repo.loadTree(treeId)).entries;
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      problems.push({ path: prefix || '.', reason: error.message });
      return; // what is on disk there stays: we cannot tell what the snapshot holds
    }
    if (depth >= MAX_TREE_DEPTH && entries.length > 0)
      throw tooDeep(`Snapshot ${snapshot.id.slice(0, 8)}`, { snapshot: snapshot.id });
    const wanted = new Set<string>();
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      const unsafe = entryProblem(entry);
      if (unsafe) {
        problems.push({ path: rel, reason: unsafe });
        continue;
      }
      if (!prefix && entry.name === MIRROR_STATE) {
        problems.push({ path: rel, reason: `not mirrored: the mirror keeps its own state under this name` });
        continue;
      }
      wanted.add(entry.name);
      const childAbs = path.join(abs, entry.name);
      const stat = onDisk ? lstatOrUndefined(port, childAbs) : undefined;
      if (entry.type === 'dir') {
        const present = stat?.isDirectory() === true;
        if (!present) {
          if (stat) plan.removals.push(rel);
          if (onDisk) plan.writes.push(rel);
          plan.writeItems++;
        }
        await walk(entry.tree, rel, childAbs, present, depth + 1);
        continue;
      }
      let same: boolean;
      if (entry.type === 'file') {
        const kept = stat && unchangedFile(entry, stat, known.get(rel)) ? known.get(rel) : undefined;
        plan.files.set(rel, { entry, kept });
        same = kept !== undefined;
      } else {
        same =
          stat?.isSymbolicLink() === true && (await port.readlink(childAbs).catch(() => undefined)) === entry.target;
      }
      if (same) {
        plan.unchanged++;
        continue;
      }
      // A folder where a file or link goes: the Restorer only replaces empty ones, so it goes first.
      if (stat?.isDirectory()) plan.removals.push(rel);
      if (onDisk) plan.writes.push(rel);
      plan.writeItems++;
    }
    if (!onDisk || (!prefix && !exists)) return;
    let names: string[];
    try {
      names = port.readdirSync(abs).map((d) => d.name);
    } catch (error) {
      throw describeFsError(error, 'listing the mirror folder', abs);
    }
    for (const name of names) {
      if (wanted.has(name) || (!prefix && name === MIRROR_STATE)) continue;
      // Not in the snapshot: what it had is in an earlier snapshot (or a temp file of an interrupted run).
      plan.removals.push(prefix ? `${prefix}/${name}` : name);
    }
  };

  await walk(snapshot.tree, '', target, true, 0);
  return plan;
}
