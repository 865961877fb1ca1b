// Names at the limits (#11.3): a file name of exactly 255 bytes (ASCII and multi-byte UTF-8) and paths of
// exactly 4095 bytes (Linux's PATH_MAX of 4096, less the NUL) restore, mirror, export and replicate, because
// every temp file we write is a short name of its own in the final file's folder, never `<name>.tmp-...`.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTempName } from '../../src/core/storage/atomic';
import {
  listAll,
  openRepo,
  readTree,
  runCliCaptured,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

const NAME_MAX = 255;
const PATH_MAX = 4095;
const ROOT = 120;

const ASCII_255 = `${'a'.repeat(NAME_MAX - 4)}.txt`;
const UTF8_255 = `${'é'.repeat(127)}x`; // 2 bytes each
const CJK_255 = '日'.repeat(85); // 3 bytes each

/** Folder names, each 1-200 bytes, that with a '/' after each take exactly `budget` bytes (budget >= 2). */
function segments(budget: number, prefix: string): string[] {
  const parts: string[] = [];
  for (let i = 0; budget > 0; i++) {
    const size = budget <= 201 ? budget - 1 : budget - 201 >= 2 ? 200 : 198;
    parts.push(`${prefix}${i}`.padEnd(size, 'd').slice(0, size));
    budget -= size + 1;
  }
  return parts;
}

/** A relative path that makes `root/<path>` exactly PATH_MAX bytes, ending in `leaf`. */
function deepPath(rootBytes: number, leaf: string, prefix: string): string {
  return [...segments(PATH_MAX - rootBytes - 1 - Buffer.byteLength(leaf), prefix), leaf].join('/');
}

/** A folder below `base` whose absolute path is exactly `bytes` long (it does not exist yet). */
function rootOf(base: string, bytes: number): string {
  return path.join(base, ...segments(bytes - Buffer.byteLength(base), 'r'));
}

const SPEC: TreeSpec = {
  [ASCII_255]: 'ascii 255\n',
  [UTF8_255]: 'utf-8 255\n',
  [CJK_255]: 'cjk 255\n',
  [`dir/${ASCII_255}`]: 'nested\n',
  [deepPath(ROOT, ASCII_255, 'a')]: 'deep with a long name\n',
  [deepPath(ROOT, 'short-name.txt', 'b')]: 'deep with a short name\n',
  // Shorter than a temp name: its temp file cannot go beside it at the limit (#11.3, the last 21 bytes).
  [deepPath(ROOT, 'z', 'f')]: 'deep with a one-byte name\n',
};

describe('names at the limits: 255-byte names and 4095-byte paths (#11.3)', () => {
  const temp = useTempDirs();

  async function setup() {
    const ws = rootOf(temp.make('ws'), ROOT);
    fs.mkdirSync(ws, { recursive: true });
    writeTree(ws, SPEC);
    for (const rel of Object.keys(SPEC)) assert.ok(Buffer.byteLength(path.basename(rel)) <= NAME_MAX);
    assert.ok(
      Object.keys(SPEC).some((rel) => Buffer.byteLength(path.join(ws, rel)) === PATH_MAX),
      'a path of exactly 4095 bytes',
    );
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    return { ws, store, repo, snapshot, expected: readTree(ws) };
  }

  it('a file whose name is 255 bytes (ASCII, UTF-8) or whose path is 4095 bytes restores (#11.3)', async () => {
    const { store, snapshot, expected } = await setup();
    const target = rootOf(temp.make('target'), ROOT);
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(readTree(target), expected);
    assert.deepEqual(
      listAll(target).filter((p) => isTempName(path.posix.basename(p))),
      [],
    );
    // Overwriting goes through a temp file too.
    for (const rel of Object.keys(SPEC)) fs.writeFileSync(path.join(target, rel), 'changed\n');
    const again = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
    assert.equal(again.code, 0, again.stderr.join('\n'));
    assert.deepEqual(readTree(target), expected);
  });

  it('mirror writes 255-byte names and 4095-byte paths (#11.3)', async () => {
    const { store, snapshot, expected } = await setup();
    const folder = rootOf(temp.make('mirror'), ROOT);
    const run = await runCliCaptured(['mirror', snapshot.id, folder, '--repo', store]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.deepEqual(readTree(folder, { ignore: ['.project-backup-mirror.json'] }), expected);
  });

  it('export writes an archive whose own name is 255 bytes, or whose path is 4095 bytes (#11.3)', async () => {
    const { store, snapshot } = await setup();
    const folder = temp.make('archives');
    const long = path.join(folder, `${'z'.repeat(NAME_MAX - '.tar.gz'.length)}.tar.gz`);
    const deep = path.join(folder, deepPath(Buffer.byteLength(folder), `${'y'.repeat(40)}.zip`, 'c'));
    // A name shorter than a temp name at the limit: the temp file cannot go beside it (#11.3, the last 21 bytes).
    const deepShort = path.join(folder, deepPath(Buffer.byteLength(folder), 'a.zip', 'e'));
    for (const file of [deep, deepShort]) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      assert.equal(Buffer.byteLength(file), PATH_MAX);
    }
    for (const file of [long, deep, deepShort]) {
      const run = await runCliCaptured(['export', snapshot.id, file, '--repo', store]);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.ok(fs.statSync(file).size > 0, file);
    }
    assert.deepEqual(
      listAll(folder).filter((p) => isTempName(path.posix.basename(p))),
      [],
    );
  });

  it('replication to a folder whose deepest key lands at 4095 bytes copies every key (#11.3)', async () => {
    const { store } = await setup();
    const keys = listAll(store).filter(
      (rel) => fs.statSync(path.join(store, rel)).isFile() && !rel.startsWith('locks/') && !rel.startsWith('cache/'),
    );
    const longest = Math.max(...keys.map((rel) => Buffer.byteLength(rel)));
    const base = temp.make('dest');
    const dest = rootOf(base, PATH_MAX - 1 - longest);
    const run = await runCliCaptured(['copy', '--repo', store, '--to', dest]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    for (const rel of keys)
      assert.deepEqual(fs.readFileSync(path.join(dest, rel)), fs.readFileSync(path.join(store, rel)), rel);
    assert.ok(keys.some((rel) => Buffer.byteLength(path.join(dest, rel)) === PATH_MAX));
  });
});
