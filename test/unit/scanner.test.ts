// The scanner walks under the rules, never follows symlinks, never enters an excluded folder, and reports
// what it skips. Checked directly and through full snapshots.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listTree } from '../../src/core/query/browse';
import { Rules } from '../../src/core/scan/rules';
import { Scanner } from '../../src/core/scan/scanner';
import type { ScannedEntry } from '../../src/core/scan/scanner';
import { nodeFs } from '../../src/core/storage/fsPort';
import type { FsPort } from '../../src/core/storage/fsPort';
import { contentReadsUnder, openRepo, snapshotterFor, spyPort, useTempDirs, writeTree } from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

async function walkAll(
  root: string,
  rules: Rules,
  port: FsPort = nodeFs,
  maxFileSize?: number,
): Promise<ScannedEntry[]> {
  const out: ScannedEntry[] = [];
  for await (const entry of new Scanner(root, { rules, maxFileSize }, port).walk()) out.push(entry);
  return out;
}

async function pathsInSnapshot(
  repo: Awaited<ReturnType<typeof openRepo>>,
  snapshot: Parameters<typeof listTree>[1],
): Promise<string[]> {
  return (await listTree(repo, snapshot, '', true)).map((e) => e.path).sort();
}

/** A folder with many entries, to make "never listed" meaningful. */
function hugeFolder(count: number): TreeSpec {
  const spec: TreeSpec = {};
  for (let i = 0; i < count; i++) spec[`f${i}/deep/x${i}.js`] = `module.exports = ${i};`;
  return spec;
}

