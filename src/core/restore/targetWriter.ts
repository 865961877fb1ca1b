// Writing into a restore target, one entry at a time: folders created without replacing anything in the
// way, files through a temp file renamed into place, links as links, never through a symlink or into the
// store. Used by the restorer, which decides what to write; this decides how, safely.
// Invariant: every path written is the target plus validated components; a user's file is either the old
// one or the whole restored one; a temp file of ours never stays behind in the user's folder.

import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { BackupError, errnoCode } from '../errors';
import { yieldIfBusy } from '../eventLoop';
import type { Repository } from '../repository/repository';
import type { FsPort } from '../storage/fsPort';
import type { TreeEntry } from '../repository/tree';
import { sweepTemps, syncDir, tempPathFor } from '../storage/atomic';
import { contentIdsOf } from '../snapshot/fileReader';
import { RESTORED_MODE_BITS, safeJoin } from '../repository/safePath';

/** Files up to this size are restored with synchronous writes; larger ones stream chunk by chunk. */
const SYNC_WRITE_UP_TO = 4 * 1024 * 1024;
/**
 * A small file's synchronous create, write, chmod and rename that took longer than this waited in the kernel
 * (writeback of what was written before throttles new writes): the next STALLED_FILES small files are then
 * written on the thread pool, as big ones are. Restoring 200,000 files after gigabytes of writes held the
 * editor's loop over 20 ms a thousand times with every create synchronous (#16).
 */
const STALL_MS = 4;
const STALLED_FILES = 256;

/** What writing a target needs of the store: its blobs, and what content ids are made of (to compare a file on disk). */
export type TargetRepo = Pick<Repository, 'loadBlob' | 'config' | 'codec'>;

export class TargetWriter {
  /** Folders this restore created or checked to be real (not links): each is checked once, not per file. */
  private readonly realDirs = new Set<string>();
  /** Folders cleared of temp files a killed restore left (once each; folders this restore created need none). */
  private readonly swept = new Map<string, Promise<unknown>>();
  /** Folders being made right now, so parallel writes into one new folder make it once. */
  private readonly making = new Map<string, Promise<void>>();
  /** Small files still to write on the thread pool since the kernel last held a synchronous one (STALL_MS). */
  private offLoop = 0;

  /** `fs` is the target's file system (the workspace's), not the store's. */
  constructor(
    private readonly repo: TargetRepo,
    private readonly fs: FsPort,
    readonly target: string,
  ) {}

  /** Whether what is at `abs` already is what `entry` would restore (files compared by content, not only size). */
  async matches(entry: TreeEntry, existing: Stats, abs: string): Promise<boolean> {
    if (entry.type === 'dir') return existing.isDirectory();
    if (entry.type === 'symlink') {
      if (!existing.isSymbolicLink()) return false;
      return (await this.fs.readlink(abs).catch(() => undefined)) === entry.target;
    }
    if (!existing.isFile() || existing.size !== entry.size) return false;
    if ((existing.mode & 0o7777) !== (entry.mode & RESTORED_MODE_BITS) && process.platform !== 'win32') return false;
    try {
      const ids = await contentIdsOf(this.repo, this.fs, abs, existing.size);
      return ids.length === entry.content.length && ids.every((id, i) => id === entry.content[i]);
    } catch {
      return false;
    }
  }

