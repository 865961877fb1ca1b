// No command writes into a store's folder but the store itself (#11.1): restore, mirror and export into the
// store (or a folder inside it, or a link to it) are refused with one sentence before anything is written; a
// restore above the store refuses the entries that would land in it and restores the rest; a workspace that
// is the store is not snapshotted into itself. Every job asks the one guard, StoreFence (the editor's
// Restore to... goes through the same Restorer, so it refuses with the same sentence).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mirror } from '../../src/core/export/mirror';
import { Restorer } from '../../src/core/restore/restorer';
import {
  listAll,
  openRepo,
  rejectionCode,
  runCliCaptured,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

/** Every file of the store with a hash of its bytes: equal before and after means nothing was written there. */
function fingerprint(store: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of listAll(store)) {
    if (rel.startsWith('locks/') || rel === 'locks') continue; // a lock comes and goes with every command
    const abs = path.join(store, rel);
    const stat = fs.lstatSync(abs);
    out[rel] = stat.isFile()
      ? createHash('sha256').update(fs.readFileSync(abs)).digest('hex')
      : stat.isDirectory()
        ? 'dir'
        : 'other';
  }
  return out;
}

function oneSentence(run: { code: number; stderr: string[] }, pattern: RegExp): void {
  const lines = run.stderr.filter((l) => l !== '');
  assert.equal(run.code, 1, `exit 1 (stderr: ${lines.join(' | ')})`);
  assert.equal(lines.length, 1, `one line, got:\n${lines.join('\n')}`);
  assert.match(lines[0], pattern);
}

describe('nothing but the store writes into the store (#11.1)', () => {
  const temp = useTempDirs();

  async function setup(withConfigLookalike = false) {
    const parent = temp.make('parent');
    const store = path.join(parent, 'store');
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'alpha\n', 'sub/b.txt': 'beta\n' });
    // A workspace holding a folder named like the store, with a file named like its config.
    if (withConfigLookalike) writeTree(ws, { 'store/config': 'not a config\n', 'store/data/x': 'x\n' });
    const repo = await openRepo(store);
    const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    return { parent, store, ws, repo, snapshot, before: fingerprint(store) };
  }

  it("restore into the store's own folder is refused and leaves the store intact (#11.1)", async () => {
    const { store, snapshot, before } = await setup();
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', store]);
    oneSentence(run, /Refusing to restore into .*store.*backup store/);
    assert.deepEqual(fingerprint(store), before, 'nothing in the store changed');
    const inside = await runCliCaptured([
      'restore',
      snapshot.id,
      '--repo',
      store,
      '--target',
      path.join(store, 'data', 'new'),
    ]);
    oneSentence(inside, /Refusing to restore into .*inside it/);
    assert.deepEqual(fingerprint(store), before, 'nothing in the store changed');
    const dry = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', store, '--dry-run']);
    oneSentence(dry, /Refusing to restore into/);
    assert.equal((await runCliCaptured(['verify', '--repo', store])).code, 0, 'the store still verifies');
  });

  it('restore into a symlink to the store is refused: the guard compares real paths (#11.1)', async () => {
    const { store, snapshot, before, repo } = await setup();
    const link = path.join(temp.make('links'), 'to-store');
    fs.symlinkSync(store, link);
    const code = await rejectionCode(() => new Restorer(repo).restore(snapshot, { target: link }));
    assert.equal(code.code, 'UNSAFE_PATH');
    assert.match(code.message, /backup store/);
    assert.deepEqual(fingerprint(store), before);
  });

  it('restore above the store refuses the entries that would land in it (a file named like config) and restores the rest (#11.1)', async () => {
    const { parent, store, snapshot, before } = await setup(true);
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', parent, '--json']);
    assert.equal(run.code, 1);
    const result = run.json<{ problems: Array<{ path: string; reason: string }> }>();
    assert.deepEqual(
      result.problems.map((p) => p.path),
      ['store'],
      'one problem: the topmost entry in the store',
    );
    assert.match(result.problems[0].reason, /would write into the backup store/);
    assert.deepEqual(fingerprint(store), before, "the store's config and data are untouched");
    assert.equal(fs.readFileSync(path.join(parent, 'a.txt'), 'utf8'), 'alpha\n');
    assert.equal(fs.readFileSync(path.join(parent, 'sub/b.txt'), 'utf8'), 'beta\n');
    // --delete never removes the store either.
    const again = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', parent, '--delete']);
    assert.equal(again.code, 1);
    assert.deepEqual(fingerprint(store), before);
  });

  it('mirror into the store or a folder inside it is refused, nothing written (#11.1)', async () => {
    const { store, snapshot, before, repo } = await setup();
    for (const folder of [store, path.join(store, 'meta', 'mirror')]) {
      const run = await runCliCaptured(['mirror', snapshot.id, folder, '--repo', store]);
      oneSentence(run, /Refusing to mirror into .*backup store/);
      assert.deepEqual(fingerprint(store), before, folder);
    }
    const code = await rejectionCode(() => mirror(repo, snapshot, path.dirname(store)));
    assert.equal(code.code, 'UNSAFE_PATH', 'a folder holding the store is refused too (the mirror would delete it)');
  });

  it("export into the store's own folder is refused, no archive written there (#11.1, #11.12)", async () => {
    const { store, snapshot, before } = await setup();
    for (const file of [path.join(store, 'a.zip'), path.join(store, 'meta', 'a.tar.gz')]) {
      const run = await runCliCaptured(['export', snapshot.id, file, '--repo', store]);
      oneSentence(run, /Refusing to write an archive into .*backup store/);
      assert.deepEqual(fingerprint(store), before, file);
    }
  });

  it('snapshot <store> --repo <store> is refused with one sentence and adds nothing to the store (#11.1)', async () => {
    const { store, before } = await setup();
    for (const workspace of [store, path.join(store, 'data')]) {
      const run = await runCliCaptured(['snapshot', workspace, '--repo', store]);
      oneSentence(run, /Refusing to snapshot .*leaves the store out/);
      assert.deepEqual(fingerprint(store), before, workspace);
    }
  });

  it('a workspace holding its store still snapshots and restores, the store left out (#11.1)', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'alpha\n' });
    const store = path.join(ws, '.backup');
    const repo = await openRepo(store);
    const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    const before = fingerprint(store);
    fs.writeFileSync(path.join(ws, 'a.txt'), 'changed\n');
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', ws, '--delete']);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(fs.readFileSync(path.join(ws, 'a.txt'), 'utf8'), 'alpha\n');
    const after = fingerprint(store);
    // The undo snapshot adds objects (and rewrites the disposable stat cache); nothing else that was there changed or went.
    for (const [rel, hash] of Object.entries(before))
      if (!rel.startsWith('cache/')) assert.equal(after[rel], hash, rel);
  });
});
