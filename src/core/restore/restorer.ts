// Restores a snapshot, a folder or single files into a target folder (the workspace or any other).
// Invariants: it decides each change before making it (what will be created, overwritten, deleted) and a
// dry run only reports; a file is written to a temp name and renamed into place, so the user's file is
// either the old or the restored one; nothing is written outside the target or through a symlink; a damaged
// object fails only the files that need it. It walks the snapshot folder by folder and writes as it goes,
// so memory holds one path of trees and a bounded queue of writes, never the whole snapshot (#11.14: a
// plan of 200,000 files held as objects, paths and promises took 520 MB).

import * as path from 'node:path';
import type { Stats } from 'node:fs';
import { BackupError, errnoCode, isBackupError } from '../errors';
import { yieldIfBusy } from '../eventLoop';
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
import { reasonOf } from './reasons';
import { entryProblem, safeJoin, splitUserPath } from '../repository/safePath';
import { OVERWRITE_BIT, StepRecorder, StepRunner } from './restoreSteps';
import type { FileEntry, RestoreStep, StepSink } from './restoreSteps';
import type { RestoreProblem } from './restorePlan';
import { TargetWriter } from './targetWriter';
import type { TargetRepo } from './targetWriter';

import type { PlannedChange, RestoreOptions, RestorePlan, RestoreResult } from './restorePlan';
import { KEPT_CHANGES } from './restorePlan';

export type {
  PlanAction,
  PlannedChange,
  RestoreOptions,
  RestorePlan,
  RestoreProblem,
  RestoreResult,
} from './restorePlan';
export { KEPT_CHANGES } from './restorePlan';

/** What a restore needs of the store: its trees and blobs, its shared lock, where it lies (never written into). */
export type RestoreRepo = TargetRepo & Pick<Repository, 'loadTree' | 'readLock' | 'location' | 'port'>;

/** A plan with the steps that carry it out, in the order they were decided. */
export interface DecidedRestore {
  plan: RestorePlan;
  steps: RestoreStep[];
  /** The positions (and overwrite bits) the `files` steps point into (see StepRecorder). */
  slots: Uint32Array;
}

/** One requested root: a path into the snapshot (its entry), or the whole snapshot (`entry` absent). */
interface Root {
  parts: string[];
  entry?: TreeEntry;
  /** The tree that holds `entry` (a requested file is written from it). */
  parent?: string;
}

/** Where a folder's extras are looked for (deleteExtra): the .gitignore layers in force for its listing. */
interface Extras {
  layers: readonly GitignoreLayer[];
}

interface Run {
  snapshot: SnapshotRecord;
  options: RestoreOptions;
  /** Compares what the target has with the snapshot (the sink writes). */
  writer: TargetWriter;
  /** Where decided steps go: written at once (a streaming restore) or kept (a dry run, a plan). */
  sink: StepSink;
  plan: RestorePlan;
  keep: number;
  /** The target has its own `.git` and `replaceGit` is not set: nothing under it is written or deleted. */
  keepGit: boolean;
  /** Lists target folders for deletions, under the delete rules (excluded paths are never listed, so never deleted). */
  scanner: Scanner;
}

export interface RestorerOptions {
  /** The target's file system (the workspace's); by default the store's port (the same disk, the same process). */
  fs?: FsPort;
}

/** How steps decided by `Restorer.plan` are carried out. */
export interface ApplyOptions {
  target: string;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Called once under the lock, before the first step (the undo snapshot). */
  prepare?: () => Promise<void>;
}

export class Restorer {
  /** Where the store lies relative to this restore's target: nothing is ever written into it. */
  private fence: StoreFence | undefined;
  private readonly fs: FsPort;

  constructor(
    private readonly repo: RestoreRepo,
    options: RestorerOptions = {},
  ) {
    this.fs = options.fs ?? repo.port;
  }

  /**
   * Decides and makes each change as it goes (memory holds one path of trees and a bounded queue of
   * writes), or only decides (`dryRun`). To show a plan, ask, then carry out exactly it, use `plan` and
   * `apply` (restoreJob.ts) instead.
   */
  async restore(snapshot: SnapshotRecord, options: RestoreOptions): Promise<RestoreResult> {
    if (options.dryRun) {
      const { plan } = await this.walk(snapshot, options, new StepRecorder(options.signal, false));
      return { plan, restored: 0, deleted: 0, files: 0, problems: plan.problems };
    }
    // The job takes its own lock (#13): a shared one, so prune waits for it; none on a store that cannot
    // be written (Repository.readLock).
    const lock = await this.repo.readLock(`a restore into ${path.resolve(options.target)}`);
    try {
      const problems: RestoreProblem[] = [];
      let plan: RestorePlan | undefined;
      const runner = this.runner(
        options.target,
        problems,
        options.signal,
        () => plan?.total ?? 0,
        options.onProgress,
        options.beforeWrite,
      );
      try {
        plan = { changes: [], counts: { create: 0, overwrite: 0, delete: 0 }, total: 0, unchanged: 0, problems };
        ({ plan } = await this.walk(snapshot, options, runner, plan));
      } finally {
        await runner.idle();
      }
      await runner.finish();
      return { plan, restored: runner.restored, deleted: runner.deleted, files: runner.files, problems };
    } finally {
      await lock?.release();
    }
  }

