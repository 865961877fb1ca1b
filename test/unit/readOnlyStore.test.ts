// A store that cannot be written can still be read from (#11.5): on a read-only mount, for a user who may
// only read it, on a full disk. Readers go ahead without a lock and say so in one line; writers still fail
// with one sentence, and nothing in the store changes.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MIRROR_STATE } from '../../src/core/export/mirror';
import { Repository } from '../../src/core/repository/repository';
import { Restorer } from '../../src/core/restore/restorer';
import { verifyRepository } from '../../src/core/check/verify';
import { faultyPort } from './helpers/faultyPort';
import { DIST_CLI, listAll, readTree, seededText, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';
import { asNobody, openToAll, readOnlyBindMount, runCli } from './helpers/readOnly';

const READ_ONLY_LINE = 'The store is read-only: reading without a lock.';

function workspaceSpec(): Record<string, string> {
  const spec: Record<string, string> = {};
  for (let i = 0; i < 20; i++) spec[`dir${i % 4}/file${i}.txt`] = seededText(3000 + i * 100, i);
  return spec;
}

/** Every file of the store with its size and mtime: what "nothing changed" means. */
function storeState(store: string): string {
  return listAll(store)
    .map((rel) => {
      const st = fs.lstatSync(path.join(store, rel));
      return `${rel} ${st.size} ${st.mtimeMs}`;
    })
    .join('\n');
}

describe('a store that cannot be written', function () {
  this.timeout(120_000);
  const temp = useTempDirs();

  before(function () {
    if (!fs.existsSync(DIST_CLI)) this.skip(); // npm test builds dist/cli.js before the unit suite
  });

  async function makeStore(): Promise<{ ws: string; store: string; expected: ReturnType<typeof readTree> }> {
    const ws = temp.make('ws');
    writeTree(ws, workspaceSpec());
    const store = path.join(temp.make('media'), 'store');
    const snap = await runCli(['snapshot', ws, '--repo', store]);
    assert.equal(snap.code, 0, snap.stderr);
    return { ws, store, expected: readTree(ws) };
  }

  it('on a read-only mount, restore, ls, mirror, export, verify and copy work, and say they read without a lock (#11.5)', async function () {
    const { store, expected } = await makeStore();
    const ro = readOnlyBindMount(store);
    if (!ro) this.skip(); // no mount rights here: the non-root and FsPort tests below still run
    try {
      const before = storeState(store);
      const out = temp.make('out');
      const restore = await runCli(['restore', 'latest', '--repo', ro.path, '--target', path.join(out, 'restored')]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.equal(restore.stderr.trim(), READ_ONLY_LINE);
      assert.deepEqual(readTree(path.join(out, 'restored')), expected);

      const ls = await runCli(['ls', 'latest', 'dir3', '--repo', ro.path]);
      assert.equal(ls.code, 0, ls.stderr);
      assert.match(ls.stdout, /file7\.txt/);

      const mirror = await runCli(['mirror', 'latest', path.join(out, 'mirror'), '--repo', ro.path]);
      assert.equal(mirror.code, 0, mirror.stderr);
      assert.equal(mirror.stderr.trim(), READ_ONLY_LINE);
      assert.deepEqual(readTree(path.join(out, 'mirror'), { ignore: [MIRROR_STATE] }), expected);

      const exported = await runCli(['export', 'latest', path.join(out, 'a.tar.gz'), '--repo', ro.path]);
      assert.equal(exported.code, 0, exported.stderr);
      assert.ok(fs.statSync(path.join(out, 'a.tar.gz')).size > 0);

      const verify = await runCli(['verify', '--read-data', '--repo', ro.path]);
      assert.equal(verify.code, 0, verify.stderr + verify.stdout);
      assert.equal(verify.stderr.trim(), READ_ONLY_LINE);

      const copy = await runCli(['copy', '--to', path.join(out, 'copy'), '--repo', ro.path]);
      assert.equal(copy.code, 0, copy.stderr);
      const copied = await runCli([
        'restore',
        'latest',
        '--repo',
        path.join(out, 'copy'),
        '--target',
        path.join(out, 'from-copy'),
      ]);
      assert.equal(copied.code, 0, copied.stderr);
      assert.deepEqual(readTree(path.join(out, 'from-copy')), expected);

      // Writers still refuse, with one sentence, and the store is as it was.
      for (const args of [['prune'], ['tag', 'latest', '--label', 'x'], ['forget', '--keep-last', '1']]) {
        const run = await runCli([...args, '--repo', ro.path]);
        assert.equal(run.code, 1, `${args[0]}: ${run.stdout}`);
        assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
        assert.match(run.stderr, /Permission denied|cannot be written/);
      }
      assert.equal(storeState(store), before);
    } finally {
      ro.dispose();
    }
  });

  it('a user who may only read the store folder can restore and verify from it (#11.5)', async function () {
    const prefix = asNobody();
    if (!prefix) this.skip(); // not root, or no setpriv: the FsPort test below still runs
    const { store, expected } = await makeStore();
    openToAll(store);
    for (const rel of listAll(store)) {
      const file = path.join(store, rel);
      fs.chmodSync(file, fs.statSync(file).isDirectory() ? 0o755 : 0o644);
    }
    const before = storeState(store);
    const out = temp.make('out');
    openToAll(out, 0o777);
    const restore = await runCli(
      ['restore', 'latest', '--repo', store, '--target', path.join(out, 'restored')],
      prefix,
    );
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(restore.stderr.trim(), READ_ONLY_LINE);
    assert.deepEqual(readTree(path.join(out, 'restored')), expected);
    const verify = await runCli(['verify', '--read-data', '--repo', store], prefix);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    const snap = await runCli(['snapshot', path.join(out, 'restored'), '--repo', store], prefix);
    assert.equal(snap.code, 1);
    assert.equal(snap.stderr.trim().split('\n').length, 1, snap.stderr);
    assert.equal(storeState(store), before);
  });

  for (const code of ['EACCES', 'ENOSPC'] as const) {
    it(`a store whose lock cannot be written (${code}) is restored and verified without a lock (#11.5)`, async () => {
      const ws = temp.make('ws');
      writeTree(ws, workspaceSpec());
      const store = temp.fresh('store');
      const writable = await Repository.open(store, { create: true });
      await snapshotterFor(writable, ws).snapshot();
      await writable.close();
      const port = faultyPort({ failAt: 1, code, under: store });
      const told: string[] = [];
      const repo = await Repository.open(store, { port, onReadOnly: (error) => told.push(error.code) });
      const snapshot = await repo.resolveSnapshot('latest');
      const lock = await repo.readLock('a restore');
      assert.equal(lock, undefined);
      assert.deepEqual(told, [code === 'ENOSPC' ? 'NO_SPACE' : 'PERMISSION_DENIED']);
      const target = temp.fresh('target');
      const result = await new Restorer(repo).restore(snapshot, { target });
      assert.deepEqual(result.problems, []);
      assert.deepEqual(readTree(target), readTree(ws));
      const report = await verifyRepository(repo, { readData: true });
      assert.equal(report.ok, true, JSON.stringify(report.damage));
      assert.equal(told.length, 1, 'said once');
      // A writer on the same store still fails, on its lock.
      await assert.rejects(
        repo.lock(false, 'a snapshot'),
        (error: Error & { code?: string }) => error.code === (code === 'ENOSPC' ? 'NO_SPACE' : 'PERMISSION_DENIED'),
      );
    });
  }
});
