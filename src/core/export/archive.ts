// Exports a snapshot as an ordinary zip or tar.gz that any archive tool restores without Project Backup:
// everything (full), or only what changed since an earlier snapshot (differential: since the last full
// archive; incremental: since the last archive of any kind), with what to remove listed in a manifest.
// Invariants: content streams one file at a time, blob by blob, with backpressure, so memory does not grow
// with file size; the archive appears under the user's name only when complete (temp file beside it,
// fsync, rename); each archive made is recorded under meta/archives/ once it is in place.

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import { yieldIfBusy } from '../eventLoop';
import { entryAt } from '../query/browse';
import { diffTrees } from '../query/diff';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import { unsafeNameReason } from '../repository/safePath';
import type { FsPort } from '../storage/fsPort';
import { StoreFence } from '../storage/storeFence';
import type { ArchiveFormat, ArchiveKind, ArchiveRecord } from '../records/archiveRecord';
import { listArchives, saveArchiveRecord } from '../records/archiveRecord';
import {
  APPLY_INSTRUCTIONS,
  DELETED_FILE,
  MANIFEST_DIR,
  MANIFEST_FILE,
  checkCancelled,
  writeArchive,
} from './archiveWriter';
import type { Plan } from './archiveWriter';

export type { ArchiveFormat, ArchiveKind, ArchiveRecord } from '../records/archiveRecord';
export { listArchives } from '../records/archiveRecord';
export { APPLY_INSTRUCTIONS, DELETED_FILE, MANIFEST_DIR, MANIFEST_FILE } from './archiveWriter';

export interface ExportOptions {
  snapshot: SnapshotRecord;
  /** The archive to write; its folder must exist. */
  file: string;
  /** From the file name (`.zip`, `.tar.gz`, `.tgz`) when absent. */
  format?: ArchiveFormat;
  /**
   * Absent: a full archive. `'full'`: differential, relative to the snapshot of the last full archive of
   * this workspace. `'last'`: incremental, relative to the snapshot of its last archive of any kind. A
   * snapshot: incremental, relative to that snapshot.
   */
  since?: SnapshotRecord | 'full' | 'last';
  /** Replace an existing file at `file` (refused otherwise, so a chain's archive is not lost to a typo). */
  overwrite?: boolean;
  signal?: AbortSignal;
  /** File content bytes written so far, of the total to write. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface SkippedEntry {
  path: string;
  reason: string;
}

export interface ArchiveResult {
  /** The id of the archive's record in the store. */
  id: string;
  kind: ArchiveKind;
  file: string;
  format: ArchiveFormat;
  /** Files and symlinks written (folders and the manifest aside). */
  files: number;
  /** Size of the archive file. */
  bytes: number;
  /** Paths to remove before extracting (as in deleted.txt); empty for a full archive. */
  deleted: string[];
  /** The base snapshot's id; null for a full archive. */
  base: string | null;
  /** False when the store could not be written (read without a lock): later archives do not build on this one. */
  recorded: boolean;
  /** Entries that could not be put in the archive faithfully (hostile or unportable names). */
  skipped: SkippedEntry[];
}

export interface ArchiveManifest {
  v: 1;
  kind: Exclude<ArchiveKind, 'full'>;
  snapshot: string;
  snapshotTime: string;
  base: string;
  baseTime: string;
  /** When the archive was made. */
  time: string;
  workspace: { path: string; id: string };
  /** How many lines deleted.txt has. */
  deleted: number;
  apply: string;
}

/** The archive format a file name asks for, or undefined when it names none we write. */
export function formatOf(file: string): ArchiveFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

/** What an export will write, to show before it runs (#13). */
export interface ExportPlan {
  snapshot: SnapshotRecord;
  file: string;
  format: ArchiveFormat;
  kind: ArchiveKind;
  /** The snapshot a differential or incremental archive builds on. */
  base?: SnapshotRecord;
  /** Files, folders and links the archive holds. */
  entries: number;
  /** Bytes of file content to write. */
  bytes: number;
  /** Paths the manifest lists for removal before extracting. */
  removals: number;
  /** Entries left out, each with why. */
  skipped: SkippedEntry[];
  /** Held while the archive is written: shared, so snapshots go on and prune waits. */
  lock: 'shared';
  /** Where the archive is recorded once it is in place (later archives build on it). */
  record: 'meta/archives/';
}

interface Held {
  repo: Repository;
  contents: Plan;
  overwrite: boolean;
}

const held = new WeakMap<ExportPlan, Held>();

