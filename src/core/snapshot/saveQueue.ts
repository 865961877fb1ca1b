// The on-save queue of one workspace folder (the editor's, kept free of `vscode` so plain Node tests drive
// it): saves are debounced into batches, batches become incremental snapshots one at a time, in order.
// Invariant: every save lands in a snapshot with the content it saved, or the log says it was merged into
// a later version. A save's content is read when the save is reported (small files), not when its
// snapshot finally runs: on a busy store that can be after the next save, which silently lost a version.

import type { Stats } from 'node:fs';
import * as path from 'node:path';
import type { Trigger } from '../repository/snapshotRecord';
import type { FsPort } from '../storage/fsPort';

/** Saves of files up to this size are read at once and held until their snapshot is recorded. */
export const CAPTURE_BELOW = 1024 * 1024;
/** At most this many bytes of saved content are held; later saves are read when their snapshot runs. */
export const HELD_LIMIT = 32 * 1024 * 1024;
/** Saves keep coming during a long burst (a formatter, Save All): never wait longer than this. */
export const MAX_WAIT_MS = 10_000;

export interface SaveBatch {
  paths: string[];
  trigger: Trigger;
  /** The content each captured save had, by workspace-relative path. */
  contents: Map<string, Buffer>;
}

export interface SaveQueueOptions {
  port: FsPort;
  /** Takes one incremental snapshot; the queue never calls it twice at once. Throws on failure. */
  snapshot: (batch: SaveBatch) => Promise<unknown>;
  /** Where merges and kept batches are said (the editor's output channel). */
  log: (message: string) => void;
  /** Told of a failed snapshot (its saves are kept and go with the next flush). */
  onError?: (error: unknown) => void;
  debounceMs?: () => number;
  /** Largest file whose save is captured (the smaller of CAPTURE_BELOW and the snapshotter's size limit). */
  captureBelow?: number;
  heldLimit?: number;
}

interface Entry {
  trigger: Trigger;
  content?: Buffer;
  /** The file's state when the save was reported (to tell, at snapshot time, that it changed since). */
  stat?: Stats;
  saves: number;
}

function sameState(a: Stats | undefined, b: Stats | undefined): boolean {
  return a === undefined
    ? b === undefined
    : b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

export class SaveQueue {
  private pending = new Map<string, Entry>();
  private readonly batches: Array<Map<string, Entry>> = [];
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  private firstQueued: number | undefined;
  private running: Promise<void> = Promise.resolve();
  private failed = false;

  constructor(
    private readonly workspace: string,
    private readonly options: SaveQueueOptions,
  ) {}

  /**
   * Saves whose snapshot failed are waiting (the store was locked, missing or failing): the editor flushes
   * them as soon as the store opens again, since no new save may come to carry them.
   */
  get kept(): boolean {
    return this.failed && this.batches.length > 0;
  }

  /** Saves not yet recorded (pending and waiting batches). */
  get size(): number {
    let n = this.pending.size;
    for (const batch of this.batches) n += batch.size;
    return n;
  }

  /**
   * A path was saved (`save`, its content is captured now) or changed on disk (`external`). Debounced:
   * the batch is snapshotted `debounceMs` after the last event, at most MAX_WAIT_MS after the first.
   */
  add(rel: string, absPath: string, trigger: Trigger): void {
    const previous = this.pending.get(rel);
    const entry: Entry = {
      trigger: previous?.trigger === 'save' ? 'save' : trigger,
      saves: (previous?.saves ?? 0) + (trigger === 'save' ? 1 : 0),
    };
    this.release(previous);
    if (trigger === 'save') this.capture(entry, absPath);
    else entry.stat = this.options.port.lstatSync(absPath);
    if (previous?.content && !(entry.content && entry.content.equals(previous.content))) {
      this.options.log(
        `${rel} changed again within the save delay; the earlier save is merged into the later version (by design).`,
      );
    }
    this.pending.set(rel, entry);
    this.firstQueued ??= Date.now();
    if (this.timer) clearTimeout(this.timer);
    const debounce = this.options.debounceMs?.() ?? 300;
    const wait = Math.max(0, Math.min(debounce, this.firstQueued + MAX_WAIT_MS - Date.now()));
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  /** Snapshots what is queued now (and any batch kept after a failure). Resolves when all of it is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.firstQueued = undefined;
    if (this.pending.size) {
      this.batches.push(this.pending);
      this.pending = new Map();
    }
    const run = this.running.then(() => this.drain());
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Stops the timer (the folder closed); what is queued stays for an explicit flush. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private capture(entry: Entry, absPath: string): void {
    const port = this.options.port;
    const before = port.lstatSync(absPath);
    entry.stat = before;
    const limit = Math.min(this.options.captureBelow ?? CAPTURE_BELOW, CAPTURE_BELOW);
    if (!before?.isFile() || before.size > limit || this.held + before.size > (this.options.heldLimit ?? HELD_LIMIT))
      return;
    try {
      const content = port.readFileSync(absPath);
      // Written to while we read it: leave it to the snapshot, which re-reads until it gets a consistent state.
      if (!sameState(before, port.lstatSync(absPath)) || content.length !== before.size) return;
      entry.content = content;
      this.held += content.length;
    } catch {
      // Gone or unreadable already: the snapshot records what it finds.
    }
  }

  private release(entry: Entry | undefined): void {
    if (entry?.content) this.held -= entry.content.length;
  }

  /** Runs the waiting batches in order; consecutive batches that share no path go into one snapshot. */
  private async drain(): Promise<void> {
    while (this.batches.length) {
      const take = [this.batches[0]];
      const paths = new Set(this.batches[0].keys());
      for (let i = 1; i < this.batches.length && [...this.batches[i].keys()].every((p) => !paths.has(p)); i++) {
        take.push(this.batches[i]);
        for (const p of this.batches[i].keys()) paths.add(p);
      }
      const merged = new Map<string, Entry>();
      for (const batch of take) for (const [rel, entry] of batch) merged.set(rel, entry);
      const contents = new Map<string, Buffer>();
      for (const [rel, entry] of merged) if (entry.content) contents.set(rel, entry.content);
      const trigger: Trigger = [...merged.values()].some((e) => e.trigger === 'save') ? 'save' : 'external';
      try {
        await this.options.snapshot({ paths: [...merged.keys()], trigger, contents });
      } catch (error) {
        this.failed = true;
        this.options.log(
          `${merged.size === 1 ? 'A save is' : `${merged.size} saves are`} kept for the next snapshot after a failure.`,
        );
        this.options.onError?.(error);
        return; // kept at the front; the next flush (the next save, or the editor closing) tries again
      }
      // A save not captured (too large) was read when its snapshot ran: if the file has changed since the
      // save, that snapshot may hold the later content, and the save is merged into it.
      for (const [rel, entry] of merged) {
        if (entry.content || entry.saves === 0) continue;
        if (!sameState(entry.stat, this.options.port.lstatSync(path.join(this.workspace, ...rel.split('/'))))) {
          this.options.log(
            `${rel} changed again after it was saved, before its snapshot was recorded; that save may be merged into the later version (by design).`,
          );
        }
      }
      this.failed = false;
      this.batches.splice(0, take.length);
      for (const entry of merged.values()) this.release(entry);
    }
  }
}
