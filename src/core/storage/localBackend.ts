// The store as a plain local folder (disk, external drive, NAS mount, synced folder).
// Every write goes through the atomic temp+fsync+rename path; `data/` fans out into 256 folders created
// once at init, so the hot on-save path never needs a mkdir.

import * as path from 'node:path';
import { BackupError, describeFsError, errnoCode } from '../errors';
import { isTempName, sweepTemps, syncDir, tempPathFor, writeAll, writeFileAtomic, writeTemp } from './atomic';
import type { Backend, BackendStream, KeyKind } from './backend';
import type { FsPort } from './fsPort';

export const KINDS: readonly KeyKind[] = ['data', 'index', 'snapshots', 'locks', 'cache', 'meta'];

export class LocalBackend implements Backend {
  constructor(
    readonly location: string,
    private readonly port: FsPort,
  ) {}

  private file(key: string): string {
    return path.join(this.location, ...key.split('/'));
  }

  /** Creates the folder layout; idempotent. */
  async createLayout(): Promise<void> {
    try {
      await this.port.mkdir(this.location, { recursive: true });
      for (const kind of KINDS) await this.port.mkdir(path.join(this.location, kind), { recursive: true });
      for (let i = 0; i < 256; i++) {
        await this.port.mkdir(path.join(this.location, 'data', i.toString(16).padStart(2, '0')), { recursive: true });
      }
    } catch (error) {
      throw describeFsError(error, 'creating the backup store at', this.location);
    }
  }

  /**
   * A folder of the layout went missing (an older store or a user's cleanup): it may be recreated once. But
   * not when the store itself is gone (a drive unplugged, leaving its empty mount point; a folder moved or
   * deleted): writing on would start a store without a config where the old one was.
   */
  private async refuseIfGone(key: string): Promise<void> {
    if (key !== 'config' && (await this.size('config')) === undefined) {
      throw new BackupError(
        'REPO_NOT_FOUND',
        `The backup store at ${this.location} is gone (its config file is no longer there): was its drive disconnected, or the folder moved or deleted? Nothing was written.`,
        {
          location: this.location,
          missingStore: true,
        },
      );
    }
  }

