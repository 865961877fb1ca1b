// Crash-safe file writes: temp file beside the target, fsync, rename, fsync the directory.
// Invariant: after a crash at any instant the target holds either its old content or the complete new
// content, never a prefix; a failed write removes its temp file.

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { errnoCode } from '../errors';
import type { FileHandlePort, FsPort } from './fsPort';

/**
 * Temp files are `.pb-tmp-<writer's pid, base 36>-<6 random>` in the target's folder: at most 21 bytes
 * whatever the final name, so a name of 255 bytes (the common limit) or a path near the OS limit still has
 * room for its temp file, and the writer's pid lets a later run tell a killed writer's leftovers from a live
 * one's (sweepTemps).
 */
export const TEMP_PREFIX = '.pb-tmp-';
/** Before #11.3 a temp file was `<name>.tmp-<random>`; stores may still hold such leftovers, which prune removes. */
export const TEMP_MARKER = '.tmp-';
const TEMP_NAME = /^\.pb-tmp-([0-9a-z]{1,8})-[0-9a-z]{6}$/;
const PID = process.pid.toString(36);

// Random suffixes from a pool: unique without asking the OS for randomness per file.
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomSuffix(): string {
  if (poolAt + 4 > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const n = pool.readUInt32BE(poolAt) % 36 ** 6;
  poolAt += 4;
  return n.toString(36).padStart(6, '0');
}

/** The longest path the OS takes (PATH_MAX less the NUL); Windows takes long paths through Node. */
const PATH_LIMIT = process.platform === 'linux' ? 4095 : process.platform === 'darwin' ? 1023 : Infinity;

/**
 * A fresh temp path in the folder of `target` (a local path, or a remote one with forward slashes). When
 * that would pass the OS path limit (a short name at the limit), the temp file goes into the nearest folder
 * above where it fits, but never above `floor` (a restore target): a rename within one file system is atomic
 * across folders too.
 */
export function tempPathFor(target: string, floor?: string): string {
  const name = `${TEMP_PREFIX}${PID}-${randomSuffix()}`;
  let dir = folderOf(target);
  while (
    floor &&
    Buffer.byteLength(dir) + name.length > PATH_LIMIT &&
    dir.length > floor.length + 1 &&
    dir.startsWith(floor)
  ) {
    dir = folderOf(dir.slice(0, -1));
  }
  return `${dir}${name}`;
}

/** The folder part of a path, with its trailing separator. */
function folderOf(p: string): string {
  const cut = Math.max(p.lastIndexOf('/'), process.platform === 'win32' ? p.lastIndexOf('\\') : -1);
  return p.slice(0, cut + 1);
}

/** A temp file of ours, current or (in a store) of the older `<name>.tmp-` form. */
export function isTempName(name: string): boolean {
  return TEMP_NAME.test(name) || name.includes(TEMP_MARKER);
}

/**
 * Removes from `dir` the temp files (current form only, never folders) whose writer is gone: a process on
 * this machine that no longer runs. A live writer's temp files, ours included, stay. Best effort: a folder
 * that cannot be listed, or a file that cannot be removed, is left as it is. Returns how many were removed.
 */
export async function sweepTemps(port: FsPort, dir: string): Promise<number> {
  let entries;
  try {
    entries = port.readdirSync(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    const match = TEMP_NAME.exec(entry.name);
    if (!match || entry.isDirectory() || processAlive(parseInt(match[1], 36))) continue;
    await port.unlink(path.join(dir, entry.name)).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) !== 'ESRCH';
  }
}

export interface AtomicWriteOptions {
  /** Skip fsync for data whose loss on power failure is harmless (lock files, caches). */
  durable?: boolean;
  mode?: number;
}

/** Writes `chunks` to a temp file and returns its path; the caller renames it into place. */
export async function writeTemp(
  port: FsPort,
  target: string,
  chunks: readonly Buffer[],
  options: AtomicWriteOptions = {},
): Promise<string> {
  const temp = tempPathFor(target);
  const handle = await port.open(temp, 'wx', options.mode ?? 0o644);
  try {
    await writeAll(handle, chunks);
    if (options.durable !== false) await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await port.unlink(temp).catch(() => undefined);
    throw error;
  }
  return temp;
}

/** Writes every byte of `chunks`, in batches of up to 512 buffers per writev, finishing short writes. */
export async function writeAll(handle: FileHandlePort, chunks: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < chunks.length; i += 512) {
    const batch = chunks.slice(i, i + 512);
    const expected = batch.reduce((sum, b) => sum + b.length, 0);
    const { bytesWritten } = await handle.writev(batch);
    if (bytesWritten === expected) continue;
    // A short writev: write the rest buffer by buffer.
    let skip = bytesWritten;
    for (const chunk of batch) {
      let offset = Math.min(skip, chunk.length);
      skip -= offset;
      while (offset < chunk.length) {
        const { bytesWritten: n } = await handle.write(chunk, offset, chunk.length - offset, null);
        offset += n;
      }
    }
  }
}

/** Atomically replaces `target` with `data`. */
export async function writeFileAtomic(
  port: FsPort,
  target: string,
  data: Buffer | readonly Buffer[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  const chunks = Buffer.isBuffer(data) ? [data] : data;
  const temp = await writeTemp(port, target, chunks, options);
  try {
    await port.rename(temp, target);
  } catch (error) {
    await port.unlink(temp).catch(() => undefined);
    throw error;
  }
  if (options.durable !== false) await syncDir(port, path.dirname(target));
}

/** Makes a rename or creation inside `dir` durable. Some file systems refuse to fsync a directory: harmless. */
export async function syncDir(port: FsPort, dir: string): Promise<void> {
  let handle;
  try {
    handle = await port.open(dir, 'r');
  } catch (error) {
    if (errnoCode(error) === 'EISDIR' || errnoCode(error) === 'EPERM') return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}
