// Content-defined chunking (FastCDC, normalized chunking level 2, gear hash) for large files,
// so that a local edit only changes the one or two chunks around it.
// Invariant: the chunks concatenate to the input, and every cut depends only on the bytes since the previous cut.
import { createHash } from 'node:crypto';

export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** Hex string kept in the store's config: a per-store gear table stops an adversary from predicting boundaries. */
  seed: string;
}

export const DEFAULT_CHUNKER_PARAMS: Omit<ChunkerParams, 'seed'> = Object.freeze({
  minSize: 128 * 1024,
  avgSize: 512 * 1024,
  maxSize: 2 * 1024 * 1024,
});

const HEX_SEED = /^(?:[0-9a-f]{2})+$/i;
const gearCache = new Map<string, Uint32Array>();

function seedBytes(seed: string): Buffer {
  // Buffer.from(…, 'hex') silently drops invalid input, which would give two stores the same table.
  if (!HEX_SEED.test(seed)) throw new TypeError('chunker seed must be a non-empty, even-length hex string');
  return Buffer.from(seed, 'hex');
}

/** The shared table behind every chunker of a seed; never handed out, so never mutated. */
function cachedGear(seed: string): Uint32Array {
  const key = seed.toLowerCase();
  let table = gearCache.get(key);
  if (!table) {
    const prefix = seedBytes(seed);
    const index = Buffer.alloc(4);
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      index.writeUInt32BE(i, 0);
      table[i] = createHash('sha256').update(prefix).update(index).digest().readUInt32BE(0);
    }
    gearCache.set(key, table);
  }
  return table;
}

/** The 256 gear values for a seed: entry i is the first 4 bytes (big-endian) of sha256(seedBytes || u32be(i)). */
export function gearTable(seed: string): Uint32Array {
  // A copy, so a caller writing into it cannot silently change the boundaries of every later chunker.
  return cachedGear(seed).slice();
}

/**
 * Mask over the top bits of the hash: with h = (h << 1) + gear[b], bit k only depends on the last k + 1 bytes,
 * so the high bits are the ones that see the whole 32-byte window.
 */
function topBitsMask(bits: number): number {
  return (0xffffffff << (32 - bits)) >>> 0;
}

function checkParams(params: ChunkerParams): { maskS: number; maskL: number } {
  const { minSize, avgSize, maxSize } = params;
  for (const [name, value] of [
    ['minSize', minSize],
    ['avgSize', avgSize],
    ['maxSize', maxSize],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`chunker ${name} must be a positive integer, got ${value}`);
  }
  if (!(minSize <= avgSize && avgSize <= maxSize)) {
    throw new RangeError(
      `chunker sizes must satisfy minSize <= avgSize <= maxSize, got ${minSize}/${avgSize}/${maxSize}`,
    );
  }
  const bits = Math.round(Math.log2(avgSize));
  // Level 2 normalization needs bits - 2 >= 1 and bits + 2 <= 32.
  if (bits < 3 || bits > 30) throw new RangeError(`chunker avgSize out of range: ${avgSize}`);
  // Harder to cut before avgSize, easier after: this pulls chunk sizes towards avgSize.
  return { maskS: topBitsMask(bits + 2), maskL: topBitsMask(bits - 2) };
}

/**
 * Streaming chunker: feed pieces of a file in order, get back complete chunks; finish() returns the tail.
 * Concatenating every chunk returned equals the input, byte for byte. Chunk boundaries depend only on
 * content (not on how the input was split into pushes).
 *
 * Ownership: a chunk lying wholly inside one pushed buffer is a view of it (no copy); a chunk spanning
 * several pushes is a fresh copy. The chunker never writes into any buffer, so chunks stay valid after
 * later pushes, but it keeps views of the not-yet-cut tail: do not overwrite a buffer after pushing it
 * (fs.createReadStream buffers are fine; copy first if you reuse one read buffer).
 */
export class StreamChunker {
  private readonly gear: Uint32Array;
  private readonly minSize: number;
  private readonly avgSize: number;
  private readonly maxSize: number;
  private readonly maskS: number;
  private readonly maskL: number;
  /** Views of earlier pushes that belong to the current, not yet cut, chunk. */
  private pending: Buffer[] = [];
  /** Bytes of the current chunk consumed so far; resuming from (offset, hash) is what makes cuts independent of push sizes. */
  private offset = 0;
  private hash = 0;

  constructor(params: ChunkerParams) {
    const { maskS, maskL } = checkParams(params);
    this.gear = cachedGear(params.seed);
    this.minSize = params.minSize;
    this.avgSize = params.avgSize;
    this.maxSize = params.maxSize;
    this.maskS = maskS;
    this.maskL = maskL;
  }

  push(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    const len = data.length;
    const gear = this.gear;
    const { minSize, avgSize, maxSize, maskS, maskL } = this;
    let off = this.offset;
    let h = this.hash;
    let start = 0;
    let p = 0;

    for (;;) {
      let cut = off >= maxSize;
      if (!cut) {
        if (p === len) break;
        if (off < minSize) {
          // Bytes before minSize can never end a chunk, so FastCDC does not hash them at all.
          const step = Math.min(minSize - off, len - p);
          p += step;
          off += step;
          continue;
        }
        const from = p;
        const mask = off < avgSize ? maskS : maskL;
        const stop = Math.min(len, p + ((off < avgSize ? avgSize : maxSize) - off));
        while (p < stop) {
          h = ((h << 1) + gear[data[p++]]) >>> 0;
          if ((h & mask) === 0) {
            cut = true;
            break;
          }
        }
        off += p - from;
      }
      if (cut) {
        out.push(this.takeChunk(data.subarray(start, p), off));
        start = p;
        off = 0;
        h = 0;
      }
    }

    if (start < len) this.pending.push(data.subarray(start, len));
    this.offset = off;
    this.hash = h;
    return out;
  }

  /** Returns the last chunk (if any) and resets the chunker, so it can be reused for another stream. */
  finish(): Buffer[] {
    const out = this.offset > 0 ? [this.takeChunk(undefined, this.offset)] : [];
    this.pending = [];
    this.offset = 0;
    this.hash = 0;
    return out;
  }

  private takeChunk(tail: Buffer | undefined, size: number): Buffer {
    const pending = this.pending;
    if (tail && tail.length === size) return tail;
    if (tail) pending.push(tail);
    this.pending = [];
    return pending.length === 1 ? pending[0] : Buffer.concat(pending, size);
  }
}

/** Chunks of a whole in-memory buffer; they are views of `data`. */
export function chunkBuffer(data: Buffer, params: ChunkerParams): Buffer[] {
  const chunker = new StreamChunker(params);
  const chunks = chunker.push(data);
  for (const chunk of chunker.finish()) chunks.push(chunk);
  return chunks;
}