/** Works out what the archive holds and checks where it goes; writes nothing and takes no lock. */
export async function planExport(repo: Repository, options: Omit<ExportOptions, 'onProgress'>): Promise<ExportPlan> {
  const { snapshot, signal } = options;
  const file = path.resolve(options.file);
  const format = options.format ?? formatOf(file);
  if (!format)
    throw new BackupError(
      'USAGE',
      `Cannot tell which archive to write from the name ${file}: end it in .zip or .tar.gz.`,
      { file },
    );
  checkCancelled(signal);
  // An archive in the store's folder would be a file that verify and prune never account for.
  await StoreFence.refuseInside(repo.port, repo.location, path.dirname(file), 'write an archive into');
  const { kind, base } = await resolveBase(repo, snapshot, options.since);
  if (base) await refuseManifestClash(repo, snapshot);
  const contents = await planArchive(repo, snapshot, base);
  await checkTarget(repo.port, file, options.overwrite === true);
  checkCancelled(signal);
  const plan: ExportPlan = {
    snapshot,
    file,
    format,
    kind,
    ...(base ? { base } : {}),
    entries: contents.writes.length,
    bytes: contents.bytesTotal,
    removals: contents.removals.length,
    skipped: contents.skipped,
    lock: 'shared',
    record: 'meta/archives/',
  };
  held.set(plan, { repo, contents, overwrite: options.overwrite === true });
  return plan;
}

/** Writes the archive the plan describes under the store's shared lock, then records it in the store. */
export async function applyExport(
  plan: ExportPlan,
  options: Pick<ExportOptions, 'signal' | 'onProgress'> = {},
): Promise<ArchiveResult> {
  const job = held.get(plan);
  if (!job) throw new BackupError('USAGE', 'This export plan was not made by planExport.');
  held.delete(plan);
  const lock = await job.repo.readLock(`an archive export to ${plan.file}`);
  try {
    // The target may have appeared since the plan was shown.
    await checkTarget(job.repo.port, plan.file, job.overwrite);
    return await writeAndRecord(job, plan, options);
  } finally {
    await lock?.release();
  }
}

/** planExport and applyExport under one lock: an archive made without asking (see them for what is thrown). */
export async function exportArchive(repo: Repository, options: ExportOptions): Promise<ArchiveResult> {
  const lock = await repo.readLock(`an archive export to ${path.resolve(options.file)}`);
  try {
    const plan = await planExport(repo, options);
    const job = held.get(plan) as Held;
    held.delete(plan);
    return await writeAndRecord(job, plan, options);
  } finally {
    await lock?.release();
  }
}

async function writeAndRecord(
  job: Held,
  plan: ExportPlan,
  options: Pick<ExportOptions, 'signal' | 'onProgress'>,
): Promise<ArchiveResult> {
  const { repo, contents } = job;
  const { snapshot, file, format, kind, base } = plan;
  checkCancelled(options.signal);
  const time = repo.now().toISOString();
  const manifest: ArchiveManifest | undefined =
    base && kind !== 'full'
      ? {
          v: 1,
          kind,
          snapshot: snapshot.id,
          snapshotTime: snapshot.time,
          base: base.id,
          baseTime: base.time,
          time,
          workspace: snapshot.workspace,
          deleted: contents.removals.length,
          apply: APPLY_INSTRUCTIONS,
        }
      : undefined;
  const written = await writeArchive(repo, file, format, snapshot, contents, manifest, options);
  const record: ArchiveRecord = {
    v: 1,
    id: randomBytes(16).toString('hex'),
    time,
    workspace: { path: snapshot.workspace.path, id: snapshot.workspace.id },
    snapshot: snapshot.id,
    kind,
    base: base?.id ?? null,
    file,
    format,
    bytes: written.bytes,
    files: written.files,
  };
  // A store that cannot be written (read without a lock) cannot record it: the archive is whole, but
  // later differential or incremental archives will not build on it.
  if (!repo.readOnly)
    try {
      await saveArchiveRecord(repo, record);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackupError(
        isBackupError(error) ? error.code : 'IO_ERROR',
        `The archive ${file} is complete, but recording it in the store failed, so later archives will not build on it: ${reason}`,
        { file },
      );
    }
  return {
    id: record.id,
    kind,
    file,
    format,
    files: written.files,
    bytes: written.bytes,
    deleted: contents.removals,
    base: record.base,
    skipped: contents.skipped,
    recorded: !repo.readOnly,
  };
}

// ---- what goes in ---------------------------------------------------------------------------------------

