// A faulty FsPort in the manner of kopia's blobtesting/faulty.go: counts the operations that change the disk
// and makes the Nth one (and, like a disk that stays full, every later one) fail with ENOSPC, EACCES or EIO.
// Built on spyPort, so every call is still recorded. A failing write first writes half of its bytes, the
// way a disk fills up mid-file, so a test sees whether the engine removes what it left behind.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FileHandlePort, FsPort } from '../../../src/core/storage/fsPort';
import { nodeFs } from '../../../src/core/storage/fsPort';
import { spyPort } from './fixtures';
import type { SpyPort } from './fixtures';

export type FaultCode = 'ENOSPC' | 'EACCES' | 'EIO';

/** Operations that change the disk. `sync` counts on every handle (a directory fsync is part of a commit). */
export type WriteOp =
  | 'open'
  | 'write'
  | 'writev'
  | 'sync'
  | 'rename'
  | 'renameSync'
  | 'writeNewFileSync'
  | 'mkdir'
  | 'symlink'
  | 'chmod'
  | 'chmodSync'
  | 'unlink'
  | 'rmdir'
  | 'rm';

/** What a snapshot or a restore does to the disk (cleanup by unlink is left alone, so it can succeed). */
export const WRITE_OPS: readonly WriteOp[] = [
  'open',
  'write',
  'writev',
  'sync',
  'rename',
  'renameSync',
  'writeNewFileSync',
  'mkdir',
  'symlink',
  'chmod',
  'chmodSync',
];
/** Prune's work is mostly removing: count removals too. */
export const WRITE_AND_REMOVE_OPS: readonly WriteOp[] = [...WRITE_OPS, 'unlink', 'rmdir', 'rm'];

export interface FaultPlan {
  /** The counted operation (1-based) that fails first; undefined counts without failing (a dry run to learn how many there are). */
  failAt?: number;
  code?: FaultCode;
  /** Which operations count (default WRITE_OPS). */
  ops?: readonly WriteOp[];
  /** Only operations on paths equal to or below this folder count (default: all). */
  under?: string;
  /** After the first failure, fail every later counted operation too (default true: a full disk stays full). */
  sticky?: boolean;
  /** Operations left out of the count (and never failed), e.g. those on lock files. */
  skip?: (op: WriteOp, file: string) => boolean;
}

export interface FaultyPort extends SpyPort {
  /** Counted operations so far, as "op path". */
  readonly counted: string[];
  /** The counted operations that were made to fail. */
  readonly failed: string[];
  /** Ends the fault: later operations succeed (the user freed space). */
  heal(): void;
}