  /** Decides every change (like a dry run) and keeps the steps that make them, to apply later. Reads only; takes no lock. */
  async plan(
    snapshot: SnapshotRecord,
    options: Omit<RestoreOptions, 'dryRun' | 'beforeWrite' | 'onProgress'>,
  ): Promise<DecidedRestore> {
    const recorder = new StepRecorder(options.signal);
    const { plan } = await this.walk(snapshot, { ...options, dryRun: true }, recorder);
    return { plan, steps: recorder.steps, slots: recorder.slots };
  }

  /**
   * Carries out steps decided by `plan`, in order, under the store's shared lock, without deciding again:
   * the trees are read for the entries the steps name, the target is not walked. Problems of the plan are
   * in the result's beside those of the writes.
   */
  async apply(snapshot: SnapshotRecord, decided: DecidedRestore, options: ApplyOptions): Promise<RestoreResult> {
    const { plan, steps, slots } = decided;
    const lock = await this.repo.readLock(`a restore into ${path.resolve(options.target)}`);
    try {
      await options.prepare?.();
      const target = path.resolve(options.target);
      this.fence = await StoreFence.refuseInside(this.fs, this.repo.location, target, 'restore into');
      const problems: RestoreProblem[] = [...plan.problems];
      const runner = this.runner(target, problems, options.signal, () => plan.total, options.onProgress);
      try {
        for (const step of steps) {
          runner.check();
          if (step.op === 'remove') await runner.remove(step.parts, step.kind);
          else if (step.op === 'dir') await runner.dir(step.parts);
          else if (step.op === 'named')
            await runner.write(
              step.parts,
              step.tree,
              await this.entriesOf(snapshot, step.tree, step.names),
              step.overwrite,
            );
          else {
            const at = slots.subarray(step.from, step.to);
            await runner.write(
              step.parts,
              step.tree,
              await this.entriesAt(snapshot, step.tree, at),
              Array.from(at, (slot) => (slot & OVERWRITE_BIT) !== 0),
            );
          }
        }
      } finally {
        await runner.idle();
      }
      await runner.finish();
      return { plan, restored: runner.restored, deleted: runner.deleted, files: runner.files, problems };
    } finally {
      await lock?.release();
    }
  }

  /** The entries at a step's positions in the tree it came from (the same entries: a tree is named by its bytes). */
  private async entriesAt(snapshot: SnapshotRecord, treeId: string, slots: Uint32Array): Promise<FileEntry[]> {
    const tree = await this.repo.loadTree(treeId);
    return Array.from(slots, (slot) => {
      const entry = tree.entries[slot & ~OVERWRITE_BIT];
      if (!entry || entry.type === 'dir')
        throw new BackupError(
          'REPO_CORRUPT',
          `Snapshot ${snapshot.id.slice(0, 8)} changed while it was restored: entry ${slot & ~OVERWRITE_BIT} of tree ${treeId.slice(0, 12)} is not the file it was.`,
          { snapshot: snapshot.id },
        );
      return entry;
    });
  }

  /** The entries named by a step, from the tree it came from (cached by the repository while steps in one folder follow). */
  private async entriesOf(snapshot: SnapshotRecord, treeId: string, names: readonly string[]): Promise<FileEntry[]> {
    const tree = await this.repo.loadTree(treeId);
    return names.map((name) => {
      const entry = findEntry(tree, name);
      if (!entry || entry.type === 'dir')
        throw new BackupError(
          'REPO_CORRUPT',
          `Snapshot ${snapshot.id.slice(0, 8)} changed while it was restored: ${name} is no longer in its tree.`,
          { snapshot: snapshot.id },
        );
      return entry;
    });
  }

  private runner(
    target: string,
    problems: RestoreProblem[],
    signal: AbortSignal | undefined,
    total: () => number,
    onProgress: RestoreOptions['onProgress'],
    beforeWrite?: RestoreOptions['beforeWrite'],
  ): StepRunner {
    return new StepRunner({
      writer: new TargetWriter(this.repo, this.fs, path.resolve(target)),
      fs: this.fs,
      signal,
      problems,
      total,
      onProgress,
      beforeWrite,
    });
  }

