// Fuzzing the decoders of everything the engine reads back from a store (restic repository/fuzz_test.go):
// trees, snapshot records, the config, pack trailers, index files and the stat cache. Fed random bytes and
// mutations of valid encodings (bit flips, truncations, splices, JSON values swapped for others), a decoder
// returns a well-formed value or throws a BackupError (OBJECT_DAMAGED, REPO_CORRUPT, REPO_NEWER_FORMAT);
// nothing else escapes, nothing hangs. Valid encodings round-trip exactly.
// Reproduce a failure with the seed and path fast-check prints, or set FC_SEED.

import assert from 'node:assert/strict';
import type { Stats } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { isBackupError } from '../../src/core/errors';
import type { BackupErrorCode } from '../../src/core/errors';
import { ID_PATTERN, PlainCodec } from '../../src/core/repository/codec';
import type { RepoConfig } from '../../src/core/repository/config';
import { decodeConfig, encodeConfig } from '../../src/core/repository/config';
import type { IndexedPack } from '../../src/core/repository/indexFile';
import { decodeIndex, encodeIndex, openIndex } from '../../src/core/repository/indexFile';
import { MemoryIndex } from '../../src/core/repository/memoryIndex';
import type { PackEntry } from '../../src/core/repository/pack';
import { decodePack, packTrailer } from '../../src/core/repository/pack';
import type { SnapshotRecord, Trigger } from '../../src/core/repository/snapshotRecord';
import { SNAPSHOT_ID_PATTERN, decodeSnapshot, encodeSnapshot } from '../../src/core/repository/snapshotRecord';
import type { TreeEntry } from '../../src/core/repository/tree';
import { compareNames, decodeTree, encodeTree } from '../../src/core/repository/tree';
import { StatCache, namesOf } from '../../src/core/scan/statCache';
import { SOAK } from './helpers/fixtures';

const codec = new PlainCodec();
const ALLOWED: readonly BackupErrorCode[] = ['OBJECT_DAMAGED', 'REPO_CORRUPT', 'REPO_NEWER_FORMAT'];
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
/**
 * Bounded by run count, not by time: a time limit ran no case at all on a loaded machine ("Property
 * interrupted after 0 tests"), and would prove less the busier the machine. The soak run goes further.
 */
const BOUNDS = { numRuns: SOAK ? 3000 : 300, seed };

/** Runs a decoder on hostile bytes: a value, or a BackupError of an allowed code; anything else fails. */
function decodesOrRefuses<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch (error) {
    if (isBackupError(error) && ALLOWED.includes(error.code)) {
      assert.doesNotMatch(error.message, /\n/, 'one sentence');
      return undefined;
    }
    throw new Error(
      `escaped the decoder: ${error instanceof Error ? `${error.constructor.name} ${(error as { code?: string }).code ?? ''}: ${error.message}` : String(error)}`,
    );
  }
}

// ---- arbitraries of valid values -------------------------------------------------------------------------

/** Records with a plain prototype, so a decoded value (from JSON.parse) deep-equals the one encoded. */
const plainRecord = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }) => fc.record(model, { noNullPrototype: true });
const hex = (bytes: number) =>
  fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((a) => Buffer.from(a).toString('hex'));
const id64 = hex(32);
const id32 = hex(16);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nameArb = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }),
  fc.constantFrom('..', '.', '/etc', 'a/b', 'x\0y', ' ', '.git'),
);

const entryArb: fc.Arbitrary<TreeEntry> = fc.oneof(
  plainRecord({
    type: fc.constant('file' as const),
    name: nameArb,
    mode: fc.integer({ min: 0, max: 0o7777 }),
    size: fc.maxSafeNat(),
    content: fc.array(id64, { maxLength: 4 }),
  }),
  plainRecord({ type: fc.constant('dir' as const), name: nameArb, tree: id64 }),
  plainRecord({
    type: fc.constant('symlink' as const),
    name: nameArb,
    target: fc.string({ unit: 'grapheme', maxLength: 30 }),
  }),
);
const treeArb = fc.uniqueArray(entryArb, { maxLength: 12, selector: (e) => e.name });

