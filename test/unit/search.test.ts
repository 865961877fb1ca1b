// Searching history: find (globs over every path ever stored, deleted ones included, one result per
// distinct version) and grep (text in every stored version, each distinct content read once, however many
// snapshots hold it). The scaled test counts content reads on 200 snapshots of a 2,000-file workspace.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTurnBudget } from '../../src/core/eventLoop';
import { findPaths, grepContent } from '../../src/core/query/search';
import { sha256Hex } from '../../src/core/repository/codec';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import {
  damageBlob,
  openRepo,
  rejectionCode,
  runCliCaptured,
  snapshotterFor,
  turnCounter,
  useTempDirs,
  writeTree,
  xorshift32,
} from './helpers/fixtures';

/** A clock a minute apart per call, so snapshot order is the order they were taken in. */
function steppingClock(): () => Date {
  let t = Date.parse('2030-01-01T00:00:00.000Z');
  return () => new Date((t += 60_000));
}

/** Counts every blob read of a repository, by id (trees and file content alike). */
function countLoads(repo: Repository): string[] {
  const calls: string[] = [];
  const original = repo.loadBlob.bind(repo);
  repo.loadBlob = async (id: string) => {
    calls.push(id);
    return original(id);
  };
  return calls;
}

const A1 = 'alpha\nTODO one\n';
const A2 = 'alpha\r\nTODO two\r\nbeta\n';
const LEGACY = 'legacy code\n  // TODO remove\n';
const LOWER = 'a todo in lower case\n';

