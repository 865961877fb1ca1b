// The store on an SFTP server (OpenSSH's, or any SFTP v3 server), over one SSH connection per backend, which
// sftpSession.ts opens, checks and keeps. Invariants: `save` is atomic: a complete temp file with the `.tmp-`
// marker of atomic.ts, fsync'd (fsync@openssh.com) when durable, renamed over the key (posix-rename@openssh.com);
// `createOnce` links a complete temp file into place (hardlink@openssh.com, or a plain SFTP rename, which
// never replaces), so it creates or finds, never overwrites; a missing key is OBJECT_MISSING; an operation
// cut off by a dropped connection runs again once, on a new connection (each is safe to repeat).

import * as path from 'node:path';
import type { FileEntryWithStats } from 'ssh2';
import { BackupError } from '../errors';
import { Limiter } from '../limiter';
import { isTempName, tempPathFor } from './atomic';
import type { Backend, KeyKind } from './backend';
import { KINDS } from './localBackend';
import type { RemoteOptions, SftpLocation } from './remote';
import { call, isLost, type Session, SftpConnector, sftpCode } from './sftpSession';

const posix = path.posix;

/** Whole objects in flight at once: enough to hide the round trips, few enough to bound memory (a pack is up to 16 MiB). */
const TRANSFERS = 4;
/** Read or write requests in flight for one file (each up to the server's packet limit, 256 KiB for OpenSSH). */
const PIPELINE = 16;
/** Folders listed at once when walking data/'s 256 fan-out folders. */
const LISTINGS = 16;

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;

function isDirMode(mode: number): boolean {
  return (mode & 0o170000) === 0o040000;
}

export class SftpBackend implements Backend {
  private readonly connection: SftpConnector;
  private readonly limiter = new Limiter(TRANSFERS);
  /** `host:port` for messages (the location is the whole URL). */
  private readonly server: string;

  constructor(
    readonly location: string,
    private readonly target: SftpLocation,
    options: RemoteOptions = {},
  ) {
    this.connection = new SftpConnector(location, target, options);
    this.server = this.connection.server;
  }

  // ---- the Backend ----------------------------------------------------------------------------------

  async save(key: string, data: Buffer | readonly Buffer[], options: { durable?: boolean } = {}): Promise<void> {
    const chunks = Buffer.isBuffer(data) ? [data] : data;
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    await this.run(
      'writing',
      key,
      async (s) => {
        const file = this.file(s, key);
        const temp = await this.writeTemp(s, file, chunks, options.durable !== false);
        try {
          await this.renameOver(s, temp, file);
        } catch (error) {
          await call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
          throw error;
        }
      },
      bytes,
    );
  }

  async createOnce(key: string, data: Buffer): Promise<Buffer> {
    return this.run(
      'creating',
      key,
      async (s) => {
        const file = this.file(s, key);
        const temp = await this.writeTemp(s, file, [data], true);
        try {
          try {
            await this.linkNew(s, temp, file);
            return data;
          } catch (error) {
            if (isLost(error)) throw error;
            // Taken: by another writer, or by ourselves before a dropped connection hid the answer.
            const existing = await this.readWhole(s, file).catch((readError: unknown) => {
              if (sftpCode(readError) === NO_SUCH_FILE) return undefined;
              throw readError;
            });
            if (!existing) throw error;
            return existing.equals(data) ? data : existing;
          }
        } finally {
          await call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
        }
      },
      data.length,
    );
  }

  async load(key: string): Promise<Buffer> {
    return this.run('reading', key, (s) =>
      this.readWhole(s, this.file(s, key)).catch((error: unknown) => this.absent(error, key)),
    );
  }

  async loadRange(key: string, offset: number, length: number): Promise<Buffer> {
    return this.run('reading', key, async (s) => {
      const handle = await call<Buffer>(s, (cb) => s.sftp.open(this.file(s, key), 'r', cb)).catch((error: unknown) =>
        this.absent(error, key),
      );
      try {
        const buffer = Buffer.allocUnsafe(length);
        const got = await this.readInto(s, handle, buffer, offset);
        if (got < length) {
          throw new BackupError(
            'OBJECT_DAMAGED',
            `${key} in the store at ${this.location} is shorter than its index says (truncated).`,
            { key },
          );
        }
        return buffer;
      } finally {
        await call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
      }
    });
  }