const TRIGGERS: readonly Trigger[] = ['manual', 'save', 'external', 'schedule', 'pre-restore', 'startup', 'cli'];
const snapshotArb: fc.Arbitrary<SnapshotRecord> = plainRecord({
  id: id32,
  time: fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  workspace: plainRecord({ path: fc.string({ unit: 'grapheme', maxLength: 40 }), id: hex(8) }),
  host: fc.string({ maxLength: 20 }),
  trigger: fc.constantFrom(...TRIGGERS),
  tree: id64,
  stats: plainRecord({
    files: fc.nat(),
    dirs: fc.nat(),
    symlinks: fc.nat(),
    bytes: fc.maxSafeNat(),
    filesNew: fc.nat(),
    filesChanged: fc.nat(),
    filesDeleted: fc.nat(),
    bytesAdded: fc.nat(),
    dataAdded: fc.nat(),
    blobsAdded: fc.nat(),
    skipped: fc.nat(),
  }),
  tool: fc.string({ maxLength: 20 }),
  label: fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: undefined }),
  pinned: fc.option(fc.boolean(), { nil: undefined }),
  parent: fc.option(id32, { nil: undefined }),
  skipped: fc.option(
    fc.array(plainRecord({ path: fc.string({ maxLength: 20 }), reason: fc.string({ maxLength: 20 }) }), {
      maxLength: 3,
    }),
    { nil: undefined },
  ),
  git: fc.option(plainRecord({ branch: fc.string({ maxLength: 10 }), head: hex(20) }), { nil: undefined }),
  paths: fc.option(fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }), { nil: undefined }),
}).map((r) => {
  // JSON has no undefined: a record never holds an optional key without a value.
  const record = { v: 1 as const, ...r } as Record<string, unknown>;
  for (const key of Object.keys(record)) if (record[key] === undefined) delete record[key];
  return record as unknown as SnapshotRecord;
});

const configArb: fc.Arbitrary<RepoConfig> = plainRecord({
  id: id32,
  created: fc
    .date({ noInvalidDate: true, min: new Date(0), max: new Date('2200-01-01T00:00:00Z') })
    .map((d) => d.toISOString()),
  sizes: fc
    .uniqueArray(fc.integer({ min: 1, max: 64 * 1024 * 1024 }), { minLength: 3, maxLength: 3 })
    .map((a) => a.sort((x, y) => x - y)),
  seed: id32,
  chunkFrom: fc.integer({ min: 1, max: 1 << 30 }),
}).map(({ id, created, sizes, seed: chunkSeed, chunkFrom }) => ({
  format: 1,
  id,
  created,
  chunker: { minSize: sizes[0], avgSize: sizes[1], maxSize: sizes[2], seed: chunkSeed },
  chunkFrom,
  compression: 'deflate-raw' as const,
  encryption: null,
}));

/** Pack entries as readEntry gives them back: `inner` only for bundled blobs. */
function packEntryArb(dataSize: number): fc.Arbitrary<PackEntry> {
  return fc
    .record({
      type: fc.constantFrom('data' as const, 'tree' as const),
      id: id64,
      start: fc.integer({ min: 0, max: dataSize }),
      len: fc.integer({ min: 0, max: dataSize }),
      rawLength: u32,
      compressed: fc.boolean(),
      inner: fc.option(u32, { nil: undefined }),
    })
    .map(({ type, id, start, len, rawLength, compressed, inner }) => {
      const length = Math.min(len, dataSize - start);
      return inner === undefined
        ? { type, id, offset: start, length, rawLength, compressed }
        : { type, id, offset: start, length, rawLength, compressed, inner };
    });
}

const packArb = fc.integer({ min: 0, max: 2000 }).chain((dataSize) =>
  plainRecord({
    data: fc.uint8Array({ minLength: dataSize, maxLength: dataSize }).map((a) => Buffer.from(a)),
    entries: fc.array(packEntryArb(dataSize), { maxLength: 10 }),
  }),
);

const indexArb: fc.Arbitrary<IndexedPack[]> = fc.array(
  plainRecord({
    packId: id64,
    entries: fc.uniqueArray(packEntryArb(0xffffffff), { maxLength: 8, selector: (e) => e.id }),
  }),
  { maxLength: 5 },
);

