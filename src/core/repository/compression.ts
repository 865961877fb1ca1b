// Compression of stored blobs. Invariant: a blob is never stored larger than its raw form: data that does
// not shrink (media, archives, random bytes) is kept raw and flagged so, and big blobs are sampled first
// so we do not spend time compressing what will not compress.

import { createDeflateRaw, deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { Limiter } from '../limiter';

const deflateRawAsync = promisify(deflateRaw);

/**
 * Level 6: with small files compressed together in bundles (see pack.ts), it stores source code about 25%
 * smaller than level 1 did file by file; the work runs on the thread pool, beside reading and hashing.
 */
const LEVEL = 6;
const SAMPLE_FROM = 64 * 1024;
const SAMPLE_SIZE = 16 * 1024;
/** Keep the compressed form only when it saves at least this share. */
const WORTH = 0.95;
/** Above this size, compress on the libuv thread pool so two cores hash and compress at once. */
const ASYNC_FROM = 16 * 1024;
/**
 * Deflates on the thread pool at once. In a shared process (the editor's extension host) one core is left
 * to the event loop: with a deflate on each of two cores the loop waited for a CPU, and a first snapshot
 * of 10,000 files held the host 20-34 ms two to seven times a run, none of it our own code (#16). That
 * costs the editor's first snapshot time on a 2-core machine; a process with no loop to keep (the CLI)
 * lifts it with `deflateOnEveryCore`.
 */
export const SHARED_PROCESS_DEFLATES = Math.max(1, availableParallelism() - 1);
let deflates: Limiter | undefined = new Limiter(SHARED_PROCESS_DEFLATES);
let inFlight = 0;

/**
 * For a process whose event loop waits on nobody (the CLI): deflate on as many threads as the pool has.
 * `false` puts the shared-process bound back.
 */
export function deflateOnEveryCore(on = true): void {
  deflates = on ? undefined : new Limiter(SHARED_PROCESS_DEFLATES);
}

/** Deflates running on the thread pool now (what the bound above limits). */
export function deflatesInFlight(): number {
  return inFlight;
}

async function deflateOnPool(raw: Buffer): Promise<Buffer> {
  inFlight++;
  try {
    return await deflateRawAsync(raw, { level: LEVEL });
  } finally {
    inFlight--;
  }
}

export interface Packed {
  data: Buffer;
  compressed: boolean;
}

function worthIt(raw: number, packed: number): boolean {
  return packed < raw * WORTH;
}

export async function compress(raw: Buffer): Promise<Packed> {
  if (raw.length < 64) return { data: raw, compressed: false };
  if (raw.length >= SAMPLE_FROM) {
    const sample = raw.subarray(0, SAMPLE_SIZE);
    if (!worthIt(sample.length, deflateRawSync(sample, { level: 1 }).length)) return { data: raw, compressed: false };
  }
  const packed =
    raw.length >= ASYNC_FROM
      ? await (deflates ? deflates.run(() => deflateOnPool(raw)) : deflateOnPool(raw))
      : deflateRawSync(raw, { level: LEVEL });
  return worthIt(raw.length, packed.length) ? { data: packed, compressed: true } : { data: raw, compressed: false };
}

/**
 * `rawLength`: the plaintext's length, or at most that for a bundle. The output goes into one buffer of that
 * size (plus one byte, so an exact fit ends without another), not a list of 16 KiB pieces joined at the
 * end: a restore or verify decompresses thousands of units, and every extra buffer is memory to collect.
 */
export function decompress(data: Buffer, compressed: boolean, rawLength: number): Buffer {
  if (!compressed) return data;
  return inflateRawSync(data, { maxOutputLength: Math.max(rawLength, 1), chunkSize: Math.max(rawLength + 1, 64) });
}

/**
 * Raw-deflates the concatenation of `pieces` as one stream, handing the output to `sink` as it comes (after
 * each piece): for large structures written at the end of a snapshot (the index, the stat cache), which
 * need never exist whole, uncompressed or compressed. Inflates to exactly the concatenated pieces. Each
 * piece is consumed before the next is asked for, so a producer may refill one buffer.
 */
export async function deflateInto(
  pieces: Iterable<Buffer>,
  level: number,
  sink: (chunks: Buffer[]) => Promise<void>,
): Promise<void> {
  const z = createDeflateRaw({ level, chunkSize: 256 * 1024 });
  let out: Buffer[] = [];
  z.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  done.catch(() => undefined);
  const flush = async () => {
    if (out.length === 0) return;
    const chunks = out;
    out = [];
    await sink(chunks);
  };
  for (const piece of pieces) {
    await Promise.race([
      new Promise<void>((resolve, reject) => z.write(piece, (error) => (error ? reject(error) : resolve()))),
      done,
    ]);
    await flush();
  }
  z.end();
  await done;
  await flush();
}

/** deflateInto, keeping the output (small structures, or a backend that cannot take a stream). */
export async function deflatePieces(pieces: Iterable<Buffer>, level: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await deflateInto(pieces, level, async (chunks) => {
    out.push(...chunks);
  });
  return out;
}
