// The one door through which the engine touches the file system.
// Everything in core takes an FsPort instead of importing `fs`, so tests can inject faults (ENOSPC, EACCES,
// EIO, fail-after-N-writes) anywhere and prove that no failure leaves a half-written store or file.

import * as fs from 'node:fs';

export interface FileHandlePort {
  read(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset?: number, length?: number, position?: number | null): Promise<{ bytesWritten: number }>;
  /** Writes many buffers in one system call (a pack is thousands of small blobs). */
  writev(buffers: readonly Buffer[]): Promise<{ bytesWritten: number }>;
  /** Flushes the file's data to stable storage. */
  sync(): Promise<void>;
  stat(): Promise<fs.Stats>;
  close(): Promise<void>;
}

export interface FsPort {
  open(path: string, flags: string, mode?: number): Promise<FileHandlePort>;
  readFile(path: string): Promise<Buffer>;
  rename(from: string, to: string): Promise<void>;
  /** A hard link; fails with EEXIST when `to` exists (atomic create-if-absent). */
  link(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<unknown>;
  rmdir(path: string): Promise<void>;
  rm(path: string, options: { recursive: boolean; force: boolean }): Promise<void>;
  readdir(path: string): Promise<string[]>;
  lstat(path: string): Promise<fs.Stats>;
  stat(path: string): Promise<fs.Stats>;
  readlink(path: string): Promise<string>;
  symlink(target: string, path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  realpath(path: string): Promise<string>;
  /** Synchronous reads for the scanner's hot loop, where a promise per entry costs more than the stat itself. */
  readdirSync(path: string): fs.Dirent[];
  lstatSync(path: string): fs.Stats | undefined;
  /** For small files, where a promise round trip costs more than the read (throws like readFile). */
  readFileSync(path: string): Buffer;
  /**
   * Creates `path` (failing if it exists) holding `chunks`, fsync'd when `durable`. Synchronous because
   * restoring thousands of small files through the thread pool was six times slower than cp: every
   * create and rename in one folder contends for that folder's lock.
   */
  writeNewFileSync(path: string, chunks: readonly Buffer[], mode: number, durable: boolean): void;
  chmodSync(path: string, mode: number): void;
  renameSync(from: string, to: string): void;
}

export const nodeFs: FsPort = {
  open: (path, flags, mode) => fs.promises.open(path, flags, mode),
  readFile: (path) => fs.promises.readFile(path),
  rename: (from, to) => fs.promises.rename(from, to),
  link: (from, to) => fs.promises.link(from, to),
  unlink: (path) => fs.promises.unlink(path),
  mkdir: (path, options) => fs.promises.mkdir(path, options),
  rmdir: (path) => fs.promises.rmdir(path),
  rm: (path, options) => fs.promises.rm(path, options),
  readdir: (path) => fs.promises.readdir(path),
  lstat: (path) => fs.promises.lstat(path),
  stat: (path) => fs.promises.stat(path),
  readlink: (path) => fs.promises.readlink(path),
  symlink: (target, path) => fs.promises.symlink(target, path),
  chmod: (path, mode) => fs.promises.chmod(path, mode),
  realpath: (path) => fs.promises.realpath(path),
  readdirSync: (path) => fs.readdirSync(path, { withFileTypes: true }),
  lstatSync: (path) => fs.lstatSync(path, { throwIfNoEntry: false }),
  readFileSync: (path) => fs.readFileSync(path),
  writeNewFileSync: (path, chunks, mode, durable) => {
    const fd = fs.openSync(path, 'wx', mode);
    try {
      let pending = chunks.reduce((sum, c) => sum + c.length, 0);
      let list = [...chunks];
      while (pending > 0) {
        const written = fs.writevSync(fd, list);
        pending -= written;
        // A short write: drop what went out and retry the rest.
        let skip = written;
        while (skip > 0 && list.length) {
          if (skip >= list[0].length) {
            skip -= list[0].length;
            list.shift();
          } else {
            list[0] = list[0].subarray(skip);
            skip = 0;
          }
        }
        list = list.filter((c) => c.length > 0);
      }
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  },
  chmodSync: (path, mode) => fs.chmodSync(path, mode),
  renameSync: (from, to) => fs.renameSync(from, to),
};
