// Stored values that are never whole in memory: an index file read and inflated in pieces straight into
// the in-memory index, and values (index files, stat caches) deflated and written as they are made. A
// plain store on a backend that takes streams gets them piece by piece; an encrypted one is sealed whole
// (its codec seals one buffer), and a backend without streams gets the parts at once. (#11.14)

import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createDeflateRaw } from 'node:zlib';
import type { Backend, KeyKind } from '../storage/backend';
import type { ObjectCodec } from './codec';
import { deflateInto, deflatePieces } from './compression';
import { openIndex, openIndexAsync, walkIndexPieces } from './indexFile';
import type { MemoryIndex } from './memoryIndex';

/** Index files are read in pieces of this size. */
const INDEX_PIECE = 1024 * 1024;

/** An index file this big or bigger is inflated on the thread pool; smaller ones (on-save) at once. */
const INFLATE_ON_POOL_FROM = 64 * 1024;

/** Unseals and inflates a whole index file, on the thread pool when it is big enough to hold the loop. */
function opened(sealed: Buffer, codec: ObjectCodec, what: string): Promise<Buffer> | Buffer {
  return sealed.length >= INFLATE_ON_POOL_FROM ? openIndexAsync(sealed, codec, what) : openIndex(sealed, codec, what);
}

/**
 * Adds one index file to the index. A plain store's large file is read, inflated and added piece by
 * piece, so opening a store of 200,000 blobs never holds its index file whole (8 MB deflated, 10 MB
 * inflated) beside the index itself. Throws OBJECT_MISSING, or OBJECT_DAMAGED after adding part of it.
 */
export async function addIndexFile(
  backend: Backend,
  codec: ObjectCodec,
  index: MemoryIndex,
  key: string,
  what: string,
): Promise<void> {
  if (codec.encrypted || !backend.loadPieces) {
    await index.addIndexFileInTurns(await opened(await backend.load(key), codec, what), what);
    return;
  }
  const pieces = backend.loadPieces(key, INDEX_PIECE)[Symbol.asyncIterator]();
  const first = await pieces.next();
  const firstPiece = first.done ? Buffer.alloc(0) : first.value;
  if (firstPiece.length < INDEX_PIECE) {
    // The whole file in one piece (the many small files of on-save snapshots): no stream needed. The
    // reader is ended first, so its file is closed now, not when the collector gets to it.
    await pieces.return?.(undefined);
    await index.addIndexFileInTurns(await opened(firstPiece, codec, what), what);
    return;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield firstPiece;
    for (let next = await pieces.next(); !next.done; next = await pieces.next()) yield next.value;
  }
  let pack = 0;
  await walkIndexPieces(
    all(),
    what,
    (packId) => {
      pack = index.packNumber(packId);
    },
    (data, at) => index.addEntryAt(pack, data, at),
  );
}

/**
 * A value written as it is made (the stat cache, written as a full scan goes): pieces given to `write`
 * are deflated and, in a plain store on a backend that takes a stream, sent on as they come; `finish`
 * stores the value under `key` (sealed whole in an encrypted store), `abort` drops it. Never throws from
 * `write`; a failure is thrown by `finish`.
 */
export function openDeflated(
  backend: Backend,
  codec: ObjectCodec,
  kind: KeyKind,
  key: string,
  options: { durable?: boolean } = {},
): DeflatedWriter {
  const z = createDeflateRaw({ level: 1, chunkSize: 256 * 1024 });
  const streamed = !codec.encrypted && backend.openStream !== undefined;
  const stream = streamed ? backend.openStream!(kind) : undefined;
  stream?.catch(() => undefined);
  const kept: Buffer[] = [];
  let failure: unknown;
  let writing = Promise.resolve();
  z.on('data', (chunk: Buffer) => {
    if (!stream) {
      kept.push(chunk);
      return;
    }
    writing = writing.then(async () => (await stream).write([chunk]));
    writing.catch((error: unknown) => {
      failure ??= error;
    });
  });
  const ended = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  ended.catch((error: unknown) => {
    failure ??= error;
  });
  return {
    write: (piece) => {
      if (failure === undefined) z.write(piece);
    },
    finish: async () => {
      z.end();
      await ended;
      await writing.catch(() => undefined);
      if (failure !== undefined) throw failure;
      if (stream) await (await stream).commit(key, options);
      else await backend.save(key, codec.encrypted ? [codec.seal(Buffer.concat(kept))] : kept, options);
    },
    abort: async () => {
      z.destroy();
      await writing.catch(() => undefined);
      await (await stream?.catch(() => undefined))?.abort();
    },
  };
}

/**
 * Deflates and seals `pieces` into one stored value under `key`, or under the key made from the SHA-256
 * of the stored bytes (index files). A plain store on a backend that takes a stream gets the output as it
 * is made, so neither form is ever whole in memory (an index of 200,000 blobs is 10 MB raw, 8 MB stored);
 * an encrypted one seals the whole output at once. Returns the key and the bytes stored.
 */
export async function saveDeflated(
  backend: Backend,
  codec: ObjectCodec,
  kind: KeyKind,
  pieces: Iterable<Buffer>,
  key: string | ((sha256: string) => string),
  options: { durable?: boolean } = {},
): Promise<{ key: string; bytes: number }> {
  const keyFor = (hash: Hash) => (typeof key === 'string' ? key : key(hash.digest('hex')));
  const hash = createHash('sha256');
  let bytes = 0;
  if (codec.encrypted || !backend.openStream) {
    const deflated = await deflatePieces(pieces, 1);
    const parts = codec.encrypted ? [codec.seal(Buffer.concat(deflated))] : deflated;
    for (const part of parts) {
      hash.update(part);
      bytes += part.length;
    }
    const stored = keyFor(hash);
    await backend.save(stored, parts, options);
    return { key: stored, bytes };
  }
  const stream = await backend.openStream(kind);
  try {
    await deflateInto(pieces, 1, async (chunks) => {
      for (const chunk of chunks) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      await stream.write(chunks);
    });
    const stored = keyFor(hash);
    await stream.commit(stored, options);
    return { key: stored, bytes };
  } catch (error) {
    await stream.abort();
    throw error;
  }
}

/** See openDeflated. */
export interface DeflatedWriter {
  write(piece: Buffer): void;
  finish(): Promise<void>;
  abort(): Promise<void>;
}
