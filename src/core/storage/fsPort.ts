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
}

export const nodeFs: FsPort = {
  open: (path, flags, mode) => fs.promises.open(path, flags, mode),
  readFile: (path) => fs.promises.readFile(path),
  rename: (from, to) => fs.promises.rename(from, to),
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
};
