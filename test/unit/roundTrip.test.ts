// Property: for random trees (unicode names, empty files and folders, binary data, relative symlinks, exec
// bits) and random edits between snapshots (modify, delete, add, chmod, file <-> folder), restoring EVERY
// snapshot into a fresh folder gives back exactly the tree as it was when that snapshot was taken.
// Snapshots after edits are full or incremental (the edited paths), at random.
// Reproduce a failure with the seed and path fast-check prints, or set FC_SEED.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { Restorer } from '../../src/core/restore/restorer';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import {
  MiB,
  describeTreeDiff,
  makeTempDir,
  openRepo,
  readTree,
  removeDir,
  seededBytes,
  snapshotterFor,
  writeTree,
} from './helpers/fixtures';
import type { ReadTree, TreeSpec } from './helpers/fixtures';

// ---- generated trees -----------------------------------------------------------------------------------

type Node =
  | { kind: 'file'; content: Buffer; mode: number }
  | { kind: 'link'; target: string }
  | { kind: 'dir'; entries: Array<[string, Node]> };

const PIECES = [
  'a',
  'b',
  'Z',
  '0',
  '-',
  '_',
  '.',
  ' ',
  'é',
  'ñ',
  'ü',
  'Å',
  'ß',
  '漢',
  '字',
  'カ',
  '😀',
  '🎉',
  '👩‍💻',
  'Ω',
  'e\u0301',
  '#',
  '~',
  '(',
  ')',
];

/**
 * A file name: a mix of accents, CJK, emoji, spaces and dots, or any unicode graphemes. Only what a name can
 * never be is filtered out ('/', NUL, '.', '..', empty). Names starting with '..' are left to the dedicated
 * tests (snapshotter/restore: "two dots"), so that this property keeps testing everything else.
 */
const nameArb = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 5 }).map((parts) => parts.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }) },
  )
  .filter(
    (name) =>
      name !== '' &&
      name !== '.' &&
      name !== '..' &&
      !name.includes('/') &&
      !name.includes('\0') &&
      !name.startsWith('..') &&
      Buffer.byteLength(name) < 200,
  );

const contentArb: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s, 'utf8')) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 1_000_000 }).map((seed) => seededBytes(100_000 + (seed % 5000), seed)),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 1_000_000 }).map((seed) => seededBytes(MiB + 200_000 + (seed % 5000), seed)),
  }, // chunked
);

const modeArb = fc.constantFrom(0o644, 0o644, 0o755, 0o600, 0o700);

const targetArb = fc
  .array(fc.constantFrom('..', '.', 'a', 'b.txt', 'x y', 'é', '漢', 'missing'), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('/'));

const fileArb: fc.Arbitrary<Node> = fc.record({
  kind: fc.constant('file' as const),
  content: contentArb,
  mode: modeArb,
});
const linkArb: fc.Arbitrary<Node> = fc.record({ kind: fc.constant('link' as const), target: targetArb });

const { dir: dirArb } = fc.letrec<{ dir: Node; node: Node }>((tie) => ({
  dir: fc.record({
    kind: fc.constant('dir' as const),
    entries: fc.uniqueArray(fc.tuple(nameArb, tie('node')), { maxLength: 5, selector: (entry) => entry[0] }),
  }),
  node: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'tree' },
    { weight: 5, arbitrary: fileArb },
    { weight: 1, arbitrary: linkArb },
    { weight: 2, arbitrary: tie('dir') },
  ),
}));

function toSpec(node: Node, prefix = '', spec: TreeSpec = {}): TreeSpec {
  if (node.kind !== 'dir') throw new Error('root must be a folder');
  for (const [name, child] of node.entries) {
    const rel = prefix ? `${prefix}/${name}` : name;
    if (child.kind === 'file') spec[rel] = { mode: child.mode, content: child.content };
    else if (child.kind === 'link') spec[rel] = { symlink: child.target };
    else {
      spec[rel] = { dir: true };
      toSpec(child, rel, spec);
    }
  }
  return spec;
}

// ---- random edits ----------------------------------------------------------------------------------------

