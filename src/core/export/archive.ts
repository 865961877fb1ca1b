// Exports a snapshot as an ordinary zip or tar.gz that any archive tool restores without Project Backup:
// everything (full), or only what changed since an earlier snapshot (differential: since the last full
// archive; incremental: since the last archive of any kind), with what to remove listed in a manifest.
// Invariants: content streams one file at a time, blob by blob, with backpressure, so memory does not grow
// with file size; the archive appears under the user's name only when complete (temp file beside it,
// fsync, rename); each archive made is recorded under meta/archives/ once it is in place.

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import { entryAt } from '../query/browse';
import { diffTrees } from '../query/diff';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { FileEntry, TreeEntry } from '../repository/tree';
import { RESTORED_MODE_BITS, unsafeNameReason } from '../repository/safePath';
import { sweepTemps, syncDir, tempPathFor, writeAll } from '../storage/atomic';
import type { FileHandlePort, FsPort } from '../storage/fsPort';
import { StoreFence } from '../storage/storeFence';
import type { ArchiveFormat, ArchiveKind, ArchiveRecord } from '../records/archiveRecord';
import { listArchives, saveArchiveRecord } from '../records/archiveRecord';

export type { ArchiveFormat, ArchiveKind, ArchiveRecord } from '../records/archiveRecord';
export { listArchives } from '../records/archiveRecord';

/** Where a differential or incremental archive keeps its manifest; never part of a full archive. */
export const MANIFEST_DIR = '.project-backup';
export const MANIFEST_FILE = `${MANIFEST_DIR}/manifest.json`;
export const DELETED_FILE = `${MANIFEST_DIR}/deleted.txt`;

/** How an archive with a manifest is applied, stated in the manifest so no Project Backup is needed. */
export const APPLY_INSTRUCTIONS =
  `Start from the state of the base snapshot. Remove every path listed in ${DELETED_FILE} (one per line, ` +
  'children before their folder, folders end with "/"), then extract this archive over it, then remove ' +
  `${MANIFEST_FILE} and ${DELETED_FILE} (and ${MANIFEST_DIR}/ if that leaves it empty).`;

/** Files up to this size are read whole and handed over as one buffer: a stream per small file costs more. */
const WHOLE_BELOW = 1024 * 1024;
/** Small files queued in the archiver at most (their buffers are held until written). */
const QUEUE_BYTES = 8 * 1024 * 1024;
const DIR_MODE = 0o755;
const SYMLINK_MODE = 0o777;

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

export async function exportArchive(repo: Repository, options: ExportOptions): Promise<ArchiveResult> {
  const { snapshot, signal } = options;
  const file = path.resolve(options.file);
  const format = options.format ?? formatOf(file);
  if (!format) throw new BackupError('USAGE', `Cannot tell which archive to write from the name ${file}: end it in .zip or .tar.gz.`, { file });
  checkCancelled(signal);
  // An archive in the store's folder would be a file that verify and prune never account for.
  await StoreFence.refuseInside(repo.port, repo.location, path.dirname(file), 'write an archive into');
  const lock = await repo.readLock(`an archive export to ${file}`);
  try {
    const { kind, base } = await resolveBase(repo, snapshot, options.since);
    if (base) await refuseManifestClash(repo, snapshot);
    const plan = await planArchive(repo, snapshot, base);
    await checkTarget(repo.port, file, options.overwrite === true);
    checkCancelled(signal);
    const time = repo.now().toISOString();
    const manifest: ArchiveManifest | undefined = base && kind !== 'full'
      ? { v: 1, kind, snapshot: snapshot.id, snapshotTime: snapshot.time, base: base.id, baseTime: base.time, time, workspace: snapshot.workspace, deleted: plan.removals.length, apply: APPLY_INSTRUCTIONS }
      : undefined;
    const written = await writeArchive(repo, file, format, snapshot, plan, manifest, options);
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
    if (!repo.readOnly) try {
      await saveArchiveRecord(repo, record);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new BackupError(isBackupError(error) ? error.code : 'IO_ERROR', `The archive ${file} is complete, but recording it in the store failed, so later archives will not build on it: ${reason}`, { file });
    }
    return { id: record.id, kind, file, format, files: written.files, bytes: written.bytes, deleted: plan.removals, base: record.base, skipped: plan.skipped, recorded: !repo.readOnly };
  } finally {
    await lock?.release();
  }
}

