// The stat cache: what each folder looked like (names and lstat signatures) at the last full scan, and the
// tree id it produced. An unchanged folder reuses its tree without reading a byte; an unchanged file is
// not read again. Invariant (git's racy-mtime rule): a file whose mtime is not clearly before the scan
// that recorded it is never trusted, because an edit in the same timestamp tick could leave size and mtime
// unchanged (RACY_MS for whole-second stamps, FINE_MARGIN_MS otherwise).
//
// Built for 100,000 files: signatures live in one Float64Array (a view of the file, no per-file objects),
// and folders are matched against their cached names by a merge walk over two sorted lists, not a map.

import type { Stats } from 'node:fs';
import { ID_PATTERN } from '../repository/codec';

export const RACY_MS = 2000;
/** Allowance for clock differences between this process and the file system on fine-grained stamps. */
export const FINE_MARGIN_MS = 20;
const SIG = 5; // size, mtimeMs, ctimeMs, ino, mode

export interface SubtreeTotals {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

export interface CachedDir {
  tree: string;
  totals: SubtreeTotals;
  /** How many entries (of any kind) the folder had. */
  count: number;
  /** Names of its files and symlinks, in listing order (sorted). */
  names: string[];
  /** Where the first name's signature starts in the cache's signature array. */
  base: number;
}

type HeaderDir = [string, string, number, number, number, number, number, string[]];

interface Header {
  v: 2;
  rules: string;
  scanStart: number;
  dirs: HeaderDir[];
}

function sameSig(sigs: Float64Array | number[], at: number, stat: Stats): boolean {
  return sigs[at] === stat.size && sigs[at + 1] === stat.mtimeMs && sigs[at + 2] === stat.ctimeMs && sigs[at + 3] === stat.ino && sigs[at + 4] === stat.mode;
}

/** Walks one cached folder's names alongside a sorted listing of the same folder. */
export class DirCursor {
  private j = 0;

  constructor(
    private readonly cache: StatCache,
    readonly dir: CachedDir | undefined,
  ) {}

  /** The signature slot of `name` in the previous cache if the file is unchanged and not racy, else -1. Call in listing order. */
  trusted(name: string, stat: Stats): number {
    const dir = this.dir;
    if (!dir) return -1;
    const names = dir.names;
    while (this.j < names.length && names[this.j] < name) this.j++;
    if (this.j >= names.length || names[this.j] !== name) return -1;
    const at = dir.base + this.j * SIG;
    if (!sameSig(this.cache.previousSigs, at, stat)) return -1;
    // A file written after the recording scan started has a later mtime on any file system with fine
    // timestamps; only whole-second stamps (ext3, HFS+, FAT's two seconds) need the wide margin.
    const margin = stat.mtimeMs % 1000 === 0 ? RACY_MS : FINE_MARGIN_MS;
    return stat.mtimeMs < this.cache.previousScanStart - margin ? at : -1;
  }
}

/** Collects one folder's signatures for the next cache, in listing order; written out at `finish`. */
export class DirRecorder {
  readonly names: string[] = [];
  private readonly values: number[] = [];

  constructor(private readonly cache: StatCache) {}

  add(name: string, stat: Stats): void {
    this.names.push(name);
    this.values.push(stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, stat.mode);
  }

  /** Carries over a trusted signature without touching the file again. */
  addTrusted(name: string, slot: number): void {
    this.names.push(name);
    const sigs = this.cache.previousSigs;
    this.values.push(sigs[slot], sigs[slot + 1], sigs[slot + 2], sigs[slot + 3], sigs[slot + 4]);
  }

  finish(relDir: string, tree: string, totals: SubtreeTotals, count: number): void {
    const base = this.cache.nextSigs.length;
    for (const value of this.values) this.cache.nextSigs.push(value);
    this.cache.record(relDir, { tree, totals, count, names: this.names, base }, false);
  }
}

export class StatCache {
  readonly nextSigs: number[] = [];
  private readonly next = new Map<string, CachedDir>();
  private changed = false;

  constructor(
    private readonly previous: Map<string, CachedDir>,
    readonly previousSigs: Float64Array,
    readonly previousScanStart: number,
    readonly rulesFingerprint: string,
    readonly scanStart: number,
  ) {}

