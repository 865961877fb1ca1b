// The stat cache: what each folder looked like (names and lstat signatures) at the last full scan, and the
// tree id it produced. An unchanged folder reuses its tree without reading a byte; an unchanged file is
// not read again. Invariant (git's racy-mtime rule): a file whose mtime is not clearly before the scan
// that recorded it is never trusted, because an edit in the same timestamp tick could leave size and mtime
// unchanged (RACY_MS for whole-second stamps, FINE_MARGIN_MS otherwise).
//
// Built for 200,000 files: the loaded cache stays the bytes it was read as (signatures viewed as a
// Float64Array, names as UTF-8), never per-file objects or strings; a folder's names become strings only
// while its listing is matched against them, by a merge walk over two sorted lists. The next cache is
// written as the scan goes (see streamWhenDirty): a first snapshot of 200,000 files held 12 MB of it.
//
// Layout (v3): the body, one record per folder (its signatures, SIG doubles a name; then its names, u16
// byte length and UTF-8 bytes each; padded to 8 bytes), then the header (JSON: rules, scan start, one row
// per folder in body order), then u32 header length and "PBC3". Version 2 (header first, names in it as
// JSON) is still read, and written again as v3.

import type { FileSig } from './scanner';
import { ID_PATTERN } from '../repository/codec';
import { yieldIfBusy } from '../eventLoop';

export const RACY_MS = 2000;
/** Allowance for clock differences between this process and the file system on fine-grained stamps. */
export const FINE_MARGIN_MS = 20;
const SIG = 5; // size, mtimeMs, ctimeMs, ino, mode
const MAGIC = Buffer.from('PBC3', 'ascii');
/** Bytes gathered before they go to the sink (the deflate stream): a few dozen writes, not one a folder. */
const BATCH = 256 * 1024;

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
  for (let at = 0; at < data.length;) {
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

const pad8 = (n: number) => (8 - (n % 8)) % 8;

function sameSig(sigs: Float64Array | number[], at: number, stat: FileSig): boolean {
  return (
    sigs[at] === stat.size &&
    sigs[at + 1] === stat.mtimeMs &&
    sigs[at + 2] === stat.ctimeMs &&
    sigs[at + 3] === stat.ino &&
    sigs[at + 4] === stat.mode
  );
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
    const sigs = Float64Array.from(this.values);
    this.cache.record(
      relDir,
      { tree, totals, count, nameCount: this.names.length, nameData: encodeNames(this.names), sigs, base: 0 },
      false,
    );
  }
}

/** A folder of the next cache: its header row and, until they are written, its record's bytes. */
interface NextDir {
  row: HeaderDir;
  /** The record's parts (views of the loaded cache for a folder carried over); dropped once written. */
  parts?: Buffer[];
}