describe('search', () => {
  const temp = useTempDirs();

  /** Four snapshots: edits, a deleted folder, a rename, and a file going back to an earlier content. */
  async function small() {
    const ws = temp.make('ws');
    const store = temp.fresh('store');
    const repo = await openRepo(store, { now: steppingClock() });
    const snap = async () => (await snapshotterFor(repo, ws).snapshot()).snapshot;
    writeTree(ws, {
      'src/a.ts': A1,
      'src/old/legacy.ts': LEGACY,
      'docs/readme.md': 'Hello World\n',
      'bin/data.bin': Buffer.concat([Buffer.from('TODO'), Buffer.alloc(16), Buffer.from('TODO')]),
      'link.ts': { symlink: 'src/a.ts' },
    });
    const s1 = await snap();
    writeTree(ws, { 'src/a.ts': A2, 'src/b.ts': LOWER });
    fs.rmSync(path.join(ws, 'src/old'), { recursive: true });
    const s2 = await snap();
    fs.renameSync(path.join(ws, 'src/b.ts'), path.join(ws, 'src/c.ts'));
    writeTree(ws, { 'docs/readme.md': 'Hello again\n' });
    const s3 = await snap();
    writeTree(ws, { 'src/a.ts': A1 });
    const s4 = await snap();
    const all = [s1, s2, s3, s4];
    return { ws, store, repo, all, s1, s2, s3, s4 };
  }

  const ids = (snapshots: readonly SnapshotRecord[]) => snapshots.map((s) => s.id);

  describe('findPaths', () => {
    it('finds every version of matching paths, deleted ones included, grouped by content, newest first', async () => {
      const { repo, all, s1, s2, s3, s4 } = await small();
      // Snapshots given in any order, with a repeat: the answer is the same.
      const found = await findPaths(repo, [s3, s1, s4, s2, s1], '*.ts');
      assert.deepEqual(
        found.map((m) => [m.path, m.entry.type === 'file' ? m.entry.size : m.entry.target, ids(m.snapshots)]),
        [
          ['link.ts', 'src/a.ts', ids([s4, s3, s2, s1])],
          ['src/a.ts', A1.length, ids([s4, s1])],
          ['src/c.ts', LOWER.length, ids([s4, s3])],
          ['src/a.ts', A2.length, ids([s3, s2])],
          ['src/b.ts', LOWER.length, ids([s2])],
          ['src/old/legacy.ts', LEGACY.length, ids([s1])],
        ],
      );
      const paths = async (glob: string) => (await findPaths(repo, all, glob)).map((m) => m.path);
      assert.deepEqual(
        await paths('src/*.ts'),
        ['src/a.ts', 'src/c.ts', 'src/a.ts', 'src/b.ts'],
        'a slash matches paths; * stays in one folder',
      );
      assert.deepEqual(await paths('legacy.ts'), ['src/old/legacy.ts'], 'a name at any depth');
      assert.deepEqual(await paths('src/old'), ['src/old/legacy.ts'], 'files in a matching folder');
      assert.deepEqual(await paths('/docs/*.md'), ['docs/readme.md', 'docs/readme.md']);
      assert.deepEqual(await paths('*.nothing'), []);
      assert.equal((await paths('**')).length, 9, 'every version of every file and link');
      assert.equal((await rejectionCode(() => findPaths(repo, all, '  '))).code, 'USAGE');
      assert.deepEqual(await findPaths(repo, [], '*'), []);
    });

    it('visits each distinct tree once', async () => {
      const { store, all } = await small();
      const cold = await Repository.open(store);
      const loads = countLoads(cold);
      await findPaths(cold, all, '*');
      assert.equal(new Set(loads).size, loads.length, 'no tree loaded twice');
    });
  });

  describe('grepContent', () => {
    it('finds lines in every stored version, deleted files included; skips binary and large contents', async () => {
      const { store, all, s1, s2, s3, s4 } = await small();
      const repo = await Repository.open(store);
      const loads = countLoads(repo);
      const result = await grepContent(repo, all, 'TODO');
      assert.deepEqual(
        result.matches.map((m) => [m.path, m.line, m.text, ids(m.snapshots)]),
        [
          ['src/a.ts', 2, 'TODO one', ids([s4, s1])],
          ['src/a.ts', 2, 'TODO two', ids([s3, s2])],
          ['src/old/legacy.ts', 2, '  // TODO remove', ids([s1])],
        ],
      );
      // a.ts twice, legacy, readme twice, b (= c), data.bin: seven contents, each read once.
      assert.equal(result.contentsRead, 7);
      assert.equal(result.binarySkipped, 1);
      assert.equal(result.truncated, false);
      const contentLoads = loads.filter((id) =>
        [A1, A2, LEGACY, LOWER, 'Hello World\n', 'Hello again\n'].some((text) => sha256Hex(text) === id),
      );
      assert.equal(contentLoads.length, 6, 'each text content read once');

      const loose = await grepContent(repo, all, 'todo', { ignoreCase: true });
      assert.deepEqual(
        loose.matches.map((m) => [m.path, m.line, ids(m.snapshots)]),
        [
          ['src/a.ts', 2, ids([s4, s1])],
          ['src/c.ts', 1, ids([s4, s3])],
          ['src/a.ts', 2, ids([s3, s2])],
          ['src/b.ts', 1, ids([s2])],
          ['src/old/legacy.ts', 2, ids([s1])],
        ],
      );
      const first = await grepContent(repo, all, 'todo', { ignoreCase: true, maxResults: 2 });
      assert.deepEqual(
        first.matches.map((m) => m.path),
        ['src/a.ts', 'src/c.ts'],
        'the newest matches',
      );
      assert.equal(first.truncated, true);

      const none = await grepContent(repo, all, 'TODO', { maxFileSize: 5 });
      assert.deepEqual(none.matches, []);
      assert.equal(none.largeSkipped, 7);
      assert.equal(none.contentsRead, 0);
      assert.equal((await rejectionCode(() => grepContent(repo, all, ''))).code, 'USAGE');
    });

    it('goes on past a damaged content and names it', async () => {
      const { ws, store, repo: build, all } = await small();
      // Large enough to be stored on its own, not in a bundle shared with trees and other files.
      const big = `${'filler line\n'.repeat(4000)}TODO in a big file\n`;
      writeTree(ws, { 'big.txt': big });
      const last = (await snapshotterFor(build, ws).snapshot()).snapshot;
      const repo = await Repository.open(store);
      damageBlob(repo, sha256Hex(big));
      const problems: string[] = [];
      const result = await grepContent(repo, [...all, last], 'TODO', { onProblem: (p) => problems.push(p) });
      assert.deepEqual(problems, ['big.txt']);
      assert.deepEqual(
        result.matches.map((m) => m.text),
        ['TODO one', 'TODO two', '  // TODO remove'],
      );
    });
  });

  describe('at scale', () => {
    it('grep lets the loop turn between contents read from a cached bundle (it held the host 290 ms at 200,000 files)', async () => {
      // 3,000 small files in one folder land in a few bundles: once a bundle is cached, its blobs come back
      // on microtasks alone, and a read loop that never asked for a turn read them all in one.
      const ws = temp.make('ws');
      const spec: Record<string, string> = {};
      for (let f = 0; f < 3000; f++) spec[`flat/f${f}.txt`] = `file ${f}\n`;
      writeTree(ws, spec);
      const repo = await openRepo(temp.fresh('store'));
      await snapshotterFor(repo, ws).snapshot();
      const all = await repo.listSnapshots();
      const loop = turnCounter();
      const perTurn = new Map<number, number>();
      const original = repo.loadBlob.bind(repo);
      repo.loadBlob = (id: string) => {
        perTurn.set(loop.turns(), (perTurn.get(loop.turns()) ?? 0) + 1);
        return original(id);
      };
      const restore = setTurnBudget(0);
      let result: Awaited<ReturnType<typeof grepContent>>;
      try {
        result = await grepContent(repo, all, 'file 2999');
      } finally {
        loop.stop();
        restore();
      }
      assert.equal(result.contentsRead, 3000);
      assert.deepEqual(
        result.matches.map((m) => m.path),
        ['flat/f2999.txt'],
      );
      const most = Math.max(...perTurn.values());
      assert.ok(most <= 20, `${most} blobs were read in one turn of the event loop`);
    });

    it('reads each distinct text content once across 200 snapshots of 2,000 files', async function () {
      this.timeout(120_000);
      const ws = temp.make('ws');
      const store = temp.fresh('store');
      const build = await openRepo(store, { now: steppingClock() });
      const files: string[] = [];
      const spec: Record<string, string> = {};
      const texts = new Set<string>();
      for (let p = 0; p < 20; p++) {
        for (let m = 0; m < 5; m++) {
          for (let f = 0; f < 20; f++) {
            const rel = `pkg${p}/src/mod${m}/file${f}.ts`;
            files.push(rel);
            // Every twentieth file is the same boilerplate: one content under many paths, read once.
            spec[rel] =
              f % 20 === 0 ? '// generated: do not edit\n' : `// ${rel}\nexport const value = ${files.length};\n`;
            texts.add(spec[rel]);
          }
        }
      }
      writeTree(ws, spec);
      const snapshotter = snapshotterFor(build, ws);
      const snapshots: SnapshotRecord[] = [(await snapshotter.snapshot()).snapshot];
      const next = xorshift32(7);
      let needleAt: { rel: string; version: number } | undefined;
      for (let v = 1; v < 200; v++) {
        const touched = new Set<string>();
        while (touched.size < 3) touched.add(files[next() % files.length]);
        for (const rel of touched) {
          const marker = v === 120 && !needleAt ? 'needle-in-history' : 'plain';
          if (marker !== 'plain') needleAt = { rel, version: v };
          const text = `// ${rel}\nexport const value = ${v};\n// ${marker} ${v}\n`;
          fs.writeFileSync(path.join(ws, rel), text);
          texts.add(text);
        }
        snapshots.push((await snapshotter.snapshot({ paths: [...touched] })).snapshot);
      }
      assert.equal(snapshots.length, 200);
      assert.equal(texts.size, 1900 + 1 + 199 * 3);

      const repo = await Repository.open(store); // cold: nothing cached
      const loads = countLoads(repo);
      const started = Date.now();
      const result = await grepContent(repo, snapshots, 'needle-in-history');
      const elapsed = Date.now() - started;
      const textIds = new Set([...texts].map((t) => sha256Hex(t)));
      const contentReads = loads.filter((id) => textIds.has(id));
      assert.equal(contentReads.length, texts.size, 'content reads = distinct text contents, not snapshots × files');
      assert.equal(new Set(loads).size, loads.length, 'no blob, tree or content, read twice');
      assert.equal(result.contentsRead, texts.size);
      // 141 folders at first, then at most a root and three folders on each of three paths per snapshot.
      assert.ok(
        loads.length - contentReads.length <= 141 + 199 * 10,
        `trees read: ${loads.length - contentReads.length}`,
      );
      assert.ok(needleAt);
      assert.equal(result.matches.length, 1);
      const match = result.matches[0];
      assert.equal(match.path, needleAt.rel);
      assert.equal(match.line, 3);
      // It holds from the snapshot that wrote it until the file was touched again (or the end).
      assert.equal(match.snapshots[match.snapshots.length - 1].id, snapshots[needleAt.version].id);
      assert.ok(elapsed < 20_000, `grep took ${elapsed} ms`);

      const findStarted = Date.now();
      const found = await findPaths(repo, snapshots, 'pkg3/src/mod1/*');
      assert.equal(new Set(found.map((m) => m.path)).size, 20);
      assert.ok(found.every((m) => m.path.startsWith('pkg3/src/mod1/')));
      assert.equal(
        found.reduce((n, m) => n + m.snapshots.length, 0),
        20 * 200,
        'every (snapshot, path) accounted for once',
      );
      assert.ok(Date.now() - findStarted < 10_000);
    });
  });

  describe('find and grep commands', () => {
    it('print snapshot, time and path (grep: line and text), and --json', async () => {
      const { ws, store, s1, s4 } = await small();
      const find = await runCliCaptured(['find', 'legacy*', '--repo', store, '--workspace', ws]);
      assert.equal(find.code, 0, find.stderr.join('\n'));
      assert.match(
        find.stdout[0],
        new RegExp(`^${s1.id.slice(0, 8)}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  src/old/legacy\\.ts$`),
      );
      const findJson = (await runCliCaptured(['find', 'src/a.ts', '--repo', store, '--json'])).json<
        Array<{ path: string; snapshots: Array<{ id: string }> }>
      >();
      assert.deepEqual(
        findJson.map((m) => m.snapshots.length),
        [2, 2],
      );
      assert.equal(findJson[0].snapshots[0].id, s4.id);

      const grep = await runCliCaptured(['grep', 'todo', '--repo', store, '--ignore-case']);
      assert.equal(grep.code, 0, grep.stderr.join('\n'));
      assert.match(grep.stdout[0], new RegExp(`^${s4.id.slice(0, 8)} \\+1  \\S+ \\S+  src/a\\.ts:2: TODO one$`));
      assert.match(grep.stdout[grep.stdout.length - 1], /^5 matches in 4 files/);
      const grepJson = (await runCliCaptured(['grep', 'TODO', '--repo', store, '--json'])).json<{
        matches: Array<{ path: string; line: number; text: string }>;
        contentsRead: number;
      }>();
      assert.deepEqual(
        grepJson.matches.map((m) => `${m.path}:${m.line}:${m.text}`),
        ['src/a.ts:2:TODO one', 'src/a.ts:2:TODO two', 'src/old/legacy.ts:2:  // TODO remove'],
      );
      const other = temp.make('other');
      const none = await runCliCaptured(['grep', 'TODO', '--repo', store, '--workspace', other]);
      assert.equal(none.code, 0);
      assert.match(none.stdout[0], /^No matches in 0 snapshots/);
      assert.equal((await runCliCaptured(['grep', '--repo', store])).code, 2);
      assert.equal((await runCliCaptured(['find', 'a', 'b', '--repo', store])).code, 2);
    });
  });
});
