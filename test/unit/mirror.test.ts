// Mirror: a plain folder kept an exact copy of a snapshot (bytes, modes, symlinks, empty folders) across
// adds, edits, deletes, renames and type changes; unchanged files are neither read nor rewritten; folders
// that are not mirrors, or that overlap the workspace or the store, are refused; an interrupted mirror
// leaves no partial file and the next run finishes it.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MIRROR_STATE, mirror } from '../../src/core/export/mirror';
import type { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { TEMP_MARKER, isTempName } from '../../src/core/storage/atomic';
import { WRITE_OPS, faultyPort } from './helpers/faultyPort';
import {
  describeTreeDiff,
  listAll,
  openRepo,
  readTree,
  runCliCaptured,
  rejectionCode,
  seededBytes,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
  SOAK,
} from './helpers/fixtures';
import type { ReadTree, TreeSpec } from './helpers/fixtures';

const SPEC: TreeSpec = {
  'README.md': '# project\n',
  'src/index.ts': 'export const x = 1;\n',
  'src/lib/util.ts': 'export function f() {}\n',
  'src/lib/deep/more.ts': 'export const more = 2;\n',
  'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho run\n' },
  'secret.key': { mode: 0o600, content: 'k' },
  'data/blob.bin': seededBytes(20_000, 3),
  'data/big.bin': seededBytes(1_500_000, 4), // above the chunking threshold: several blobs
  'data/empty.txt': '',
  'links/to-readme': { symlink: '../README.md' },
  'links/absolute': { symlink: '/etc/hostname' },
  'links/dangling': { symlink: 'nowhere' },
  'empty-dir': { dir: true },
  'becomes-file/inner.txt': 'was in a folder\n',
  'becomes-dir': 'was a file\n',
};

/** Edits of every kind, applied to a workspace written from SPEC. */
function editWorkspace(ws: string): void {
  fs.writeFileSync(path.join(ws, 'README.md'), '# PROJECT\n'); // same size, new content
  fs.appendFileSync(path.join(ws, 'src/index.ts'), 'export const y = 2;\n');
  fs.chmodSync(path.join(ws, 'secret.key'), 0o640); // mode only
  fs.rmSync(path.join(ws, 'data/blob.bin'));
  fs.renameSync(path.join(ws, 'src/lib'), path.join(ws, 'src/library'));
  fs.rmSync(path.join(ws, 'links/dangling'));
  fs.symlinkSync('somewhere-else', path.join(ws, 'links/dangling'));
  fs.rmdirSync(path.join(ws, 'empty-dir'));
  fs.mkdirSync(path.join(ws, 'new-empty/nested'), { recursive: true });
  fs.rmSync(path.join(ws, 'becomes-file'), { recursive: true });
  fs.writeFileSync(path.join(ws, 'becomes-file'), 'now a file\n');
  fs.rmSync(path.join(ws, 'becomes-dir'));
  writeTree(ws, {
    'becomes-dir/child.txt': 'now a folder\n',
    'added/one.txt': 'one\n',
    'added/two.sh': { mode: 0o700, content: 'two\n' },
  });
  const big = fs.readFileSync(path.join(ws, 'data/big.bin'));
  big[700_000] ^= 0xff; // one chunk of a large file changes
  fs.writeFileSync(path.join(ws, 'data/big.bin'), big);
}

function assertMirrors(folder: string, expected: ReadTree, what: string): void {
  const actual = readTree(folder, { ignore: [MIRROR_STATE] });
  const diff = describeTreeDiff(actual, expected);
  assert.equal(diff, '', `${what}: the mirror differs from the snapshot:\n${diff}`);
  assert.deepEqual(actual, expected, what);
}

function tempFilesUnder(folder: string): string[] {
  return listAll(folder).filter((p) => isTempName(path.posix.basename(p)));
}