describe('Scanner', () => {
  const temp = useTempDirs();

  it('walks depth first, sorted, with kinds, and leaves out the default excludes', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'b.txt': 'b',
      'a/z.txt': 'z',
      'a/link': { symlink: 'z.txt' },
      'node_modules/dep/index.js': 'x',
      '.git/HEAD': 'ref: refs/heads/main',
      'a/.DS_Store': 'junk',
      empty: { dir: true },
    });
    const entries = await walkAll(ws, new Rules());
    assert.deepEqual(
      entries.map((e) => `${e.kind}:${e.relPath}`),
      ['dir:a', 'symlink:a/link', 'file:a/z.txt', 'file:b.txt', 'dir:empty'],
    );
  });

  it("leaves out our own temp files (a snapshot during a restore into the workspace stored a restore's .pb-tmp- file)", async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'src/.pb-tmp-1a2b-x7y8z9': 'half of a file a restore is writing',
      'src/.pb-tmp-notes.txt': 'a user file that only looks like one',
      'src/a.txt': 'a',
    });
    const entries = await walkAll(ws, new Rules());
    assert.deepEqual(
      entries.map((e) => e.relPath),
      ['src', 'src/.pb-tmp-notes.txt', 'src/a.txt'],
    );
  });

  it('never lists an excluded folder, however big (spy on every directory read and stat)', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'src/a.ts': 'a',
      ...Object.fromEntries(Object.entries(hugeFolder(50)).map(([k, v]) => [`node_modules/${k}`, v])),
    });
    writeTree(ws, Object.fromEntries(Object.entries(hugeFolder(20)).map(([k, v]) => [`src/generated/${k}`, v])));
    const spy = spyPort();
    const entries = await walkAll(ws, new Rules({ excludes: ['node_modules', 'src/generated'] }), spy);
    assert.deepEqual(
      entries.map((e) => e.relPath),
      ['src', 'src/a.ts'],
    );
    assert.deepEqual(spy.callsUnder(path.join(ws, 'node_modules')), [], 'nothing under node_modules was touched');
    assert.deepEqual(spy.callsUnder(path.join(ws, 'src', 'generated')), [], 'nothing under src/generated was touched');
    assert.ok(spy.callsUnder(path.join(ws, 'src')).length > 0, 'the spy does see the folders that are walked');
  });

  it('a full snapshot never reads or lists inside an excluded folder', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'keep.txt': 'k',
      ...Object.fromEntries(Object.entries(hugeFolder(30)).map(([k, v]) => [`node_modules/${k}`, v])),
    });
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const result = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(await pathsInSnapshot(repo, result.snapshot), ['keep.txt']);
    assert.deepEqual(spy.callsUnder(path.join(ws, 'node_modules')), []);
  });

  it('honours .gitignore files when asked: nested files, negation, ignored folders never entered', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      '.gitignore': '*.log\n!keep.log\ncache/\n',
      'a.log': 'x',
      'keep.log': 'k',
      'cache/big.bin': 'x',
      'pkg/.gitignore': '!important.log\n/local.txt\n',
      'pkg/important.log': 'i',
      'pkg/other.log': 'o',
      'pkg/local.txt': 'l',
      'pkg/sub/local.txt': 's',
      'src/main.ts': 'm',
    });
    const spy = spyPort();
    const entries = await walkAll(ws, new Rules({ excludes: [], gitignore: true }), spy);
    assert.deepEqual(
      entries
        .filter((e) => e.kind === 'file')
        .map((e) => e.relPath)
        .sort(),
      ['.gitignore', 'keep.log', 'pkg/.gitignore', 'pkg/important.log', 'pkg/sub/local.txt', 'src/main.ts'],
    );
    assert.deepEqual(spy.callsUnder(path.join(ws, 'cache')), []);
    // Without gitignore the same tree is taken whole.
    const all = await walkAll(ws, new Rules({ excludes: [] }));
    assert.ok(all.some((e) => e.relPath === 'a.log') && all.some((e) => e.relPath === 'cache/big.bin'));
  });

  it('full and incremental snapshots agree on what .gitignore files leave out', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      '.gitignore': '*.log\n!keep.log\ndist/\n',
      'keep.log': 'k',
      'src/a.ts': 'a',
      'src/.gitignore': 'gen/\n!special.log\n',
      'src/special.log': 's',
    });
    const repo = await openRepo(temp.fresh('store'));
    const snapshotter = () => snapshotterFor(repo, ws, { gitignore: true });
    const first = await snapshotter().snapshot();
    assert.deepEqual(await pathsInSnapshot(repo, first.snapshot), [
      '.gitignore',
      'keep.log',
      'src',
      'src/.gitignore',
      'src/a.ts',
      'src/special.log',
    ]);
    writeTree(ws, { 'debug.log': 'd', 'dist/out.js': 'o', 'src/gen/x.ts': 'x', 'src/other.log': 'o', 'src/b.ts': 'b' });
    const inc = await snapshotter().snapshot({
      paths: ['debug.log', 'dist/out.js', 'src/gen/x.ts', 'src/other.log', 'src/b.ts'],
    });
    assert.deepEqual(
      inc.changes.map((c) => `${c.kind} ${c.path}`),
      ['added src/b.ts'],
    );
    const full = await snapshotter().snapshot();
    assert.equal(full.created, false, `a full scan disagrees: ${full.changes.map((c) => c.path).join(', ')}`);
  });

  it('isExcludedPath checks every ancestor and the .gitignore files above the path', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      '.gitignore': 'out/\n',
      'pkg/.gitignore': '*.gen.ts\n',
      'pkg/a.gen.ts': '',
      'pkg/a.ts': '',
      'out/x.js': '',
    });
    const scanner = new Scanner(ws, { rules: new Rules({ gitignore: true }) }, nodeFs);
    assert.equal(await scanner.isExcludedPath('node_modules/x.js', false), true);
    assert.equal(await scanner.isExcludedPath('a/node_modules/b/c.js', false), true);
    assert.equal(await scanner.isExcludedPath('out/x.js', false), true);
    assert.equal(await scanner.isExcludedPath('pkg/a.gen.ts', false), true);
    assert.equal(await scanner.isExcludedPath('pkg/a.ts', false), false);
    assert.equal(
      await scanner.isExcludedPath('a.gen.ts', false),
      false,
      'the nested .gitignore does not apply above its folder',
    );
  });

  it('skips files over the maximum size and reports them, in the scan and in the snapshot', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'small.txt': 'x'.repeat(100),
      'big.bin': Buffer.alloc(5000, 1),
      'sub/big2.bin': Buffer.alloc(1001, 2),
      'sub/ok.bin': Buffer.alloc(1000, 3),
    });
    const listing = await new Scanner(ws, { rules: new Rules(), maxFileSize: 1000 }, nodeFs).list('', []);
    assert.deepEqual(
      listing.entries.map((e) => e.relPath),
      ['small.txt', 'sub'],
    );
    assert.equal(listing.skipped.length, 1);
    assert.equal(listing.skipped[0].path, 'big.bin');
    assert.match(listing.skipped[0].reason, /larger than the maximum file size/);

    const repo = await openRepo(temp.fresh('store'));
    const result = await snapshotterFor(repo, ws, { maxFileSize: 1000 }).snapshot();
    assert.deepEqual(await pathsInSnapshot(repo, result.snapshot), ['small.txt', 'sub', 'sub/ok.bin']);
    assert.deepEqual(result.skipped.map((s) => s.path).sort(), ['big.bin', 'sub/big2.bin']);
    assert.equal(result.snapshot.stats.skipped, 2);
    assert.deepEqual(result.snapshot.skipped?.map((s) => s.path).sort(), ['big.bin', 'sub/big2.bin']);
  });

  it('stores symlinks as links and never follows them, even to a folder outside the workspace', async () => {
    const ws = temp.make('ws');
    const outside = temp.make('outside');
    writeTree(outside, { 'secret.txt': 'do not back me up', 'nested/more.txt': 'nor me' });
    writeTree(ws, {
      'a.txt': 'a',
      'to-outside': { symlink: outside },
      'to-secret': { symlink: path.join(outside, 'secret.txt') },
      dangling: { symlink: 'does/not/exist' },
      self: { symlink: '.' },
    });
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const result = await snapshotterFor(repo, ws).snapshot();
    const listed = await listTree(repo, result.snapshot, '', true);
    assert.deepEqual(
      listed.map((e) => [e.path, e.entry.type, e.entry.type === 'symlink' ? e.entry.target : '']),
      [
        ['a.txt', 'file', ''],
        ['dangling', 'symlink', 'does/not/exist'],
        ['self', 'symlink', '.'],
        ['to-outside', 'symlink', outside],
        ['to-secret', 'symlink', path.join(outside, 'secret.txt')],
      ],
    );
    assert.equal(result.snapshot.stats.symlinks, 4);
    assert.deepEqual(spy.callsUnder(outside), [], 'nothing outside the workspace was touched');
    assert.deepEqual(spy.callsUnder(path.join(ws, 'to-outside'), 'readdir', 'readdirSync', 'readFile', 'open'), []);
    assert.deepEqual(contentReadsUnder(spy, path.join(ws, 'to-secret')), []);
  });

  it('leaves out a store that lives inside the workspace, automatically', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', 'src/b.ts': 'b' });
    const repo = await openRepo(path.join(ws, '.backup-store'));
    const first = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(await pathsInSnapshot(repo, first.snapshot), ['a.txt', 'src', 'src/b.ts']);
    // The store grew (packs, index, record), but that is not a change of the workspace.
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.equal(second.created, false);
    assert.equal(second.snapshot.id, first.snapshot.id);
    // Nor can a path inside the store be snapshotted on purpose.
    const byPath = await snapshotterFor(repo, ws).snapshot({ paths: [path.join(ws, '.backup-store', 'config')] });
    assert.equal(byPath.created, false);
  });

  it('leaves out the store inside the workspace also when the workspace is given by a symlinked path', async () => {
    const real = temp.make('ws');
    writeTree(real, { 'a.txt': 'a' });
    const links = temp.make('links');
    const alias = path.join(links, 'ws-alias');
    fs.symlinkSync(real, alias);
    // The store is named by its real path, the workspace by its alias (as on macOS, where /tmp is /private/tmp).
    const repo = await openRepo(path.join(real, '.store'));
    const result = await snapshotterFor(repo, alias).snapshot();
    const paths = await pathsInSnapshot(repo, result.snapshot);
    const leaked = paths.filter((p) => p.startsWith('.store'));
    assert.deepEqual(leaked.slice(0, 3), [], `the store was backed up into itself (${leaked.length} paths)`);
    assert.deepEqual(paths, ['a.txt']);
  });

  it('completes a walk when a folder cannot be read, reporting it (fault injected: tests run as root)', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', 'locked/secret.txt': 's', 'open/b.txt': 'b' });
    const lockedDir = path.join(ws, 'locked');
    const spy = spyPort({
      readdirSync: (base, p) => {
        if (p === lockedDir)
          throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
        return base.readdirSync(p);
      },
    });
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const result = await snapshotterFor(repo, ws).snapshot();
    const paths = await pathsInSnapshot(repo, result.snapshot);
    assert.ok(paths.includes('a.txt') && paths.includes('open/b.txt'), paths.join(', '));
    assert.ok(!paths.includes('locked/secret.txt'));
    assert.deepEqual(
      result.skipped.map((s) => s.path),
      ['locked'],
    );
    assert.match(result.skipped[0].reason, /cannot be read.*EACCES/);
  });

  it('a folder that cannot be read this time keeps its previous content instead of being recorded as emptied', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', 'locked/secret.txt': 's' });
    const lockedDir = path.join(ws, 'locked');
    let refuse = false;
    const spy = spyPort({
      readdirSync: (base, p) => {
        if (refuse && p === lockedDir)
          throw Object.assign(new Error(`EACCES: permission denied, scandir '${p}'`), { code: 'EACCES' });
        return base.readdirSync(p);
      },
    });
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const first = await snapshotterFor(repo, ws).snapshot();
    fs.writeFileSync(path.join(ws, 'a.txt'), 'changed');
    refuse = true;
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(
      second.skipped.map((s) => s.path),
      ['locked'],
    );
    assert.deepEqual(
      await pathsInSnapshot(repo, second.snapshot),
      await pathsInSnapshot(repo, first.snapshot),
      'locked/secret.txt was not deleted, only unreadable',
    );
    assert.deepEqual(
      second.changes.map((c) => `${c.kind} ${c.path}`),
      ['modified a.txt'],
    );
  });

  it('reports special files (a FIFO) instead of reading them', async function () {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a' });
    try {
      execFileSync('mkfifo', [path.join(ws, 'pipe')]);
    } catch {
      this.skip(); // no mkfifo on this system
    }
    const repo = await openRepo(temp.fresh('store'));
    const result = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(await pathsInSnapshot(repo, result.snapshot), ['a.txt']);
    assert.deepEqual(
      result.skipped.map((s) => s.path),
      ['pipe'],
    );
    assert.match(result.skipped[0].reason, /not a regular file/);
  });
});
