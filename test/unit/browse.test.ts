// Reading snapshots without restoring: entryAt, ls (listTree), cat (readFile), history.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryAt, history, listTree, readFile, readWholeFile } from '../../src/core/query/browse';
import type { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { MiB, openRepo, rejectionCode, seededBytes, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

describe('browse', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ ws: string; repo: Repository; snap: SnapshotRecord; big: Buffer }> {
    const ws = temp.make('ws');
    const big = seededBytes(3 * MiB + 123, 99);
    writeTree(ws, {
      'README.md': 'hello\n',
      'src/a.ts': 'a',
      'src/sub/b.ts': 'bb',
      'big.bin': big,
      'empty.txt': '',
      'run.sh': { mode: 0o755, content: 'x' },
      link: { symlink: 'src/a.ts' },
    });
    const repo = await openRepo(temp.fresh('store'));
    const snap = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    return { ws, repo, snap, big };
  }

  it('entryAt finds files, folders and links by path, and the root for an empty path', async () => {
    const { repo, snap } = await setup();
    assert.deepEqual(await entryAt(repo, snap.tree, ''), { type: 'dir', name: '', tree: snap.tree });
    const a = await entryAt(repo, snap.tree, 'src/a.ts');
    assert.equal(a?.type, 'file');
    assert.equal(a?.type === 'file' && a.size, 1);
    assert.equal((await entryAt(repo, snap.tree, './src/sub'))?.type, 'dir');
    assert.deepEqual(await entryAt(repo, snap.tree, 'link'), { type: 'symlink', name: 'link', target: 'src/a.ts' });
    assert.equal(await entryAt(repo, snap.tree, 'src/missing.ts'), undefined);
    assert.equal(await entryAt(repo, snap.tree, 'README.md/below'), undefined);
    assert.equal(await entryAt(repo, snap.tree, 'link/a.ts'), undefined, 'never through a link');
  });

  it('listTree lists one folder, or the whole subtree folders first, or a single file', async () => {
    const { repo, snap } = await setup();
    assert.deepEqual(
      (await listTree(repo, snap)).map((e) => e.path),
      ['README.md', 'big.bin', 'empty.txt', 'link', 'run.sh', 'src'],
    );
    assert.deepEqual(
      (await listTree(repo, snap, 'src')).map((e) => e.path),
      ['src/a.ts', 'src/sub'],
    );
    assert.deepEqual(
      (await listTree(repo, snap, 'src', true)).map((e) => e.path),
      ['src/a.ts', 'src/sub', 'src/sub/b.ts'],
    );
    const one = await listTree(repo, snap, 'run.sh');
    assert.deepEqual(
      one.map((e) => [e.path, e.entry.type, e.entry.type === 'file' && e.entry.mode]),
      [['run.sh', 'file', 0o755]],
    );
    assert.equal((await rejectionCode(() => listTree(repo, snap, 'nope'))).code, 'PATH_NOT_FOUND');
  });

  it('reads files back byte for byte, including a chunked file over 1 MiB and an empty one', async () => {
    const { repo, snap, big } = await setup();
    const bigEntry = await entryAt(repo, snap.tree, 'big.bin');
    assert.ok(bigEntry?.type === 'file' && bigEntry.content.length > 1, 'the big file is stored in several chunks');
    const parts: Buffer[] = [];
    for await (const part of readFile(repo, snap, 'big.bin')) parts.push(part);
    assert.ok(parts.length > 1, 'streamed chunk by chunk');
    assert.ok(Buffer.concat(parts).equals(big));
    assert.equal((await readWholeFile(repo, snap, 'README.md')).toString(), 'hello\n');
    assert.equal((await readWholeFile(repo, snap, 'empty.txt')).length, 0);
    assert.equal((await readWholeFile(repo, snap, 'link')).toString(), 'src/a.ts', 'a link reads as its target');
    assert.equal((await rejectionCode(() => readWholeFile(repo, snap, 'src'))).code, 'PATH_NOT_FOUND');
    assert.equal((await rejectionCode(() => readWholeFile(repo, snap, 'src/zzz'))).code, 'PATH_NOT_FOUND');
  });

  it('history lists the distinct versions of a path, newest first, including its deletion and return', async () => {
    const ws = temp.make('ws');
    const repo = await openRepo(temp.fresh('store'));
    const snaps: SnapshotRecord[] = [];
    const take = async () => {
      const r = await snapshotterFor(repo, ws).snapshot();
      assert.equal(r.created, true);
      snaps.push(r.snapshot);
    };
    writeTree(ws, { 'other.txt': '0' });
    await take(); // 0: f.txt does not exist yet
    writeTree(ws, { 'f.txt': 'v1' });
    await take(); // 1: v1
    writeTree(ws, { 'other.txt': '1' });
    await take(); // 2: f.txt unchanged
    writeTree(ws, { 'f.txt': 'v2' });
    await take(); // 3: v2
    fs.chmodSync(path.join(ws, 'f.txt'), 0o755);
    await take(); // 4: mode change is a version
    fs.unlinkSync(path.join(ws, 'f.txt'));
    await take(); // 5: deleted
    writeTree(ws, { 'other.txt': '2' });
    await take(); // 6: still deleted
    writeTree(ws, { 'f.txt': 'v1' });
    await take(); // 7: back, with old content
    const versions = await history(repo, await repo.listSnapshots(), 'f.txt');
    assert.deepEqual(
      versions.map((v) => [
        snaps.indexOf(v.snapshot),
        v.entry ? (v.entry.type === 'file' ? `${v.entry.size}:${v.entry.mode.toString(8)}` : v.entry.type) : 'deleted',
      ]),
      [
        [7, '2:644'],
        [5, 'deleted'],
        [4, '2:755'],
        [3, '2:644'],
        [1, '2:644'],
      ],
    );
    assert.equal((await readWholeFile(repo, versions[3].snapshot, 'f.txt')).toString(), 'v2');
    assert.deepEqual(await history(repo, await repo.listSnapshots(), 'never.txt'), []);
  });
});