describe('mirror', () => {
  const temp = useTempDirs();

  interface Setup {
    ws: string;
    store: string;
    repo: Repository;
    snap(): Promise<{ snapshot: SnapshotRecord; state: ReadTree }>;
  }

  async function setup(spec: TreeSpec = SPEC, port?: Parameters<typeof openRepo>[1]): Promise<Setup> {
    const ws = temp.make('ws');
    writeTree(ws, spec);
    const store = temp.fresh('store');
    const repo = await openRepo(store, port);
    const snap = async () => {
      const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      return { snapshot, state: readTree(ws) };
    };
    return { ws, store, repo, snap };
  }

  it('equals each snapshot byte for byte, with modes, symlinks and empty folders, across adds, edits, deletes and renames', async () => {
    const { ws, repo, snap } = await setup();
    const folder = path.join(temp.make('out'), 'mirror'); // created on first use
    const one = await snap();
    const first = await mirror(repo, one.snapshot, folder);
    assert.deepEqual(first.problems, []);
    assert.equal(first.previous, undefined);
    assertMirrors(folder, one.state, 'first mirror');

    editWorkspace(ws);
    const two = await snap();
    const second = await mirror(repo, two.snapshot, folder);
    assert.deepEqual(second.problems, []);
    assert.equal(second.previous, one.snapshot.id);
    assert.ok(second.deleted > 0, 'removed what the snapshot no longer has');
    assertMirrors(folder, two.state, 'after edits');

    // More history: delete a whole tree, rename a file back, add again.
    fs.rmSync(path.join(ws, 'src'), { recursive: true });
    fs.renameSync(path.join(ws, 'added/one.txt'), path.join(ws, 'one-moved.txt'));
    writeTree(ws, { 'src/fresh.ts': 'fresh\n' });
    const three = await snap();
    assertMirrors(folder, (await mirror(repo, three.snapshot, folder), three.state), 'after a deleted tree and a move');

    // Going back to an older snapshot is the same operation.
    assert.deepEqual((await mirror(repo, one.snapshot, folder)).problems, []);
    assertMirrors(folder, one.state, 'back to the first snapshot');
    assert.deepEqual((await mirror(repo, three.snapshot, folder)).problems, []);
    assertMirrors(folder, three.state, 'forward again');
    assert.deepEqual(tempFilesUnder(folder), []);
  });

  it('neither reads nor rewrites files that did not change, and repairs files changed in the mirror', async () => {
    const spy = spyPort();
    const { ws, repo, snap } = await setup(SPEC, { port: spy });
    const folder = temp.make('mirror');
    const one = await snap();
    await mirror(repo, one.snapshot, folder);
    const inode = (rel: string) => fs.lstatSync(path.join(folder, rel)).ino;
    const mtime = (rel: string) => fs.lstatSync(path.join(folder, rel)).mtimeMs;
    const before = {
      readme: inode('README.md'),
      big: inode('data/big.bin'),
      util: inode('src/lib/util.ts'),
      utilTime: mtime('src/lib/util.ts'),
    };

    fs.writeFileSync(path.join(ws, 'src/index.ts'), 'export const x = 2;\n');
    const two = await snap();
    spy.reset();
    const result = await mirror(repo, two.snapshot, folder);
    assertMirrors(folder, two.state, 'after one edit');
    assert.equal(result.written, 1, 'one file written');
    assert.equal(result.deleted, 0);

    const touched = spy
      .callsUnder(folder)
      // The state file is written through a temp file in the folder's root.
      .filter(
        (c) =>
          !path.basename(c.path).startsWith(MIRROR_STATE) &&
          !(path.dirname(c.path) === folder && isTempName(path.basename(c.path))) &&
          c.path !== folder &&
          !(c.op === 'open' && fs.lstatSync(c.path, { throwIfNoEntry: false })?.isDirectory()),
      )
      .filter((c) =>
        [
          'readFile',
          'readFileSync',
          'open',
          'writeNewFileSync',
          'rename',
          'renameSync',
          'unlink',
          'rm',
          'chmod',
          'chmodSync',
          'symlink',
          'mkdir',
        ].includes(c.op),
      )
      .map((c) => `${c.op} ${path.relative(folder, c.path)}`.replace(/\.pb-tmp-[0-9a-z-]+$/, 'index.ts'));
    assert.ok(touched.length > 0, 'the edited file was written (the spy sees the mirror)');
    for (const call of touched)
      assert.match(call, / src\/index\.ts$/, `only the edited file is read or written, got: ${touched.join(', ')}`);
    assert.equal(inode('README.md'), before.readme);
    assert.equal(inode('data/big.bin'), before.big);
    assert.equal(inode('src/lib/util.ts'), before.util);
    assert.equal(mtime('src/lib/util.ts'), before.utilTime);

    // Someone edits or deletes files inside the mirror: the next run puts the snapshot's versions back.
    fs.writeFileSync(path.join(folder, 'README.md'), '# changed in the mirror\n');
    fs.rmSync(path.join(folder, 'src/lib/util.ts'));
    fs.writeFileSync(path.join(folder, 'stray.txt'), 'dropped in the mirror\n');
    const repaired = await mirror(repo, two.snapshot, folder);
    assert.deepEqual(repaired.problems, []);
    assertMirrors(folder, two.state, 'repaired');
  });

  it('refuses a non-empty folder that is not a mirror, a file, and folders overlapping the workspace or the store', async () => {
    const { ws, store, repo, snap } = await setup();
    const { snapshot } = await snap();

    const someone = temp.make('someone');
    writeTree(someone, { 'thesis.tex': 'years of work\n' });
    const refused = await rejectionCode(() => mirror(repo, snapshot, someone));
    assert.equal(refused.code, 'RESTORE_CONFLICT');
    assert.match(refused.message, /not empty and is not a mirror/);
    assert.deepEqual(listAll(someone), ['thesis.tex'], 'nothing written into it');

    const file = path.join(temp.make('file'), 'plain.txt');
    fs.writeFileSync(file, 'x');
    assert.equal((await rejectionCode(() => mirror(repo, snapshot, file))).code, 'RESTORE_CONFLICT');

    const wsBefore = listAll(ws);
    for (const inside of [
      path.join(ws, 'mirror'),
      ws,
      path.join(store, 'mirror'),
      store,
      path.dirname(ws),
      path.dirname(store),
    ]) {
      const { code, message } = await rejectionCode(() => mirror(repo, snapshot, inside));
      assert.equal(code, 'UNSAFE_PATH', `${inside}: ${message}`);
      assert.match(message, /workspace|store/);
    }
    // Through a symlink, too.
    const link = path.join(temp.make('link'), 'to-ws');
    fs.symlinkSync(path.join(ws, 'src'), link);
    assert.equal((await rejectionCode(() => mirror(repo, snapshot, path.join(link, 'mirror')))).code, 'UNSAFE_PATH');
    assert.deepEqual(listAll(ws), wsBefore, 'the workspace is untouched');

    // The CLI says it in one line, exit 1.
    const run = await runCliCaptured(['mirror', 'latest', someone, '--repo', store]);
    assert.equal(run.code, 1);
    assert.equal(run.stderr.length, 1);
    assert.match(run.stderr[0], /not empty and is not a mirror/);
  });

  it('leaves no partial file when the disk fails at any write, and the next run completes', async function () {
    this.timeout(SOAK ? 1_200_000 : 600_000); // every write of a mirror run, failed in turn (both ways in the soak run); generous for a loaded machine
    const { ws, store, repo, snap } = await setup();
    const one = await snap();
    editWorkspace(ws);
    const two = await snap();
    const oldOrNew = (rel: string, value: ReadTree[string]) =>
      [one.state[rel], two.state[rel]].some(
        (v) =>
          v !== undefined &&
          JSON.stringify(v) === JSON.stringify(value) &&
          (!('content' in v) || ('content' in value && v.content.equals(value.content))),
      );

    // A dry run counts the writes a mirror from the first snapshot to the second makes.
    const countFolder = temp.make('count');
    const counting = faultyPort({ ops: [...WRITE_OPS, 'rm'], under: countFolder });
    const countRepo = await openRepo(store, { port: counting });
    await mirror(countRepo, one.snapshot, countFolder);
    counting.counted.length = 0;
    await mirror(countRepo, two.snapshot, countFolder);
    const total = counting.counted.length;
    assert.ok(total > 10, `expected many writes, got ${total}`);

    // A full disk stays full (every later write fails too); an I/O error may hit one write only. Every write
    // fails once, alternating the two kinds; the soak run fails every write both ways.
    const faults = [...Array(total).keys()].flatMap((i) =>
      SOAK ? [[i + 1, true] as const, [i + 1, false] as const] : [[i + 1, i % 2 === 0] as const],
    );
    for (const [failAt, sticky] of faults) {
      const folder = temp.make(`fault-${failAt}`);
      await mirror(repo, one.snapshot, folder);
      const port = faultyPort({
        failAt,
        sticky,
        code: sticky ? 'ENOSPC' : 'EIO',
        ops: [...WRITE_OPS, 'rm'],
        under: folder,
      });
      const faulty = await openRepo(store, { port });
      let outcome = 'returned';
      try {
        const result = await mirror(faulty, two.snapshot, folder);
        if (result.problems.length) outcome = 'problems';
      } catch (error) {
        outcome = (error as { code?: string }).code ?? String(error);
        assert.equal(outcome, sticky ? 'NO_SPACE' : 'IO_ERROR', `failAt ${failAt}: ${(error as Error).message}`);
      }
      assert.notEqual(outcome, 'returned', `failAt ${failAt}: the fault (${port.failed[0]}) must show`);
      assert.deepEqual(tempFilesUnder(folder), [], `failAt ${failAt}: no temp file left`);
      for (const [rel, value] of Object.entries(readTree(folder, { ignore: [MIRROR_STATE] }))) {
        if ('dir' in value) continue;
        assert.ok(oldOrNew(rel, value), `failAt ${failAt}: ${rel} is neither its old nor its new version`);
      }
      JSON.parse(fs.readFileSync(path.join(folder, MIRROR_STATE), 'utf8')); // the state file is whole

      port.heal();
      const retry = await mirror(faulty, two.snapshot, folder);
      assert.deepEqual(retry.problems, [], `failAt ${failAt}: retry`);
      assertMirrors(folder, two.state, `failAt ${failAt}: after the retry`);
      removeQuietly(folder);
    }
  });

  it('stops when cancelled with complete files only, and cleans up after a killed run', async () => {
    const spec: TreeSpec = {};
    for (let i = 0; i < 200; i++) spec[`files/f${String(i).padStart(3, '0')}.txt`] = `file ${i}\n`.repeat(i + 1);
    const { ws, repo, snap } = await setup(spec);
    const one = await snap();
    const folder = temp.make('mirror');
    const controller = new AbortController();
    const cancelled = await rejectionCode(() =>
      mirror(repo, one.snapshot, folder, {
        signal: controller.signal,
        onProgress: (done) => {
          if (done === 50) controller.abort();
        },
      }),
    );
    assert.equal(cancelled.code, 'CANCELLED');
    await new Promise((resolve) => setTimeout(resolve, 50)); // writes already under way finish
    assert.deepEqual(tempFilesUnder(folder), []);
    const partial = readTree(folder, { ignore: [MIRROR_STATE] });
    assert.ok(Object.keys(partial).length < 200, 'stopped early');
    for (const [rel, value] of Object.entries(partial))
      if (!('dir' in value)) assert.deepEqual(value, one.state[rel], rel);
    // A killed process leaves a temp file behind.
    fs.writeFileSync(path.join(folder, `files/f001.txt${TEMP_MARKER}deadbeef0`), 'half');
    fs.writeFileSync(path.join(ws, 'files/f000.txt'), 'changed\n');
    const two = await snap();
    const result = await mirror(repo, two.snapshot, folder);
    assert.deepEqual(result.problems, []);
    assertMirrors(folder, two.state, 'after the cancelled and killed runs');
  });

  it('mirror command: prints what it did, and --json', async () => {
    const { store, snap } = await setup();
    await snap();
    const folder = path.join(temp.make('out'), 'm');
    const first = await runCliCaptured(['mirror', 'latest', folder, '--repo', store]);
    assert.equal(first.code, 0, first.stderr.join('\n'));
    assert.match(first.stdout[0], /^Mirrored snapshot [0-9a-f]{8} .* into .*: .* written, 0 deleted, 0 unchanged\.$/);
    const again = await runCliCaptured(['mirror', 'latest', folder, '--repo', store, '--json']);
    assert.equal(again.code, 0);
    const json = again.json<{
      written: number;
      unchanged: number;
      deleted: number;
      problems: unknown[];
      folder: string;
    }>();
    assert.equal(json.written, 0);
    assert.ok(json.unchanged > 10);
    assert.equal(json.folder, folder);
    assert.equal((await runCliCaptured(['mirror', 'latest', '--repo', store])).code, 2, 'missing folder: usage');
  });
});

function removeQuietly(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
