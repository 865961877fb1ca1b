// Reads one file into the store: whole for small files, content-defined chunks for large ones.
// Invariant: what is stored is a consistent state of the file. The file is stat'ed before and after the
// read; if it changed in between, it is read again, and after a few tries it is reported, never stored torn.

import { errnoCode, isBackupError } from '../errors';
import { loopShared } from '../eventLoop';
import type { FileSig } from '../scan/scanner';
import { isRegularFile, sigOf } from '../scan/scanner';
import type { FsPort } from '../storage/fsPort';
import { StreamChunker } from '../repository/chunker';
import type { BlobWriter, Repository } from '../repository/repository';

export type ReadOutcome = { ok: true; content: string[]; size: number; stat: FileSig } | { ok: false; reason: string };

const TRIES = 3;
const READ_PIECE = 128 * 1024;
/** Below this size a synchronous read is cheaper than the four promise round trips of readFile. */
const SYNC_READ_BELOW = 256 * 1024;
/**
 * A synchronous read that took longer than this went to the disk (the file was not in the page cache): small
 * files are then read on the thread pool, several at once, until WARM_READS of them in a row came back within
 * WARM_READ_MS (the cache holds them again). A first snapshot of 200,000 files the cache had dropped held
 * the editor's loop 20-70 ms five hundred times, one disk read each (#16). Probing with asynchronous reads
 * keeps the probe itself off the loop.
 */
const COLD_READ_MS = 4;
const WARM_READ_MS = 2;
const WARM_READS = 32;
let cold = false;
let warmInARow = 0;

/** Whether a small file is read synchronously now (not while reads are going to the disk). */
function readSyncNow(size: number): boolean {
  // A process whose loop waits on nobody (the CLI) reads small files synchronously, cold or not: on the
  // pool they cost four round trips each, and a CLI first snapshot of 200,000 files took 2-3 times as long.
  return size < SYNC_READ_BELOW && (!cold || !loopShared());
}

/** Notes how long a whole-file read took, synchronous or not (see COLD_READ_MS). */
function noteRead(sync: boolean, ms: number): void {
  if (sync) {
    if (ms > COLD_READ_MS) {
      cold = true;
      warmInARow = 0;
    }
  } else if (ms > WARM_READ_MS) {
    warmInARow = 0;
  } else if (++warmInARow >= WARM_READS) {
    cold = false;
  }
}

function sameState(a: FileSig, b: FileSig): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

function describeReadError(error: unknown): string {
  switch (errnoCode(error)) {
    case 'ENOENT':
      return 'deleted while being read';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'turned into a folder while being read';
    default:
      return `could not be read (${errnoCode(error) ?? (error instanceof Error ? error.message : String(error))})`;
  }
}

export async function storeFile(
  repo: Repository,
  writer: BlobWriter,
  port: FsPort,
  absPath: string,
  before: FileSig | undefined,
): Promise<ReadOutcome> {
  let stat = before;
  for (let attempt = 0; attempt < TRIES; attempt++) {
    try {
      stat ??= await port.lstat(absPath);
      if (!isRegularFile(stat)) return { ok: false, reason: 'is no longer a regular file' };
      const small = readSyncNow(stat.size);
      const content =
        stat.size >= repo.config.chunkFrom
          ? await storeChunked(repo, writer, port, absPath)
          : await storeWhole(writer, port, absPath, small);
      const after = small ? port.lstatSync(absPath) : await port.lstat(absPath);
      if (!after) return { ok: false, reason: 'deleted while being read' };
      if (sameState(stat, after) && after.size === content.size)
        return { ok: true, content: content.ids, size: content.size, stat: sigOf(after) };
      stat = sigOf(after);
    } catch (error) {
      // Store-side failures (disk full while writing a pack) abort the snapshot; a workspace file that
      // cannot be read (gone, no permission, an I/O error) is skipped and named in the report.
      if (isBackupError(error) || !errnoCode(error)) throw error;
      return { ok: false, reason: describeReadError(error) };
    }
  }
  return { ok: false, reason: `kept changing while being read (${TRIES} tries); it goes into the next snapshot` };
}

async function storeWhole(
  writer: BlobWriter,
  port: FsPort,
  absPath: string,
  sync: boolean,
): Promise<{ ids: string[]; size: number }> {
  const started = performance.now();
  const data = sync ? port.readFileSync(absPath) : await port.readFile(absPath);
  if (data.length < SYNC_READ_BELOW) noteRead(sync, performance.now() - started);
  if (data.length === 0) return { ids: [], size: 0 };
  return { ids: [await writer.add('data', data)], size: data.length };
}

async function storeChunked(
  repo: Repository,
  writer: BlobWriter,
  port: FsPort,
  absPath: string,
): Promise<{ ids: string[]; size: number }> {
  const chunker = new StreamChunker(repo.config.chunker);
  const handle = await port.open(absPath, 'r');
  const ids: string[] = [];
  let size = 0;
  try {
    for (;;) {
      const piece = Buffer.allocUnsafe(READ_PIECE);
      const { bytesRead } = await handle.read(piece, 0, READ_PIECE, null);
      if (bytesRead === 0) break;
      size += bytesRead;
      for (const chunk of chunker.push(piece.subarray(0, bytesRead))) ids.push(await writer.add('data', chunk));
    }
    for (const chunk of chunker.finish()) ids.push(await writer.add('data', chunk));
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { ids, size };
}

/** The content ids a file would get if stored now, without storing anything (restore compares with it). */
export async function contentIdsOf(
  repo: Pick<Repository, 'config' | 'codec'>,
  port: FsPort,
  absPath: string,
  size: number,
): Promise<string[]> {
  if (size < repo.config.chunkFrom) {
    const data = await port.readFile(absPath);
    return data.length === 0 ? [] : [repo.codec.id(data)];
  }
  const chunker = new StreamChunker(repo.config.chunker);
  const handle = await port.open(absPath, 'r');
  const ids: string[] = [];
  try {
    for (;;) {
      const piece = Buffer.allocUnsafe(READ_PIECE);
      const { bytesRead } = await handle.read(piece, 0, READ_PIECE, null);
      if (bytesRead === 0) break;
      for (const chunk of chunker.push(piece.subarray(0, bytesRead))) ids.push(repo.codec.id(chunk));
    }
    for (const chunk of chunker.finish()) ids.push(repo.codec.id(chunk));
  } finally {
    await handle.close().catch(() => undefined);
  }
  return ids;
}
