// Restores a snapshot, a folder or single files into a target folder (the workspace or any other).
// Invariants: it plans first (what will be created, overwritten, deleted) and a dry run stops there; a
// file is written to a temp name and renamed into place, so the user's file is either the old or the
// restored one; nothing is written outside the target or through a symlink; a damaged object fails only
// the files that need it.

import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import { Limiter } from '../limiter';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { Tree, TreeEntry } from '../repository/tree';
import { MAX_TREE_DEPTH, findEntry, tooDeep } from '../repository/tree';
import { Rules, isGitPath } from '../scan/rules';
import { Scanner } from '../scan/scanner';
import { sweepTemps, syncDir, tempPathFor } from '../storage/atomic';
import type { FsPort } from '../storage/fsPort';
import { StoreFence } from '../storage/storeFence';
import { contentIdsOf } from '../snapshot/fileReader';
import { reasonOf } from './reasons';
import { RESTORED_MODE_BITS, entryProblem, safeJoin, splitUserPath } from './safePath';

export type PlanAction = 'create' | 'overwrite' | 'delete';

export interface PlannedChange {
  path: string;
  action: PlanAction;
  type: 'file' | 'dir' | 'symlink';
}

export interface RestoreProblem {
  path: string;
  reason: string;
}

export interface RestorePlan {
  changes: PlannedChange[];
  unchanged: number;
  /**
   * The snapshot's `.git` was left out because the target has its own (a live repository, whose newer
   * commits an older `.git` would lose): nothing under the target's `.git` changes. See `replaceGit`.
   */
  gitLeft?: boolean;
  /** Entries the store holds that cannot be restored safely or at all (unsafe names, damaged data). */
  problems: RestoreProblem[];
}

export interface RestoreOptions {
  target: string;
  /** Snapshot-relative paths (files or folders) to restore; the whole snapshot when absent or empty. */
  paths?: readonly string[];
  dryRun?: boolean;
  /** Also delete what the target has, inside the restored folders, that the snapshot does not (excluded paths are left alone). */
  deleteExtra?: boolean;
  /** Rules for what `deleteExtra` may touch; defaults to the default excludes. The store itself is never touched. */
  rules?: Rules;
  /**
   * Restore the snapshot's `.git` over a target that has its own (replacing files there and, with
   * `deleteExtra`, deleting what the snapshot's lacks). Without it, a target's `.git` is never written or
   * deleted; a target without one gets the snapshot's.
   */
  replaceGit?: boolean;
  /**
   * A requested path the snapshot does not have is deleted from the target instead of being an error:
   * "make these paths exactly as they were", which is what undoing a restore needs.
   */
  missingAsDelete?: boolean;
  /** Called with every path about to change, before anything is written, when not a dry run. */
  beforeWrite?: (paths: string[]) => Promise<void>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreResult {
  plan: RestorePlan;
  restored: number;
  deleted: number;
  problems: RestoreProblem[];
}

interface Item {
  parts: string[];
  entry: TreeEntry;
}

export class Restorer {
  private readonly limiter = new Limiter(16);
  /** Folders this restore created or checked to be real (not links): each is checked once, not per file. */
  private realDirs = new Set<string>();
  /** Where the store lies relative to this restore's target: nothing is ever written into it. */
  private fence: StoreFence | undefined;
  /** Folders cleared of temp files a killed restore left (once each; folders this restore created need none). */
  private swept = new Map<string, Promise<unknown>>();

  constructor(private readonly repo: Repository) {}

  async restore(snapshot: SnapshotRecord, options: RestoreOptions): Promise<RestoreResult> {
    // The job takes its own lock (#13): a shared one, so prune waits for it; none on a store that cannot
    // be written (Repository.readLock) and none for a dry run, which only reads.
    if (options.dryRun) return this.restoreLocked(snapshot, options);
    const lock = await this.repo.readLock(`a restore into ${path.resolve(options.target)}`);
    try {
      return await this.restoreLocked(snapshot, options);
    } finally {
      await lock?.release();
    }
  }