export function fsError(code: FaultCode, op: string, file: string): NodeJS.ErrnoException {
  const text = { ENOSPC: 'no space left on device', EACCES: 'permission denied', EIO: 'i/o error' }[code];
  const error = new Error(`${code}: ${text}, ${op} '${file}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.errno = { ENOSPC: -28, EACCES: -13, EIO: -5 }[code];
  error.syscall = op;
  error.path = file;
  return error;
}

function isWriteFlags(flags: string): boolean {
  return /[wa+]/.test(flags);
}

export function faultyPort(plan: FaultPlan = {}, base: FsPort = nodeFs): FaultyPort {
  const ops = new Set<string>(plan.ops ?? WRITE_OPS);
  const code = plan.code ?? 'ENOSPC';
  const sticky = plan.sticky ?? true;
  const counted: string[] = [];
  const failed: string[] = [];
  let healed = false;
  const inScope = (file: string) => !plan.under || file === plan.under || file.startsWith(plan.under + path.sep);

  /** Counts one operation; returns the error to throw, or undefined to let it through. */
  const tick = (op: WriteOp, file: string): NodeJS.ErrnoException | undefined => {
    if (!ops.has(op) || !inScope(file) || plan.skip?.(op, file)) return undefined;
    counted.push(`${op} ${file}`);
    if (healed || plan.failAt === undefined) return undefined;
    const n = counted.length;
    if (n === plan.failAt || (sticky && n > plan.failAt)) {
      failed.push(`${op} ${file}`);
      return fsError(code, op, file);
    }
    return undefined;
  };

  const wrapHandle = (handle: FileHandlePort, file: string): FileHandlePort => ({
    read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
    stat: () => handle.stat(),
    close: () => handle.close(),
    write: async (buffer, offset, length, position) => {
      const error = tick('write', file);
      if (error) {
        const start = offset ?? 0;
        const len = length ?? buffer.length - start;
        if (len > 1) await handle.write(buffer, start, Math.floor(len / 2), position);
        throw error;
      }
      return handle.write(buffer, offset, length, position);
    },
    writev: async (buffers) => {
      const error = tick('writev', file);
      if (error) {
        const first = buffers.find((b) => b.length > 1);
        if (first) await handle.write(first, 0, Math.floor(first.length / 2), null);
        throw error;
      }
      return handle.writev(buffers);
    },
    sync: async () => {
      const error = tick('sync', file);
      if (error) throw error;
      return handle.sync();
    },
  });

  const spy = spyPort(
    {
      open: async (b, file, flags, mode) => {
        if (isWriteFlags(flags)) {
          const error = tick('open', file);
          if (error) throw error;
        }
        return wrapHandle(await b.open(file, flags, mode), file);
      },
      rename: async (b, from, to) => {
        const error = tick('rename', to);
        if (error) throw error;
        return b.rename(from, to);
      },
      renameSync: (b, from, to) => {
        const error = tick('renameSync', to);
        if (error) throw error;
        b.renameSync(from, to);
      },
      writeNewFileSync: (b, file, chunks, mode, durable) => {
        const error = tick('writeNewFileSync', file);
        if (error) {
          // The file was created and the disk filled up half way through it.
          const all = Buffer.concat(chunks);
          fs.writeFileSync(file, all.subarray(0, Math.floor(all.length / 2)), { flag: 'wx', mode });
          throw error;
        }
        b.writeNewFileSync(file, chunks, mode, durable);
      },
      mkdir: async (b, file, options) => {
        // `mkdir -p` of a folder that is there changes nothing on disk, so no disk fault can meet it.
        if (options?.recursive && fs.lstatSync(file, { throwIfNoEntry: false })?.isDirectory())
          return b.mkdir(file, options);
        const error = tick('mkdir', file);
        if (error) throw error;
        return b.mkdir(file, options);
      },
      symlink: async (b, target, file) => {
        const error = tick('symlink', file);
        if (error) throw error;
        return b.symlink(target, file);
      },
      chmod: async (b, file, mode) => {
        const error = tick('chmod', file);
        if (error) throw error;
        return b.chmod(file, mode);
      },
      chmodSync: (b, file, mode) => {
        const error = tick('chmodSync', file);
        if (error) throw error;
        b.chmodSync(file, mode);
      },
      unlink: async (b, file) => {
        const error = tick('unlink', file);
        if (error) throw error;
        return b.unlink(file);
      },
      rmdir: async (b, file) => {
        const error = tick('rmdir', file);
        if (error) throw error;
        return b.rmdir(file);
      },
      rm: async (b, file, options) => {
        const error = tick('rm', file);
        if (error) throw error;
        return b.rm(file, options);
      },
    },
    base,
  );
  const port = spy as FaultyPort;
  Object.defineProperty(port, 'counted', { value: counted });
  Object.defineProperty(port, 'failed', { value: failed });
  port.heal = () => {
    healed = true;
  };
  return port;
}

/** Records unhandled promise rejections while a test runs: a fault must never leave one behind. */
export function trackUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => {
    reasons.push(reason);
  };
  process.on('unhandledRejection', listener);
  return {
    reasons,
    stop: () => {
      process.off('unhandledRejection', listener);
    },
  };
}
