// Writing an archive: the entries of a snapshot streamed into a zip or tar.gz (archiver, from dist/vendor)
// through a temp file beside the target, fsync'd and renamed into place when complete.
// Invariant: content streams one file at a time, blob by blob, with backpressure: memory does not grow with
// file size; a killed export's temp file is swept by the next export into that folder.

import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { FileEntry, TreeEntry } from '../repository/tree';
import { RESTORED_MODE_BITS } from '../repository/safePath';
import { sweepTemps, syncDir, tempPathFor, writeAll } from '../storage/atomic';
import type { FileHandlePort } from '../storage/fsPort';
import type { ArchiveFormat } from '../records/archiveRecord';
import type { ArchiveManifest, ExportOptions, SkippedEntry } from './archive';

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
/**
 * Entries queued in the archiver at most: each is a few objects in archiver's queue (about 700 bytes), and
 * by bytes alone 16,000 tiny files could wait there.
 */
const QUEUE_ENTRIES = 1024;
const DIR_MODE = 0o755;
const SYMLINK_MODE = 0o777;

/**
 * The name an entry gets in the archive. archiver drops a leading `word:` (a Windows drive, to it), which
 * would turn a top-level `notes:draft.md` into `draft.md`; `./` in front keeps the name whole, and every
 * extractor reads `./x` as `x`.
 */
function archiveName(p: string): string {
  return /^\w+:/.test(p) ? `./${p}` : p;
}

export function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled();
}

export function cancelled(): BackupError {
  return new BackupError('CANCELLED', 'The export was cancelled; no archive was written.');
}

export interface Item {
  path: string;
  entry: TreeEntry;
}

export interface Plan {
  /** In tree order: a folder before what it holds. */
  writes: Item[];
  /** Paths to remove before extracting: children before their folder; folders end with "/". */
  removals: string[];
  skipped: SkippedEntry[];
  bytesTotal: number;
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

/** Loaded on first export (archiverVendor.ts), so the extension does not load archiver at activation. */
async function loadArchiver(): Promise<ArchiverFactory> {
  // require, not import(): see archiverVendor.ts. A turn between its steps, so no step holds the loop long.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const vendor = require('./archiverVendor') as typeof import('./archiverVendor');
  const loaded = (await vendor.loadInSteps(() => new Promise<void>((resolve) => setImmediate(resolve)))) as
    ArchiverFactory | { default: ArchiverFactory };
  return typeof loaded === 'function' ? loaded : loaded.default;
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
 * Hands entries to archiver in order, never more than one stream and QUEUE_BYTES (or QUEUE_ENTRIES) of small files ahead of
 * what it has written: archiver queues whatever it is given, so this is where memory stays bounded.
 */
class Feeder {
  private readonly queued: number[] = [];
  private queuedBytes = 0;
  private wake: (() => void) | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly archive: ArchiverStream,
    failed: Promise<never>,
  ) {
    archive.on('entry', () => {
      this.queuedBytes -= this.queued.shift() ?? 0;
      this.wake?.();
    });
    // Noted once, not raced at every wait: each Promise.race on a promise that never settles leaves a
    // reaction on it, and an export of 200,000 files kept 90,000 of them (50 MB, and GC pauses of 150 ms).
    failed.catch((error: unknown) => {
      this.failure = { error };
      this.wake?.();
    });
  }

  async addBuffer(data: Buffer, entry: EntryData): Promise<void> {
    const weight = data.length + 512;
    this.queued.push(weight);
    this.queuedBytes += weight;
    this.archive.append(data, entry);
    await this.until(() => this.queuedBytes <= QUEUE_BYTES && this.queued.length <= QUEUE_ENTRIES);
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
      if (this.failure) throw this.failure.error;
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      await (also ? Promise.race([woken, also]) : woken);
    }
  }
}

export async function writeArchive(
  repo: Repository,
  file: string,
  format: ArchiveFormat,
  snapshot: SnapshotRecord,
  plan: Plan,
  manifest: ArchiveManifest | undefined,
  options: Pick<ExportOptions, 'signal' | 'onProgress'>,
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
      throw new BackupError(
        'PATH_NOT_FOUND',
        `The folder ${path.dirname(file)} does not exist; create it, or choose another place for the archive.`,
        { path: path.dirname(file) },
      );
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
  const archive = create(
    format === 'zip' ? 'zip' : 'tar',
    format === 'zip' ? { zlib: { level: 6 }, forceLocalTime: true } : { gzip: true, gzipOptions: { level: 6 } },
  );
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
      await feeder.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8'), {
        name: MANIFEST_FILE,
        type: 'file',
        mode: 0o644,
        date,
      });
      await feeder.addBuffer(Buffer.from(plan.removals.map((p) => `${p}\n`).join(''), 'utf8'), {
        name: DELETED_FILE,
        type: 'file',
        mode: 0o644,
        date,
      });
    }
    onProgress?.(0, plan.bytesTotal);
    for (const { path: p, entry } of plan.writes) {
      checkCancelled(signal);
      const name = archiveName(p);
      if (entry.type === 'dir') {
        await feeder.addBuffer(Buffer.alloc(0), { name, type: 'directory', mode: DIR_MODE, date });
      } else if (entry.type === 'symlink') {
        await feeder.addBuffer(Buffer.alloc(0), {
          name,
          type: 'symlink',
          linkname: entry.target,
          mode: SYMLINK_MODE,
          date,
        });
        files++;
      } else {
        const data: EntryData = {
          name,
          type: 'file',
          mode: entry.mode & RESTORED_MODE_BITS,
          date,
          stats: { size: entry.size },
        };
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
async function* fileContent(
  repo: Repository,
  p: string,
  entry: FileEntry,
  signal: AbortSignal | undefined,
  progress: (n: number) => void,
): AsyncGenerator<Buffer> {
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
    throw new BackupError(
      'OBJECT_DAMAGED',
      `${p} cannot be exported: its content is ${seen} bytes where its folder's tree says ${entry.size}; the tree is damaged.`,
      { path: p },
    );
  }
}