  private async restoreLocked(snapshot: SnapshotRecord, options: RestoreOptions): Promise<RestoreResult> {
    const port = this.repo.port;
    const target = path.resolve(options.target);
    this.realDirs = new Set();
    this.swept = new Map();
    // The store's config is its key (an encrypted store's wrapped master key): a restore into the store,
    // or of a snapshot holding a file of the same name above it, must never replace it.
    this.fence = await StoreFence.refuseInside(port, this.repo.location, target, 'restore into');
    const targetStat = await port.stat(target).catch((error) => {
      if (errnoCode(error) === 'ENOTDIR') {
        throw new BackupError('RESTORE_CONFLICT', `The restore target ${target} lies below a file, not a folder.`, { target });
      }
      return undefined;
    });
    if (targetStat && !targetStat.isDirectory()) {
      throw new BackupError('RESTORE_CONFLICT', `The restore target ${target} is a file, not a folder.`, { target });
    }
    const problems: RestoreProblem[] = [];
    const absent: string[] = [];
    // A target with its own .git is a live repository (or another project's): its .git stays as it is.
    const keepGit = !options.replaceGit && lstatOrUndefined(port, path.join(target, '.git')) !== undefined;
    const selected = await this.select(snapshot, options.paths ?? [], problems, options.missingAsDelete ? absent : undefined);
    const items = keepGit ? selected.filter((item) => !isGitPath(item.parts.join('/'))) : selected;
    const deleteRules = this.deleteRules(options, snapshot).withGit(!keepGit);
    const plan = await this.plan(items, target, options, deleteRules, problems);
    if (items.length < selected.length || (keepGit && absent.some(isGitPath))) plan.gitLeft = true;
    for (const rel of absent) {
      const abs = safeJoin(target, rel.split('/'));
      if (this.inStore(rel) || (keepGit && isGitPath(rel))) continue;
      const existing = await port.lstat(abs).catch(() => undefined);
      if (!existing) continue;
      if (existing.isDirectory()) {
        const scanner = new Scanner(target, { rules: deleteRules }, port);
        for await (const found of scanner.walk(rel)) {
          if (!this.inStore(found.relPath)) plan.changes.push({ path: found.relPath, action: 'delete', type: found.kind });
        }
      }
      plan.changes.push({ path: rel, action: 'delete', type: existing.isDirectory() ? 'dir' : existing.isSymbolicLink() ? 'symlink' : 'file' });
    }
    if (options.dryRun) return { plan, restored: 0, deleted: 0, problems };
    if (plan.changes.length === 0) {
      // An empty snapshot restored into a new folder still leaves that (empty) folder.
      await port.mkdir(target, { recursive: true }).catch((error) => {
      throw describeFsError(error, 'creating the restore target', target);
    });
      return { plan, restored: 0, deleted: 0, problems };
    }
    await options.beforeWrite?.(plan.changes.map((c) => c.path));
    await port.mkdir(target, { recursive: true }).catch((error) => {
      throw describeFsError(error, 'creating the restore target', target);
    });

    let done = 0;
    const total = plan.changes.length;
    const tick = () => options.onProgress?.(++done, total);
    const byPath = new Map(items.map((item) => [item.parts.join('/'), item.entry]));
    let restored = 0;
    let deleted = 0;

    // Deletions first (deepest first), so a file can replace a folder of the same name and back.
    const deletions = plan.changes.filter((c) => c.action === 'delete').sort((a, b) => b.path.length - a.path.length);
    for (const change of deletions) {
      this.checkCancelled(options);
      try {
        const abs = safeJoin(target, change.path.split('/'));
        await this.assertRealParents(target, change.path.split('/'));
        if (change.type === 'dir') await port.rmdir(abs).catch((error) => {
          if (errnoCode(error) !== 'ENOTEMPTY' && errnoCode(error) !== 'ENOENT') throw error;
        });
        else await port.unlink(abs).catch((error) => {
          if (errnoCode(error) !== 'ENOENT') throw error;
        });
        deleted++;
      } catch (error) {
        problems.push({ path: change.path, reason: reasonOf(error) });
      }
      tick();
    }

    const writes = plan.changes.filter((c) => c.action !== 'delete');
    // Folders in order (parents before children), then files and links in parallel.
    for (const change of writes.filter((c) => c.type === 'dir')) {
      this.checkCancelled(options);
      try {
        await this.ensureDir(target, change.path.split('/'));
        restored++;
      } catch (error) {
        problems.push({ path: change.path, reason: reasonOf(error) });
      }
      tick();
    }
    await Promise.all(
      writes
        .filter((c) => c.type !== 'dir')
        .map((change) =>
          this.limiter.run(async () => {
            this.checkCancelled(options);
            const entry = byPath.get(change.path);
            try {
              if (!entry || entry.type === 'dir') throw new Error('entry vanished from the plan');
              const parts = change.path.split('/');
              await this.ensureDir(target, parts.slice(0, -1));
              if (entry.type === 'file') await this.writeFile(target, parts, entry, change.action === 'overwrite');
              else await this.writeSymlink(target, parts, entry.target);
              restored++;
            } catch (error) {
              problems.push({ path: change.path, reason: reasonOf(error) });
            }
            tick();
          }),
        ),
    );
    return { plan, restored, deleted, problems };
  }