  /** Removes a file, link or (empty) folder the restore deletes; a folder still holding something excluded stays. */
  async remove(parts: readonly string[], type: 'file' | 'dir' | 'symlink'): Promise<void> {
    const port = this.fs;
    const abs = safeJoin(this.target, parts);
    await this.assertRealParents(parts);
    if (type === 'dir') {
      await port.rmdir(abs).catch((error) => {
        if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'ENOENT') throw error;
      });
    } else {
      await port.unlink(abs).catch((error) => {
        if (errnoCode(error) !== 'ENOENT') throw error;
      });
    }
  }

  /** Refuses to go through a symlink or a file on the way to `parts` (the target itself may be a link). */
  async assertRealParents(parts: readonly string[]): Promise<void> {
    const dirs = prefixPaths(this.target, parts.slice(0, -1));
    // A folder enters realDirs only after its ancestors: a known parent vouches for the whole path.
    if (dirs.length === 0 || this.realDirs.has(dirs[dirs.length - 1])) return;
    for (const current of dirs) {
      if (this.realDirs.has(current)) continue;
      const stat = this.fs.lstatSync(current);
      if (!stat) return;
      if (!stat.isDirectory()) {
        throw new BackupError(
          'UNSAFE_PATH',
          `Refusing to write below ${current}: it is ${stat.isSymbolicLink() ? 'a symlink' : 'not a folder'}.`,
          { path: current },
        );
      }
    }
  }

  /** Creates the folders of `parts` under the target, replacing nothing: a symlink or file in the way is refused. */
  async ensureDir(parts: readonly string[]): Promise<void> {
    safeJoin(this.target, parts); // validates every component once
    const dirs = prefixPaths(this.target, parts);
    // Start below the deepest folder already known to be real (usually the parent): re-checking every
    // ancestor of every folder made a deep chain cost depth cubed.
    let first = dirs.length;
    while (first > 0 && !this.realDirs.has(dirs[first - 1])) first--;
    for (const current of dirs.slice(first)) {
      if (this.realDirs.has(current)) continue;
      // Writes run in parallel: the files of one new folder all ask for it at once, and it is made once.
      let making = this.making.get(current);
      if (!making) {
        making = this.makeDir(current).finally(() => this.making.delete(current));
        this.making.set(current, making);
      }
      await making;
    }
  }

  private async makeDir(current: string): Promise<void> {
    const stat = this.fs.lstatSync(current);
    if (stat?.isDirectory()) {
      this.realDirs.add(current);
      return;
    }
    if (stat?.isSymbolicLink()) {
      // A link where the snapshot has a folder: replace the link itself (never follow it).
      await this.fs.unlink(current);
    } else if (stat) {
      throw new BackupError('RESTORE_CONFLICT', `Cannot restore the folder ${current}: a file is in the way.`, {
        path: current,
      });
    }
    // A folder this restore made holds no leftovers: no need to sweep it.
    await this.fs.mkdir(current).then(
      () => this.swept.set(current, Promise.resolve()),
      (error) => {
        if (errnoCode(error) !== 'EEXIST') throw error;
      },
    );
    this.realDirs.add(current);
  }

  async writeFile(
    parts: readonly string[],
    entry: Extract<TreeEntry, { type: 'file' }>,
    overwriting: boolean,
  ): Promise<void> {
    const port = this.fs;
    const abs = safeJoin(this.target, parts);
    await this.assertRealParents(parts);
    const temp = await this.tempFor(abs);
    if (entry.size <= SYNC_WRITE_UP_TO && this.offLoop > 0) this.offLoop--;
    else if (entry.size <= SYNC_WRITE_UP_TO) {
      // Small files: gather the content, then create, chmod and rename synchronously (see FsPort). Blobs of
      // a cached unit come back without a turn of the event loop, so 16 writers could chain hundreds of
      // synchronous creates in one turn (the editor's host held 50-180 ms): let it turn now and then.
      const turn = yieldIfBusy();
      if (turn) await turn;
      const chunks: Buffer[] = [];
      for (const id of entry.content) chunks.push(await this.repo.loadBlob(id));
      const size = chunks.reduce((sum, c) => sum + c.length, 0);
      if (size !== entry.size) {
        throw new BackupError(
          'OBJECT_DAMAGED',
          `${parts.join('/')} restored to ${size} bytes, not the ${entry.size} its snapshot records.`,
          { path: parts.join('/') },
        );
      }
      try {
        const started = performance.now();
        port.writeNewFileSync(temp, chunks, 0o600, overwriting);
        port.chmodSync(temp, entry.mode & RESTORED_MODE_BITS);
        if (performance.now() - started > STALL_MS) this.offLoop = STALLED_FILES;
        if (overwriting) await this.clearEmptyDir(abs);
        port.renameSync(temp, abs);
      } catch (error) {
        await port.unlink(temp).catch(() => undefined);
        throw error;
      }
      if (overwriting) await syncDir(port, path.dirname(abs));
      return;
    }
    const handle = await port.open(temp, 'wx', 0o600);
    let written = 0;
    try {
      for (const id of entry.content) {
        const data = await this.repo.loadBlob(id);
        let offset = 0;
        while (offset < data.length) {
          const { bytesWritten } = await handle.write(data, offset, data.length - offset, null);
          offset += bytesWritten;
        }
        written += data.length;
      }
      if (written !== entry.size) {
        throw new BackupError(
          'OBJECT_DAMAGED',
          `${parts.join('/')} restored to ${written} bytes, not the ${entry.size} its snapshot records.`,
          { path: parts.join('/') },
        );
      }
      // Replacing a user's existing file: make the new content durable before the old one is gone.
      if (overwriting) await handle.sync();
      await handle.close();
      await port.chmod(temp, entry.mode & RESTORED_MODE_BITS);
      if (overwriting) await this.clearEmptyDir(abs);
      await port.rename(temp, abs);
      if (overwriting) await syncDir(port, path.dirname(abs));
    } catch (error) {
      await handle.close().catch(() => undefined);
      await port.unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  async writeSymlink(parts: readonly string[], linkTarget: string): Promise<void> {
    const port = this.fs;
    const abs = safeJoin(this.target, parts);
    await this.assertRealParents(parts);
    const temp = await this.tempFor(abs);
    await port.symlink(linkTarget, temp);
    try {
      await this.clearEmptyDir(abs);
      await port.rename(temp, abs);
    } catch (error) {
      await port.unlink(temp).catch(() => undefined);
      throw error;
    }
  }

  /** A temp path for `abs`, once its folder is clear of what a killed restore left there (#11.7; once per folder). */
  private async tempFor(abs: string): Promise<string> {
    const temp = tempPathFor(abs, this.target);
    const dir = path.dirname(temp);
    if (!this.swept.has(dir)) this.swept.set(dir, sweepTemps(this.fs, dir));
    await this.swept.get(dir);
    return temp;
  }

  /** A folder where a file or link goes may be removed only when empty: never a recursive delete. */
  private async clearEmptyDir(abs: string): Promise<void> {
    const existing = await this.fs.lstat(abs).catch(() => undefined);
    if (!existing?.isDirectory()) return;
    try {
      await this.fs.rmdir(abs);
    } catch {
      throw new BackupError(
        'RESTORE_CONFLICT',
        `Cannot restore ${abs}: a folder with content is in the way (restore with delete to replace it).`,
        { path: abs },
      );
    }
  }
}

/**
 * The absolute path of each folder on the way down `parts` (validated names). Plain concatenation, not
 * path.join, which re-normalises the whole path at each level and made deep trees cost depth squared.
 */
function prefixPaths(target: string, parts: readonly string[]): string[] {
  const out: string[] = [];
  let current = target.endsWith(path.sep) ? target.slice(0, -1) : target;
  for (const part of parts) out.push((current = current + path.sep + part));
  return out;
}