type Edit =
  | { op: 'modify'; pick: number; content: Buffer }
  | { op: 'delete'; pick: number }
  | { op: 'add'; pick: number; newDirs: string[]; name: string; content: Buffer; mode: number }
  | { op: 'addLink'; pick: number; name: string; target: string }
  | { op: 'addDir'; pick: number; name: string }
  | { op: 'chmod'; pick: number; mode: number }
  | { op: 'fileToDir'; pick: number; child: string; content: Buffer }
  | { op: 'dirToFile'; pick: number; content: Buffer };

const pick = fc.nat();
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('modify' as const), pick, content: contentArb }),
  fc.record({ op: fc.constant('delete' as const), pick }),
  fc.record({
    op: fc.constant('add' as const),
    pick,
    newDirs: fc.array(nameArb, { maxLength: 2 }),
    name: nameArb,
    content: contentArb,
    mode: modeArb,
  }),
  fc.record({ op: fc.constant('addLink' as const), pick, name: nameArb, target: targetArb }),
  fc.record({ op: fc.constant('addDir' as const), pick, name: nameArb }),
  fc.record({ op: fc.constant('chmod' as const), pick, mode: modeArb }),
  fc.record({ op: fc.constant('fileToDir' as const), pick, child: nameArb, content: contentArb }),
  fc.record({ op: fc.constant('dirToFile' as const), pick, content: contentArb }),
);

/** Current paths of one kind under root, sorted, so a `pick` resolves deterministically. */
function pathsOf(root: string, kind: 'file' | 'dir' | 'any'): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const rel = prefix ? `${prefix}/${name}` : name;
      const stat = fs.lstatSync(path.join(dir, name));
      if (kind === 'any' || (kind === 'file' && stat.isFile()) || (kind === 'dir' && stat.isDirectory())) out.push(rel);
      if (stat.isDirectory()) walk(path.join(dir, name), rel);
    }
  };
  walk(root, '');
  return out;
}

function abs(root: string, rel: string): string {
  return path.join(root, ...rel.split('/'));
}

