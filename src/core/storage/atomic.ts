// Crash-safe file writes: temp file beside the target, fsync, rename, fsync the directory.
// Invariant: after a crash at any instant the target holds either its old content or the complete new
// content, never a prefix; a failed write removes its temp file.

import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { errnoCode } from '../errors';
import type { FileHandlePort, FsPort } from './fsPort';

export const TEMP_MARKER = '.tmp-';

// A random prefix per process and a counter: unique without asking the OS for randomness per file.
const TEMP_PREFIX = `${randomBytes(4).toString('hex')}${process.pid.toString(36)}`;
let tempCounter = 0;

export function tempPathFor(target: string): string {
  return `${target}${TEMP_MARKER}${TEMP_PREFIX}${(tempCounter++).toString(36)}`;
}

export function isTempName(name: string): boolean {
  return name.includes(TEMP_MARKER);
}

export interface AtomicWriteOptions {
  /** Skip fsync for data whose loss on power failure is harmless (lock files, caches). */
  durable?: boolean;
  mode?: number;
}

/** Writes `chunks` to a temp file and returns its path; the caller renames it into place. */
export async function writeTemp(port: FsPort, target: string, chunks: readonly Buffer[], options: AtomicWriteOptions = {}): Promise<string> {
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
export async function writeFileAtomic(port: FsPort, target: string, data: Buffer | readonly Buffer[], options: AtomicWriteOptions = {}): Promise<void> {
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