  async size(key: string): Promise<number | undefined> {
    return this.run('reading', key, async (s) => {
      try {
        return (await call<{ size: number }>(s, (cb) => s.sftp.stat(this.file(s, key), cb))).size;
      } catch (error) {
        if (sftpCode(error) === NO_SUCH_FILE) return undefined;
        throw error;
      }
    });
  }

  async list(kind: KeyKind): Promise<string[]> {
    return [...(await this.sizes(kind)).keys()];
  }

  /** Keys with their sizes: an SFTP listing carries the sizes, so this costs no more than `list`. */
  async sizes(kind: KeyKind): Promise<Map<string, number>> {
    return this.run('listing', kind, async (s) => {
      const found = new Map<string, number>();
      if (kind === 'config') {
        const entries = (await this.readdirOrEmpty(s, s.root)) ?? [];
        const config = entries.find((e) => e.filename === 'config' && !isDirMode(e.attrs.mode));
        if (config) found.set('config', config.attrs.size);
        return found;
      }
      const top = (await this.readdirOrEmpty(s, posix.join(s.root, kind))) ?? [];
      if (kind === 'data') {
        const subs = top.filter((e) => e.filename.length === 2 && isDirMode(e.attrs.mode)).map((e) => e.filename);
        const listings = new Limiter(LISTINGS);
        await Promise.all(
          subs.map((sub) =>
            listings.run(async () => {
              for (const e of (await this.readdirOrEmpty(s, posix.join(s.root, 'data', sub))) ?? []) {
                if (!isTempName(e.filename) && !isDirMode(e.attrs.mode))
                  found.set(`data/${sub}/${e.filename}`, e.attrs.size);
              }
            }),
          ),
        );
        return found;
      }
      // Other kinds are flat, except meta/ which holds records in sub-folders (meta/archives/<id>): nested keys.
      const walk = async (dir: string, prefix: string, entries: FileEntryWithStats[]) => {
        for (const e of entries) {
          if (isTempName(e.filename)) continue;
          if (!isDirMode(e.attrs.mode)) found.set(`${prefix}/${e.filename}`, e.attrs.size);
          else if (kind === 'meta')
            await walk(
              posix.join(dir, e.filename),
              `${prefix}/${e.filename}`,
              (await this.readdirOrEmpty(s, posix.join(dir, e.filename))) ?? [],
            );
        }
      };
      await walk(posix.join(s.root, kind), kind, top);
      return found;
    });
  }

  async remove(key: string): Promise<void> {
    await this.run('removing', key, async (s) => {
      try {
        await call<void>(s, (cb) => s.sftp.unlink(this.file(s, key), cb));
      } catch (error) {
        if (sftpCode(error) !== NO_SUCH_FILE) throw error;
      }
    });
  }

  // ---- what replication needs -------------------------------------------------------------------------

  async rootEntries(): Promise<string[] | undefined> {
    return this.run('listing', undefined, async (s) => (await this.readdirOrEmpty(s, s.root))?.map((e) => e.filename));
  }

  /** Creates the store folder (only inside a folder that exists: a typo must not build a tree), its kinds and data/'s 256 folders. */
  async createLayout(): Promise<void> {
    await this.run('creating the store at', undefined, async (s) => {
      const rootEntries = await this.readdirOrEmpty(s, s.root);
      if (!rootEntries) {
        try {
          await call<void>(s, (cb) => s.sftp.mkdir(s.root, cb));
        } catch (error) {
          if (sftpCode(error) === NO_SUCH_FILE) {
            throw new BackupError(
              'PATH_NOT_FOUND',
              `The folder ${posix.dirname(s.root)} does not exist on ${this.server}; create it first (only the store's own folder is created).`,
              { location: this.location },
            );
          }
          throw error;
        }
      }
      const present = new Set((rootEntries ?? []).map((e) => e.filename));
      await Promise.all(
        KINDS.filter((kind) => !present.has(kind)).map((kind) => this.mkdirIfAbsent(s, posix.join(s.root, kind))),
      );
      const subs = new Set(((await this.readdirOrEmpty(s, posix.join(s.root, 'data'))) ?? []).map((e) => e.filename));
      const missing: string[] = [];
      for (let i = 0; i < 256; i++) {
        const sub = i.toString(16).padStart(2, '0');
        if (!subs.has(sub)) missing.push(sub);
      }
      const limiter = new Limiter(LISTINGS);
      await Promise.all(
        missing.map((sub) => limiter.run(() => this.mkdirIfAbsent(s, posix.join(s.root, 'data', sub)))),
      );
    });
  }

