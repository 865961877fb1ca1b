// A store is input: a crafted chain of folders deeper than any file system allows must be refused with one
// sentence by every tree walk (never a heap exhaustion or a walk that grows faster than the tree), and a
// deep but legal chain must still restore, mirror and verify.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isBackupError } from '../../src/core/errors';
import { verifyRepository } from '../../src/core/check/verify';
import { diffTrees } from '../../src/core/query/diff';
import type { Repository } from '../../src/core/repository/repository';
import { MAX_TREE_DEPTH } from '../../src/core/repository/tree';
import { Restorer } from '../../src/core/restore/restorer';
import { forgeSnapshot, listAll, openRepo, runCliCaptured, useTempDirs } from './helpers/fixtures';

/** A snapshot of `depth` nested folders named "d", the deepest holding a file "f": depth + 1 components. */
async function forgeChain(repo: Repository, depth: number) {
  const w = repo.newWriter();
  const data = await w.add('data', Buffer.from('payload'));
  let tree = await w.addTree([{ type: 'file', name: 'f', mode: 0o644, size: 7, content: [data] }]);
  for (let i = 0; i < depth; i++) tree = await w.addTree([{ type: 'dir', name: 'd', tree }]);
  await w.finish();
  return forgeSnapshot(repo, tree);
}

describe('deep trees', () => {
  const temp = useTempDirs();

  it('a crafted 30,000-level chain of folders is refused with one sentence by restore, verify, diff, ls, find, mirror and export, with no crash (#11.8)', async () => {
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const w = repo.newWriter();
    const small = await w.addTree([]);
    await w.finish();
    const legit = await forgeSnapshot(repo, small);
    const deep = await forgeChain(repo, 30_000);
    const name = deep.id.slice(0, 8);
    const sentence = new RegExp(
      `^project-backup: Snapshot ${name} holds folders nested more than ${MAX_TREE_DEPTH} levels deep`,
    );

    const target = path.join(temp.make('outer'), 'target');
    await assert.rejects(
      new Restorer(repo).restore(deep, { target }),
      (error) => isBackupError(error, 'UNSAFE_PATH') && error.message.includes(`Snapshot ${name}`),
    );
    await assert.rejects(diffTrees(repo, legit.tree, deep.tree, '', { b: `Snapshot ${name}` }), (error) =>
      isBackupError(error, 'UNSAFE_PATH'),
    );
    const report = await verifyRepository(repo);
    assert.equal(report.ok, false);
    assert.ok(
      report.damage.some((d) => d.snapshots.includes(deep.id) && /nested more than/.test(d.reason)),
      JSON.stringify(report.damage),
    );

    const runs: Array<[string, string[]]> = [
      ['restore', ['restore', deep.id, '--target', target]],
      ['diff', ['diff', legit.id, deep.id]],
      ['ls --recursive', ['ls', deep.id, '--recursive']],
      ['find', ['find', 'f']],
      ['mirror', ['mirror', deep.id, path.join(path.dirname(target), 'mirror')]],
      ['export', ['export', deep.id, path.join(path.dirname(target), 'deep.tar.gz')]],
    ];
    for (const [what, argv] of runs) {
      const run = await runCliCaptured([...argv, '--repo', store]);
      const stderr = run.stderr.filter((l) => l !== '');
      assert.equal(run.code, 1, `${what}: exit 1 (stderr: ${stderr.join(' | ')})`);
      assert.equal(stderr.length, 1, `${what}: one line, got:\n${stderr.join('\n')}`);
      assert.match(stderr[0], sentence, what);
    }
    const verify = await runCliCaptured(['verify', '--repo', store]);
    assert.equal(verify.code, 3, `verify: exit 3 (damage), got ${verify.code}: ${verify.stderr.join(' | ')}`);
    assert.match(
      [...verify.stdout, ...verify.stderr].join('\n'),
      new RegExp(`Snapshot ${name} holds folders nested more than`),
    );
    // The mirror keeps only its own state file; no folder of the chain was written anywhere.
    assert.deepEqual(
      listAll(path.dirname(target)).filter((p) => p !== 'mirror' && p !== 'mirror/.project-backup-mirror.json'),
      [],
      'nothing was written',
    );
  });

  it('a legal 1,500-level chain restores, mirrors and verifies correctly (#11.8)', async () => {
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const depth = 1_500;
    const snapshot = await forgeChain(repo, depth);
    const target = path.join(temp.make('outer'), 't');
    // One-character names: 2 bytes a level, well inside PATH_MAX (4096) with the target in front.
    assert.ok(target.length + 2 * (depth + 1) < 4096, target);
    const deepFile = path.join(target, ...Array<string>(depth).fill('d'), 'f');
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(fs.readFileSync(deepFile, 'utf8'), 'payload');
    assert.equal(listAll(target).length, depth + 1);
    const mirror = path.join(path.dirname(target), 'm');
    const mirrored = await runCliCaptured(['mirror', snapshot.id, mirror, '--repo', store]);
    assert.equal(mirrored.code, 0, mirrored.stderr.join('\n'));
    assert.equal(fs.readFileSync(path.join(mirror, ...Array<string>(depth).fill('d'), 'f'), 'utf8'), 'payload');
    assert.equal((await verifyRepository(repo)).ok, true);
  });
});