  /**
   * What deletions may touch: the caller's rules, else the rules the snapshot was taken with (the defaults
   * when it records none), plus the store itself: what a snapshot left out on purpose is never deleted
   * because the snapshot lacks it.
   */
  private deleteRules(options: RestoreOptions, snapshot: SnapshotRecord): Rules {
    if (options.rules) return options.rules;
    const recorded = snapshot.rules;
    return new Rules({ excludes: recorded?.excludes, includes: recorded?.includes, gitignore: recorded?.gitignore === true, excludeAbsolute: [this.repo.location] });
  }

  /** The store may live inside the target (a store in the workspace): it is never written or deleted, whatever the rules or the snapshot say. */
  private inStore(rel: string): boolean {
    return this.fence?.covers(rel.split('/')) === true;
  }

  private checkCancelled(options: RestoreOptions): void {
    if (options.signal?.aborted) throw new BackupError('CANCELLED', 'The restore was cancelled; files restored so far are complete, the rest untouched.');
  }

  /** Resolves the requested paths to tree items: every entry below them, folders before their contents. */
  private async select(snapshot: SnapshotRecord, paths: readonly string[], problems: RestoreProblem[], absent?: string[]): Promise<Item[]> {
    const items: Item[] = [];
    const roots = paths.length === 0 ? [[]] : paths.map((p) => splitUserPath(p));
    const keys = roots.map((parts) => parts.join('/'));
    // A path inside another requested one is restored with it: taking it again would plan it twice.
    const covered = (key: string) => keys.some((other) => other !== key && (other === '' || key.startsWith(`${other}/`)));
    const seen = new Set<string>();
    for (const parts of roots) {
      const key = parts.join('/');
      if (seen.has(key) || covered(key)) continue;
      seen.add(key);
      if (parts.length === 0) {
        await this.collect(snapshot, snapshot.tree, [], items, problems);
        continue;
      }
      let tree: Tree = await this.repo.loadTree(snapshot.tree);
      let entry: TreeEntry | undefined;
      for (let i = 0; i < parts.length; i++) {
        entry = findEntry(tree, parts[i]);
        if (!entry) break;
        if (i < parts.length - 1) {
          if (entry.type !== 'dir') {
            entry = undefined;
            break;
          }
          tree = await this.repo.loadTree(entry.tree);
        }
      }
      if (!entry && absent) {
        absent.push(key);
        continue;
      }
      if (!entry) {
        throw new BackupError('PATH_NOT_FOUND', `${key} is not in snapshot ${snapshot.id.slice(0, 8)}.`, { path: key, snapshot: snapshot.id });
      }
      const refused = entryProblem(entry);
      if (refused) {
        problems.push({ path: key, reason: refused });
        continue;
      }
      // Parent folders of a selected path are created as needed, not listed as items.
      items.push({ parts, entry });
      if (entry.type === 'dir') await this.collect(snapshot, entry.tree, parts, items, problems);
    }
    return items;
  }

  private async collect(snapshot: SnapshotRecord, treeId: string, prefix: string[], out: Item[], problems: RestoreProblem[]): Promise<void> {
    let tree: Tree;
    try {
      tree = await this.repo.loadTree(treeId);
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      problems.push({ path: prefix.join('/') || '.', reason: error.message });
      return;
    }
    // Each item holds its whole path: a crafted chain of folders would cost depth squared, so stop at the limit.
    if (prefix.length >= MAX_TREE_DEPTH && tree.entries.length > 0) throw tooDeep(`Snapshot ${snapshot.id.slice(0, 8)}`, { snapshot: snapshot.id });
    for (const entry of tree.entries) {
      const reason = entryProblem(entry);
      if (reason) {
        problems.push({ path: [...prefix, entry.name].join('/'), reason });
        continue;
      }
      const parts = [...prefix, entry.name];
      out.push({ parts, entry });
      if (entry.type === 'dir') await this.collect(snapshot, entry.tree, parts, out, problems);
    }
  }

