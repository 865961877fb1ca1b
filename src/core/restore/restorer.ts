// Restores a snapshot, a folder or single files into a target folder (the workspace or any other).
// Invariants: it decides each change before making it (what will be created, overwritten, deleted) and a
// dry run only reports; a file is written to a temp name and renamed into place, so the user's file is
// either the old or the restored one; nothing is written outside the target or through a symlink; a damaged
// object fails only the files that need it. It walks the snapshot folder by folder and writes as it goes,
// so memory holds one path of trees and a bounded queue of writes, never the whole snapshot (#11.14: a
// plan of 200,000 files held as objects, paths and promises took 520 MB).

import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { BackupError, describeFsError, errnoCode, isBackupError } from '../errors';
import type { Repository } from '../repository/repository';
import type { SnapshotRecord } from '../repository/snapshotRecord';
import type { Tree, TreeEntry } from '../repository/tree';
import { MAX_TREE_DEPTH, findEntry, tooDeep } from '../repository/tree';
import { Rules, isGitPath } from '../scan/rules';
import type { GitignoreLayer } from '../scan/rules';
import { Scanner } from '../scan/scanner';
import type { EntryKind } from '../scan/scanner';
import type { FsPort } from '../storage/fsPort';
import { StoreFence } from '../storage/storeFence';
import { WorkPool } from '../workPool';
import { reasonOf } from './reasons';
import { entryProblem, safeJoin, splitUserPath } from '../repository/safePath';
import { TargetWriter } from './targetWriter';

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
  /** The first changes, in the order they were decided (folders before what they hold); at most `keepChanges`. */
  changes: PlannedChange[];
  /**
   * Every file and link to change, by action (`changes` may hold only the first of them). Folders are not
   * counted: "80 to create" for 46 files reads like a miscount.
   */
  counts: Record<PlanAction, number>;
  /** Every change, folders included. */
  total: number;
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
  /** Called once, before the first change is written (not at all when nothing changes, nor in a dry run). */
  beforeWrite?: () => Promise<void>;
  /** Called with every change as it is decided, before it is made; a dry run's whole list comes here. */
  onChange?: (change: PlannedChange) => void;
  /** How many changes `plan.changes` keeps (default KEPT_CHANGES; Infinity keeps them all). */
  keepChanges?: number;
  signal?: AbortSignal;
  /** `total` is the number of changes decided so far: the walk decides as it goes. */
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreResult {
  plan: RestorePlan;
  /** Files, links and folders written. */
  restored: number;
  deleted: number;
  /** Files and links written or deleted (folders aside). */
  files: number;
  problems: RestoreProblem[];
}

/** The changes a plan lists by default: enough for a preview, never a list of every file of a big restore. */
export const KEPT_CHANGES = 1000;
/** Files and links written at once. */
const WRITERS = 16;
/** Writes decided and waiting for a writer before the walk waits too: what bounds a restore's memory. */
const QUEUED_WRITES = 256;

/** One requested root: a path into the snapshot (its entry), or the whole snapshot (`entry` absent). */
interface Root {
  parts: string[];
  entry?: TreeEntry;
}

/** Where a folder's extras are looked for (deleteExtra): the .gitignore layers in force for its listing. */
interface Extras {
  layers: readonly GitignoreLayer[];
}

interface Run {
  snapshot: SnapshotRecord;
  options: RestoreOptions;
  writer: TargetWriter;
  pool: WorkPool;
  plan: RestorePlan;
  keep: number;
  done: number;
  restored: number;
  deleted: number;
  files: number;
  /** The target has its own `.git` and `replaceGit` is not set: nothing under it is written or deleted. */
  keepGit: boolean;
  /** The first write's preparation (beforeWrite, the target folder), started once. */
  begun?: Promise<void>;
  /** A failure that ends the restore (cancelled, or a write batch that threw), raised at the next step. */
  fatal?: unknown;
  /** Lists target folders for deletions, under the delete rules (excluded paths are never listed, so never deleted). */
  scanner: Scanner;
}