// ---- what goes in ---------------------------------------------------------------------------------------

async function resolveBase(repo: Repository, snapshot: SnapshotRecord, since: ExportOptions['since']): Promise<{ kind: ArchiveKind; base?: SnapshotRecord }> {
  if (since === undefined) return { kind: 'full' };
  if (typeof since !== 'string') return { kind: 'incremental', base: since };
  const archives = await listArchives(repo, snapshot.workspace.id);
  const previous = since === 'full' ? archives.filter((a) => a.kind === 'full').pop() : archives[archives.length - 1];
  const kind: ArchiveKind = since === 'full' ? 'differential' : 'incremental';
  if (!previous) {
    const missing = since === 'full' ? 'no full archive' : 'no archive';
    throw new BackupError('USAGE', `There is ${missing} of ${snapshot.workspace.path} yet, so a ${kind} archive has nothing to build on; make a full archive first.`, { workspace: snapshot.workspace.id, since });
  }
  try {
    return { kind, base: await repo.loadSnapshot(previous.snapshot) };
  } catch (error) {
    if (!isBackupError(error, 'SNAPSHOT_NOT_FOUND')) throw error;
    throw new BackupError('SNAPSHOT_NOT_FOUND', `Snapshot ${previous.snapshot.slice(0, 8)}, which the ${previous.kind} archive ${previous.file} holds, is no longer in the store; make a full archive to start a new chain.`, { snapshot: previous.snapshot, archive: previous.id });
  }
}

/** The manifest would overwrite the workspace's own files of the same names: refuse rather than lose them. */
async function refuseManifestClash(repo: Repository, snapshot: SnapshotRecord): Promise<void> {
  const folder = await entryAt(repo, snapshot.tree, MANIFEST_DIR);
  if (!folder) return;
  const clash = folder.type !== 'dir' ? MANIFEST_DIR : (await entryAt(repo, snapshot.tree, MANIFEST_FILE)) ? MANIFEST_FILE : (await entryAt(repo, snapshot.tree, DELETED_FILE)) ? DELETED_FILE : undefined;
  if (clash) {
    throw new BackupError('USAGE', `The workspace has its own ${clash}, which the manifest of a differential or incremental archive would overwrite; rename it, or make a full archive.`, { path: clash });
  }
}

interface Item {
  path: string;
  entry: TreeEntry;
}

interface Plan {
  /** In tree order: a folder before what it holds. */
  writes: Item[];
  /** Paths to remove before extracting: children before their folder; folders end with "/". */
  removals: string[];
  skipped: SkippedEntry[];
  bytesTotal: number;
}