  private async plan(items: readonly Item[], target: string, options: RestoreOptions, deleteRules: Rules, problems: RestoreProblem[]): Promise<RestorePlan> {
    const port = this.repo.port;
    const changes: PlannedChange[] = [];
    let unchanged = 0;
    const wanted = new Set(items.map((item) => item.parts.join('/')));
    const missing = new Set<string>();
    const refused = new Set<string>();
    if (!port.lstatSync(target)) missing.add('');
    for (const item of items) {
      const rel = item.parts.join('/');
      let abs: string;
      try {
        abs = safeJoin(target, item.parts);
      } catch (error) {
        problems.push({ path: rel, reason: reasonOf(error) });
        continue;
      }
      if (this.inStore(rel)) {
        // One line for the topmost entry; what lies below it is refused with it.
        if (!refused.has(item.parts.slice(0, -1).join('/'))) problems.push({ path: rel, reason: (this.fence as StoreFence).refusal });
        refused.add(rel);
        continue;
      }
      const entry = item.entry;
      // Below a folder the target lacks, everything is new: no need to ask the disk (restore into an
      // empty folder would otherwise stat every file).
      const parentRel = item.parts.slice(0, -1).join('/');
      const existing = missing.has(parentRel) ? undefined : lstatOrUndefined(port, abs);
      if (!existing) {
        if (entry.type === 'dir') missing.add(rel);
        changes.push({ path: rel, action: 'create', type: entry.type });
        continue;
      }
      if (await this.matches(entry, existing, abs)) {
        unchanged++;
        continue;
      }
      // A file where the snapshot has a folder: with deleteExtra it goes first (deletions run before writes);
      // without it, ensureDir reports the conflict and the user's file stays.
      if (options.deleteExtra && entry.type === 'dir' && !existing.isDirectory() && !existing.isSymbolicLink()) {
        changes.push({ path: rel, action: 'delete', type: 'file' });
      }
      changes.push({ path: rel, action: 'overwrite', type: entry.type });
    }
    if (options.deleteExtra) {
      const scanner = new Scanner(target, { rules: deleteRules }, port);
      // Walk each restored folder once; the walk descends, so nested extras come with it.
      const selected = options.paths ?? [];
      const roots = selected.length === 0 ? [''] : items.filter((i) => i.entry.type === 'dir' && selected.some((p) => splitUserPath(p).join('/') === i.parts.join('/'))).map((i) => i.parts.join('/'));
      const extra: PlannedChange[] = [];
      for (const dir of roots) {
        const abs = dir ? safeJoin(target, dir.split('/')) : target;
        const stat = await port.lstat(abs).catch(() => undefined);
        if (!stat?.isDirectory()) continue;
        for await (const found of scanner.walk(dir)) {
          if (!wanted.has(found.relPath) && !this.inStore(found.relPath)) extra.push({ path: found.relPath, action: 'delete', type: found.kind });
        }
      }
      changes.push(...extra);
    }
    return { changes, unchanged, problems };
  }

  private async matches(entry: TreeEntry, existing: Stats, abs: string): Promise<boolean> {
    if (entry.type === 'dir') return existing.isDirectory();
    if (entry.type === 'symlink') {
      if (!existing.isSymbolicLink()) return false;
      return (await this.repo.port.readlink(abs).catch(() => undefined)) === entry.target;
    }
    if (!existing.isFile() || existing.size !== entry.size) return false;
    if ((existing.mode & 0o7777) !== (entry.mode & RESTORED_MODE_BITS) && process.platform !== 'win32') return false;
    try {
      const ids = await contentIdsOf(this.repo, this.repo.port, abs, existing.size);
      return ids.length === entry.content.length && ids.every((id, i) => id === entry.content[i]);
    } catch {
      return false;
    }
  }

  /** Refuses to go through a symlink or a file on the way to `parts` (the target itself may be a link). */
  private async assertRealParents(target: string, parts: readonly string[]): Promise<void> {
    const dirs = prefixPaths(target, parts.slice(0, -1));
    // A folder enters realDirs only after its ancestors: a known parent vouches for the whole path.
    if (dirs.length === 0 || this.realDirs.has(dirs[dirs.length - 1])) return;
    for (const current of dirs) {
      if (this.realDirs.has(current)) continue;
      const stat = this.repo.port.lstatSync(current);
      if (!stat) return;
      if (!stat.isDirectory()) {
        throw new BackupError('UNSAFE_PATH', `Refusing to write below ${current}: it is ${stat.isSymbolicLink() ? 'a symlink' : 'not a folder'}.`, { path: current });
      }
    }
  }

