// Incremental snapshots of paths beneath a symlink (#11.2): the editor's on-save path and `snapshot --path`
// must record exactly what a full scan records, a link as a link and nothing beyond it.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryAt } from '../../src/core/query/browse';
import type { Repository } from '../../src/core/repository/repository';
import { ageTree, openRepo, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

describe('incremental snapshots beneath symlinks (#11.2)', () => {
  const temp = useTempDirs();

  function outsideFolder(): string {
    const outside = temp.make('outside');
    writeTree(outside, { passwd: 'root:x:0:0', 'deep/file': 'secret' });
    return outside;
  }

  /** Links to files and folders, inside and outside the workspace, relative and absolute, dangling, at depth. */
  function links(outside: string): TreeSpec {
    return {
      link: { symlink: outside },
      rel: { symlink: 'sub' },
      filelink: { symlink: 'sub/file.txt' },
      dangling: { symlink: 'nowhere/at/all' },
      'deep/a/b/up': { symlink: '../../../sub' },
      'deep/a/b/out': { symlink: outside },
    };
  }

  const UNDER_LINKS = [
    'link/passwd',
    'link/deep/file',
    'rel/file.txt',
    'filelink/x',
    'dangling/x',
    'deep/a/b/up/file.txt',
    'deep/a/b/out/passwd',
    'deep/a/b/out/deep',
  ];

  async function setup(spec: TreeSpec): Promise<{ ws: string; repo: Repository }> {
    const ws = temp.make('ws');
    writeTree(ws, { 'sub/file.txt': 'inside', 'deep/a/b/keep.txt': 'keep', ...spec });
    ageTree(ws);
    return { ws, repo: await openRepo(temp.fresh('store')) };
  }

  async function assertLinks(repo: Repository, tree: string, outside: string): Promise<void> {
    for (const [rel, target] of [
      ['link', outside],
      ['rel', 'sub'],
      ['filelink', 'sub/file.txt'],
      ['dangling', 'nowhere/at/all'],
      ['deep/a/b/up', '../../../sub'],
      ['deep/a/b/out', outside],
    ]) {
      const entry = await entryAt(repo, tree, rel);
      assert.deepEqual(
        entry && { type: entry.type, target: entry.type === 'symlink' ? entry.target : undefined },
        { type: 'symlink', target },
        rel,
      );
    }
  }

  it('a path beneath a link the parent snapshot holds changes nothing: the link stays a link', async () => {
    const outside = outsideFolder();
    const { ws, repo } = await setup(links(outside));
    const full = await snapshotterFor(repo, ws).snapshot();
    for (const p of [...UNDER_LINKS, path.join(ws, 'link', 'passwd')]) {
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: [p] });
      assert.equal(inc.created, false, `${p} made a snapshot whose tree differs from the full scan's`);
      assert.equal(inc.snapshot.tree, full.snapshot.tree);
    }
    const all = await snapshotterFor(repo, ws).snapshot({
      paths: UNDER_LINKS,
      contents: new Map([['link/passwd', Buffer.from('unsaved')]]),
    });
    assert.equal(all.snapshot.tree, full.snapshot.tree);
    await assertLinks(repo, full.snapshot.tree, outside);
  });

  it('links made since the parent snapshot are recorded as links, exactly as a full scan records them', async () => {
    const outside = outsideFolder();
    const { ws, repo } = await setup({});
    await snapshotterFor(repo, ws).snapshot();
    writeTree(ws, links(outside));
    const inc = await snapshotterFor(repo, ws).snapshot({ paths: UNDER_LINKS });
    assert.equal(inc.created, true);
    await assertLinks(repo, inc.snapshot.tree, outside);
    const full = await snapshotterFor(repo, ws).snapshot();
    assert.equal(full.created, false, 'the full scan found a difference the incremental snapshot missed');
    assert.equal(full.snapshot.tree, inc.snapshot.tree);
  });

  it('a folder replaced by a link, and a link replaced by a folder, come out as a full scan sees them', async () => {
    const outside = outsideFolder();
    const { ws, repo } = await setup({ swap: { symlink: outside }, 'was/a.txt': 'a', 'was/b.txt': 'b' });
    await snapshotterFor(repo, ws).snapshot();
    fs.rmSync(path.join(ws, 'was'), { recursive: true });
    fs.symlinkSync(outside, path.join(ws, 'was'));
    fs.unlinkSync(path.join(ws, 'swap'));
    writeTree(ws, { 'swap/one.txt': '1', 'swap/two.txt': '2', 'swap/in/three.txt': '3' });
    const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['was/passwd', 'swap/one.txt'] });
    const full = await snapshotterFor(repo, ws).snapshot();
    assert.equal(full.created, false, 'the full scan found a difference the incremental snapshot missed');
    assert.equal(full.snapshot.tree, inc.snapshot.tree);
    assert.equal((await entryAt(repo, inc.snapshot.tree, 'was'))?.type, 'symlink');
    assert.equal((await entryAt(repo, inc.snapshot.tree, 'swap/in/three.txt'))?.type, 'file');
  });
});