export class Restorer {
  /** Where the store lies relative to this restore's target: nothing is ever written into it. */
  private fence: StoreFence | undefined;

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
    // A target with its own .git is a live repository (or another project's): its .git stays as it is.
    const keepGit = !options.replaceGit && lstatOrUndefined(port, path.join(target, '.git')) !== undefined;
    const pool = new WorkPool(WRITERS);
    const run: Run = {
      snapshot,
      options,
      writer: new TargetWriter(this.repo, target),
      pool,
      plan: { changes: [], counts: { create: 0, overwrite: 0, delete: 0 }, total: 0, unchanged: 0, problems },
      keep: options.keepChanges ?? KEPT_CHANGES,
      done: 0,
      restored: 0,
      deleted: 0,
      files: 0,
      keepGit,
      scanner: new Scanner(target, { rules: this.deleteRules(options, snapshot).withGit(!keepGit) }, port),
    };
    try {
      const absent: string[] = [];
      const selected = await this.select(snapshot, options.paths ?? [], problems, options.missingAsDelete ? absent : undefined);
      const roots = keepGit ? selected.filter((root) => !isGitPath(root.parts.join('/'))) : selected;
      if (roots.length < selected.length || (keepGit && absent.some(isGitPath))) run.plan.gitLeft = true;
      // Requested paths the snapshot lacks (undoing a restore): made absent, deepest first.
      for (const rel of absent) {
        const parts = rel.split('/');
        safeJoin(target, parts);
        if (this.inStore(rel) || (keepGit && isGitPath(rel))) continue;
        const existing = lstatOrUndefined(port, path.join(target, ...parts));
        if (!existing) continue;
        if (existing.isDirectory()) await this.deleteContents(run, parts, await run.scanner.layersAbove(rel));
        await this.deleteOne(run, parts, existing.isDirectory() ? 'dir' : existing.isSymbolicLink() ? 'symlink' : 'file');
      }
      const targetMissing = !port.lstatSync(target);
      for (const root of roots) {
        this.raiseFatal(run);
        if (!root.entry) {
          await this.walkDir(run, snapshot.tree, [], targetMissing, options.deleteExtra ? { layers: [] } : undefined);
          continue;
        }
        const rel = root.parts.join('/');
        const extras = options.deleteExtra && root.entry.type === 'dir' ? { layers: await run.scanner.layersAbove(rel) } : undefined;
        await this.visit(run, root.parts, root.entry, false, extras, root.parts.length === 1 && targetMissing);
      }
    } finally {
      // Let queued writes finish (or fail fast once cancelled) before answering: nothing runs after restore returns.
      await pool.idle(0);
    }
    this.raiseFatal(run);
    if (!options.dryRun && !run.begun) {
      // Nothing to change: an empty snapshot restored into a new folder still leaves that (empty) folder.
      await port.mkdir(target, { recursive: true }).catch((error) => {
        throw describeFsError(error, 'creating the restore target', target);
      });
    }
    return { plan: run.plan, restored: run.restored, deleted: run.deleted, files: run.files, problems };
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

  private raiseFatal(run: Run): void {
    this.checkCancelled(run.options);
    if (run.fatal !== undefined) throw run.fatal;
  }

