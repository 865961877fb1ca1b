// Differences between snapshots: added, modified, deleted; folders whole; never opening equal subtrees.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countChanges, diffTrees } from '../../src/core/query/diff';
import type { Change } from '../../src/core/query/diff';
import { openRepo, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

function show(changes: readonly Change[]): string[] {
  return changes.map((c) => `${c.kind} ${c.path}${(c.after ?? c.before)?.type === 'dir' ? '/' : ''}`);
}

describe('diffTrees', () => {
  const temp = useTempDirs();

  it('lists added, modified and deleted files, and whole folders, between two snapshots', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'keep.txt': 'same',
      'edit.txt': 'v1',
      'mode.sh': 'x',
      'gone.txt': 'bye',
      'old/a.txt': 'a',
      'old/deep/b.txt': 'b',
      flip: 'a file that becomes a folder',
      link: { symlink: 'keep.txt' },
      'untouched/x.txt': 'x',
    });
    const repo = await openRepo(temp.fresh('store'));
    const s1 = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    fs.writeFileSync(path.join(ws, 'edit.txt'), 'v2');
    fs.chmodSync(path.join(ws, 'mode.sh'), 0o755);
    fs.unlinkSync(path.join(ws, 'gone.txt'));
    fs.rmSync(path.join(ws, 'old'), { recursive: true });
    fs.unlinkSync(path.join(ws, 'flip'));
    fs.unlinkSync(path.join(ws, 'link'));
    writeTree(ws, { 'flip/inside.txt': 'i', 'new/n.txt': 'n', 'added.txt': '+', link: { symlink: 'edit.txt' } });
    const s2 = (await snapshotterFor(repo, ws).snapshot()).snapshot;

    const changes = await diffTrees(repo, s1.tree, s2.tree);
    assert.deepEqual(show(changes), [
      'added added.txt',
      'modified edit.txt',
      'deleted flip',
      'added flip/',
      'added flip/inside.txt',
      'deleted gone.txt',
      'modified link',
      'modified mode.sh',
      'added new/',
      'added new/n.txt',
      'deleted old/',
      'deleted old/a.txt',
      'deleted old/deep/',
      'deleted old/deep/b.txt',
    ]);
    const edit = changes.find((c) => c.path === 'edit.txt')!;
    assert.equal(edit.before?.type === 'file' && edit.before.size, 2);
    assert.ok(edit.before && edit.after && JSON.stringify(edit.before) !== JSON.stringify(edit.after));
    assert.deepEqual(countChanges(changes), { filesNew: 3, filesChanged: 3, filesDeleted: 4 });

    // Reversed, every addition is a deletion and the other way round.
    const back = await diffTrees(repo, s2.tree, s1.tree);
    const flipKind = (line: string) =>
      line
        .replace(/^added /, 'X ')
        .replace(/^deleted /, 'added ')
        .replace(/^X /, 'deleted ');
    assert.deepEqual(show(back).sort(), show(changes).map(flipKind).sort());
    // Against nothing: everything is added.
    assert.deepEqual(
      show(await diffTrees(repo, undefined, s1.tree)).filter((l) => !l.startsWith('added')),
      [],
    );
  });

  it('is empty for the same tree, and never opens subtrees with equal ids', async () => {
    const repo = await openRepo(temp.fresh('store'));
    const missing = 'e'.repeat(64); // not in the store: opening it would throw OBJECT_MISSING
    assert.deepEqual(await diffTrees(repo, missing, missing), []);
    const w = repo.newWriter();
    const a = await w.addTree([
      { type: 'dir', name: 'big', tree: missing },
      { type: 'symlink', name: 'l', target: '1' },
    ]);
    const b = await w.addTree([
      { type: 'dir', name: 'big', tree: missing },
      { type: 'symlink', name: 'l', target: '2' },
    ]);
    await w.finish();
    assert.deepEqual(show(await diffTrees(repo, a, b)), ['modified l']);
  });
});