function exists(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

/** Applies an edit to the workspace; returns the workspace-relative paths it touched (for incremental snapshots). */
function applyEdit(ws: string, edit: Edit): string[] {
  const choose = (list: string[]) => (list.length ? list[edit.pick % list.length] : undefined);
  switch (edit.op) {
    case 'modify': {
      const rel = choose(pathsOf(ws, 'file'));
      if (!rel) return [];
      fs.writeFileSync(abs(ws, rel), edit.content);
      return [rel];
    }
    case 'delete': {
      const rel = choose(pathsOf(ws, 'any'));
      if (!rel) return [];
      fs.rmSync(abs(ws, rel), { recursive: true, force: true });
      return [rel];
    }
    case 'add': {
      const dir = choose(['', ...pathsOf(ws, 'dir')]) ?? '';
      const rel = [dir, ...edit.newDirs, edit.name].filter(Boolean).join('/');
      // Every folder on the way must be a folder (or absent), and the file itself new.
      const parts = rel.split('/');
      for (let i = 1; i < parts.length; i++) {
        const stat = fs.lstatSync(abs(ws, parts.slice(0, i).join('/')), { throwIfNoEntry: false });
        if (stat && !stat.isDirectory()) return [];
      }
      if (exists(abs(ws, rel))) return [];
      writeTree(ws, { [rel]: { mode: edit.mode, content: edit.content } });
      return [rel];
    }
    case 'addLink':
    case 'addDir': {
      const dir = choose(['', ...pathsOf(ws, 'dir')]) ?? '';
      const rel = dir ? `${dir}/${edit.name}` : edit.name;
      if (exists(abs(ws, rel))) return [];
      writeTree(ws, { [rel]: edit.op === 'addLink' ? { symlink: edit.target } : { dir: true } });
      return [rel];
    }
    case 'chmod': {
      const rel = choose(pathsOf(ws, 'file'));
      if (!rel) return [];
      fs.chmodSync(abs(ws, rel), edit.mode);
      return [rel];
    }
    case 'fileToDir': {
      const rel = choose(pathsOf(ws, 'file'));
      if (!rel) return [];
      fs.unlinkSync(abs(ws, rel));
      writeTree(ws, { [`${rel}/${edit.child}`]: edit.content });
      return [rel];
    }
    case 'dirToFile': {
      const rel = choose(pathsOf(ws, 'dir'));
      if (!rel) return [];
      fs.rmSync(abs(ws, rel), { recursive: true });
      writeTree(ws, { [rel]: edit.content });
      return [rel];
    }
  }
}

// ---- the property ----------------------------------------------------------------------------------------

interface Round {
  edits: Edit[];
  incremental: boolean;
}

const roundArb: fc.Arbitrary<Round> = fc.record({
  edits: fc.array(editArb, { minLength: 0, maxLength: 6 }),
  incremental: fc.boolean(),
});

async function roundTrip(tree: Node, rounds: Round[]): Promise<void> {
  const ws = makeTempDir('prop-ws');
  const store = path.join(makeTempDir('prop-store'), 'store');
  const restoreRoot = makeTempDir('prop-restore');
  try {
    writeTree(ws, toSpec(tree));
    const repo = await openRepo(store);
    const taken: Array<{ snapshot: SnapshotRecord; state: ReadTree; what: string }> = [];
    const first = await snapshotterFor(repo, ws, { excludes: [] }).snapshot();
    taken.push({ snapshot: first.snapshot, state: readTree(ws), what: 'initial full snapshot' });
    for (const [r, round] of rounds.entries()) {
      const touched = round.edits.flatMap((edit) => applyEdit(ws, edit));
      const request = round.incremental ? { paths: touched } : {};
      const result = await snapshotterFor(repo, ws, { excludes: [] }).snapshot(request);
      assert.deepEqual(result.skipped, [], 'nothing should be skipped');
      taken.push({
        snapshot: result.snapshot,
        state: readTree(ws),
        what: `round ${r + 1} (${round.incremental ? `incremental: ${JSON.stringify(touched)}` : 'full'})`,
      });
    }
    for (const [i, { snapshot, state, what }] of taken.entries()) {
      const target = path.join(restoreRoot, `s${i}`);
      const result = await new Restorer(repo).restore(snapshot, { target });
      assert.deepEqual(result.problems, [], `${what}: restore problems`);
      const restored = readTree(target);
      const diff = describeTreeDiff(restored, state);
      assert.equal(diff, '', `${what}: restored tree differs from the workspace at snapshot time:\n${diff}`);
      assert.deepEqual(restored, state, what);
    }
  } finally {
    removeDir(ws);
    removeDir(path.dirname(store));
    removeDir(restoreRoot);
  }
}

describe('round trip (property)', () => {
  it('restoring every snapshot gives back the tree as it was at that snapshot', async function () {
    this.timeout(120_000);
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(dirArb, fc.array(roundArb, { minLength: 1, maxLength: 2 }), (tree, rounds) =>
        roundTrip(tree, rounds),
      ),
      { numRuns: 25, seed, endOnFailure: false }, // by count: a time limit proves less the busier the machine
    );
  });

  it('a known tricky case: names, empty things, type changes, incremental', async () => {
    const tree: Node = {
      kind: 'dir',
      entries: [
        ['😀 é 漢字', { kind: 'file', content: Buffer.alloc(0), mode: 0o755 }],
        ['e\u0301', { kind: 'file', content: Buffer.from('decomposed'), mode: 0o644 }],
        ['\u00e9', { kind: 'file', content: Buffer.from('composed'), mode: 0o644 }],
        ['empty', { kind: 'dir', entries: [] }],
        [
          'd',
          {
            kind: 'dir',
            entries: [
              ['x', { kind: 'link', target: '../empty' }],
              ['f', { kind: 'file', content: Buffer.from([0, 255, 0]), mode: 0o600 }],
            ],
          },
        ],
      ],
    };
    const edits: Edit[] = [
      { op: 'fileToDir', pick: 1, child: 'inner', content: Buffer.from('now a folder') }, // files sorted: '\u00e9', 'd/f', 'e\u0301', '😀…'
      { op: 'dirToFile', pick: 1, content: Buffer.from('was a folder') },
      { op: 'add', pick: 0, newDirs: ['new dir', 'ñ'], name: 'n.bin', content: seededBytes(3000, 1), mode: 0o755 },
      { op: 'delete', pick: 0 },
    ];
    await roundTrip(tree, [
      { edits, incremental: true },
      {
        edits: [
          { op: 'chmod', pick: 0, mode: 0o700 },
          { op: 'addDir', pick: 0, name: ' ' },
        ],
        incremental: true,
      },
    ]);
  });
});