export class StatCache {
  private readonly next: NextDir[] = [];
  private changed = false;
  private sink: ((piece: Buffer) => void) | undefined;
  private openSink: (() => (piece: Buffer) => void) | undefined;
  private batch = Buffer.alloc(0);
  private batchUsed = 0;

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
    const steps = StatCache.decodeSteps(data, rulesFingerprint, scanStart);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
    }
  }

  /**
   * decode with turns of the event loop between folders: at 200,000 files the cache of a full scan held the
   * editor's host 137 ms in one block (#16).
   */
  static async decodeAsync(data: Buffer | undefined, rulesFingerprint: string, scanStart: number): Promise<StatCache> {
    const steps = StatCache.decodeSteps(data, rulesFingerprint, scanStart);
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      const turn = yieldIfBusy();
      if (turn) await turn;
    }
  }

  /** decode's work, yielding every 256 folders. */
  private static *decodeSteps(
    data: Buffer | undefined,
    rulesFingerprint: string,
    scanStart: number,
  ): Generator<void, StatCache> {
    const none = () => StatCache.empty(rulesFingerprint, scanStart);
    if (!data || data.length < 8) return none();
    try {
      const v3 = data.subarray(data.length - 4).equals(MAGIC);
      const headerLength = v3 ? data.readUInt32LE(data.length - 8) : data.readUInt32LE(0);
      const headerStart = v3 ? data.length - 8 - headerLength : 8;
      if (headerStart < 0) return none();
      const header = JSON.parse(data.toString('utf8', headerStart, headerStart + headerLength)) as {
        v?: unknown;
        rules?: unknown;
        scanStart?: unknown;
        dirs?: unknown;
      };
      if (header.v !== (v3 ? 3 : 2) || header.rules !== rulesFingerprint || !Array.isArray(header.dirs)) return none();
      if (typeof header.scanStart !== 'number' || !Number.isFinite(header.scanStart)) return none();
      const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
      // The rows first, checked: a cache is trusted to skip reading files, so anything malformed means no cache.
      const rows: Array<{ rel: string; dir: Omit<CachedDir, 'sigs' | 'base' | 'nameData'>; names: string[] | number }> =
        [];
      let total = 0;
      let bodyBytes = 0;
      let seen = 0;
      for (const row of header.dirs as unknown[]) {
        if ((++seen & 255) === 0) yield;
        if (!Array.isArray(row) || row.length !== (v3 ? 9 : 8)) return none();
        const [rel, tree, entries, files, subdirs, symlinks, bytes, a, b] = row as unknown[];
        if (
          typeof rel !== 'string' ||
          typeof tree !== 'string' ||
          !ID_PATTERN.test(tree) ||
          ![entries, files, subdirs, symlinks, bytes].every(count)
        )
          return none();
        let names: string[] | number;
        let nameCount: number;
        if (v3) {
          if (!count(a) || !count(b)) return none();
          nameCount = a;
          names = b;
          bodyBytes += a * SIG * 8 + b + pad8(b);
        } else {
          if (!Array.isArray(a) || !a.every((n) => typeof n === 'string')) return none();
          nameCount = a.length;
          names = a as string[];
        }
        const totals = {
          files: files as number,
          dirs: subdirs as number,
          symlinks: symlinks as number,
          bytes: bytes as number,
        };
        rows.push({ rel, dir: { tree, count: entries as number, totals, nameCount }, names });
        total += nameCount;
      }
      const dirs = new Map<string, CachedDir>();
      if (!v3) {
        // v2: every folder's signatures after the header, in header order; the names were in the header.
        const sigStart = 8 + headerLength + pad8(8 + headerLength);
        if (sigStart + total * SIG * 8 !== data.length) return none();
        const sigs = float64View(data, sigStart, total * SIG);
        let base = 0;
        for (const { rel, dir, names } of rows) {
          dirs.set(rel, { ...dir, nameData: encodeNames(names as string[]), sigs, base });
          base += dir.nameCount * SIG;
        }
        const cache = new StatCache(dirs, sigs, header.scanStart, rulesFingerprint, scanStart);
        cache.changed = true; // written again as v3 even when nothing changed
        return cache;
      }
      if (bodyBytes !== headerStart) return none();
      // One view of the body's bytes as doubles (records are 8-byte aligned), so each folder's are a range of it.
      const body = float64View(data, 0, headerStart / 8);
      let at = 0;
      for (const { rel, dir, names } of rows) {
        if ((++seen & 255) === 0) yield;
        const nameBytes = names as number;
        const nameAt = at + dir.nameCount * SIG * 8;
        const nameData = data.subarray(nameAt, nameAt + nameBytes);
        if (!wellFormedNames(nameData, dir.nameCount)) return none();
        dirs.set(rel, { ...dir, nameData, sigs: body, base: at / 8 });
        at = nameAt + nameBytes + pad8(nameBytes);
      }
      return new StatCache(dirs, body, header.scanStart, rulesFingerprint, scanStart);
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

  /**
   * Writes the next cache as the scan goes, once there is anything to write: at the first folder that
   * changed, `open` is called for a sink (a deflate stream into the store) and everything recorded so far,
   * then each folder as it is recorded, goes to it in pieces; `finishStream` adds the header. Without it,
   * the next cache is held until `encodeParts`.
   */
  streamWhenDirty(open: () => (piece: Buffer) => void): void {
    this.openSink = open;
  }

  /** Whether the next cache is being written to a sink (see streamWhenDirty). */
  get streaming(): boolean {
    return this.sink !== undefined;
  }

  /** Carries a whole unchanged folder over to the next cache. */
  reuse(relDir: string, dir: CachedDir): void {
    this.record(relDir, dir, true);
  }

  record(relDir: string, dir: CachedDir, reused: boolean): void {
    const sigBytes = Buffer.from(dir.sigs.buffer, dir.sigs.byteOffset + dir.base * 8, dir.nameCount * SIG * 8);
    const parts = [sigBytes, dir.nameData, PADDING.subarray(0, pad8(dir.nameData.length))];
    this.next.push({
      row: [
        relDir,
        dir.tree,
        dir.count,
        dir.totals.files,
        dir.totals.dirs,
        dir.totals.symlinks,
        dir.totals.bytes,
        dir.nameCount,
        dir.nameData.length,
      ],
      parts,
    });
    if (!reused) this.changed = true;
    if (!this.sink && this.changed && this.openSink) {
      this.sink = this.openSink();
      for (const held of this.next) this.write(held);
      return;
    }
    if (this.sink) this.write(this.next[this.next.length - 1]);
  }

  private write(dir: NextDir): void {
    for (const part of dir.parts ?? []) this.put(part);
    dir.parts = undefined;
  }

  private put(bytes: Buffer): void {
    let from = 0;
    while (from < bytes.length) {
      if (this.batchUsed === this.batch.length) {
        if (this.batchUsed > 0) this.sink!(this.batch);
        this.batch = Buffer.alloc(BATCH);
        this.batchUsed = 0;
      }
      const n = bytes.copy(this.batch, this.batchUsed, from);
      this.batchUsed += n;
      from += n;
    }
  }

  /** Whether the scan produced anything the saved cache does not already say. */
  get dirty(): boolean {
    return this.changed || this.next.length !== this.previous.size;
  }

  /** Ends a streamed cache: what is gathered, then the header and the trailer, go to the sink. */
  finishStream(): void {
    if (!this.sink) throw new Error('The stat cache is not being streamed.');
    for (const part of this.tail()) this.put(part);
    if (this.batchUsed > 0) this.sink(this.batch.subarray(0, this.batchUsed));
    this.batch = Buffer.alloc(0);
    this.batchUsed = 0;
  }

  private tail(): Buffer[] {
    const header = Buffer.from(
      JSON.stringify({
        v: 3,
        rules: this.rulesFingerprint,
        scanStart: this.scanStart,
        dirs: this.next.map((d) => d.row),
      } satisfies Header),
      'utf8',
    );
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(header.length, 0);
    MAGIC.copy(trailer, 4);
    return [header, trailer];
  }

  encode(): Buffer {
    return Buffer.concat([...this.encodeParts()]);
  }

  /** The whole next cache in pieces, when it was not streamed (for Repository.saveCache). */
  *encodeParts(): Generator<Buffer> {
    if (this.sink) throw new Error('The stat cache was streamed.');
    for (const dir of this.next) yield* dir.parts ?? [];
    yield* this.tail();
  }
}

const PADDING = Buffer.alloc(8);

/** `count` doubles at `byteOffset` of `data` as a Float64Array: a view when aligned, else an aligned copy. */
function float64View(data: Buffer, byteOffset: number, count: number): Float64Array {
  if ((data.byteOffset + byteOffset) % 8 === 0)
    return new Float64Array(data.buffer, data.byteOffset + byteOffset, count);
  const copy = new Float64Array(count);
  Buffer.from(copy.buffer).set(data.subarray(byteOffset, byteOffset + count * 8));
  return copy;
}
