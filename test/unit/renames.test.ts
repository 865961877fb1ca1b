// History follows renames and moves (#15): a file renamed as it was, or moved and edited a little in the
// same snapshot, keeps its earlier versions under its old path; an unrelated file deleted at the same time is
// never taken for its old name.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { historyFollowingRenames } from '../../src/core/query/renames';
import { regionHistory } from '../../src/core/query/regionHistory';
import { openRepo, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

const lines = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i) => `line ${i} of the parser ${tag === 'x' ? '' : tag}`).join('\n') + '\n';

describe('history follows renames and moves (#15)', () => {
  const temp = useTempDirs();

  it('continues across a rename, a move with edits, and says the old paths; an unrelated deletion is not a rename', async () => {
    const ws = temp.make('ws');
    const repo = await openRepo(temp.fresh('store'));
    const snap = async () => (await snapshotterFor(repo, ws).snapshot()).snapshot;
    writeTree(ws, { 'parser.js': lines(40, 'v1'), 'notes.txt': 'unrelated notes\n' });
    const v1 = await snap();
    writeTree(ws, { 'parser.js': lines(40, 'v2') });
    const v2 = await snap();
    // Renamed as it was.
    fs.renameSync(path.join(ws, 'parser.js'), path.join(ws, 'parse.js'));
    const v3 = await snap();
    // Moved into src/ and edited a little, while an unrelated file is deleted in the same snapshot.
    fs.mkdirSync(path.join(ws, 'src'));
    fs.renameSync(path.join(ws, 'parse.js'), path.join(ws, 'src', 'parse.js'));
    fs.appendFileSync(path.join(ws, 'src', 'parse.js'), 'one more line\n');
    fs.rmSync(path.join(ws, 'notes.txt'));
    const v4 = await snap();

    const traced = await historyFollowingRenames(repo, await repo.listSnapshots(), 'src/parse.js');
    assert.deepEqual(
      traced.map(
        (t) =>
          `${t.snapshot.id === v4.id ? 'v4' : t.snapshot.id === v3.id ? 'v3' : t.snapshot.id === v2.id ? 'v2' : t.snapshot.id === v1.id ? 'v1' : '?'} ${t.path}`,
      ),
      ['v4 src/parse.js', 'v3 parse.js', 'v2 parser.js', 'v1 parser.js'],
    );

    // A file created where another, unrelated one was deleted has no earlier history.
    writeTree(ws, { 'brand-new.md': '# something else entirely\nwith its own words\n' });
    fs.rmSync(path.join(ws, 'src', 'parse.js'));
    await snap();
    const fresh = await historyFollowingRenames(repo, await repo.listSnapshots(), 'brand-new.md');
    assert.deepEqual(
      fresh.map((t) => t.path),
      ['brand-new.md'],
    );
  });

  it('the history of a selection follows the file across a rename (#15)', async () => {
    const ws = temp.make('ws');
    const repo = await openRepo(temp.fresh('store'));
    const snap = async () => (await snapshotterFor(repo, ws).snapshot()).snapshot;
    writeTree(ws, { 'a.js': 'function f() {\n  return 1;\n}\n' });
    await snap();
    writeTree(ws, { 'a.js': 'function f() {\n  return 2;\n}\n' });
    await snap();
    fs.renameSync(path.join(ws, 'a.js'), path.join(ws, 'b.js'));
    await snap();
    const found = await regionHistory(
      repo,
      await repo.listSnapshots(),
      'b.js',
      'function f() {\n  return 3;\n}\n',
      0,
      3,
    );
    assert.deepEqual(
      found.map((f) => `${f.path}: ${f.text.split('\n')[1].trim()}`),
      ['b.js: return 2;', 'a.js: return 1;'],
    );
  });
});
