// The store on an SFTP server (OpenSSH's, or any SFTP v3 server), over one SSH connection per backend.
// Invariants: the server's key is checked (known_hosts, an expected fingerprint, or the caller's trust on
// first use) before any credential is sent; `save` is atomic: a complete temp file with the `.tmp-` marker of
// atomic.ts, fsync'd (fsync@openssh.com) when durable, renamed over the key (posix-rename@openssh.com);
// `createOnce` links a complete temp file into place (hardlink@openssh.com, or a plain SFTP rename, which
// never replaces), so it creates or finds, never overwrites; a missing key is OBJECT_MISSING.

import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuthenticationType, ConnectConfig, FileEntryWithStats, ParsedKey, SFTPWrapper } from 'ssh2';
import { BackupError, errnoCode, isBackupError } from '../errors';
import { Limiter } from '../limiter';
import { isTempName, tempPathFor } from './atomic';
import type { Backend, KeyKind } from './backend';
import { checkKnownHosts, fingerprintOf, normalizeFingerprint, preferredHostKeyAlgorithms } from './knownHosts';
import { KINDS } from './localBackend';
import type { RemoteOptions, SftpLocation } from './remote';
import type { SftpClientLike } from './ssh2Vendor';

const posix = path.posix;

/** Whole objects in flight at once: enough to hide the round trips, few enough to bound memory (a pack is up to 16 MiB). */
const TRANSFERS = 4;
/** Read or write requests in flight for one file (each up to the server's packet limit, 256 KiB for OpenSSH). */
const PIPELINE = 16;
/** Folders listed at once when walking data/'s 256 fan-out folders. */
const LISTINGS = 16;
/** A request unanswered this long means a dead server or network (TCP may take many minutes to say so): reconnect. */
const REQUEST_TIMEOUT_MS = 120_000;

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02). */
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;
const NO_CONNECTION = 6;
const CONNECTION_LOST = 7;

/** Host key algorithms ssh2 supports, best first; the ones known_hosts names for the host go in front. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
/** Keys ssh itself tries when none is given. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** One SSH connection and its SFTP session. Dead once the connection drops; the backend then opens a new one. */
interface Session {
  client: SftpClientLike;
  sftp: SFTPWrapper;
  socket: net.Socket;
  /** The store folder, absolute. */
  root: string;
  alive: boolean;
  /** Operations running on it: the socket keeps the process alive only while there are some. */
  busy: number;
  /** Rejecters of the requests waiting for an answer, failed at once when the connection drops. */
  waiting: Set<(error: Error) => void>;
  /** Declares the connection dead: fails every waiting request and drops the socket. */
  kill(reason: string): void;
}

/** Thrown for requests cut off by a dropped connection: the operation is retried once on a new one. */
class ConnectionLost extends Error {}

function sftpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function isLost(error: unknown): boolean {
  const code = sftpCode(error);
  return error instanceof ConnectionLost || code === NO_CONNECTION || code === CONNECTION_LOST || errnoCode(error) === 'ECONNRESET' || errnoCode(error) === 'EPIPE' || (error instanceof Error && error.message === 'No response from server');
}

function isDirMode(mode: number): boolean {
  return (mode & 0o170000) === 0o040000;
}

export class SftpBackend implements Backend {
  private session: Promise<Session> | undefined;
  private readonly limiter = new Limiter(TRANSFERS);
  /** `host:port` for messages (the location is the whole URL). */
  private readonly server: string;

  constructor(
    readonly location: string,
    private readonly target: SftpLocation,
    private readonly options: RemoteOptions = {},
  ) {
    this.server = target.port === 22 ? target.host : `${target.host}:${target.port}`;
  }

  // ---- the Backend ----------------------------------------------------------------------------------

  async save(key: string, data: Buffer | readonly Buffer[], options: { durable?: boolean } = {}): Promise<void> {
    const chunks = Buffer.isBuffer(data) ? [data] : data;
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    await this.run('writing', key, async (s) => {
      const file = this.file(s, key);
      const temp = await this.writeTemp(s, file, chunks, options.durable !== false);
      try {
        await this.renameOver(s, temp, file);
      } catch (error) {
        await this.call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
        throw error;
      }
    }, bytes);
  }

