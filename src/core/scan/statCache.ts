// The stat cache: what each folder looked like (names and lstat signatures) at the last full scan, and the
// tree id it produced. An unchanged folder reuses its tree without reading a byte; an unchanged file is
// not read again. Invariant (git's racy-mtime rule): a file whose mtime is within RACY_MS of the scan
// that recorded it is never trusted, because a same-second edit could leave size and mtime unchanged.

import type { Stats } from 'node:fs';

export const RACY_MS = 2000;

/** [size, mtimeMs, ctimeMs, ino, mode] */
export type Signature = [number, number, number, number, number];

export interface SubtreeTotals {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export interface CachedDir {
  tree: string;
  totals: SubtreeTotals;
  /** Signatures of files and symlinks by name. */
  sigs: Map<string, Signature>;
  /** How many entries (of any kind) the folder had. */
  count: number;
}

export function signatureOf(stat: Stats): Signature {
  return [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.mode];
}

interface Encoded {
  v: 1;
  rules: string;
  scanStart: number;
  dirs: Array<[string, string, number, number, number, number, number, Array<[string, ...Signature]>]>;
}

export class StatCache {
  /** What the next save will hold: filled in by the scan that is under way. */
  private readonly next = new Map<string, CachedDir>();
  private changed = false;

  constructor(
    private readonly previous: Map<string, CachedDir>,
    private readonly previousScanStart: number,
    readonly rulesFingerprint: string,
    readonly scanStart: number,
  ) {}

  static empty(rulesFingerprint: string, scanStart: number): StatCache {
    return new StatCache(new Map(), 0, rulesFingerprint, scanStart);
  }

  /** Decodes a saved cache; anything unexpected (or other rules) yields an empty cache, never an error. */
  static decode(data: Buffer | undefined, rulesFingerprint: string, scanStart: number): StatCache {
    if (!data) return StatCache.empty(rulesFingerprint, scanStart);
    try {
      const parsed = JSON.parse(data.toString('utf8')) as Encoded;
      if (parsed.v !== 1 || parsed.rules !== rulesFingerprint || !Array.isArray(parsed.dirs)) return StatCache.empty(rulesFingerprint, scanStart);
      const dirs = new Map<string, CachedDir>();
      for (const [rel, tree, count, files, subdirs, symlinks, bytes, entries] of parsed.dirs) {
        const sigs = new Map<string, Signature>();
        for (const [name, ...sig] of entries) sigs.set(name, sig as Signature);
        dirs.set(rel, { tree, count, totals: { files, dirs: subdirs, symlinks, bytes }, sigs });
      }
      return new StatCache(dirs, parsed.scanStart, rulesFingerprint, scanStart);
    } catch {
      return StatCache.empty(rulesFingerprint, scanStart);
    }
  }

  previousDir(relDir: string): CachedDir | undefined {
    return this.previous.get(relDir);
  }

  /** Whether a file or symlink can be taken as unchanged since the cached scan. */
  trusted(cached: CachedDir | undefined, name: string, stat: Stats): boolean {
    const sig = cached?.sigs.get(name);
    if (!sig) return false;
    if (sig[0] !== stat.size || sig[1] !== stat.mtimeMs || sig[2] !== stat.ctimeMs || sig[3] !== stat.ino || sig[4] !== stat.mode) return false;
    return stat.mtimeMs < this.previousScanStart - RACY_MS;
  }

  record(relDir: string, dir: CachedDir, reused: boolean): void {
    this.next.set(relDir, dir);
    if (!reused) this.changed = true;
  }

  /** Whether the scan produced anything the saved cache does not already say. */
  get dirty(): boolean {
    return this.changed || this.next.size !== this.previous.size;
  }

  encode(): Buffer {
    const dirs: Encoded['dirs'] = [];
    for (const [rel, dir] of this.next) {
      const entries: Array<[string, ...Signature]> = [];
      for (const [name, sig] of dir.sigs) entries.push([name, ...sig]);
      dirs.push([rel, dir.tree, dir.count, dir.totals.files, dir.totals.dirs, dir.totals.symlinks, dir.totals.bytes, entries]);
    }
    const encoded: Encoded = { v: 1, rules: this.rulesFingerprint, scanStart: this.scanStart, dirs };
    return Buffer.from(JSON.stringify(encoded), 'utf8');
  }
}
