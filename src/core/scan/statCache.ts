// The stat cache: what each folder looked like (names and lstat signatures) at the last full scan, and the
// tree id it produced. An unchanged folder reuses its tree without reading a byte; an unchanged file is
// not read again. Invariant (git's racy-mtime rule): a file whose mtime is not clearly before the scan
// that recorded it is never trusted, because an edit in the same timestamp tick could leave size and mtime
// unchanged (RACY_MS for whole-second stamps, FINE_MARGIN_MS otherwise).
//
// Built for 100,000 files: signatures live in Float64Arrays (the loaded cache's is a view of the file, a
// recorded folder has its own), never as per-file objects or one growing JS array; a folder carried over
// unchanged points at the loaded signatures instead of copying them; folders are matched against their
// cached names by a merge walk over two sorted lists, not a map.

import type { FileSig } from './scanner';
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
  /** The array holding its signatures (SIG numbers per name)... */
  sigs: Float64Array;
  /** ...and where the first name's signature starts in it. */
  base: number;
}

type HeaderDir = [string, string, number, number, number, number, number, string[]];

interface Header {
  v: 2;
  rules: string;
  scanStart: number;
  dirs: HeaderDir[];
}

function sameSig(sigs: Float64Array | number[], at: number, stat: FileSig): boolean {
  return sigs[at] === stat.size && sigs[at + 1] === stat.mtimeMs && sigs[at + 2] === stat.ctimeMs && sigs[at + 3] === stat.ino && sigs[at + 4] === stat.mode;
}

/** Walks one cached folder's names alongside a sorted listing of the same folder. */
export class DirCursor {
  private j = 0;

  constructor(
    private readonly cache: StatCache,
    readonly dir: CachedDir | undefined,
  ) {}

  /** The signature slot of `name` in the previous cache's signatures if the file is unchanged and not racy, else -1. Call in listing order. */
  trusted(name: string, stat: FileSig): number {
    const dir = this.dir;
    if (!dir) return -1;
    const names = dir.names;
    while (this.j < names.length && names[this.j] < name) this.j++;
    if (this.j >= names.length || names[this.j] !== name) return -1;
    const at = dir.base + this.j * SIG;
    if (!sameSig(dir.sigs, at, stat)) return -1;
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

  add(name: string, stat: FileSig): void {
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
    this.cache.record(relDir, { tree, totals, count, names: this.names, sigs: Float64Array.from(this.values), base: 0 }, false);
  }
}

export class StatCache {
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
      if (bytes % 8 !== 0) return StatCache.empty(rulesFingerprint, scanStart);
      // A view of the loaded bytes when they are 8-byte aligned (a Float64Array needs it), else an aligned copy.
      let sigs: Float64Array;
      if ((data.byteOffset + sigStart) % 8 === 0) sigs = new Float64Array(data.buffer, data.byteOffset + sigStart, bytes / 8);
      else {
        sigs = new Float64Array(bytes / 8);
        Buffer.from(sigs.buffer).set(data.subarray(sigStart));
      }
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
        dirs.set(rel, { tree, count: entries, totals: { files, dirs: subdirs, symlinks, bytes: total }, names, sigs, base });
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
    this.next.set(relDir, dir);
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
    return Buffer.concat([...this.encodeParts()]);
  }

  /**
   * The saved form in pieces (header, then the signatures in header order, about a MiB a piece), for
   * Repository.saveCache to deflate as they come: the cache is never one uncompressed buffer.
   */
  *encodeParts(pieceBytes = 1 << 20): Generator<Buffer> {
    const dirs: HeaderDir[] = [];
    for (const [rel, dir] of this.next) dirs.push([rel, dir.tree, dir.count, dir.totals.files, dir.totals.dirs, dir.totals.symlinks, dir.totals.bytes, dir.names]);
    const header = Buffer.from(JSON.stringify({ v: 2, rules: this.rulesFingerprint, scanStart: this.scanStart, dirs } satisfies Header), 'utf8');
    const lead = Buffer.alloc(8);
    lead.writeUInt32LE(header.length, 0);
    yield lead;
    yield header;
    yield Buffer.alloc((8 - ((8 + header.length) % 8)) % 8);
    let piece = Buffer.alloc(pieceBytes);
    let at = 0;
    for (const dir of this.next.values()) {
      const bytes = Buffer.from(dir.sigs.buffer, dir.sigs.byteOffset + dir.base * 8, dir.names.length * SIG * 8);
      let from = 0;
      while (from < bytes.length) {
        if (at === piece.length) {
          yield piece;
          piece = Buffer.alloc(pieceBytes);
          at = 0;
        }
        const n = bytes.copy(piece, at, from);
        at += n;
        from += n;
      }
    }
    if (at > 0) yield piece.subarray(0, at);
  }
}