  async createOnce(key: string, data: Buffer): Promise<Buffer> {
    return this.run('creating', key, async (s) => {
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
        await this.call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
      }
    }, data.length);
  }

  async load(key: string): Promise<Buffer> {
    return this.run('reading', key, (s) => this.readWhole(s, this.file(s, key)).catch((error: unknown) => this.absent(error, key)));
  }

  async loadRange(key: string, offset: number, length: number): Promise<Buffer> {
    return this.run('reading', key, async (s) => {
      const handle = await this.call<Buffer>(s, (cb) => s.sftp.open(this.file(s, key), 'r', cb)).catch((error: unknown) => this.absent(error, key));
      try {
        const buffer = Buffer.allocUnsafe(length);
        const got = await this.readInto(s, handle, buffer, offset);
        if (got < length) {
          throw new BackupError('OBJECT_DAMAGED', `${key} in the store at ${this.location} is shorter than its index says (truncated).`, { key });
        }
        return buffer;
      } finally {
        await this.call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
      }
    });
  }

  async size(key: string): Promise<number | undefined> {
    return this.run('reading', key, async (s) => {
      try {
        return (await this.call<{ size: number }>(s, (cb) => s.sftp.stat(this.file(s, key), cb))).size;
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
                if (!isTempName(e.filename) && !isDirMode(e.attrs.mode)) found.set(`data/${sub}/${e.filename}`, e.attrs.size);
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
          else if (kind === 'meta') await walk(posix.join(dir, e.filename), `${prefix}/${e.filename}`, (await this.readdirOrEmpty(s, posix.join(dir, e.filename))) ?? []);
        }
      };
      await walk(posix.join(s.root, kind), kind, top);
      return found;
    });
  }

  async remove(key: string): Promise<void> {
    await this.run('removing', key, async (s) => {
      try {
        await this.call<void>(s, (cb) => s.sftp.unlink(this.file(s, key), cb));
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
          await this.call<void>(s, (cb) => s.sftp.mkdir(s.root, cb));
        } catch (error) {
          if (sftpCode(error) === NO_SUCH_FILE) {
            throw new BackupError('PATH_NOT_FOUND', `The folder ${posix.dirname(s.root)} does not exist on ${this.server}; create it first (only the store's own folder is created).`, { location: this.location });
          }
          throw error;
        }
      }
      const present = new Set((rootEntries ?? []).map((e) => e.filename));
      await Promise.all(KINDS.filter((kind) => !present.has(kind)).map((kind) => this.mkdirIfAbsent(s, posix.join(s.root, kind))));
      const subs = new Set(((await this.readdirOrEmpty(s, posix.join(s.root, 'data'))) ?? []).map((e) => e.filename));
      const missing: string[] = [];
      for (let i = 0; i < 256; i++) {
        const sub = i.toString(16).padStart(2, '0');
        if (!subs.has(sub)) missing.push(sub);
      }
      const limiter = new Limiter(LISTINGS);
      await Promise.all(missing.map((sub) => limiter.run(() => this.mkdirIfAbsent(s, posix.join(s.root, 'data', sub)))));
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
          } else if (isDirMode(e.attrs.mode) && depth < 2 && (depth > 0 || (KINDS as readonly string[]).includes(e.filename))) {
            below.push(visit(full, depth + 1));
          }
        }
        await Promise.all(below);
      };
      await visit(s.root, 0);
      let removed = 0;
      for (const temp of temps) {
        await this.call<void>(s, (cb) => s.sftp.unlink(temp, cb)).then(
          () => removed++,
          () => undefined,
        );
      }
      return removed;
    });
  }

  async close(): Promise<void> {
    const pending = this.session;
    this.session = undefined;
    if (!pending) return;
    const s = await pending.catch(() => undefined);
    if (s) await this.end(s);
  }

  // ---- operations -------------------------------------------------------------------------------------

  private file(s: Session, key: string): string {
    return posix.join(s.root, ...key.split('/'));
  }

  /** NO_SUCH_FILE becomes OBJECT_MISSING, as LocalBackend's ENOENT does. */
  private absent(error: unknown, key: string): never {
    if (sftpCode(error) === NO_SUCH_FILE) throw new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
    throw error;
  }

  /**
   * Runs one operation on the session (connecting first if needed), at most TRANSFERS at a time. A dropped
   * connection is reopened once and the operation run again: every operation here may be repeated safely.
   */
  private run<T>(doing: string, key: string | undefined, task: (s: Session) => Promise<T>, bytes = 0): Promise<T> {
    return this.limiter.run(async () => {
      for (let attempt = 0; ; attempt++) {
        const s = await this.connected();
        s.busy++;
        if (s.busy === 1) s.socket.ref();
        try {
          return await task(s);
        } catch (error) {
          if (isLost(error)) {
            this.forget(s);
            if (attempt === 0) continue;
            throw new BackupError('REMOTE_UNREACHABLE', `The connection to ${this.server} dropped while ${doing} ${key ?? this.target.path}, twice; check the network and try again.`, { location: this.location });
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
  private async describe(s: Session, error: unknown, doing: string, key: string | undefined, bytes: number): Promise<Error> {
    if (error instanceof BackupError) return error;
    const where = `${key ?? ''} in the store at ${this.location}`.trim();
    const code = sftpCode(error);
    if (code === NO_SUCH_FILE) {
      return new BackupError('PATH_NOT_FOUND', `Something vanished on ${this.server} while ${doing} ${where} (another process removed it?).`, { location: this.location, key });
    }
    if (code === PERMISSION_DENIED) {
      return new BackupError('PERMISSION_DENIED', `Permission denied on ${this.server} while ${doing} ${where}.`, { location: this.location, key });
    }
    if (code === FAILURE && (doing === 'writing' || doing === 'creating' || doing === 'creating the store at') && (await this.diskFull(s, bytes))) {
      return new BackupError('NO_SPACE', `The disk of ${this.server} is full while ${doing} ${where}; nothing was lost, free some space there and try again.`, { location: this.location, key });
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new BackupError('IO_ERROR', `The SFTP server ${this.server} failed while ${doing} ${where}: ${detail}.`, { location: this.location, key });
  }

  /** Whether the failed write of `bytes` met a full disk (our temp file is already removed, so its space is free again). */
  private async diskFull(s: Session, bytes: number): Promise<boolean> {
    try {
      const info = await this.call<{ f_bavail: number | bigint; f_frsize: number | bigint; f_bsize: number | bigint }>(s, (cb) => s.sftp.ext_openssh_statvfs(s.root, cb));
      return Number(info.f_bavail) * Number(info.f_frsize || info.f_bsize) < bytes + 1024 * 1024;
    } catch {
      return false; // not an OpenSSH server: we cannot tell
    }
  }

  /**
   * Calls one SFTP request and waits for its answer, or fails at once with ConnectionLost when the
   * connection drops (ssh2 would otherwise buffer a request to a closed channel and never answer).
   */
  private call<T>(s: Session, request: (cb: (error: Error | undefined | null, value?: T) => void) => void): Promise<T> {
    if (!s.alive) return Promise.reject(new ConnectionLost('the connection is closed'));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        s.waiting.delete(fail);
        reject(error);
      };
      s.waiting.add(fail);
      const timer = setTimeout(() => s.kill(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), REQUEST_TIMEOUT_MS);
      timer.unref();
      try {
        request((error, value) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          s.waiting.delete(fail);
          if (error) reject(error);
          else resolve(value as T);
        });
      } catch (error) {
        fail(error as Error); // ssh2 throws synchronously for an unsupported extension, or a closed channel
      }
    });
  }

  private async readdirOrEmpty(s: Session, dir: string): Promise<FileEntryWithStats[] | undefined> {
    try {
      return await this.call<FileEntryWithStats[]>(s, (cb) => s.sftp.readdir(dir, cb));
    } catch (error) {
      if (sftpCode(error) === NO_SUCH_FILE) return undefined;
      throw error;
    }
  }

  private async mkdirIfAbsent(s: Session, dir: string): Promise<void> {
    try {
      await this.call<void>(s, (cb) => s.sftp.mkdir(dir, cb));
    } catch (error) {
      // OpenSSH answers "exists" with a bare failure: look before deciding.
      const stat = await this.call<{ mode: number }>(s, (cb) => s.sftp.stat(dir, cb)).catch(() => undefined);
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
          const n = await this.call<number>(s, (cb) => s.sftp.read(handle, buffer, at, stop - at, position + at, (error, bytesRead) => cb(error, bytesRead)));
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
    const handle = await this.call<Buffer>(s, (cb) => s.sftp.open(file, 'r', cb));
    try {
      const { size } = await this.call<{ size: number }>(s, (cb) => s.sftp.fstat(handle, cb));
      const buffer = Buffer.allocUnsafe(size);
      const got = await this.readInto(s, handle, buffer, 0);
      // Keys are replaced by rename, never rewritten in place: an open handle sees one whole version.
      return got < size ? buffer.subarray(0, got) : buffer;
    } finally {
      await this.call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
    }
  }

  /** Writes a complete temp file beside `file` (creating a missing folder of the layout once) and returns its path. */
  private async writeTemp(s: Session, file: string, chunks: readonly Buffer[], durable: boolean): Promise<string> {
    const temp = tempPathFor(file);
    let handle: Buffer;
    try {
      handle = await this.call<Buffer>(s, (cb) => s.sftp.open(temp, 'wx', cb));
    } catch (error) {
      if (sftpCode(error) !== NO_SUCH_FILE) throw error;
      await this.createParent(s, file);
      handle = await this.call<Buffer>(s, (cb) => s.sftp.open(temp, 'wx', cb));
    }
    try {
      await this.writeAll(s, handle, chunks);
      if (durable) {
        try {
          await this.call<void>(s, (cb) => s.sftp.ext_openssh_fsync(handle, (error) => cb(error)));
        } catch (error) {
          // Servers without fsync@openssh.com: the write is as durable as that server makes it.
          if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
        }
      }
      await this.call<void>(s, (cb) => s.sftp.close(handle, cb));
    } catch (error) {
      await this.call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => undefined);
      await this.call<void>(s, (cb) => s.sftp.unlink(temp, cb)).catch(() => undefined);
      throw error;
    }
    return temp;
  }

  /** A folder of the layout went missing (or a store made by another tool lacks one): recreate it, never the store folder itself. */
  private async createParent(s: Session, file: string): Promise<void> {
    const parent = posix.dirname(file);
    if (parent === s.root || !parent.startsWith(`${s.root}/`)) {
      throw new BackupError('PATH_NOT_FOUND', `The folder ${s.root} does not exist on ${this.server}.`, { location: this.location });
    }
    const chain: string[] = [];
    for (let dir = parent; dir !== s.root; dir = posix.dirname(dir)) chain.unshift(dir);
    for (const dir of chain) {
      try {
        await this.mkdirIfAbsent(s, dir);
      } catch (error) {
        if (sftpCode(error) === NO_SUCH_FILE) throw new BackupError('PATH_NOT_FOUND', `The folder ${s.root} does not exist on ${this.server}.`, { location: this.location });
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
        await this.call<void>(s, (cb) => s.sftp.write(handle, data, 0, data.length, at, (error) => cb(error)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIPELINE, pieces.length) }, worker));
  }

  /** Atomically replaces `to` with `from`. */
  private async renameOver(s: Session, from: string, to: string): Promise<void> {
    try {
      await this.call<void>(s, (cb) => s.sftp.ext_openssh_rename(from, to, cb));
      return;
    } catch (error) {
      if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
    }
    // Without posix-rename@openssh.com a plain SFTP rename refuses to replace: remove, then rename. A reader
    // may miss the key for that instant; only records that are rewritten (snapshot labels, locks) meet it.
    try {
      await this.call<void>(s, (cb) => s.sftp.rename(from, to, cb));
    } catch {
      await this.call<void>(s, (cb) => s.sftp.unlink(to, cb)).catch(() => undefined);
      await this.call<void>(s, (cb) => s.sftp.rename(from, to, cb));
    }
  }

  /** Puts `from` at `to` only if `to` does not exist; fails otherwise. */
  private async linkNew(s: Session, from: string, to: string): Promise<void> {
    try {
      await this.call<void>(s, (cb) => s.sftp.ext_openssh_hardlink(from, to, cb));
      return;
    } catch (error) {
      if (isLost(error) || !/not support/i.test((error as Error).message)) throw error;
    }
    // SFTP v3's rename fails when the target exists: create-if-absent on every conforming server.
    await this.call<void>(s, (cb) => s.sftp.rename(from, to, cb));
  }

  // ---- the connection ---------------------------------------------------------------------------------

  private connected(): Promise<Session> {
    if (!this.session) {
      const attempt = this.connect();
      this.session = attempt;
      attempt.catch(() => {
        if (this.session === attempt) this.session = undefined; // the next operation tries again
      });
    }
    return this.session.then((s) => {
      if (s.alive) return s;
      this.forget(s);
      return this.connected();
    });
  }

  private forget(s: Session): void {
    s.alive = false;
    void this.session?.then((current) => {
      if (current === s) this.session = undefined;
    }, () => undefined);
    void this.end(s);
  }

  private async end(s: Session): Promise<void> {
    s.alive = false;
    for (const fail of [...s.waiting]) fail(new ConnectionLost('the connection was closed'));
    // Held while the goodbye is exchanged, or a caller awaiting close() would see the process exit under it.
    s.socket.ref();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([s.client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    s.socket.destroy();
  }

  private async connect(): Promise<Session> {
    const { SftpClient, ssh2 } = await import('./ssh2Vendor');
    const timeoutMs = (this.options.timeoutSeconds ?? 20) * 1000;
    const auth = await this.authMethods(ssh2.utils.parseKey);
    const trust = await this.hostKeyCheck();
    const socket = await this.openSocket(timeoutMs);
    let lost: (error: Error) => void = () => undefined;
    const client = new SftpClient(`pb-${this.target.host}`, {
      // ssh2-sftp-client prints these by default; we turn them into a dead session instead.
      error: (error) => lost(error),
      end: () => lost(new ConnectionLost('the server ended the connection')),
      close: () => lost(new ConnectionLost('the connection closed')),
    });
    const config: ConnectConfig = {
      sock: socket,
      username: this.target.user,
      readyTimeout: timeoutMs,
      hostVerifier: trust.verifier,
      authHandler: auth.methods,
      algorithms: trust.algorithms ? ({ serverHostKey: trust.algorithms } as ConnectConfig['algorithms']) : undefined,
    };
    let sftp: SFTPWrapper;
    try {
      sftp = await client.connect(config);
    } catch (error) {
      socket.destroy();
      throw this.connectError(error, trust.problem(), auth.tried, timeoutMs);
    }
    const s: Session = {
      client,
      sftp,
      socket,
      root: this.target.path,
      alive: true,
      busy: 0,
      waiting: new Set(),
      kill: (reason) => {
        lost(new ConnectionLost(reason));
        socket.destroy();
      },
    };
    lost = (error) => {
      if (!s.alive) return;
      s.alive = false;
      for (const fail of [...s.waiting]) fail(new ConnectionLost(error.message));
    };
    sftp.on('close', () => lost(new ConnectionLost('the SFTP session closed')));
    socket.unref();
    if (!posix.isAbsolute(s.root)) {
      // A folder in the home folder (sftp://host/~/x): made absolute once, for messages and temp paths.
      s.busy++;
      socket.ref();
      try {
        const home = await this.call<string>(s, (cb) => sftp.realpath('.', cb));
        s.root = posix.join(home, s.root);
      } catch (error) {
        await this.end(s);
        throw new BackupError('REMOTE_UNREACHABLE', `${this.server} did not say where the home folder of ${this.target.user} is: ${(error as Error).message}.`, { location: this.location });
      } finally {
        s.busy--;
        socket.unref();
      }
    }
    return s;
  }

  private openSocket(timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.target.host, port: this.target.port });
      // Without ssh2's optional native crypto (as bundled) a packet leaves in several writes; with Nagle's
      // algorithm each request then waits for a delayed ACK (~40 ms): 25 times slower. ssh does the same.
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BackupError('REMOTE_UNREACHABLE', `Cannot reach ${this.server}: no answer within ${Math.round(timeoutMs / 1000)} s; check the address and the network.`, { location: this.location }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        socket.destroy();
        const code = errnoCode(error);
        const why =
          code === 'ECONNREFUSED'
            ? 'the connection was refused (is an SSH server running there, on that port?)'
            : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
              ? 'the host name cannot be resolved'
              : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
                ? 'there is no route to it'
                : `${error.message}`;
        reject(new BackupError('REMOTE_UNREACHABLE', `Cannot reach ${this.server}: ${why}.`, { location: this.location, code }));
      });
    });
  }

  /** The ways to log in, in the order ssh tries them: the given key, the agent, ssh's default keys, the password. */
  private async authMethods(parseKey: (data: Buffer | string, passphrase?: string) => ParsedKey | ParsedKey[] | Error): Promise<{ methods: AuthenticationType[]; tried: string[] }> {
    const user = this.target.user;
    const methods: Array<Record<string, unknown>> = [];
    const tried: string[] = [];
    const { privateKey, privateKeyFile, passphrase, password } = this.options;
    const explicitKey = privateKey !== undefined || privateKeyFile !== undefined;
    if (explicitKey) {
      const name = privateKeyFile ?? 'the SSH key given';
      let text: Buffer | string;
      if (privateKey !== undefined) text = privateKey;
      else {
        try {
          text = await fs.readFile(privateKeyFile as string);
        } catch (error) {
          throw new BackupError('AUTH_FAILED', `The SSH key file ${privateKeyFile} cannot be read (${errnoCode(error) ?? (error as Error).message}).`, { location: this.location, keyFile: privateKeyFile });
        }
      }
      const key = parseKey(text, passphrase);
      if (key instanceof Error) {
        const encrypted = /encrypted|passphrase/i.test(key.message);
        if (encrypted && !passphrase) {
          throw new BackupError('AUTH_FAILED', `The SSH key ${name} is protected by a passphrase, and none was given.`, { location: this.location, keyFile: privateKeyFile, need: 'passphrase' });
        }
        if (passphrase && /decrypt|passphrase|bad/i.test(key.message)) {
          throw new BackupError('AUTH_FAILED', `The passphrase of the SSH key ${name} is wrong.`, { location: this.location, keyFile: privateKeyFile, need: 'passphrase' });
        }
        throw new BackupError('AUTH_FAILED', `${privateKeyFile ? `The file ${privateKeyFile}` : 'The SSH key given'} is not a private key this program can read (${key.message}).`, { location: this.location, keyFile: privateKeyFile });
      }
      methods.push({ type: 'publickey', username: user, key: Array.isArray(key) ? key[0] : key });
      tried.push(privateKeyFile ? `the key ${privateKeyFile}` : 'the key given');
    }
    const agent = this.options.agent === false ? undefined : (this.options.agent ?? process.env.SSH_AUTH_SOCK);
    if (agent) {
      methods.push({ type: 'agent', username: user, agent });
      tried.push('the ssh-agent');
    }
    if (!explicitKey && password === undefined) {
      // As ssh does without -i: the user's usual keys, those readable without a passphrase.
      for (const name of DEFAULT_KEYS) {
        const file = path.join(os.homedir(), '.ssh', name);
        const text = await fs.readFile(file).catch(() => undefined);
        if (!text) continue;
        const key = parseKey(text, passphrase);
        if (key instanceof Error) continue;
        methods.push({ type: 'publickey', username: user, key: Array.isArray(key) ? key[0] : key });
        tried.push(`~/.ssh/${name}`);
      }
    }
    if (password !== undefined) {
      methods.push({ type: 'password', username: user, password });
      tried.push('the password');
    }
    if (methods.length === 0) {
      throw new BackupError('AUTH_FAILED', `No SSH key, password or agent was given to log in to ${this.server} as ${user}.`, { location: this.location, need: 'credentials' });
    }
    return { methods: methods as unknown as AuthenticationType[], tried };
  }

  /**
   * The host-key check, decided before any credential is sent: an expected fingerprint if one was given,
   * else known_hosts, else (for a host known_hosts does not name) the caller's trust-on-first-use callback.
   */
  private async hostKeyCheck(): Promise<{ verifier: NonNullable<ConnectConfig['hostVerifier']>; algorithms?: string[]; problem: () => BackupError | undefined }> {
    const expected = this.options.hostKey === undefined ? undefined : normalizeFingerprint(this.options.hostKey);
    if (this.options.hostKey !== undefined && !expected) {
      throw new BackupError('USAGE', `"${this.options.hostKey}" is not a host key fingerprint; give it as ssh-keygen -l prints it (SHA256:…).`, { location: this.location });
    }
    let knownHosts = '';
    let knownHostsFile = '';
    if (!expected) {
      knownHostsFile = this.options.knownHostsFile ?? path.join(os.homedir(), '.ssh', 'known_hosts');
      try {
        knownHosts = await fs.readFile(knownHostsFile, 'utf8');
      } catch (error) {
        // The default file may well not exist yet; one the caller named must.
        if (this.options.knownHostsFile !== undefined || errnoCode(error) !== 'ENOENT') {
          throw new BackupError('HOST_KEY_REJECTED', `The known hosts file ${knownHostsFile} cannot be read (${errnoCode(error) ?? (error as Error).message}).`, { location: this.location });
        }
      }
    }
    const hostId = this.target.hostId;
    let problem: BackupError | undefined;
    const refuse = (message: string, fingerprint: string, reason: string) => {
      problem = new BackupError('HOST_KEY_REJECTED', message, { location: this.location, host: hostId, fingerprint, reason });
      return false;
    };
    const decide = async (key: Buffer): Promise<boolean> => {
      const fingerprint = fingerprintOf(key);
      if (expected) {
        if (fingerprint === expected) return true;
        return refuse(`The key of ${this.server} is ${fingerprint}, not the expected ${expected}; nothing was sent to it.`, fingerprint, 'mismatch');
      }
      const verdict = checkKnownHosts(knownHosts, hostId, key);
      if (verdict.kind === 'trusted') return true;
      if (verdict.kind === 'revoked') return refuse(`The key of ${this.server} (${fingerprint}) is marked revoked in ${knownHostsFile}; nothing was sent to it.`, fingerprint, 'revoked');
      if (verdict.kind === 'mismatch') {
        return refuse(
          `The key of ${this.server} (${fingerprint}) differs from the one in ${knownHostsFile}: the server's key changed or someone is intercepting the connection; nothing was sent to it.`,
          fingerprint,
          'mismatch',
        );
      }
      if (this.options.verifyHostKey) {
        const accepted = await this.options.verifyHostKey(hostId, fingerprint).catch(() => false);
        if (accepted === true) return true;
        return refuse(`The key of ${this.server} (${fingerprint}) was not accepted; nothing was sent to it.`, fingerprint, 'declined');
      }
      return refuse(
        `${this.server} is not a known host (its key is ${fingerprint}); if that is its key, add it to ${knownHostsFile} (ssh-keyscan) or give it as the expected host key.`,
        fingerprint,
        'unknown',
      );
    };
    const verifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      decide(key).then(verify, (error: unknown) => {
        problem = new BackupError('HOST_KEY_REJECTED', `The key of ${this.server} could not be checked: ${(error as Error).message}.`, { location: this.location });
        verify(false);
      });
    };
    const preferred = knownHosts ? preferredHostKeyAlgorithms(knownHosts, hostId) : undefined;
    const algorithms = preferred ? [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))] : undefined;
    return { verifier: verifier as NonNullable<ConnectConfig['hostVerifier']>, algorithms, problem: () => problem };
  }

  private connectError(error: unknown, hostKeyProblem: BackupError | undefined, tried: string[], timeoutMs: number): BackupError {
    if (hostKeyProblem) return hostKeyProblem;
    if (isBackupError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (/authentication methods failed/i.test(message)) {
      return new BackupError('AUTH_FAILED', `${this.server} refused to log in ${this.target.user} with ${tried.join(', ')}.`, { location: this.location, tried });
    }
    if (/timed out/i.test(message)) {
      return new BackupError('REMOTE_UNREACHABLE', `${this.server} did not complete an SSH handshake within ${Math.round(timeoutMs / 1000)} s; is it an SSH server?`, { location: this.location });
    }
    if (/subsystem|sftp/i.test(message) && !/ECONNRESET/.test(message)) {
      return new BackupError('REMOTE_UNREACHABLE', `${this.server} accepted the login but offers no SFTP (${message.replace(/^[\w.-]+: /, '')}).`, { location: this.location });
    }
    return new BackupError('REMOTE_UNREACHABLE', `The SSH connection to ${this.server} failed: ${message.replace(/^[\w.-]+: /, '')}.`, { location: this.location });
  }
}