  /** Resolves the requested paths to roots: the whole snapshot, or each path's entry (nothing below it is read yet). */
  private async select(snapshot: SnapshotRecord, paths: readonly string[], problems: RestoreProblem[], absent?: string[]): Promise<Root[]> {
    const out: Root[] = [];
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
        out.push({ parts });
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
      // Parent folders of a selected path are created as needed, not listed as changes.
      out.push({ parts, entry });
    }
    return out;
  }

  /** Records a change as decided: counted, kept while the list is short, told to the caller. */
  private decide(run: Run, change: PlannedChange): void {
    if (change.type !== 'dir') run.plan.counts[change.action]++;
    run.plan.total++;
    if (run.plan.changes.length < run.keep) run.plan.changes.push(change);
    run.options.onChange?.(change);
  }

  private tick(run: Run): void {
    run.options.onProgress?.(++run.done, run.plan.total);
  }

  /** Before the first write: the caller's preparation (an undo snapshot), then the target folder. */
  private begin(run: Run): Promise<void> {
    run.begun ??= (async () => {
      await run.options.beforeWrite?.();
      await this.repo.port.mkdir(run.writer.target, { recursive: true }).catch((error) => {
        throw describeFsError(error, 'creating the restore target', run.writer.target);
      });
    })();
    return run.begun;
  }

  private problem(run: Run, rel: string, reason: string): void {
    run.plan.problems.push({ path: rel, reason });
  }

  /**
   * Decides and makes the change for one entry; for a folder, then walks it. `parentMissing`: the target
   * lacks the parent folder, so everything is new and the disk need not be asked (restore into an empty
   * folder would otherwise stat every file).
   */
  private async visit(run: Run, parts: string[], entry: TreeEntry, parentMissing: boolean, extras: Extras | undefined, missingKnown = false): Promise<void> {
    const rel = parts.join('/');
    let abs: string;
    try {
      abs = safeJoin(run.writer.target, parts);
    } catch (error) {
      this.problem(run, rel, reasonOf(error));
      return;
    }
    if (this.inStore(rel)) {
      // One line for the topmost entry; nothing below it is looked at.
      this.problem(run, rel, (this.fence as StoreFence).refusal);
      return;
    }
    const existing = parentMissing || missingKnown ? undefined : lstatOrUndefined(this.repo.port, abs);
    if (entry.type !== 'dir') {
      const decided = await this.decideFile(run, parts, entry, existing, extras);
      if (decided !== undefined) await this.queueWrites(run, parts.slice(0, -1), [entry], [decided]);
      return;
    }
    if (existing && (await run.writer.matches(entry, existing, abs))) {
      run.plan.unchanged++;
      await this.walkDir(run, entry.tree, parts, false, extras);
      return;
    }
    if (existing) {
      // A file where the snapshot has a folder: with deleteExtra it goes first; without it, ensureDir
      // reports the conflict and the user's file stays.
      if (run.options.deleteExtra && !existing.isDirectory() && !existing.isSymbolicLink()) await this.deleteOne(run, parts, 'file');
    }
    this.decide(run, { path: rel, action: existing ? 'overwrite' : 'create', type: 'dir' });
    // The folder is made by the first write inside it, or after its walk (an empty one): a chain of folders
    // deeper than any file system is refused before any of it is written.
    await this.walkDir(run, entry.tree, parts, !existing || !existing.isDirectory(), existing?.isDirectory() ? extras : undefined);
    if (run.options.dryRun) return;
    await this.begin(run);
    this.raiseFatal(run);
    try {
      await run.writer.ensureDir(parts);
      run.restored++;
    } catch (error) {
      this.problem(run, rel, reasonOf(error));
    }
    this.tick(run);
  }

  /**
   * Decides a file or link: undefined when the target already has it, else whether it overwrites. A
   * folder where it goes is emptied first with deleteExtra (and removed when it is written).
   */
  private async decideFile(run: Run, parts: string[], entry: Exclude<TreeEntry, { type: 'dir' }>, existing: Stats | undefined, extras: Extras | undefined): Promise<boolean | undefined> {
    const rel = parts.join('/');
    if (existing && (await run.writer.matches(entry, existing, safeJoin(run.writer.target, parts)))) {
      run.plan.unchanged++;
      return undefined;
    }
    if (existing?.isDirectory() && run.options.deleteExtra && extras) await this.deleteContents(run, parts, extras.layers);
    this.decide(run, { path: rel, action: existing ? 'overwrite' : 'create', type: entry.type });
    return existing !== undefined;
  }

  /**
   * Walks one folder of the snapshot: deletes the target's extras in it (deleteExtra), decides its files
   * and queues their writes as one batch, then visits its sub-folders one at a time.
   */
  private async walkDir(run: Run, treeId: string, parts: string[], dirMissing: boolean, extras: Extras | undefined): Promise<void> {
    this.raiseFatal(run);
    const rel = parts.join('/');
    let tree: Tree;
    try {
      tree = await this.repo.loadTree(treeId);
    } catch (error) {
      if (!isBackupError(error, 'OBJECT_MISSING') && !isBackupError(error, 'OBJECT_DAMAGED')) throw error;
      this.problem(run, rel || '.', error.message);
      return;
    }
    // A crafted chain of folders deeper than any file system: refused with one sentence.
    if (parts.length >= MAX_TREE_DEPTH && tree.entries.length > 0) throw tooDeep(`Snapshot ${run.snapshot.id.slice(0, 8)}`, { snapshot: run.snapshot.id });

    // The target's own listing of this folder, for its extras and for which sub-folders are walked for theirs.
    let listedDirs: Set<string> | undefined;
    let childLayers: readonly GitignoreLayer[] = [];
    if (extras && !dirMissing) {
      const listing = await run.scanner.list(rel, extras.layers);
      childLayers = listing.layers;
      const wanted = new Set<string>();
      for (const entry of tree.entries) if (!entryProblem(entry)) wanted.add(entry.name);
      listedDirs = new Set();
      for (const found of listing.entries) {
        if (found.kind === 'dir') listedDirs.add(found.name);
        if (wanted.has(found.name) || this.inStore(found.relPath)) continue;
        const foundParts = [...parts, found.name];
        if (found.kind === 'dir') await this.deleteContents(run, foundParts, listing.layers);
        await this.deleteOne(run, foundParts, found.kind);
      }
    }
    const childExtras = (name: string): Extras | undefined => (listedDirs?.has(name) ? { layers: childLayers } : undefined);

    const files: Array<Exclude<TreeEntry, { type: 'dir' }>> = [];
    const overwrite: boolean[] = [];
    const dirs: TreeEntry[] = [];
    for (const entry of tree.entries) {
      const reason = entryProblem(entry);
      if (reason) {
        this.problem(run, rel ? `${rel}/${entry.name}` : entry.name, reason);
        continue;
      }
      if (run.keepGit && parts.length === 0 && entry.name === '.git') {
        // The target's own repository stays as it is (see keepGit); the plan says so.
        run.plan.gitLeft = true;
        continue;
      }
      if (entry.type === 'dir') {
        dirs.push(entry);
        continue;
      }
      const childParts = [...parts, entry.name];
      const childRel = childParts.join('/');
      if (this.inStore(childRel)) {
        this.problem(run, childRel, (this.fence as StoreFence).refusal);
        continue;
      }
      let existing: Stats | undefined;
      if (!dirMissing) {
        try {
          existing = lstatOrUndefined(this.repo.port, safeJoin(run.writer.target, childParts));
        } catch (error) {
          this.problem(run, childRel, reasonOf(error));
          continue;
        }
      }
      const decided = await this.decideFile(run, childParts, entry, existing, childExtras(entry.name));
      if (decided === undefined) continue;
      files.push(entry);
      overwrite.push(decided);
    }
    await this.queueWrites(run, parts, files, overwrite);
    for (const entry of dirs) await this.visit(run, [...parts, entry.name], entry, dirMissing, childExtras(entry.name));
  }

  /** Queues the writes of files and links of one folder as one batch, once the queue has room. */
  private async queueWrites(run: Run, parts: readonly string[], files: ReadonlyArray<Exclude<TreeEntry, { type: 'dir' }>>, overwrite: readonly boolean[]): Promise<void> {
    if (files.length === 0 || run.options.dryRun) return;
    await this.begin(run);
    await run.pool.idle(QUEUED_WRITES);
    this.raiseFatal(run);
    const batch = run.pool.run(files.length, async (i) => {
      this.checkCancelled(run.options);
      const entry = files[i];
      const childParts = [...parts, entry.name];
      try {
        await run.writer.ensureDir(parts);
        if (entry.type === 'file') await run.writer.writeFile(childParts, entry, overwrite[i]);
        else await run.writer.writeSymlink(childParts, entry.target);
        run.restored++;
        run.files++;
      } catch (error) {
        this.problem(run, childParts.join('/'), reasonOf(error));
      }
      this.tick(run);
    });
    batch.catch((error: unknown) => {
      run.fatal ??= error;
    });
  }

  /** Deletes what a target folder holds (deleteExtra, an absent path), deepest first; excluded paths and the store stay. */
  private async deleteContents(run: Run, parts: string[], layers: readonly GitignoreLayer[]): Promise<void> {
    this.raiseFatal(run);
    const listing = await run.scanner.list(parts.join('/'), layers);
    for (const found of listing.entries) {
      if (this.inStore(found.relPath)) continue;
      const foundParts = [...parts, found.name];
      if (found.kind === 'dir') await this.deleteContents(run, foundParts, listing.layers);
      await this.deleteOne(run, foundParts, found.kind);
    }
  }

  private async deleteOne(run: Run, parts: string[], type: EntryKind): Promise<void> {
    this.decide(run, { path: parts.join('/'), action: 'delete', type });
    if (run.options.dryRun) return;
    await this.begin(run);
    this.raiseFatal(run);
    try {
      await run.writer.remove(parts, type);
      run.deleted++;
      if (type !== 'dir') run.files++;
    } catch (error) {
      this.problem(run, parts.join('/'), reasonOf(error));
    }
    this.tick(run);
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
