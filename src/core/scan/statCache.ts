// The stat cache: what each folder looked like (names and lstat signatures) at the last full scan, and the
// tree id it produced. An unchanged folder reuses its tree without reading a byte; an unchanged file is
// not read again. Invariant (git's racy-mtime rule): a file whose mtime is not clearly before the scan
// that recorded it is never trusted, because an edit in the same timestamp tick could leave size and mtime
// unchanged (RACY_MS for whole-second stamps, FINE_MARGIN_MS otherwise).
//
// Built for 200,000 files: signatures live in Float64Arrays and names in UTF-8 bytes (the loaded cache's
// are views of the file, a recorded folder has its own), never as per-file objects, strings or one growing
// JS array; a folder carried over unchanged points at the loaded bytes instead of copying them; a folder's
// names become strings only while its listing is matched against them, by a merge walk over two sorted lists.
//
// Layout (v3): u32 header length, u32 0, the header (JSON: rules, scan start, one row per folder), padding
// to 8 bytes, every folder's signatures (SIG doubles a name, in header order), then every folder's names
// (u16 byte length and UTF-8 bytes each). Version 2 kept the names in the header as JSON; it is still read.

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
  /** How many files and symlinks it had (the names and signatures below)... */
  nameCount: number;
  /** ...and their names in listing order (sorted), as u16 byte length + UTF-8 each: see namesOf. */
  nameData: Buffer;
  /** The array holding its signatures (SIG numbers per name)... */
  sigs: Float64Array;
  /** ...and where the first name's signature starts in it. */
  base: number;
}

/** rel, tree, entries, files, dirs, symlinks, bytes, name count, name bytes (v2: the names themselves last). */
type HeaderDir = [string, string, number, number, number, number, number, number, number];

interface Header {
  v: 3;
  rules: string;
  scanStart: number;
  dirs: HeaderDir[];
}

/** A folder's names as strings, in listing order. */
export function namesOf(dir: CachedDir): string[] {
  const names: string[] = [];
  const data = dir.nameData;
  for (let at = 0; at < data.length; ) {
    const length = data.readUInt16LE(at);
    names.push(data.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  return names;
}

/** Names in the stored form (see CachedDir.nameData). */
export function encodeNames(names: readonly string[]): Buffer {
  let size = 0;
  for (const name of names) size += 2 + Buffer.byteLength(name, 'utf8');
  const out = Buffer.alloc(size);
  let at = 0;
  for (const name of names) {
    const length = out.write(name, at + 2, 'utf8');
    out.writeUInt16LE(length, at);
    at += 2 + length;
  }
  return out;
}

/** Whether `data` is exactly `count` length-prefixed names (a damaged cache must decode to nothing, not to garbage). */
function wellFormedNames(data: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 2 > data.length) return false;
    at += 2 + data.readUInt16LE(at);
  }
  return at === data.length;
}

function sameSig(sigs: Float64Array | number[], at: number, stat: FileSig): boolean {
  return sigs[at] === stat.size && sigs[at + 1] === stat.mtimeMs && sigs[at + 2] === stat.ctimeMs && sigs[at + 3] === stat.ino && sigs[at + 4] === stat.mode;
}

/** Walks one cached folder's names alongside a sorted listing of the same folder. */
export class DirCursor {
  private j = 0;
  private names: string[] | undefined;

  constructor(
    private readonly cache: StatCache,
    readonly dir: CachedDir | undefined,
  ) {}