  static empty(rulesFingerprint: string, scanStart: number): StatCache {
    return new StatCache(new Map(), new Float64Array(0), 0, rulesFingerprint, scanStart);
  }

  /** Decodes a saved cache; anything unexpected (or other rules) yields an empty cache, never an error. */
  static decode(data: Buffer | undefined, rulesFingerprint: string, scanStart: number): StatCache {
    if (!data || data.length < 8) return StatCache.empty(rulesFingerprint, scanStart);
    try {
      const headerLength = data.readUInt32LE(0);
      const header = JSON.parse(data.toString('utf8', 8, 8 + headerLength)) as Header;
      if (header.v !== 2 || header.rules !== rulesFingerprint || !Array.isArray(header.dirs)) return StatCache.empty(rulesFingerprint, scanStart);
      let sigStart = 8 + headerLength;
      sigStart += (8 - (sigStart % 8)) % 8;
      const bytes = data.length - sigStart;
      // Copy into an aligned buffer: a Float64Array view needs 8-byte alignment of the underlying memory.
      const sigs = new Float64Array(bytes / 8);
      Buffer.from(sigs.buffer).set(data.subarray(sigStart));
      const dirs = new Map<string, CachedDir>();
      let base = 0;
      const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
      for (const dir of header.dirs) {
        // A cache is trusted to skip reading files: anything malformed means no cache, never a crash.
        if (!Array.isArray(dir) || dir.length !== 8) return StatCache.empty(rulesFingerprint, scanStart);
        const [rel, tree, entries, files, subdirs, symlinks, total, names] = dir;
        if (typeof rel !== 'string' || typeof tree !== 'string' || !ID_PATTERN.test(tree) || ![entries, files, subdirs, symlinks, total].every(count)) {
          return StatCache.empty(rulesFingerprint, scanStart);
        }
        if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) return StatCache.empty(rulesFingerprint, scanStart);
        dirs.set(rel, { tree, count: entries, totals: { files, dirs: subdirs, symlinks, bytes: total }, names, base });
        base += names.length * SIG;
      }
      if (typeof header.scanStart !== 'number' || !Number.isFinite(header.scanStart)) return StatCache.empty(rulesFingerprint, scanStart);
      if (base !== sigs.length) return StatCache.empty(rulesFingerprint, scanStart);
      return new StatCache(dirs, sigs, header.scanStart, rulesFingerprint, scanStart);
    } catch {
      return StatCache.empty(rulesFingerprint, scanStart);
    }
  }

  previousDir(relDir: string): CachedDir | undefined {
    return this.previous.get(relDir);
  }

  cursor(relDir: string): DirCursor {
    return new DirCursor(this, this.previous.get(relDir));
  }

  recorder(): DirRecorder {
    return new DirRecorder(this);
  }

  /** Carries a whole unchanged folder over to the next cache. */
  reuse(relDir: string, dir: CachedDir): void {
    const base = this.nextSigs.length;
    const end = dir.base + dir.names.length * SIG;
    for (let i = dir.base; i < end; i++) this.nextSigs.push(this.previousSigs[i]);
    this.next.set(relDir, { ...dir, base });
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
    const dirs: HeaderDir[] = [];
    const sigs = new Float64Array(this.nextSigs.length);
    let at = 0;
    for (const [rel, dir] of this.next) {
      dirs.push([rel, dir.tree, dir.count, dir.totals.files, dir.totals.dirs, dir.totals.symlinks, dir.totals.bytes, dir.names]);
      for (let i = 0; i < dir.names.length * SIG; i++) sigs[at++] = this.nextSigs[dir.base + i];
    }
    const header = Buffer.from(JSON.stringify({ v: 2, rules: this.rulesFingerprint, scanStart: this.scanStart, dirs } satisfies Header), 'utf8');
    const lead = Buffer.alloc(8);
    lead.writeUInt32LE(header.length, 0);
    const pad = Buffer.alloc((8 - ((8 + header.length) % 8)) % 8);
    return Buffer.concat([lead, header, pad, Buffer.from(sigs.buffer, 0, at * 8)]);
  }
}
