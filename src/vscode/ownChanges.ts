// What the editor changed itself (saves, restores, deletes in the Explorer), so the file watcher neither
// snapshots our own writes twice nor takes them for changes made outside the editor.
// Invariant: entries older than OWN_CHANGE_MS mean nothing, and the maps are trimmed, so they never grow
// with a long session.

import * as path from 'node:path';

/** Our own writes and editor saves also reach the file watcher; ignore those echoes for this long. */
const ECHO_MS = 3_000;
/** A change the editor made is not "outside the editor" for this long (a mass-deletion burst is seconds). */
const OWN_CHANGE_MS = 30_000;
const TRIM_ABOVE = 10_000;

export class OwnChanges {
  /** Saves and our own writes, by absolute path: the watcher's echo of them is ignored. */
  private readonly written = new Map<string, number>();
  /** Our own writes and deletions (restores, the Explorer), by absolute path. */
  private readonly own = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A file saved in the editor. */
  saved(absPath: string): void {
    this.written.set(absPath, this.now());
    this.trim(this.written);
  }

  /** Paths the editor is about to write or delete itself (a restore, a delete in the Explorer). */
  wrote(absPaths: readonly string[]): void {
    const now = this.now();
    for (const p of absPaths) {
      this.written.set(p, now);
      this.own.set(p, now);
    }
    this.trim(this.written);
    this.trim(this.own);
  }

  /** The watcher reports a write we made a moment ago. */
  isEcho(absPath: string): boolean {
    const at = this.written.get(absPath);
    return at !== undefined && this.now() - at < ECHO_MS;
  }

  /**
   * Whether the editor made this change: the path or a folder above it (below `root`) was written or deleted
   * by us lately, or, for anything but a deletion, saved in the editor lately.
   */
  isOwn(root: string, absPath: string, deleted: boolean): boolean {
    const recent = (at: number | undefined) => at !== undefined && this.now() - at < OWN_CHANGE_MS;
    if (!deleted && recent(this.written.get(absPath))) return true;
    for (let p = absPath; p.length > root.length && p.startsWith(root); p = path.dirname(p)) {
      if (recent(this.own.get(p))) return true;
    }
    return false;
  }

  private trim(map: Map<string, number>): void {
    if (map.size <= TRIM_ABOVE) return;
    const now = this.now();
    for (const [p, at] of map) if (now - at > OWN_CHANGE_MS) map.delete(p);
  }
}
