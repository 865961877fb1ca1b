// The write side of a restore: the steps the restorer's walk decides (write these files of a folder, make
// this folder, delete this entry), carried out by StepRunner on a pool of writers, or kept by StepRecorder
// as a plan to carry out later (#13: the editor shows the plan, asks, then applies exactly it, without
// walking the snapshot and the target again to decide).
// Invariants: steps run in the order they were decided (a folder's extras go before its files are written,
// a folder is made after its contents were queued); a failed step is a problem of its path, never a stop,
// unless it is a cancel or a batch that threw; a recorded plan holds names, not parsed trees or Stats, so
// a plan of 200,000 files stays a few MB.

import { BackupError, describeFsError } from '../errors';
import type { TreeEntry } from '../repository/tree';
import type { EntryKind } from '../scan/scanner';
import type { FsPort } from '../storage/fsPort';
import { WorkPool } from '../workPool';
import { reasonOf } from './reasons';
import type { RestoreProblem } from './restorePlan';
import type { TargetWriter } from './targetWriter';

export type FileEntry = Exclude<TreeEntry, { type: 'dir' }>;

/**
 * One decided step. `files` names entries of the snapshot tree `tree` (the folder `parts`, or a requested
 * file's parent): by their positions in that tree, slots `from` to `to` of the recorder's `slots` (a tree is
 * named by the hash of its bytes, so a position names the same entry when the tree is read again), or by
 * name (a requested file).
 */
export type RestoreStep =
  | { op: 'files'; parts: readonly string[]; tree: string; from: number; to: number }
  | { op: 'named'; parts: readonly string[]; tree: string; names: string[]; overwrite: boolean[] }
  | { op: 'dir'; parts: readonly string[] }
  | { op: 'remove'; parts: readonly string[]; kind: EntryKind };

/** A slot's top bit: the file is overwritten (not created); the other 31 bits are its position in the tree. */
export const OVERWRITE_BIT = 0x80000000;

/** Where the walk sends what it decided. */
export interface StepSink {
  write(
    parts: readonly string[],
    tree: string,
    entries: readonly FileEntry[],
    overwrite: readonly boolean[],
    /** Where each entry is in `tree`'s entries, when the walk knows it (a whole folder). */
    positions?: readonly number[],
  ): Promise<void>;
  dir(parts: readonly string[]): Promise<void>;
  remove(parts: readonly string[], kind: EntryKind): Promise<void>;
  /** Throws what ends the restore (cancelled, a batch that threw); called between steps. */
  check(): void;
}

/** A dry run, or a plan to apply later: the steps are kept in order, nothing is written. */
export class StepRecorder implements StepSink {
  readonly steps: RestoreStep[] = [];
  /**
   * Every written file of the `files` steps, 4 bytes each: at 200,000 files a step per file name held 40 MB
   * of strings and arrays from planning to the end of the restore (#16: 171 MiB peak against 122 streamed).
   */
  private slotBuffer = new Uint32Array(1024);
  private used = 0;

  /** The slots the steps point into (see RestoreStep). */
  get slots(): Uint32Array {
    return this.slotBuffer.subarray(0, this.used);
  }

  /** `keep` false: a dry run, which only counts (memory stays one path of trees, whatever the size). */
  constructor(
    private readonly signal?: AbortSignal,
    private readonly keep = true,
  ) {}

  async write(
    parts: readonly string[],
    tree: string,
    entries: readonly FileEntry[],
    overwrite: readonly boolean[],
    positions?: readonly number[],
  ): Promise<void> {
    if (!this.keep || entries.length === 0) return;
    if (!positions) {
      this.steps.push({ op: 'named', parts, tree, names: entries.map((e) => e.name), overwrite: [...overwrite] });
      return;
    }
    if (this.used + positions.length > this.slotBuffer.length) {
      const grown = new Uint32Array(Math.max(this.slotBuffer.length * 2, this.used + positions.length));
      grown.set(this.slotBuffer.subarray(0, this.used));
      this.slotBuffer = grown;
    }
    const from = this.used;
    for (let i = 0; i < positions.length; i++)
      this.slotBuffer[this.used++] = (positions[i] | (overwrite[i] ? OVERWRITE_BIT : 0)) >>> 0;
    this.steps.push({ op: 'files', parts, tree, from, to: this.used });
  }

  async dir(parts: readonly string[]): Promise<void> {
    if (this.keep) this.steps.push({ op: 'dir', parts });
  }