  async removeStaleTemps(olderThanMs: number): Promise<number> {
    return this.run('cleaning up', undefined, async (s) => {
      const now = Date.now();
      const temps: string[] = [];
      const listings = new Limiter(LISTINGS);
      // The store folder, its kinds, and one level below (data/'s fan-out, meta/archives).
      const visit = async (dir: string, depth: number): Promise<void> => {
        const entries = (await listings.run(() => this.readdirOrEmpty(s, dir))) ?? [];
        const below: Promise<void>[] = [];
        for (const e of entries) {
          const full = posix.join(dir, e.filename);
          if (isTempName(e.filename)) {
            // mtime is in seconds, by the server's clock: callers use thresholds far above any sane skew, or 0.
            if (!isDirMode(e.attrs.mode) && now - e.attrs.mtime * 1000 >= olderThanMs) temps.push(full);
          } else if (
            isDirMode(e.attrs.mode) &&
            depth < 2 &&
            (depth > 0 || (KINDS as readonly string[]).includes(e.filename))
          ) {
            below.push(visit(full, depth + 1));
          }
        }
        await Promise.all(below);
      };
      await visit(s.root, 0);
      let removed = 0;
      for (const temp of temps) {
        await call<void>(s, (cb) => s.sftp.unlink(temp, cb)).then(
          () => removed++,
          () => undefined,
        );
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  // ---- operations -------------------------------------------------------------------------------------

  private file(s: Session, key: string): string {
    return posix.join(s.root, ...key.split('/'));
  }

  /** NO_SUCH_FILE becomes OBJECT_MISSING, as LocalBackend's ENOENT does. */
  private absent(error: unknown, key: string): never {
    if (sftpCode(error) === NO_SUCH_FILE)
      throw new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
    throw error;
  }

  /**
   * Runs one operation on the session (connecting first if needed), at most TRANSFERS at a time. A dropped
   * connection is reopened once and the operation run again: every operation here may be repeated safely.
   */
  private run<T>(doing: string, key: string | undefined, task: (s: Session) => Promise<T>, bytes = 0): Promise<T> {
    return this.limiter.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const s = await this.connection.connected();
        s.busy++;
        if (s.busy === 1) s.socket.ref();
        try {
          return await task(s);
        } catch (error) {
          if (isLost(error)) {
            this.connection.forget(s);
            if (attempt === 0) continue;
            throw new BackupError(
              'REMOTE_UNREACHABLE',
              `The connection to ${this.server} dropped while ${doing} ${key ?? this.target.path}, twice; check the network and try again.`,
              { location: this.location },
            );
          }
          throw await this.describe(s, error, doing, key, bytes);
        } finally {
          s.busy--;
          // Idle: the socket must not keep a finished CLI (or a test run) alive if someone forgets close().
          if (s.busy === 0) s.socket.unref();
        }
      }
    });
  }

  /** One sentence for a failed request. OpenSSH answers a full disk with a bare "Failure": statvfs tells. */
  private async describe(
    s: Session,
    error: unknown,
    doing: string,
    key: string | undefined,
    bytes: number,
  ): Promise<Error> {
    if (error instanceof BackupError) return error;
    const where = `${key ?? ''} in the store at ${this.location}`.trim();
    const code = sftpCode(error);
    if (code === NO_SUCH_FILE) {
      return new BackupError(
        'PATH_NOT_FOUND',
        `Something vanished on ${this.server} while ${doing} ${where} (another process removed it?).`,
        { location: this.location, key },
      );
    }
    if (code === PERMISSION_DENIED) {
      return new BackupError('PERMISSION_DENIED', `Permission denied on ${this.server} while ${doing} ${where}.`, {
        location: this.location,
        key,
      });
    }
    if (
      code === FAILURE &&
      (doing === 'writing' || doing === 'creating' || doing === 'creating the store at') &&
      (await this.diskFull(s, bytes))
    ) {
      return new BackupError(
        'NO_SPACE',
        `The disk of ${this.server} is full while ${doing} ${where}; nothing was lost, free some space there and try again.`,
        { location: this.location, key },
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new BackupError('IO_ERROR', `The SFTP server ${this.server} failed while ${doing} ${where}: ${detail}.`, {
      location: this.location,
      key,
    });
  }

  /** Whether the failed write of `bytes` met a full disk (our temp file is already removed, so its space is free again). */
  private async diskFull(s: Session, bytes: number): Promise<boolean> {
    try {
      const info = await call<{ f_bavail: number | bigint; f_frsize: number | bigint; f_bsize: number | bigint }>(
        s,
        (cb) => s.sftp.ext_openssh_statvfs(s.root, cb),
      );
      return Number(info.f_bavail) * Number(info.f_frsize || info.f_bsize) < bytes + 1024 * 1024;
    } catch {
      return false; // not an OpenSSH server: we cannot tell
    }
  }

  private async readdirOrEmpty(s: Session, dir: string): Promise<FileEntryWithStats[] | undefined> {
    try {
      return await call<FileEntryWithStats[]>(s, (cb) => s.sftp.readdir(dir, cb));
    } catch (error) {
      if (sftpCode(error) === NO_SUCH_FILE) return undefined;
      throw error;
    }
  }

  private async mkdirIfAbsent(s: Session, dir: string): Promise<void> {
    try {
      await call<void>(s, (cb) => s.sftp.mkdir(dir, cb));
    } catch (error) {
      // OpenSSH answers "exists" with a bare failure: look before deciding.
      const stat = await call<{ mode: number }>(s, (cb) => s.sftp.stat(dir, cb)).catch(() => undefined);
      if (!stat || !isDirMode(stat.mode)) throw error;
    }
  }

  /** Reads `buffer.length` bytes from `position` (fewer at end of file), PIPELINE requests in flight; returns how many. */
  private async readInto(s: Session, handle: Buffer, buffer: Buffer, position: number): Promise<number> {
    const step = (s.sftp as unknown as { _maxReadLen?: number })._maxReadLen ?? 32 * 1024;
    let end = buffer.length;
    let next = 0;
    const worker = async () => {
      while (next < end) {
        let at = next;
        const stop = Math.min(at + step, end);
        next = stop;
        while (at < stop) {
          const n = await call<number>(s, (cb) =>
            s.sftp.read(handle, buffer, at, stop - at, position + at, (error, bytesRead) => cb(error, bytesRead)),
          );
          if (n === 0) {
            end = Math.min(end, at); // end of file: nothing after this is there either
            return;
          }
          at += n;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIPELINE, Math.ceil(buffer.length / step) || 1) }, worker));
    return end;
  }

  private async readWhole(s: Session, file: string): Promise<Buffer> {
    const handle = await call<Buffer>(s, (cb) => s.sftp.open(file, 'r', cb));
    try {
      const { size } = await call<{ size: number }>(s, (cb) => s.sftp.fstat(handle, cb));
      const buffer = Buffer.allocUnsafe(size);
      const got = await this.readInto(s, handle, buffer, 0);
      // Keys are replaced by rename, never rewritten in place: an open handle sees one whole version.
      return got < size ? buffer.subarray(0, got) : buffer;
    } finally {
      await call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
    }
  }

  /** Writes a complete temp file beside `file` (creating a missing folder of the layout once) and returns its path. */
  private async writeTemp(s: Session, file: string, chunks: readonly Buffer[], durable: boolean): Promise<string> {
    const temp = tempPathFor(file);
    let handle: Buffer;
    try {
      handle = await call<Buffer>(s, (cb) => s.sftp.open(temp, 'wx', cb));
    } catch (error) {
      if (sftpCode(error) !== NO_SUCH_FILE) throw error;
      await this.createParent(s, file);
      handle = await call<Buffer>(s, (cb) => s.sftp.open(temp, 'wx', cb));
    }
    try {
      await this.writeAll(s, handle, chunks);
      if (durable) {
        try {
          await call<void>(s, (cb) => s.sftp.ext_openssh_fsync(handle, (error) => cb(error)));
        } catch (error) {
          // Servers without fsync@openssh.com: the write is as durable as that server makes it.
          if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
        }
      }
      await call<void>(s, (cb) => s.sftp.close(handle, cb));
    } catch (error) {
      await call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
      await call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
      throw error;
    }
    return temp;
  }

  /** A folder of the layout went missing (or a store made by another tool lacks one): recreate it, never the store folder itself. */
  private async createParent(s: Session, file: string): Promise<void> {
    const parent = posix.dirname(file);
    if (parent === s.root || !parent.startsWith(`${s.root}/`)) {
      throw new BackupError('PATH_NOT_FOUND', `The folder ${s.root} does not exist on ${this.server}.`, {
        location: this.location,
      });
    }
    const chain: string[] = [];
    for (let dir = parent; dir !== s.root; dir = posix.dirname(dir)) chain.unshift(dir);
    for (const dir of chain) {
      try {
        await this.mkdirIfAbsent(s, dir);
      } catch (error) {
        if (sftpCode(error) === NO_SUCH_FILE)
          throw new BackupError('PATH_NOT_FOUND', `The folder ${s.root} does not exist on ${this.server}.`, {
            location: this.location,
          });
        throw error;
      }
    }
  }

  private async writeAll(s: Session, handle: Buffer, chunks: readonly Buffer[]): Promise<void> {
    const step = (s.sftp as unknown as { _maxWriteLen?: number })._maxWriteLen ?? 32 * 1024;
    // Requests of up to `step` bytes, slicing the chunks without copying them.
    const pieces: Array<{ data: Buffer; position: number }> = [];
    let position = 0;
    for (const chunk of chunks) {
      for (let at = 0; at < chunk.length; at += step) {
        const data = chunk.subarray(at, Math.min(at + step, chunk.length));
        pieces.push({ data, position });
        position += data.length;
      }
    }
    let next = 0;
    const worker = async () => {
      while (next < pieces.length) {
        const { data, position: at } = pieces[next++];
        await call<void>(s, (cb) => s.sftp.write(handle, data, 0, data.length, at, (error) => cb(error)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIPELINE, pieces.length) }, worker));
  }

  /** Atomically replaces `to` with `from`. */
  private async renameOver(s: Session, from: string, to: string): Promise<void> {
    try {
      await call<void>(s, (cb) => s.sftp.ext_openssh_rename(from, to, cb));
      return;
    } catch (error) {
      if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
    }
    // Without posix-rename@openssh.com a plain SFTP rename refuses to replace: remove, then rename. A reader
    // may miss the key for that instant; only records that are rewritten (snapshot labels, locks) meet it.
    try {
      await call<void>(s, (cb) => s.sftp.rename(from, to, cb));
    } catch {
      await call<void>(s, (cb) => s.sftp.unlink(to, cb)).catch(() => undefined);
      await call<void>(s, (cb) => s.sftp.rename(from, to, cb));
    }
  }

  /** Puts `from` at `to` only if `to` does not exist; fails otherwise. */
  private async linkNew(s: Session, from: string, to: string): Promise<void> {
    try {
      await call<void>(s, (cb) => s.sftp.ext_openssh_hardlink(from, to, cb));
      return;
    } catch (error) {
      if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
    }
    // SFTP v3's rename fails when the target exists: create-if-absent on every conforming server.
    await call<void>(s, (cb) => s.sftp.rename(from, to, cb));
  }
}