interface CacheDirSpec {
  rel: string;
  tree: string;
  files: Array<{ name: string; size: number; mtimeMs: number; ino: number; mode: number }>;
  totals: { files: number; dirs: number; symlinks: number; bytes: number };
}
const cacheArb: fc.Arbitrary<CacheDirSpec[]> = fc.uniqueArray(
  plainRecord({
    rel: fc.oneof(fc.constant(''), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 15 })),
    tree: id64,
    files: fc.uniqueArray(
      plainRecord({
        name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }),
        size: fc.maxSafeNat(),
        mtimeMs: fc.integer({ min: 0, max: 1_600_000_000_000 }),
        ino: fc.nat(),
        mode: fc.integer({ min: 0, max: 0o177777 }),
      }),
      { maxLength: 6, selector: (f) => f.name },
    ),
    totals: plainRecord({ files: fc.nat(), dirs: fc.nat(), symlinks: fc.nat(), bytes: fc.maxSafeNat() }),
  }),
  { maxLength: 6, selector: (d) => d.rel },
);
const RULES = 'rules-fingerprint';
const SCAN_START = 1_700_000_000_000;

function fakeStat(f: { size: number; mtimeMs: number; ino: number; mode: number }): Stats {
  return { size: f.size, mtimeMs: f.mtimeMs, ctimeMs: f.mtimeMs, ino: f.ino, mode: f.mode } as Stats;
}

/** The header of an encoded stat cache (v3: just before its 8-byte trailer), or '' when there is none. */
function cacheHeaderText(data: Buffer): string {
  if (data.length < 8) return '';
  const length = data.readUInt32LE(data.length - 8);
  const start = data.length - 8 - length;
  return start < 0 ? '' : data.toString('utf8', start, start + length);
}

function buildCache(dirs: readonly CacheDirSpec[]): Buffer {
  const cache = StatCache.empty(RULES, SCAN_START);
  for (const dir of dirs) {
    const recorder = cache.recorder();
    const files = [...dir.files].sort((a, b) => compareNames(a.name, b.name));
    for (const f of files) recorder.add(f.name, fakeStat(f));
    recorder.finish(dir.rel, dir.tree, dir.totals, files.length);
  }
  return cache.encode();
}

// ---- mutations --------------------------------------------------------------------------------------------

type Mutation = (data: Buffer) => Buffer;
const at = (fraction: number, length: number) => Math.min(length, Math.floor(fraction * length));
const fraction = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  plainRecord({ where: fraction, bit: fc.integer({ min: 0, max: 7 }) }).map(({ where, bit }) => (data: Buffer) => {
    if (data.length === 0) return data;
    const out = Buffer.from(data);
    out[at(where, out.length - 1)] ^= 1 << bit;
    return out;
  }),
  fraction.map((where) => (data: Buffer) => data.subarray(0, at(where, data.length))),
  plainRecord({ where: fraction, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }).map(
    ({ where, bytes }) =>
      (data: Buffer) => {
        const i = at(where, data.length);
        return Buffer.concat([data.subarray(0, i), Buffer.from(bytes), data.subarray(i)]);
      },
  ),
  plainRecord({ from: fraction, span: fraction }).map(({ from, span }) => (data: Buffer) => {
    const i = at(from, data.length);
    return Buffer.concat([data.subarray(0, i), data.subarray(i + at(span, data.length - i))]);
  }),
  plainRecord({ from: fraction, to: fraction, span: fc.integer({ min: 1, max: 64 }) }).map(
    ({ from, to, span }) =>
      (data: Buffer) => {
        // Splice: a stretch of the encoding copied over another place of it.
        const out = Buffer.from(data);
        const i = at(from, data.length);
        data.copy(out, at(to, data.length), i, i + span);
        return out;
      },
  ),
  plainRecord({ where: fraction, value: fc.integer({ min: 0, max: 255 }) }).map(
    ({ where, value }) =>
      (data: Buffer) => {
        if (data.length === 0) return data;
        const out = Buffer.from(data);
        out[at(where, out.length - 1)] = value;
        return out;
      },
  ),
);
const mutationsArb = fc.array(mutationArb, { minLength: 1, maxLength: 3 });
const mutate = (data: Buffer, mutations: readonly Mutation[]) => mutations.reduce((d, m) => m(d), data);

/** Replaces one value somewhere inside a JSON document by an arbitrary JSON value: a structure-aware mutation. */
function replaceSomewhere(doc: unknown, pick: number, value: unknown): unknown {
  const slots: Array<{ holder: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach((child, i) => (slots.push({ holder: node, key: i }), walk(child)));
    else if (node && typeof node === 'object') {
      for (const [k, child] of Object.entries(node)) {
        slots.push({ holder: node as Record<string, unknown>, key: k });
        walk(child);
      }
    }
  };
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  walk(copy);
  if (slots.length === 0) return value;
  const slot = slots[pick % slots.length];
  (slot.holder as Record<string | number, unknown>)[slot.key] = value;
  return copy;
}
const jsonSwapArb = plainRecord({ pick: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) });

const randomBytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
  // Random text that looks a little like what the decoders expect.
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8')),
);

// ---- the decoders, wrapped with the checks of what a decoded value promises -----------------------------------

function checkTree(data: Buffer): void {
  const tree = decodesOrRefuses(() => decodeTree(data, 'Tree fuzz'));
  if (!tree) return;
  for (let i = 1; i < tree.entries.length; i++)
    assert.ok(compareNames(tree.entries[i - 1].name, tree.entries[i].name) < 0, 'names sorted and unique');
  for (const e of tree.entries) {
    if (e.type === 'dir') assert.match(e.tree, ID_PATTERN);
    if (e.type === 'file') e.content.forEach((id) => assert.match(id, ID_PATTERN));
  }
  // Whatever is accepted is canonical again after one encode.
  assert.deepEqual(decodeTree(encodeTree(tree.entries), 're-encoded'), tree);
}

function checkSnapshot(data: Buffer): void {
  const record = decodesOrRefuses(() => decodeSnapshot(data, 'Snapshot fuzz'));
  if (!record) return;
  assert.match(record.id, SNAPSHOT_ID_PATTERN);
  assert.match(record.tree, ID_PATTERN);
  assert.ok(!Number.isNaN(Date.parse(record.time)));
}

function checkConfig(data: Buffer): void {
  const config = decodesOrRefuses(() => decodeConfig(data, '/fuzz/store'));
  if (!config) return;
  assert.ok(
    config.chunker.minSize > 0 &&
      config.chunker.minSize <= config.chunker.avgSize &&
      config.chunker.avgSize <= config.chunker.maxSize,
  );
}

function checkPack(data: Buffer): void {
  const entries = decodesOrRefuses(() => decodePack(data, codec, 'Pack fuzz'));
  if (!entries) return;
  const headerLength = data.readUInt32LE(data.length - 8);
  for (const e of entries)
    assert.ok(e.offset + e.length <= data.length - 8 - headerLength, 'every entry lies inside the data');
}

function checkIndex(data: Buffer): void {
  const packs = decodesOrRefuses(() => decodeIndex(data, codec, 'Index fuzz'));
  const opened = decodesOrRefuses(() => openIndex(data, codec, 'Index fuzz'));
  if (opened) {
    // The in-memory index walks the same bytes: it must refuse or accept exactly what decodeIndex does.
    const memory = new MemoryIndex();
    const added = decodesOrRefuses(() => (memory.addIndexFile(opened, 'Index fuzz'), true));
    assert.equal(added === true, packs !== undefined, 'MemoryIndex and decodeIndex agree');
  }
  if (!packs) return;
  for (const p of packs) {
    assert.match(p.packId, ID_PATTERN);
    for (const e of p.entries) assert.match(e.id, ID_PATTERN);
  }
}

/** StatCache.decode promises "anything unexpected yields an empty cache, never an error". */
function checkStatCache(data: Buffer): void {
  let cache: StatCache;
  try {
    cache = StatCache.decode(data, RULES, SCAN_START);
  } catch (error) {
    throw new Error(`StatCache.decode threw: ${(error as Error).message}`);
  }
  // What the snapshotter then does with it must not throw either: look folders up and compare signatures.
  const header = (() => {
    try {
      return JSON.parse(cacheHeaderText(data)) as { dirs?: unknown };
    } catch {
      return undefined;
    }
  })();
  const rels = Array.isArray(header?.dirs) ? header.dirs.map((d) => (Array.isArray(d) ? d[0] : undefined)) : [];
  for (const rel of rels) {
    if (typeof rel !== 'string') continue;
    const dir = cache.previousDir(rel);
    if (!dir) continue;
    const context = `cached folder ${JSON.stringify(rel)}: ${JSON.stringify({ tree: dir.tree, count: dir.count, names: namesOf(dir), totals: dir.totals })}`;
    assert.ok(typeof dir.tree === 'string', `${context}: the tree id is a string`);
    assert.ok(Number.isInteger(dir.count), `${context}: the count is a number`);
    assert.ok(
      namesOf(dir).every((n) => typeof n === 'string'),
      `${context}: the names are strings`,
    );
    for (const key of ['files', 'dirs', 'symlinks', 'bytes'] as const)
      assert.ok(typeof dir.totals[key] === 'number', `${context}: totals.${key} is a number`);
    const cursor = cache.cursor(rel);
    for (const name of namesOf(dir)) cursor.trusted(name, fakeStat({ size: 0, mtimeMs: 0, ino: 0, mode: 0 }));
  }
}