  /** The signature slot of `name` in the previous cache's signatures if the file is unchanged and not racy, else -1. Call in listing order. */
  trusted(name: string, stat: FileSig): number {
    const dir = this.dir;
    if (!dir) return -1;
    // Made strings once per folder, for this walk only (young garbage, not a string per file kept for the scan).
    const names = (this.names ??= namesOf(dir));
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
    this.cache.record(relDir, { tree, totals, count, nameCount: this.names.length, nameData: encodeNames(this.names), sigs: Float64Array.from(this.values), base: 0 }, false);
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
    const none = () => StatCache.empty(rulesFingerprint, scanStart);
    if (!data || data.length < 8) return none();
    try {
      const headerLength = data.readUInt32LE(0);
      const header = JSON.parse(data.toString('utf8', 8, 8 + headerLength)) as { v?: unknown; rules?: unknown; scanStart?: unknown; dirs?: unknown };
      if ((header.v !== 2 && header.v !== 3) || header.rules !== rulesFingerprint || !Array.isArray(header.dirs)) return none();
      if (typeof header.scanStart !== 'number' || !Number.isFinite(header.scanStart)) return none();
      const sigStart = 8 + headerLength + ((8 - ((8 + headerLength) % 8)) % 8);
      const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
      // First the rows, checked: a cache is trusted to skip reading files, so anything malformed means no cache.
      const rows: Array<{ rel: string; dir: Omit<CachedDir, 'sigs' | 'base' | 'nameData'>; names: string[] | number }> = [];
      let total = 0;
      for (const row of header.dirs as unknown[]) {
        if (!Array.isArray(row) || row.length !== (header.v === 2 ? 8 : 9)) return none();
        const [rel, tree, entries, files, subdirs, symlinks, bytes, a, b] = row as unknown[];
        if (typeof rel !== 'string' || typeof tree !== 'string' || !ID_PATTERN.test(tree) || ![entries, files, subdirs, symlinks, bytes].every(count)) return none();
        let nameCount: number;
        let names: string[] | number;
        if (header.v === 2) {
          if (!Array.isArray(a) || !a.every((n) => typeof n === 'string')) return none();
          nameCount = a.length;
          names = a as string[];
        } else {
          if (!count(a) || !count(b)) return none();
          nameCount = a;
          names = b;
        }
        const totals = { files: files as number, dirs: subdirs as number, symlinks: symlinks as number, bytes: bytes as number };
        rows.push({ rel, dir: { tree, count: entries as number, totals, nameCount }, names });
        total += nameCount;
      }
      const sigEnd = sigStart + total * SIG * 8;
      if (sigEnd > data.length || (header.v === 2 && sigEnd !== data.length)) return none();
      // A view of the loaded bytes when they are 8-byte aligned (a Float64Array needs it), else an aligned copy.
      let sigs: Float64Array;
      if ((data.byteOffset + sigStart) % 8 === 0) sigs = new Float64Array(data.buffer, data.byteOffset + sigStart, total * SIG);
      else {
        sigs = new Float64Array(total * SIG);
        Buffer.from(sigs.buffer).set(data.subarray(sigStart, sigEnd));
      }
      const dirs = new Map<string, CachedDir>();
      let base = 0;
      let nameAt = sigEnd;
      for (const { rel, dir, names } of rows) {
        let nameData: Buffer;
        if (typeof names === 'number') {
          nameData = data.subarray(nameAt, nameAt + names);
          nameAt += names;
          if (nameData.length !== names || !wellFormedNames(nameData, dir.nameCount)) return none();
        } else {
          nameData = encodeNames(names);
        }
        dirs.set(rel, { ...dir, nameData, sigs, base });
        base += dir.nameCount * SIG;
      }
      if (header.v === 3 && nameAt !== data.length) return none();
      const cache = new StatCache(dirs, sigs, header.scanStart, rulesFingerprint, scanStart);
      // An older layout is written again in the current one even when nothing changed.
      if (header.v === 2) cache.changed = true;
      return cache;
    } catch {
      return none();
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
   * The saved form in pieces (header, then the signatures and the names in header order, about a MiB a
   * piece), for Repository.saveCache to deflate as they come: the cache is never one uncompressed buffer.
   * With `reuse` the pieces after the header are one buffer refilled (see MemoryIndex.rawPieces).
   */
  *encodeParts(pieceBytes = 1 << 20, reuse = false): Generator<Buffer> {
    const dirs: HeaderDir[] = [];
    for (const [rel, dir] of this.next) dirs.push([rel, dir.tree, dir.count, dir.totals.files, dir.totals.dirs, dir.totals.symlinks, dir.totals.bytes, dir.nameCount, dir.nameData.length]);
    const header = Buffer.from(JSON.stringify({ v: 3, rules: this.rulesFingerprint, scanStart: this.scanStart, dirs } satisfies Header), 'utf8');
    const lead = Buffer.alloc(8);
    lead.writeUInt32LE(header.length, 0);
    yield lead;
    yield header;
    yield Buffer.alloc((8 - ((8 + header.length) % 8)) % 8);
    let piece = Buffer.alloc(pieceBytes);
    let at = 0;
    const put = function* (bytes: Buffer): Generator<Buffer> {
      let from = 0;
      while (from < bytes.length) {
        if (at === piece.length) {
          yield piece;
          if (!reuse) piece = Buffer.alloc(pieceBytes);
          at = 0;
        }
        const n = bytes.copy(piece, at, from);
        at += n;
        from += n;
      }
    };
    for (const dir of this.next.values()) yield* put(Buffer.from(dir.sigs.buffer, dir.sigs.byteOffset + dir.base * 8, dir.nameCount * SIG * 8));
    for (const dir of this.next.values()) yield* put(dir.nameData);
    if (at > 0) yield piece.subarray(0, at);
  }
}