  async remove(parts: readonly string[], kind: EntryKind): Promise<void> {
    if (this.keep) this.steps.push({ op: 'remove', parts, kind });
  }

  check(): void {
    checkCancelled(this.signal);
  }
}

/** Files and links written at once. */
const WRITERS = 16;
/** Writes decided and waiting for a writer before the walk waits too: what bounds a restore's memory. */
const QUEUED_WRITES = 256;

export interface RunnerOptions {
  writer: TargetWriter;
  fs: FsPort;
  signal?: AbortSignal;
  /** Problems of steps that failed are added here. */
  problems: RestoreProblem[];
  /** Called once, before the first change is written. */
  beforeWrite?: () => Promise<void>;
  /** `total()` is the number of changes decided so far (all of them when a plan is applied). */
  onProgress?: (done: number, total: number) => void;
  total: () => number;
}

/** Carries out steps as they come: each folder's files as one batch on a pool of writers. */
export class StepRunner implements StepSink {
  restored = 0;
  deleted = 0;
  /** Files and links written or deleted (folders aside). */
  files = 0;
  private done = 0;
  private readonly pool = new WorkPool(WRITERS);
  /** The first write's preparation (beforeWrite, the target folder), started once. */
  private begun?: Promise<void>;
  /** A failure that ends the restore (cancelled, or a write batch that threw), raised at the next step. */
  private fatal?: unknown;

  constructor(private readonly options: RunnerOptions) {}

  check(): void {
    checkCancelled(this.options.signal);
    if (this.fatal !== undefined) throw this.fatal;
  }

  async write(
    parts: readonly string[],
    _tree: string,
    entries: readonly FileEntry[],
    overwrite: readonly boolean[],
  ): Promise<void> {
    if (entries.length === 0) return;
    await this.begin();
    await this.pool.idle(QUEUED_WRITES);
    this.check();
    const { writer } = this.options;
    const batch = this.pool.run(entries.length, async (i) => {
      checkCancelled(this.options.signal);
      const entry = entries[i];
      const childParts = [...parts, entry.name];
      try {
        await writer.ensureDir(parts);
        if (entry.type === 'file') await writer.writeFile(childParts, entry, overwrite[i]);
        else await writer.writeSymlink(childParts, entry.target);
        this.restored++;
        this.files++;
      } catch (error) {
        this.problem(childParts, error);
      }
      this.tick();
    });
    batch.catch((error: unknown) => {
      this.fatal ??= error;
    });
  }

  async dir(parts: readonly string[]): Promise<void> {
    await this.begin();
    this.check();
    try {
      await this.options.writer.ensureDir(parts);
      this.restored++;
    } catch (error) {
      this.problem(parts, error);
    }
    this.tick();
  }

  async remove(parts: readonly string[], kind: EntryKind): Promise<void> {
    await this.begin();
    this.check();
    try {
      await this.options.writer.remove(parts, kind);
      this.deleted++;
      if (kind !== 'dir') this.files++;
    } catch (error) {
      this.problem(parts, error);
    }
    this.tick();
  }

  /** Waits for queued writes (or their fast failure once cancelled): nothing runs after the restore returns. */
  async idle(): Promise<void> {
    await this.pool.idle(0);
  }

  /** After the last step: a restore that changed nothing still leaves the target folder (an empty snapshot into a new folder). */
  async finish(): Promise<void> {
    this.check();
    if (this.begun) return;
    const target = this.options.writer.target;
    await this.options.fs.mkdir(target, { recursive: true }).catch((error) => {
      throw describeFsError(error, 'creating the restore target', target);
    });
  }

  /** Before the first write: the caller's preparation (an undo snapshot), then the target folder. */
  private begin(): Promise<void> {
    this.begun ??= (async () => {
      await this.options.beforeWrite?.();
      const target = this.options.writer.target;
      await this.options.fs.mkdir(target, { recursive: true }).catch((error) => {
        throw describeFsError(error, 'creating the restore target', target);
      });
    })();
    return this.begun;
  }

  private problem(parts: readonly string[], error: unknown): void {
    this.options.problems.push({ path: parts.join('/') || '.', reason: reasonOf(error) });
  }

  private tick(): void {
    this.options.onProgress?.(++this.done, this.options.total());
  }
}

export function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted)
    throw new BackupError(
      'CANCELLED',
      'The restore was cancelled; files restored so far are complete, the rest untouched.',
    );
}
