// Hostile tree entries (#11.9): whatever a store holds, restore and mirror give one sentence of ours per
// entry (never Node's "The value of "mode" is out of range", "without null bytes" or an ENOENT naming our
// temp file), apply only the permission bits 0o777 (never setuid, setgid or sticky), and verify reports
// every entry restore refuses, by the same rule (entryProblem).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mirror } from '../../src/core/export/mirror';
import { Restorer } from '../../src/core/restore/restorer';
import { verifyRepository } from '../../src/core/check/verify';
import type { TreeEntry } from '../../src/core/repository/tree';
import { isTempName } from '../../src/core/storage/atomic';
import { forgeSnapshot, listAll, openRepo, runCliCaptured, useTempDirs } from './helpers/fixtures';

const RAW_NODE = /out of range|null bytes|ERR_|ENOENT|EINVAL|\.pb-tmp-|\.tmp-/;

describe('hostile tree entries: one sentence each, no special bits, verify agrees with restore (#11.9)', () => {
  const temp = useTempDirs();

  async function forge(entries: (data: string) => TreeEntry[]) {
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const w = repo.newWriter();
    const data = await w.add('data', Buffer.from('payload'));
    const root = await w.addTree(entries(data));
    await w.finish();
    const snapshot = await forgeSnapshot(repo, root);
    return { store, repo, snapshot };
  }

  const file = (data: string, name: string, mode = 0o644): TreeEntry => ({
    type: 'file',
    name,
    mode,
    size: 7,
    content: [data],
  });

  it('setuid, setgid and sticky bits from a store are not applied on restore or mirror: a stored 06755 becomes 0755 (#11.9)', async () => {
    const { repo, snapshot } = await forge((d) => [
      file(d, 'suid', 0o6755),
      file(d, 'sticky', 0o1777),
      file(d, 'plain', 0o640),
    ]);
    const target = temp.make('target');
    const result = await new Restorer(repo).restore(snapshot, { target });
    assert.deepEqual(result.problems, []);
    const modes = (dir: string) =>
      Object.fromEntries(['suid', 'sticky', 'plain'].map((n) => [n, fs.statSync(path.join(dir, n)).mode & 0o7777]));
    assert.deepEqual(modes(target), { suid: 0o755, sticky: 0o777, plain: 0o640 });
    // A second restore sees the files as restored (no endless rewrite over a mode it never applies).
    const again = await new Restorer(repo).restore(snapshot, { target, dryRun: true });
    assert.equal(again.plan.changes.length, 0);
    const folder = path.join(temp.make('m'), 'mirror');
    await mirror(repo, snapshot, folder);
    assert.deepEqual(modes(folder), { suid: 0o755, sticky: 0o777, plain: 0o640 });
  });

  it('a mode out of range, a link target with NUL or none: one sentence of ours per entry, the rest restored, no temp file left (#11.9)', async () => {
    const { store, snapshot } = await forge((d) => [
      file(d, 'huge-mode', 2 ** 40 + 0o644),
      { type: 'symlink', name: 'nul-link', target: 'a\0b' },
      { type: 'symlink', name: 'empty-link', target: '' },
      file(d, 'ok.txt'),
    ]);
    const target = temp.make('target');
    const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
    const lines = run.stderr.filter((l) => l !== '');
    assert.equal(run.code, 1);
    assert.deepEqual(lines.map((l) => l.split(': ')[1]).sort(), ['empty-link', 'nul-link']);
    for (const line of lines) {
      assert.match(line, /^not restored: [^:]+: refused: /);
      assert.doesNotMatch(line, RAW_NODE);
    }
    assert.equal(fs.readFileSync(path.join(target, 'ok.txt'), 'utf8'), 'payload');
    assert.equal(
      fs.statSync(path.join(target, 'huge-mode')).mode & 0o7777,
      0o644,
      'only the permission bits of a huge mode',
    );
    assert.deepEqual(
      listAll(target).filter((p) => isTempName(path.posix.basename(p))),
      [],
    );
  });

  it('verify reports names such as "..", "/", NUL or empty, and links restore refuses, as damage with their paths (#11.9)', async () => {
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const w = repo.newWriter();
    const data = await w.add('data', Buffer.from('payload'));
    const inner = await w.addTree([file(data, ''), file(data, 'fine.txt')]);
    const root = await w.addTree([
      file(data, '..'),
      file(data, '/etc'),
      file(data, 'a\0b'),
      { type: 'symlink', name: 'empty-link', target: '' },
      { type: 'dir', name: 'sub', tree: inner },
      file(data, 'ok.txt'),
    ]);
    await w.finish();
    const snapshot = await forgeSnapshot(repo, root);
    const refusedByRestore = (
      await new Restorer(repo).restore(snapshot, { target: temp.make('t'), dryRun: true })
    ).problems
      .map((p) => p.path)
      .sort();
    const report = await verifyRepository(repo);
    assert.equal(report.ok, false, 'verify finds damage');
    const reported = report.damage
      .flatMap((d) => d.files)
      .map((f) => f.slice(f.indexOf(':') + 1))
      .sort();
    assert.deepEqual(reported, refusedByRestore, 'verify reports exactly what restore refuses');
    assert.equal(reported.length, 5);
    const run = await runCliCaptured(['verify', '--repo', store]);
    assert.equal(run.code, 3);
  });

  it('verify reports a file whose content does not add up to the size its tree records (1 PB in 7 bytes), which restore refuses (#11.9, found by test:adversarial)', async () => {
    const { store, repo, snapshot } = await forge((d) => [
      { ...file(d, 'huge.bin'), size: 2 ** 50 },
      { ...file(d, 'short.bin'), size: 3 },
      file(d, 'ok.txt'),
    ]);
    const refusedByRestore = (await new Restorer(repo).restore(snapshot, { target: temp.make('t') })).problems
      .map((p) => p.path)
      .sort();
    assert.deepEqual(refusedByRestore, ['huge.bin', 'short.bin']);
    const report = await verifyRepository(repo);
    assert.equal(report.ok, false, 'verify finds damage');
    const reported = report.damage
      .flatMap((d) => d.files)
      .map((f) => f.slice(f.indexOf(':') + 1))
      .sort();
    assert.deepEqual(reported, refusedByRestore, 'verify reports exactly what restore refuses');
    assert.match(report.damage[0].reason, /huge\.bin.*7 bytes where the tree says 1125899906842624/);
    assert.equal((await runCliCaptured(['verify', '--read-data', '--repo', store])).code, 3);
  });
});