  async save(key: string, data: Buffer | readonly Buffer[], options: { durable?: boolean } = {}): Promise<void> {
    const file = this.file(key);
    try {
      await writeFileAtomic(this.port, file, data, { durable: options.durable });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        await this.refuseIfGone(key);
        await this.port.mkdir(path.dirname(file), { recursive: true });
        try {
          await writeFileAtomic(this.port, file, data, { durable: options.durable });
          return;
        } catch (retryError) {
          throw describeFsError(retryError, 'writing', file);
        }
      }
      throw describeFsError(error, 'writing', file);
    }
  }

  /**
   * A temp file in the kind's folder (swept by prune like every temp file), written as the pieces come,
   * fsync'd and renamed into place at commit (for `data/`, into its fan-out folder): a pack, an index file
   * or a cache never has to be held in memory whole.
   */
  async openStream(kind: KeyKind): Promise<BackendStream> {
    const dir = path.join(this.location, kind);
    const temp = tempPathFor(path.join(dir, 'pack'));
    const open = () => this.port.open(temp, 'wx', 0o644);
    let handle;
    try {
      handle = await open().catch(async (error: unknown) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
        await this.refuseIfGone(kind);
        await this.port.mkdir(dir, { recursive: true });
        return open();
      });
    } catch (error) {
      throw describeFsError(error, 'writing', temp);
    }
    const port = this.port;
    const held = handle;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await held.close();
    };
    return {
      write: async (parts) => {
        try {
          await writeAll(held, parts);
        } catch (error) {
          throw describeFsError(error, 'writing', temp);
        }
      },
      commit: async (key, options = {}) => {
        const file = this.file(key);
        const durable = options.durable !== false;
        try {
          if (durable) await held.sync();
          await close();
          await port.rename(temp, file).catch(async (error: unknown) => {
            if (errnoCode(error) !== 'ENOENT') throw error;
            await this.refuseIfGone(key);
            await port.mkdir(path.dirname(file), { recursive: true });
            await port.rename(temp, file);
          });
          if (durable) await syncDir(port, path.dirname(file));
        } catch (error) {
          throw describeFsError(error, 'writing', file);
        }
      },
      abort: async () => {
        await close().catch(() => undefined);
        await port.unlink(temp).catch(() => undefined);
      },
    };
  }

  /**
   * Stores `data` under `key` only if the key does not exist yet, atomically (a complete temp file is hard
   * linked into place, which fails if the name is taken); returns the value that is there afterwards,
   * ours or the one another process created first.
   */
  async createOnce(key: string, data: Buffer): Promise<Buffer> {
    const file = this.file(key);
    try {
      const temp = await writeTemp(this.port, file, [data]);
      try {
        await this.port.link(temp, file);
        await syncDir(this.port, path.dirname(file));
        return data;
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
        return await this.load(key);
      } finally {
        await this.port.unlink(temp).catch(() => undefined);
      }
    } catch (error) {
      throw describeFsError(error, 'creating', file);
    }
  }

  async load(key: string): Promise<Buffer> {
    try {
      return await this.port.readFile(this.file(key));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
        throw new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
      }
      throw describeFsError(error, 'reading', this.file(key));
    }
  }

  async *loadPieces(key: string, pieceBytes: number): AsyncGenerator<Buffer> {
    const file = this.file(key);
    let handle;
    try {
      handle = await this.port.open(file, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
        throw new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
      }
      throw describeFsError(error, 'reading', file);
    }
    try {
      for (;;) {
        const piece = Buffer.allocUnsafe(pieceBytes);
        let done = 0;
        while (done < pieceBytes) {
          const { bytesRead } = await handle.read(piece, done, pieceBytes - done, null).catch((error: unknown) => {
            throw describeFsError(error, 'reading', file);
          });
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        if (done > 0) yield done === pieceBytes ? piece : piece.subarray(0, done);
        if (done < pieceBytes) return;
      }
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async loadRange(key: string, offset: number, length: number): Promise<Buffer> {
    const file = this.file(key);
    let handle;
    try {
      handle = await this.port.open(file, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') {
        throw new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
      }
      throw describeFsError(error, 'reading', file);
    }
    try {
      const buffer = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new BackupError(
            'OBJECT_DAMAGED',
            `${key} in the store at ${this.location} is shorter than its index says (truncated).`,
            { key },
          );
        }
        done += bytesRead;
      }
      return buffer;
    } catch (error) {
      throw describeFsError(error, 'reading', file);
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await this.port.stat(this.file(key))).size;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
      throw describeFsError(error, 'reading', this.file(key));
    }
  }

  async list(kind: KeyKind): Promise<string[]> {
    const dir = path.join(this.location, kind);
    const names = await this.readdirOrEmpty(dir);
    if (kind === 'meta') return this.listNested(dir, 'meta', names);
    if (kind !== 'data') return names.filter((name) => !isTempName(name)).map((name) => `${kind}/${name}`);
    const keys: string[] = [];
    for (const sub of names) {
      if (sub.length !== 2) continue;
      for (const name of await this.readdirOrEmpty(path.join(dir, sub))) {
        if (!isTempName(name)) keys.push(`data/${sub}/${name}`);
      }
    }
    return keys;
  }

  /**
   * `meta/` holds records in sub-folders (meta/archives/<id>): list the files below them as nested keys, the
   * way an object store lists them, so a copy of the store finds every record. Folders are not keys.
   */
  private async listNested(dir: string, prefix: string, names: string[]): Promise<string[]> {
    const keys: string[] = [];
    for (const name of names) {
      if (isTempName(name)) continue;
      let isDir = false;
      try {
        isDir = (await this.port.stat(path.join(dir, name))).isDirectory();
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue; // removed meanwhile
        throw describeFsError(error, 'listing', dir);
      }
      if (!isDir) keys.push(`${prefix}/${name}`);
      else
        keys.push(
          ...(await this.listNested(
            path.join(dir, name),
            `${prefix}/${name}`,
            await this.readdirOrEmpty(path.join(dir, name)),
          )),
        );
    }
    return keys;
  }

  async sizes(kind: KeyKind): Promise<Map<string, number>> {
    const keys = await this.list(kind);
    const sizes = new Map<string, number>();
    // A stat per file is cheap locally; a few at a time keeps the thread pool busy without flooding it.
    for (let i = 0; i < keys.length; i += 64) {
      const batch = keys.slice(i, i + 64);
      const found = await Promise.all(batch.map((key) => this.size(key)));
      batch.forEach((key, j) => {
        if (found[j] !== undefined) sizes.set(key, found[j]);
      });
    }
    return sizes;
  }

  async versions(kind: KeyKind): Promise<Map<string, string>> {
    const versions = new Map<string, string>();
    for (const key of await this.list(kind)) {
      const stat = this.port.lstatSync(this.file(key));
      if (stat) versions.set(key, `${stat.size}:${stat.mtimeMs}:${stat.ino}`);
    }
    return versions;
  }

  async rootEntries(): Promise<string[] | undefined> {
    try {
      return await this.port.readdir(this.location);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      if (errnoCode(error) === 'ENOTDIR') throw await this.notAFolder();
      throw describeFsError(error, 'listing', this.location);
    }
  }

  /** The location (or a folder on its path) is a file: one sentence that says which, not a raw ENOTDIR. */
  private async notAFolder(): Promise<BackupError> {
    const isFile = await this.port.stat(this.location).then(
      (st) => !st.isDirectory(),
      () => false,
    );
    const what = isFile ? 'is a file, not a folder' : 'lies below a file, not a folder';
    return new BackupError('USAGE', `${this.location} ${what}; give a new or empty folder for the store.`, {
      location: this.location,
    });
  }

  sweepDeadTemps(kind: KeyKind): Promise<number> {
    return sweepTemps(this.port, path.join(this.location, kind));
  }

  async removeStaleTemps(olderThanMs: number): Promise<number> {
    let removed = 0;
    const now = Date.now();
    for (const file of await this.listTemp()) {
      const stat = await this.port.stat(file).catch(() => undefined);
      if (!stat || now - stat.mtimeMs < olderThanMs) continue;
      await this.port.unlink(file).then(
        () => removed++,
        () => undefined,
      );
    }
    return removed;
  }

  /** Temp files left by a crashed writer, with their full paths; prune removes the old ones. */
  async listTemp(): Promise<string[]> {
    const found: string[] = [];
    for (const kind of KINDS) {
      const dir = path.join(this.location, kind);
      for (const name of await this.readdirOrEmpty(dir)) {
        if (isTempName(name)) found.push(path.join(dir, name));
        else if (kind === 'data' && name.length === 2) {
          for (const inner of await this.readdirOrEmpty(path.join(dir, name))) {
            if (isTempName(inner)) found.push(path.join(dir, name, inner));
          }
        }
      }
    }
    for (const name of await this.readdirOrEmpty(this.location)) {
      if (isTempName(name)) found.push(path.join(this.location, name));
    }
    return found;
  }

  async remove(key: string): Promise<void> {
    try {
      await this.port.unlink(this.file(key));
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw describeFsError(error, 'removing', this.file(key));
    }
  }

  private async readdirOrEmpty(dir: string): Promise<string[]> {
    try {
      return await this.port.readdir(dir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw describeFsError(error, 'listing', dir);
    }
  }
}
