import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  ChunkerParams,
  DEFAULT_CHUNKER_PARAMS,
  StreamChunker,
  chunkBuffer,
  gearTable,
} from '../../src/core/repository/chunker';
import { seededBytes, xorshift32 } from './helpers/fixtures';

const KiB = 1024;
const MiB = 1024 * KiB;
const SEED_A = '5eed0000000000000000000000000000000000000000000000000000000000a1';
const SEED_B = '5eed0000000000000000000000000000000000000000000000000000000000b2';

const defaults = (seed = SEED_A): ChunkerParams => ({ ...DEFAULT_CHUNKER_PARAMS, seed });
// Small sizes give hundreds of boundaries in a few hundred KiB, so split-independence is checked on many cuts.
const small = (seed = SEED_A): ChunkerParams => ({ minSize: 1 * KiB, avgSize: 4 * KiB, maxSize: 16 * KiB, seed });

function lengths(chunks: Buffer[]): number[] {
  return chunks.map((c) => c.length);
}

function sha(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function streamChunks(data: Buffer, params: ChunkerParams, nextSize: () => number): Buffer[] {
  const chunker = new StreamChunker(params);
  const out: Buffer[] = [];
  for (let offset = 0; offset < data.length;) {
    const size = Math.min(nextSize(), data.length - offset);
    out.push(...chunker.push(data.subarray(offset, offset + size)));
    offset += size;
  }
  out.push(...chunker.finish());
  return out;
}

function assertBounds(chunks: Buffer[], params: ChunkerParams): void {
  chunks.forEach((chunk, i) => {
    assert.ok(chunk.length <= params.maxSize, `chunk ${i} is ${chunk.length} > maxSize`);
    assert.ok(chunk.length > 0, `chunk ${i} is empty`);
    if (i < chunks.length - 1) assert.ok(chunk.length >= params.minSize, `chunk ${i} is ${chunk.length} < minSize`);
  });
}

describe('chunker', () => {
  describe('gearTable', () => {
    it('derives 256 values from sha256(seed bytes || u32be(i))', () => {
      const table = gearTable(SEED_A);
      assert.equal(table.length, 256);
      for (const i of [0, 1, 255]) {
        const index = Buffer.alloc(4);
        index.writeUInt32BE(i);
        const expected = createHash('sha256').update(Buffer.from(SEED_A, 'hex')).update(index).digest().readUInt32BE(0);
        assert.equal(table[i], expected);
      }
      assert.equal(new Set(table).size, 256, 'gear values should be distinct');
    });

    it('is deterministic per seed and differs between seeds', () => {
      assert.deepEqual(gearTable(SEED_A), gearTable(SEED_A));
      assert.notDeepEqual(gearTable(SEED_A), gearTable(SEED_B));
    });

    it('hands out a copy, so mutating it cannot change later chunking', () => {
      const data = seededBytes(256 * KiB, 7);
      const before = lengths(chunkBuffer(data, small()));
      gearTable(SEED_A).fill(0);
      assert.deepEqual(lengths(chunkBuffer(data, small())), before);
    });

    it('rejects seeds that are not hex', () => {
      for (const bad of ['', 'abc', 'zz', 'not hex!']) assert.throws(() => gearTable(bad), TypeError, bad);
    });
  });

  describe('parameters', () => {
    it('has the documented defaults', () => {
      assert.deepEqual({ ...DEFAULT_CHUNKER_PARAMS }, { minSize: 128 * KiB, avgSize: 512 * KiB, maxSize: 2 * MiB });
    });

    it('rejects inconsistent sizes', () => {
      const bad: Array<Omit<ChunkerParams, 'seed'>> = [
        { minSize: 0, avgSize: 4 * KiB, maxSize: 16 * KiB },
        { minSize: 8 * KiB, avgSize: 4 * KiB, maxSize: 16 * KiB },
        { minSize: 1 * KiB, avgSize: 32 * KiB, maxSize: 16 * KiB },
        { minSize: 1.5, avgSize: 4 * KiB, maxSize: 16 * KiB },
      ];
      for (const sizes of bad) assert.throws(() => new StreamChunker({ ...sizes, seed: SEED_A }), RangeError);
    });
  });

  describe('StreamChunker / chunkBuffer', () => {
    it('gives no chunks for empty input', () => {
      assert.deepEqual(chunkBuffer(Buffer.alloc(0), defaults()), []);
      const chunker = new StreamChunker(defaults());
      assert.deepEqual(chunker.push(Buffer.alloc(0)), []);
      assert.deepEqual(chunker.finish(), []);
    });

    it('returns input shorter than minSize as one chunk', () => {
      const data = seededBytes(1000, 3);
      const chunks = chunkBuffer(data, small());
      assert.equal(chunks.length, 1);
      assert.ok(chunks[0].equals(data));
    });

    it('concatenates back to the input, byte for byte', () => {
      for (const [size, params] of [
        [1, small()],
        [1 * KiB, small()],
        [1 * KiB + 1, small()],
        [300 * KiB + 17, small()],
        [5 * MiB + 3, defaults()],
      ] as const) {
        const data = seededBytes(size, size);
        const whole = chunkBuffer(data, params);
        assert.ok(Buffer.concat(whole).equals(data), `whole buffer of ${size} bytes`);
        const rnd = xorshift32(size ^ 0x9e3779b9);
        const streamed = streamChunks(data, params, () => rnd() % (64 * KiB));
        assert.ok(Buffer.concat(streamed).equals(data), `streamed ${size} bytes`);
      }
    });

    it('keeps every chunk within [minSize, maxSize], except a short last chunk', () => {
      const data = seededBytes(1 * MiB, 11);
      const chunks = chunkBuffer(data, small());
      assert.ok(chunks.length > 100, `expected many chunks, got ${chunks.length}`);
      assertBounds(chunks, small());
      assertBounds(chunkBuffer(seededBytes(20 * MiB, 12), defaults()), defaults());
    });

    it('cuts at maxSize when content never matches (constant data)', () => {
      const data = Buffer.alloc(7 * MiB + 5);
      const chunks = chunkBuffer(data, defaults());
      assert.deepEqual(lengths(chunks), [2 * MiB, 2 * MiB, 2 * MiB, 1 * MiB + 5]);
    });

    it('finds the same boundaries however the input is split into pushes', () => {
      const data = seededBytes(200 * KiB + 123, 21);
      const reference = chunkBuffer(data, small());
      assert.ok(reference.length > 20, `expected many chunks, got ${reference.length}`);
      const odd = [1, 7, 13, 4093, 4099, 65537];
      let k = 0;
      const rnd = xorshift32(99);
      const splits: Record<string, () => number> = {
        'one byte': () => 1,
        'odd sizes': () => odd[k++ % odd.length],
        'random sizes, some empty': () => rnd() % 9000,
        whole: () => data.length,
      };
      for (const [name, nextSize] of Object.entries(splits)) {
        const chunks = streamChunks(data, small(), nextSize);
        assert.deepEqual(lengths(chunks), lengths(reference), name);
        assert.ok(Buffer.concat(chunks).equals(data), name);
      }
    });

    it('finds the same boundaries with default sizes for odd and one-byte pushes', () => {
      const data = seededBytes(4 * MiB + 1, 22);
      const reference = lengths(chunkBuffer(data, defaults()));
      assert.ok(reference.length >= 4, `expected several chunks, got ${reference.length}`);
      assert.deepEqual(lengths(streamChunks(data, defaults(), () => 65521)), reference);
      assert.deepEqual(lengths(streamChunks(data, defaults(), () => 1)), reference);
    });

    it('keeps returned chunks intact across later pushes and reuse after finish()', () => {
      const a = seededBytes(100 * KiB, 31);
      const b = seededBytes(100 * KiB, 32);
      const chunker = new StreamChunker(small());
      const first: Buffer[] = [];
      for (let o = 0; o < a.length; o += 3000) first.push(...chunker.push(a.subarray(o, o + 3000)));
      first.push(...chunker.finish());
      const hashes = first.map(sha);
      const second: Buffer[] = [...chunker.push(b), ...chunker.finish()];
      assert.deepEqual(first.map(sha), hashes);
      assert.ok(Buffer.concat(first).equals(a));
      assert.deepEqual(lengths(second), lengths(chunkBuffer(b, small())), 'finish() must reset the state');
    });

    it('is deterministic for a seed and cuts elsewhere with another seed', () => {
      const data = seededBytes(8 * MiB, 41);
      const a1 = lengths(chunkBuffer(data, defaults(SEED_A)));
      const a2 = lengths(chunkBuffer(data, defaults(SEED_A)));
      const b = lengths(chunkBuffer(data, defaults(SEED_B)));
      assert.deepEqual(a1, a2);
      assert.notDeepEqual(a1, b);
      // Not just one shifted cut: with independent gear tables almost no boundary coincides.
      const cutsOf = (ls: number[]) =>
        new Set(ls.slice(0, -1).map((_, i) => ls.slice(0, i + 1).reduce((s, x) => s + x, 0)));
      const cutsA = cutsOf(a1);
      const shared = [...cutsOf(b)].filter((c) => cutsA.has(c)).length;
      assert.ok(shared <= 1, `${shared} boundaries shared between seeds`);
    });

    it('averages close to avgSize on random data', () => {
      for (const [size, params] of [
        [32 * MiB, defaults()],
        [2 * MiB, small()],
      ] as const) {
        const chunks = chunkBuffer(seededBytes(size, 51), params);
        const mean = size / chunks.length;
        assert.ok(
          mean >= params.avgSize * 0.75 && mean <= params.avgSize * 1.5,
          `mean ${mean} for avgSize ${params.avgSize}`,
        );
      }
    });

    it('keeps chunk sizes concentrated around avgSize (normalized chunking)', () => {
      // A single mask gives min + exponential sizes (coefficient of variation ~0.75, ~60% within
      // [avg/2, 2*avg]); level-2 normalization gives ~0.3 and ~90%.
      const params = small();
      const sizes = lengths(chunkBuffer(seededBytes(4 * MiB, 52), params)).slice(0, -1);
      const mean = sizes.reduce((s, x) => s + x, 0) / sizes.length;
      const sd = Math.sqrt(sizes.reduce((s, x) => s + (x - mean) ** 2, 0) / sizes.length);
      const inBand = sizes.filter((x) => x >= params.avgSize / 2 && x <= params.avgSize * 2).length / sizes.length;
      assert.ok(sd / mean < 0.45, `coefficient of variation ${sd / mean}`);
      assert.ok(inBand > 0.8, `${inBand} of chunks within [avg/2, 2*avg]`);
    });
  });

  describe('locality of edits in a 16 MiB file', () => {
    const original = seededBytes(16 * MiB, 61);
    const before = chunkBuffer(original, defaults());
    const beforeHashes = new Set(before.map(sha));
    const middle = 8 * MiB + 12345;
    const patch = seededBytes(4 * KiB, 62);

    const edits: Record<string, Buffer> = {
      'overwrite 4 KiB': Buffer.concat([original.subarray(0, middle), patch, original.subarray(middle + patch.length)]),
      'insert 4 KiB': Buffer.concat([original.subarray(0, middle), patch, original.subarray(middle)]),
      'delete 4 KiB': Buffer.concat([original.subarray(0, middle), original.subarray(middle + patch.length)]),
    };

    for (const [name, edited] of Object.entries(edits)) {
      it(`${name} changes at most two chunks`, () => {
        assert.ok(before.length >= 16, `expected many chunks, got ${before.length}`);
        const after = chunkBuffer(edited, defaults());
        assert.ok(Buffer.concat(after).equals(edited));
        const fresh = after.filter((c) => !beforeHashes.has(sha(c)));
        const freshBytes = fresh.reduce((sum, c) => sum + c.length, 0);
        assert.ok(fresh.length >= 1, 'the edit must show up in some chunk');
        assert.ok(fresh.length <= 2, `${fresh.length} new chunks`);
        assert.ok(freshBytes < 2 * MiB + 4 * KiB, `${freshBytes} new bytes`);
        assert.ok(after.length - fresh.length >= before.length - 2, 'chunks away from the edit must be reused');
      });
    }
  });
});