  /** Walks the snapshot beside the target and sends every decided step to `sink`. */
  private async walk(
    snapshot: SnapshotRecord,
    options: RestoreOptions,
    sink: StepSink,
    startPlan?: RestorePlan,
  ): Promise<{ plan: RestorePlan }> {
    const port = this.fs;
    const target = path.resolve(options.target);
    // The store's config is its key (an encrypted store's wrapped master key): a restore into the store,
    // or of a snapshot holding a file of the same name above it, must never replace it.
    this.fence = await StoreFence.refuseInside(port, this.repo.location, target, 'restore into');
    const targetStat = await port.stat(target).catch((error) => {
      if (errnoCode(error) === 'ENOTDIR') {
        throw new BackupError('RESTORE_CONFLICT', `The restore target ${target} lies below a file, not a folder.`, {
          target,
        });
      }
      return undefined;
    });
    if (targetStat && !targetStat.isDirectory()) {
      throw new BackupError('RESTORE_CONFLICT', `The restore target ${target} is a file, not a folder.`, { target });
    }
    const plan = startPlan ?? {
      changes: [],
      counts: { create: 0, overwrite: 0, delete: 0 },
      total: 0,
      unchanged: 0,
      problems: [],
    };
    const problems = plan.problems;
    // A target with its own .git is a live repository (or another project's): its .git stays as it is.
    const keepGit = !options.replaceGit && lstatOrUndefined(port, path.join(target, '.git')) !== undefined;
    const run: Run = {
      snapshot,
      options,
      writer: new TargetWriter(this.repo, port, target),
      sink,
      plan,
      keep: options.keepChanges ?? KEPT_CHANGES,
      keepGit,
      scanner: new Scanner(target, { rules: this.deleteRules(options, snapshot).withGit(!keepGit) }, port),
    };
    const absent: string[] = [];
    const selected = await this.select(
      snapshot,
      options.paths ?? [],
      problems,
      options.missingAsDelete ? absent : undefined,
    );
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
      run.sink.check();
      if (!root.entry) {
        await this.walkDir(run, snapshot.tree, [], targetMissing, options.deleteExtra ? { layers: [] } : undefined);
        continue;
      }
      const rel = root.parts.join('/');
      const extras =
        options.deleteExtra && root.entry.type === 'dir' ? { layers: await run.scanner.layersAbove(rel) } : undefined;
      await this.visit(
        run,
        root.parts,
        root.entry,
        false,
        extras,
        root.parts.length === 1 && targetMissing,
        root.parent,
      );
    }
    run.sink.check();
    return { plan };
  }

  /**
   * What deletions may touch: the caller's rules, else the rules the snapshot was taken with (the defaults
   * when it records none), plus the store itself: what a snapshot left out on purpose is never deleted
   * because the snapshot lacks it.
   */
  private deleteRules(options: RestoreOptions, snapshot: SnapshotRecord): Rules {
    if (options.rules) return options.rules;
    const recorded = snapshot.rules;
    return new Rules({
      excludes: recorded?.excludes,
      includes: recorded?.includes,
      gitignore: recorded?.gitignore === true,
      excludeAbsolute: [this.repo.location],
    });
  }

  /** The store may live inside the target (a store in the workspace): it is never written or deleted, whatever the rules or the snapshot say. */
  private inStore(rel: string): boolean {
    return this.fence?.covers(rel.split('/')) === true;
  }

  /** Resolves the requested paths to roots: the whole snapshot, or each path's entry (nothing below it is read yet). */
  private async select(
    snapshot: SnapshotRecord,
    paths: readonly string[],
    problems: RestoreProblem[],
    absent?: string[],
  ): Promise<Root[]> {
    const out: Root[] = [];
    const roots = paths.length === 0 ? [[]] : paths.map((p) => splitUserPath(p));
    const keys = roots.map((parts) => parts.join('/'));
    // A path inside another requested one is restored with it: taking it again would plan it twice.
    const covered = (key: string) =>
      keys.some((other) => other !== key && (other === '' || key.startsWith(`${other}/`)));
    const seen = new Set<string>();
    for (const parts of roots) {
      const key = parts.join('/');
      if (seen.has(key) || covered(key)) continue;
      seen.add(key);
      if (parts.length === 0) {
        out.push({ parts });
        continue;
      }
      let parent = snapshot.tree;
      let tree: Tree = await this.repo.loadTree(parent);
      let entry: TreeEntry | undefined;
      for (let i = 0; i < parts.length; i++) {
        entry = findEntry(tree, parts[i]);
        if (!entry) break;
        if (i < parts.length - 1) {
          if (entry.type !== 'dir') {
            entry = undefined;
            break;
          }
          parent = entry.tree;
          tree = await this.repo.loadTree(parent);
        }
      }
      if (!entry && absent) {
        absent.push(key);
        continue;
      }
      if (!entry) {
        throw new BackupError('PATH_NOT_FOUND', `${key} is not in snapshot ${snapshot.id.slice(0, 8)}.`, {
          path: key,
          snapshot: snapshot.id,
        });
      }
      const refused = entryProblem(entry);
      if (refused) {
        problems.push({ path: key, reason: refused });
        continue;
      }
      // Parent folders of a selected path are created as needed, not listed as changes.
      out.push({ parts, entry, parent });
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

  private problem(run: Run, rel: string, reason: string): void {
    run.plan.problems.push({ path: rel, reason });
  }

  /**
   * Decides and makes the change for one entry; for a folder, then walks it. `parentMissing`: the target
   * lacks the parent folder, so everything is new and the disk need not be asked (restore into an empty
   * folder would otherwise stat every file).
   */
  private async visit(
    run: Run,
    parts: string[],
    entry: TreeEntry,
    parentMissing: boolean,
    extras: Extras | undefined,
    missingKnown = false,
    parentTree?: string,
  ): Promise<void> {
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
    const existing = parentMissing || missingKnown ? undefined : lstatOrUndefined(this.fs, abs);
    if (entry.type !== 'dir') {
      // Only a requested path reaches here as a file: walkDir decides the files of a folder itself.
      const decided = await this.decideFile(run, parts, entry, existing, extras);
      if (decided !== undefined) await run.sink.write(parts.slice(0, -1), parentTree as string, [entry], [decided]);
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
      if (run.options.deleteExtra && !existing.isDirectory() && !existing.isSymbolicLink())
        await this.deleteOne(run, parts, 'file');
    }
    this.decide(run, { path: rel, action: existing ? 'overwrite' : 'create', type: 'dir' });
    // The folder is made by the first write inside it, or after its walk (an empty one): a chain of folders
    // deeper than any file system is refused before any of it is written.
    await this.walkDir(
      run,
      entry.tree,
      parts,
      !existing || !existing.isDirectory(),
      existing?.isDirectory() ? extras : undefined,
    );
    await run.sink.dir(parts);
  }

  /**
   * Decides a file or link: undefined when the target already has it, else whether it overwrites. A
   * folder where it goes is emptied first with deleteExtra (and removed when it is written).
   */
  private async decideFile(
    run: Run,
    parts: string[],
    entry: Exclude<TreeEntry, { type: 'dir' }>,
    existing: Stats | undefined,
    extras: Extras | undefined,
  ): Promise<boolean | undefined> {
    const rel = parts.join('/');
    if (existing && (await run.writer.matches(entry, existing, safeJoin(run.writer.target, parts)))) {
      run.plan.unchanged++;
      return undefined;
    }
    if (existing?.isDirectory() && run.options.deleteExtra && extras)
      await this.deleteContents(run, parts, extras.layers);
    this.decide(run, { path: rel, action: existing ? 'overwrite' : 'create', type: entry.type });
    return existing !== undefined;
  }

  /**
   * Walks one folder of the snapshot: deletes the target's extras in it (deleteExtra), decides its files
   * and queues their writes as one batch, then visits its sub-folders one at a time.
   */
  private async walkDir(
    run: Run,
    treeId: string,
    parts: string[],
    dirMissing: boolean,
    extras: Extras | undefined,
  ): Promise<void> {
    run.sink.check();
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
    if (parts.length >= MAX_TREE_DEPTH && tree.entries.length > 0)
      throw tooDeep(`Snapshot ${run.snapshot.id.slice(0, 8)}`, { snapshot: run.snapshot.id });

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
    const childExtras = (name: string): Extras | undefined =>
      listedDirs?.has(name) ? { layers: childLayers } : undefined;

    const files: FileEntry[] = [];
    const overwrite: boolean[] = [];
    const positions: number[] = [];
    const dirs: TreeEntry[] = [];
    for (let position = 0; position < tree.entries.length; position++) {
      // Each entry is an lstat of the target (synchronous): a wide folder must not hold the loop.
      const turn = yieldIfBusy();
      if (turn) await turn;
      const entry = tree.entries[position];
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
          existing = lstatOrUndefined(this.fs, safeJoin(run.writer.target, childParts));
        } catch (error) {
          this.problem(run, childRel, reasonOf(error));
          continue;
        }
      }
      const decided = await this.decideFile(run, childParts, entry, existing, childExtras(entry.name));
      if (decided === undefined) continue;
      files.push(entry);
      overwrite.push(decided);
      positions.push(position);
    }
    await run.sink.write(parts, treeId, files, overwrite, positions);
    for (const entry of dirs) await this.visit(run, [...parts, entry.name], entry, dirMissing, childExtras(entry.name));
  }

  /** Deletes what a target folder holds (deleteExtra, an absent path), deepest first; excluded paths and the store stay. */
  private async deleteContents(run: Run, parts: string[], layers: readonly GitignoreLayer[]): Promise<void> {
    run.sink.check();
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
    await run.sink.remove(parts, type);
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