describe('fuzz: decoders of store content', function () {
  this.timeout(20_000);

  describe('valid encodings round-trip', () => {
    it('trees (canonical: any entry order gives the same bytes)', () => {
      fc.assert(
        fc.property(treeArb, (entries) => {
          const bytes = encodeTree(entries);
          const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name));
          assert.deepEqual(decodeTree(bytes, 'tree').entries, sorted);
          assert.ok(encodeTree([...entries].reverse()).equals(bytes));
        }),
        BOUNDS,
      );
    });

    it('snapshot records', () => {
      fc.assert(
        fc.property(snapshotArb, (record) =>
          assert.deepEqual(decodeSnapshot(encodeSnapshot(record), 'snapshot'), record),
        ),
        BOUNDS,
      );
    });

    it('the config', () => {
      fc.assert(
        fc.property(configArb, (config) => assert.deepEqual(decodeConfig(encodeConfig(config), '/store'), config)),
        BOUNDS,
      );
    });

    it('pack trailers', () => {
      fc.assert(
        fc.property(packArb, ({ data, entries }) => {
          const pack = Buffer.concat([data, packTrailer(entries, codec)]);
          assert.deepEqual(decodePack(pack, codec, 'pack'), entries);
        }),
        BOUNDS,
      );
    });

    it('index files, through decodeIndex and the in-memory index', () => {
      fc.assert(
        fc.property(indexArb, (packs) => {
          const bytes = encodeIndex(packs, codec);
          assert.deepEqual(decodeIndex(bytes, codec, 'index'), packs);
          const memory = new MemoryIndex();
          memory.addIndexFile(openIndex(bytes, codec, 'index'), 'index');
          const seen = new Set<string>();
          for (const pack of packs) {
            for (const entry of pack.entries) {
              if (seen.has(entry.id)) continue; // the first location of an id wins
              seen.add(entry.id);
              assert.deepEqual(memory.get(entry.id), { ...entry, packId: pack.packId });
            }
          }
          assert.equal(memory.size, seen.size);
        }),
        BOUNDS,
      );
    });

    it('the stat cache', () => {
      fc.assert(
        fc.property(cacheArb, (dirs) => {
          const cache = StatCache.decode(buildCache(dirs), RULES, SCAN_START + 60_000);
          for (const dir of dirs) {
            const names = dir.files.map((f) => f.name).sort(compareNames);
            const got = cache.previousDir(dir.rel);
            assert.ok(got, `folder ${JSON.stringify(dir.rel)} is in the decoded cache`);
            assert.deepEqual(
              { tree: got.tree, count: got.count, names: namesOf(got), totals: got.totals },
              { tree: dir.tree, count: names.length, names, totals: dir.totals },
            );
            // Every file recorded before the scan is trusted again with the same signature.
            const cursor = cache.cursor(dir.rel);
            for (const f of [...dir.files].sort((a, b) => compareNames(a.name, b.name)))
              assert.ok(cursor.trusted(f.name, fakeStat(f)) >= 0, `${f.name} trusted`);
          }
          // Other rules, another format: no cache rather than a wrong one.
          assert.equal(
            StatCache.decode(buildCache(dirs), 'other rules', SCAN_START).previousDir(dirs[0]?.rel ?? ''),
            undefined,
          );
        }),
        BOUNDS,
      );
    });
  });

  describe('random bytes: a value or a BackupError, nothing else', () => {
    const decoders: Array<[string, (data: Buffer) => void]> = [
      ['decodeTree', checkTree],
      ['decodeSnapshot', checkSnapshot],
      ['decodeConfig', checkConfig],
      ['decodePack', checkPack],
      ['openIndex / decodeIndex / MemoryIndex', checkIndex],
      ['StatCache.decode (never throws)', checkStatCache],
    ];
    for (const [name, check] of decoders) {
      it(name, () => {
        fc.assert(fc.property(randomBytesArb, check), BOUNDS);
      });
    }
    it('decodePack and openIndex on framing that passes the first checks (trailer magic, deflate) but lies inside', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), u32, (body, headerLength) => {
          const tail = Buffer.alloc(8);
          tail.writeUInt32LE(headerLength % (body.length + 9), 0);
          tail.write('PBP1', 4, 'ascii');
          checkPack(Buffer.concat([Buffer.from(body), tail]));
          checkIndex(deflateRawSync(Buffer.concat([Buffer.from('PBI1'), Buffer.from(body)])));
        }),
        BOUNDS,
      );
    });
  });

  describe('mutated valid encodings: a value or a BackupError, nothing else', () => {
    it('trees', () => {
      fc.assert(
        fc.property(treeArb, mutationsArb, (entries, m) => checkTree(mutate(encodeTree(entries), m))),
        BOUNDS,
      );
    });
    it('snapshot records', () => {
      fc.assert(
        fc.property(snapshotArb, mutationsArb, (record, m) => checkSnapshot(mutate(encodeSnapshot(record), m))),
        BOUNDS,
      );
    });
    it('the config', () => {
      fc.assert(
        fc.property(configArb, mutationsArb, (config, m) => checkConfig(mutate(encodeConfig(config), m))),
        BOUNDS,
      );
    });
    it('pack files', () => {
      fc.assert(
        fc.property(packArb, mutationsArb, ({ data, entries }, m) =>
          checkPack(mutate(Buffer.concat([data, packTrailer(entries, codec)]), m)),
        ),
        BOUNDS,
      );
    });
    it('index files, sealed (deflated) and after inflating', () => {
      fc.assert(
        fc.property(indexArb, mutationsArb, (packs, m) => {
          const sealed = encodeIndex(packs, codec);
          checkIndex(mutate(sealed, m));
          // Mutating the deflated bytes mostly breaks the deflate stream; mutate the plain layout too.
          checkIndex(deflateRawSync(mutate(inflateRawSync(sealed), m)));
        }),
        BOUNDS,
      );
    });
    it('the stat cache', () => {
      fc.assert(
        fc.property(cacheArb, mutationsArb, (dirs, m) => checkStatCache(mutate(buildCache(dirs), m))),
        BOUNDS,
      );
    });
  });

  describe('valid JSON with one value swapped for another: a value or a BackupError, nothing else', () => {
    it('trees, snapshot records and the config', () => {
      fc.assert(
        fc.property(treeArb, snapshotArb, configArb, jsonSwapArb, (entries, record, config, { pick, value }) => {
          const swap = (bytes: Buffer) =>
            Buffer.from(JSON.stringify(replaceSomewhere(JSON.parse(bytes.toString('utf8')), pick, value)), 'utf8');
          checkTree(swap(encodeTree(entries)));
          checkSnapshot(swap(encodeSnapshot(record)));
          checkConfig(swap(encodeConfig(config)));
        }),
        BOUNDS,
      );
    });

    it('the stat cache header: anything unexpected gives an empty cache, never a cache of wrong types', () => {
      // Regression guard: a header whose tree id is null (or names a number) decoded "fine", and the next
      // full scan crashed in Repository.hasBlob(null) with a TypeError instead of rereading the folder.
      fc.assert(
        fc.property(
          cacheArb.filter((dirs) => dirs.length > 0),
          jsonSwapArb,
          (dirs, { pick, value }) => {
            const valid = buildCache(dirs);
            // v3: the body, the header, u32 header length and "PBC3".
            const headerLength = valid.readUInt32LE(valid.length - 8);
            const headerStart = valid.length - 8 - headerLength;
            const header = JSON.parse(valid.toString('utf8', headerStart, headerStart + headerLength)) as {
              dirs: unknown;
            };
            // Swap a value inside the folder list (that is where the types matter), keeping the layout intact.
            const swapped = Buffer.from(
              JSON.stringify({ ...(header as object), dirs: replaceSomewhere(header.dirs, pick, value) }),
              'utf8',
            );
            const trailer = Buffer.from(valid.subarray(valid.length - 8));
            trailer.writeUInt32LE(swapped.length, 0);
            checkStatCache(Buffer.concat([valid.subarray(0, headerStart), swapped, trailer]));
          },
        ),
        { ...BOUNDS, numRuns: SOAK ? 4500 : 450 },
      );
    });
  });
});