async function resolveBase(
  repo: Repository,
  snapshot: SnapshotRecord,
  since: ExportOptions['since'],
): Promise<{ kind: ArchiveKind; base?: SnapshotRecord }> {
  if (since === undefined) return { kind: 'full' };
  if (typeof since !== 'string') return { kind: 'incremental', base: since };
  const archives = await listArchives(repo, snapshot.workspace.id);
  const previous = since === 'full' ? archives.filter((a) => a.kind === 'full').pop() : archives[archives.length - 1];
  const kind: ArchiveKind = since === 'full' ? 'differential' : 'incremental';
  if (!previous) {
    const missing = since === 'full' ? 'no full archive' : 'no archive';
    throw new BackupError(
      'USAGE',
      `There is ${missing} of ${snapshot.workspace.path} yet, so a ${kind} archive has nothing to build on; make a full archive first.`,
      { workspace: snapshot.workspace.id, since },
    );
  }
  try {
    return { kind, base: await repo.loadSnapshot(previous.snapshot) };
  } catch (error) {
    if (!isBackupError(error, 'SNAPSHOT_NOT_FOUND')) throw error;
    throw new BackupError(
      'SNAPSHOT_NOT_FOUND',
      `Snapshot ${previous.snapshot.slice(0, 8)}, which the ${previous.kind} archive ${previous.file} holds, is no longer in the store; make a full archive to start a new chain.`,
      { snapshot: previous.snapshot, archive: previous.id },
    );
  }
}

/** The manifest would overwrite the workspace's own files of the same names: refuse rather than lose them. */
async function refuseManifestClash(repo: Repository, snapshot: SnapshotRecord): Promise<void> {
  const folder = await entryAt(repo, snapshot.tree, MANIFEST_DIR);
  if (!folder) return;
  const clash =
    folder.type !== 'dir'
      ? MANIFEST_DIR
      : (await entryAt(repo, snapshot.tree, MANIFEST_FILE))
        ? MANIFEST_FILE
        : (await entryAt(repo, snapshot.tree, DELETED_FILE))
          ? DELETED_FILE
          : undefined;
  if (clash) {
    throw new BackupError(
      'USAGE',
      `The workspace has its own ${clash}, which the manifest of a differential or incremental archive would overwrite; rename it, or make a full archive.`,
      { path: clash },
    );
  }
}

async function planArchive(
  repo: Repository,
  snapshot: SnapshotRecord,
  base: SnapshotRecord | undefined,
): Promise<Plan> {
  // A full archive is the difference from an empty tree: every folder, file and symlink, folders first.
  const changes = await diffTrees(repo, base?.tree, snapshot.tree, '', {
    a: base && `Snapshot ${base.id.slice(0, 8)}`,
    b: `Snapshot ${snapshot.id.slice(0, 8)}`,
  });
  const plan: Plan = { writes: [], removals: [], skipped: [], bytesTotal: 0 };
  for (const change of changes) {
    // Every name is checked: at 200,000 files, in one turn, that held the editor's host 150 ms (#16).
    const turn = yieldIfBusy();
    if (turn) await turn;
    const { before, after } = change;
    // A path whose kind changed is removed first too: no extractor puts a file where a folder is, and some
    // would write a file through the symlink that was there.
    if (before && (!after || before.type !== after.type)) {
      const problem =
        namesProblem(change.path) ??
        (/[\r\n]/.test(change.path) ? 'its name holds a line break, which deleted.txt cannot list' : undefined);
      if (problem) plan.skipped.push({ path: change.path, reason: `not listed for removal: ${problem}` });
      else plan.removals.push(before.type === 'dir' ? `${change.path}/` : change.path);
    }
    if (!after) continue;
    const problem =
      namesProblem(change.path) ??
      archiveNameProblem(change.path) ??
      (after.type === 'symlink' && after.target === '' ? 'it is a symlink without a target' : undefined) ??
      (after.type === 'symlink' && after.target.includes('\0')
        ? 'its symlink target contains a NUL character'
        : undefined);
    if (problem) {
      plan.skipped.push({ path: change.path, reason: problem });
      continue;
    }
    plan.writes.push({ path: change.path, entry: after });
    if (after.type === 'file') plan.bytesTotal += after.size;
  }
  // diffTrees lists a folder before its content; removal wants the reverse.
  plan.removals.reverse();
  return plan;
}

/** Names from a store are not trusted: none may lead an extractor outside its target folder. */
function namesProblem(p: string): string | undefined {
  for (const part of p.split('/')) {
    const reason = unsafeNameReason(part, 'linux');
    if (reason) return `its name contains ${reason}`;
  }
  return undefined;
}

/** Names that archive tools would read differently from what the snapshot holds. */
function archiveNameProblem(p: string): string | undefined {
  if (p.includes('\\')) return 'its name contains a backslash, which archive tools read as a folder separator';
  return undefined;
}

async function checkTarget(port: FsPort, file: string, overwrite: boolean): Promise<void> {
  let stat;
  try {
    stat = await port.lstat(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw describeFsError(error, 'checking', file);
  }
  if (stat.isDirectory())
    throw new BackupError('USAGE', `${file} is a folder; give the archive a file name ending in .zip or .tar.gz.`, {
      file,
    });
  if (!overwrite)
    throw new BackupError('USAGE', `${file} already exists; choose another name or remove it first.`, { file });
}