async function planArchive(repo: Repository, snapshot: SnapshotRecord, base: SnapshotRecord | undefined): Promise<Plan> {
  // A full archive is the difference from an empty tree: every folder, file and symlink, folders first.
  const changes = await diffTrees(repo, base?.tree, snapshot.tree, '', { a: base && `Snapshot ${base.id.slice(0, 8)}`, b: `Snapshot ${snapshot.id.slice(0, 8)}` });
  const plan: Plan = { writes: [], removals: [], skipped: [], bytesTotal: 0 };
  for (const change of changes) {
    const { before, after } = change;
    // A path whose kind changed is removed first too: no extractor puts a file where a folder is, and some
    // would write a file through the symlink that was there.
    if (before && (!after || before.type !== after.type)) {
      const problem = namesProblem(change.path) ?? (/[\r\n]/.test(change.path) ? 'its name holds a line break, which deleted.txt cannot list' : undefined);
      if (problem) plan.skipped.push({ path: change.path, reason: `not listed for removal: ${problem}` });
      else plan.removals.push(before.type === 'dir' ? `${change.path}/` : change.path);
    }
    if (!after) continue;
    const problem = namesProblem(change.path) ?? archiveNameProblem(change.path) ?? (after.type === 'symlink' && after.target === '' ? 'it is a symlink without a target' : undefined) ?? (after.type === 'symlink' && after.target.includes('\0') ? 'its symlink target contains a NUL character' : undefined);
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

/**
 * The name an entry gets in the archive. archiver drops a leading `word:` (a Windows drive, to it), which
 * would turn a top-level `notes:draft.md` into `draft.md`; `./` in front keeps the name whole, and every
 * extractor reads `./x` as `x`.
 */
function archiveName(p: string): string {
  return /^\w+:/.test(p) ? `./${p}` : p;
}

async function checkTarget(port: FsPort, file: string, overwrite: boolean): Promise<void> {
  let stat;
  try {
    stat = await port.lstat(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw describeFsError(error, 'checking', file);
  }
  if (stat.isDirectory()) throw new BackupError('USAGE', `${file} is a folder; give the archive a file name ending in .zip or .tar.gz.`, { file });
  if (!overwrite) throw new BackupError('USAGE', `${file} already exists; choose another name or remove it first.`, { file });
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

function cancelled(): BackupError {
  return new BackupError('CANCELLED', 'The export was cancelled; no archive was written.');
}

// ---- writing ----------------------------------------------------------------------------------------------

/** The part of archiver 7 we use (its CommonJS export is a function; @types/archiver 8 describes v8's classes). */
interface EntryData {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  date: Date;
  mode: number;
  linkname?: string;
  /** Only the size is read: it lets the tar writer stream an entry instead of buffering it whole. */
  stats?: { size: number };
}

interface ArchiverStream extends Transform {
  append(source: Buffer | Readable, data: EntryData): this;
  finalize(): Promise<void>;
  abort(): this;
}

type ArchiverFactory = (format: 'zip' | 'tar', options: Record<string, unknown>) => ArchiverStream;

/** Loaded on first export, so the extension does not load archiver at activation. */
async function loadArchiver(): Promise<ArchiverFactory> {
  const loaded = (await import('archiver')) as unknown as { default: ArchiverFactory };
  return loaded.default;
}

/** Writes to a file handle of the port, so archive writes meet the same fault injection as the store's. */
class HandleWritable extends Writable {
  written = 0;

  constructor(private readonly handle: FileHandlePort) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    writeAll(this.handle, buffers).then(
      () => {
        for (const b of buffers) this.written += b.length;
        callback();
      },
      (error: Error) => callback(error),
    );
  }
}

/**
 * Hands entries to archiver in order, never more than one stream and QUEUE_BYTES of small files ahead of
 * what it has written: archiver queues whatever it is given, so this is where memory stays bounded.
 */
class Feeder {
  private readonly queued: number[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;

  constructor(
    private readonly archive: ArchiverStream,
    private readonly failed: Promise<never>,
  ) {
    archive.on('entry', () => {
      this.queuedBytes -= this.queued.shift() ?? 0;
      this.wake?.();
    });
  }

  async addBuffer(data: Buffer, entry: EntryData): Promise<void> {
    const weight = data.length + 512;
    this.queued.push(weight);
    this.queuedBytes += weight;
    this.archive.append(data, entry);
    await this.until(() => this.queuedBytes <= QUEUE_BYTES);
  }

  /** Resolves once the stream's content is in the archive. */
  async addStream(source: Readable, entry: EntryData): Promise<void> {
    const sourceFailed = new Promise<never>((_, reject) => source.once('error', reject));
    this.queued.push(0);
    this.archive.append(source, entry);
    await this.until(() => this.queued.length === 0, sourceFailed);
  }

  drain(): Promise<void> {
    return this.until(() => this.queued.length === 0);
  }

  private async until(ready: () => boolean, also?: Promise<never>): Promise<void> {
    while (!ready()) {
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race(also ? [woken, this.failed, also] : [woken, this.failed]);
    }
  }
}

async function writeArchive(
  repo: Repository,
  file: string,
  format: ArchiveFormat,
  snapshot: SnapshotRecord,
  plan: Plan,
  manifest: ArchiveManifest | undefined,
  options: ExportOptions,
): Promise<{ bytes: number; files: number }> {
  const { signal, onProgress } = options;
  const port = repo.port;
  const create = await loadArchiver();
  // What a killed export left beside its archive goes now (#11.7); a running export's temp file stays.
  // An archive whose short name ends a path at the OS limit has its temp file in the nearest folder above
  // where it fits (the rename is atomic across folders of one file system): that folder is swept too.
  const temp = tempPathFor(file, path.parse(file).root);
  await sweepTemps(port, path.dirname(file));
  if (path.dirname(temp) !== path.dirname(file)) await sweepTemps(port, path.dirname(temp));
  let handle: FileHandlePort;
  try {
    handle = await port.open(temp, 'wx', 0o666);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
      throw new BackupError('PATH_NOT_FOUND', `The folder ${path.dirname(file)} does not exist; create it, or choose another place for the archive.`, { path: path.dirname(file) });
    }
    throw describeFsError(error, 'creating the archive', file);
  }
  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => undefined);
  const onAbort = () => fail(cancelled());
  signal?.addEventListener('abort', onAbort, { once: true });

  const sink = new HandleWritable(handle);
  const sinkDone = finished(sink);
  sinkDone.catch(() => undefined);
  const archive = create(format === 'zip' ? 'zip' : 'tar', format === 'zip' ? { zlib: { level: 6 }, forceLocalTime: true } : { gzip: true, gzipOptions: { level: 6 } });
  archive.on('error', fail);
  archive.on('warning', fail);
  sink.on('error', fail);
  archive.pipe(sink);
  const feeder = new Feeder(archive, failed);

  const date = new Date(snapshot.time);
  let current: Readable | undefined;
  let closed = false;
  let files = 0;
  let bytesDone = 0;
  const progress = (n: number) => {
    bytesDone += n;
    onProgress?.(bytesDone, plan.bytesTotal);
  };
  try {
    if (manifest) {
      // First, so a reader streaming the archive learns what to remove before anything else.
      await feeder.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), { name: MANIFEST_FILE, type: 'file', mode: 0o644, date });
      await feeder.addBuffer(Buffer.from(plan.removals.map((p) => `${p}\n`).join(''), 'utf8'), { name: DELETED_FILE, type: 'file', mode: 0o644, date });
    }
    onProgress?.(0, plan.bytesTotal);
    for (const { path: p, entry } of plan.writes) {
      checkCancelled(signal);
      const name = archiveName(p);
      if (entry.type === 'dir') {
        await feeder.addBuffer(Buffer.alloc(0), { name, type: 'directory', mode: DIR_MODE, date });
      } else if (entry.type === 'symlink') {
        await feeder.addBuffer(Buffer.alloc(0), { name, type: 'symlink', linkname: entry.target, mode: SYMLINK_MODE, date });
        files++;
      } else {
        const data: EntryData = { name, type: 'file', mode: entry.mode & RESTORED_MODE_BITS, date, stats: { size: entry.size } };
        const content = fileContent(repo, p, entry, signal, progress);
        if (entry.size <= WHOLE_BELOW) {
          const parts: Buffer[] = [];
          for await (const part of content) parts.push(part);
          await feeder.addBuffer(parts.length === 1 ? parts[0] : Buffer.concat(parts), data);
        } else {
          // objectMode off: the stream holds about one blob ahead of the archiver, whatever the file's size.
          current = Readable.from(content, { objectMode: false, highWaterMark: 64 * 1024 });
          await feeder.addStream(current, data);
          current = undefined;
        }
        files++;
      }
    }
    await feeder.drain();
    checkCancelled(signal);
    await Promise.race([archive.finalize(), failed]);
    await Promise.race([sinkDone, failed]);
    await handle.sync();
    closed = true;
    await handle.close();
    checkCancelled(signal);
    await port.rename(temp, file);
    await syncDir(port, path.dirname(file));
    return { bytes: sink.written, files };
  } catch (error) {
    archive.abort();
    current?.destroy();
    sink.destroy();
    if (!closed) await handle.close().catch(() => undefined);
    await port.unlink(temp).catch(() => undefined);
    throw describeFsError(error, 'writing the archive', file);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A file's content blob by blob, checked against the size its tree records. */
async function* fileContent(repo: Repository, p: string, entry: FileEntry, signal: AbortSignal | undefined, progress: (n: number) => void): AsyncGenerator<Buffer> {
  let seen = 0;
  for (const id of entry.content) {
    checkCancelled(signal);
    let blob: Buffer;
    try {
      blob = await repo.loadBlob(id);
    } catch (error) {
      if (!isBackupError(error)) throw error;
      throw new BackupError(error.code, `${p} cannot be exported: ${error.message}`, { ...error.data, path: p });
    }
    seen += blob.length;
    progress(blob.length);
    yield blob;
  }
  if (seen !== entry.size) {
    throw new BackupError('OBJECT_DAMAGED', `${p} cannot be exported: its content is ${seen} bytes where its folder's tree says ${entry.size}; the tree is damaged.`, { path: p });
  }
}