  /** Creates the folders of `parts` under target, replacing nothing: a symlink or file in the way is refused. */
  private async ensureDir(target: string, parts: readonly string[]): Promise<void> {
    safeJoin(target, parts); // validates every component once
    const dirs = prefixPaths(target, parts);
    // Start below the deepest folder already known to be real (usually the parent): re-checking every
    // ancestor of every folder made a deep chain cost depth cubed.
    let first = dirs.length;
    while (first > 0 && !this.realDirs.has(dirs[first - 1])) first--;
    for (const current of dirs.slice(first)) {
      const stat = this.repo.port.lstatSync(current);
      if (stat?.isDirectory()) {
        this.realDirs.add(current);
        continue;
      }
      if (stat?.isSymbolicLink()) {
        // A link where the snapshot has a folder: replace the link itself (never follow it).
        await this.repo.port.unlink(current);
      } else if (stat) {
        throw new BackupError('RESTORE_CONFLICT', `Cannot restore the folder ${current}: a file is in the way.`, { path: current });
      }
      // A folder this restore made holds no leftovers: no need to sweep it.
      await this.repo.port.mkdir(current).then(() => this.swept.set(current, Promise.resolve()), (error) => {
        if (errnoCode(error) !== 'EEXIST') throw error;
      });
      this.realDirs.add(current);
    }
  }

  private async writeFile(target: string, parts: readonly string[], entry: Extract<TreeEntry, { type: 'file' }>, overwriting: boolean): Promise<void> {
    const port = this.repo.port;
    const abs = safeJoin(target, parts);
    await this.assertRealParents(target, parts);
    const temp = await this.tempFor(target, abs);
    if (entry.size <= SYNC_WRITE_UP_TO) {
      // Small files: gather the content, then create, chmod and rename synchronously (see FsPort).
      const chunks: Buffer[] = [];
      for (const id of entry.content) chunks.push(await this.repo.loadBlob(id));
      const size = chunks.reduce((sum, c) => sum + c.length, 0);
      if (size !== entry.size) {
        throw new BackupError('OBJECT_DAMAGED', `${parts.join('/')} restored to ${size} bytes, not the ${entry.size} its snapshot records.`, { path: parts.join('/') });
      }
      try {
        port.writeNewFileSync(temp, chunks, 0o600, overwriting);
        port.chmodSync(temp, entry.mode & RESTORED_MODE_BITS);
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
        throw new BackupError('OBJECT_DAMAGED', `${parts.join('/')} restored to ${written} bytes, not the ${entry.size} its snapshot records.`, { path: parts.join('/') });
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

  /** A temp path for `abs`, once its folder is clear of what a killed restore left there (#11.7; once per folder). */
  private async tempFor(target: string, abs: string): Promise<string> {
    const temp = tempPathFor(abs, target);
    const dir = path.dirname(temp);
    if (!this.swept.has(dir)) this.swept.set(dir, sweepTemps(this.repo.port, dir));
    await this.swept.get(dir);
    return temp;
  }

  /** A folder where a file or link goes may be removed only when empty: never a recursive delete. */
  private async clearEmptyDir(abs: string): Promise<void> {
    const existing = await this.repo.port.lstat(abs).catch(() => undefined);
    if (!existing?.isDirectory()) return;
    try {
      await this.repo.port.rmdir(abs);
    } catch {
      throw new BackupError('RESTORE_CONFLICT', `Cannot restore ${abs}: a folder with content is in the way (restore with delete to replace it).`, { path: abs });
    }
  }

  private async writeSymlink(target: string, parts: readonly string[], linkTarget: string): Promise<void> {
    const port = this.repo.port;
    const abs = safeJoin(target, parts);
    await this.assertRealParents(target, parts);
    const temp = await this.tempFor(target, abs);
    await port.symlink(linkTarget, temp);
    try {
      await this.clearEmptyDir(abs);
      await port.rename(temp, abs);
    } catch (error) {
      await port.unlink(temp).catch(() => undefined);
      throw error;
    }
  }
}

/** lstatSync answers undefined only for ENOENT; a file where a folder should be (ENOTDIR) means "absent" too. */
function lstatOrUndefined(port: FsPort, abs: string): Stats | undefined {
  try {
    return port.lstatSync(abs);
  } catch {
    return undefined;
  }
}

/** Files up to this size are restored with synchronous writes; larger ones stream chunk by chunk. */
const SYNC_WRITE_UP_TO = 4 * 1024 * 1024;

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
