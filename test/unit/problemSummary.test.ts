// Many failed entries are summarised, not printed one line each (#11.11): a restore into an unwritable target
// printed 808 lines. restore, mirror and export say how many failed and why, name the first few, and say
// where the full list is (--json here, the log in the editor); --json still lists every one.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCli } from '../../src/cli';
import type { Io } from '../../src/cli/context';
import { FIRST_PROBLEMS, summarizeProblems } from '../../src/core/problemSummary';
import type { TreeEntry } from '../../src/core/repository/tree';
import type { FsPort } from '../../src/core/storage/fsPort';
import { faultyPort } from './helpers/faultyPort';
import type { FaultCode } from './helpers/faultyPort';
import {
  DIST_CLI,
  forgeSnapshot,
  openRepo,
  seededText,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import { asNobody, openToAll, readOnlyBindMount, runCli as runDistCli } from './helpers/readOnly';

const FILES = 40;

async function runWithPort(
  argv: string[],
  port?: FsPort,
): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: Io = {
    out: (t) => stdout.push(...t.split('\n')),
    err: (t) => stderr.push(...t.split('\n')),
    write: async () => undefined,
    env: {},
    port,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr: stderr.filter((l) => l !== '') };
}

/** The summary contract: a headline with the count, at most FIRST_PROBLEMS paths, and where the full list is. */
function assertSummarised(
  stderr: string[],
  verb: string,
  count: number,
  reason: RegExp,
  where: RegExp,
  context: string,
): void {
  const text = stderr.join('\n');
  assert.ok(
    stderr.length <= FIRST_PROBLEMS + 3,
    `${context}: a summary, not one line per entry; got ${stderr.length} lines:\n${text}`,
  );
  assert.match(text, new RegExp(`${count} items were not ${verb}: `), `${context}: how many\n${text}`);
  assert.match(text, reason, `${context}: why\n${text}`);
  assert.equal(
    stderr.filter((l) => l.startsWith(`not ${verb}: `)).length,
    FIRST_PROBLEMS,
    `${context}: the first few paths\n${text}`,
  );
  assert.match(text, where, `${context}: where the full list is\n${text}`);
  assert.doesNotMatch(text, /\bat .*:\d+:\d+|EACCES|ENOSPC|EROFS/, `${context}: sentences of ours`);
}

describe('many failed entries are summarised (#11.11)', function () {
  this.timeout(120_000);
  const temp = useTempDirs();

  async function setup() {
    const ws = temp.make('ws');
    const spec: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) spec[`d${i % 3}/f${i}.txt`] = seededText(200 + i, i);
    writeTree(ws, spec);
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    await repo.close();
    return { ws, store, snapshot };
  }

  it('summarizeProblems: few are listed one line each; many get a headline with counted reasons, the first five and the pointer (#11.11)', () => {
    const few = [{ path: 'a', reason: 'permission denied' }];
    assert.deepEqual(summarizeProblems(few, { verb: 'restored', fullList: 'X.' }), {
      headline: '1 item was not restored: permission denied (1).',
      lines: ['not restored: a: permission denied'],
    });
    const many = Array.from({ length: 808 }, (_, i) => ({
      path: `f${i}`,
      reason: i < 800 ? 'permission denied' : 'the disk is full',
    }));
    const summary = summarizeProblems(many, { verb: 'mirrored', fullList: 'To list every one, run it with --json.' });
    assert.equal(summary.headline, '808 items were not mirrored: permission denied (800); the disk is full (8).');
    assert.deepEqual(summary.lines, [
      `${summary.headline} The first 5:`,
      ...[0, 1, 2, 3, 4].map((i) => `not mirrored: f${i}: permission denied`),
      '…and 803 more items. To list every one, run it with --json.',
    ]);
  });

  for (const code of ['EACCES', 'ENOSPC'] as FaultCode[]) {
    it(`restore into a target whose every write fails with ${code} prints a summary, and --json lists every entry (#11.11)`, async () => {
      const { store, snapshot } = await setup();
      const target = temp.make('target'); // exists, so the failures are per entry (a target that cannot be made is one sentence)
      const restore = await runWithPort(
        ['restore', snapshot.id, '--repo', store, '--target', target],
        faultyPort({ failAt: 1, code, under: target }),
      );
      assert.equal(restore.code, 1);
      const reason = code === 'EACCES' ? /permission denied \(\d+\)/ : /the disk is full \(\d+\)/;
      const count = Number(/(\d+) items were not restored/.exec(restore.stderr.join('\n'))?.[1]);
      assert.ok(count >= FILES, `every entry failed: ${restore.stderr.join('\n')}`);
      assertSummarised(restore.stderr, 'restored', count, reason, /--json/, `restore, ${code}`);
      const json = await runWithPort(
        ['restore', snapshot.id, '--repo', store, '--target', target, '--json'],
        faultyPort({ failAt: 1, code, under: target }),
      );
      assert.equal(json.code, 1);
      assert.equal(
        (JSON.parse(json.stdout.join('')) as { problems: unknown[] }).problems.length,
        count,
        'the full list is in --json',
      );
      assert.deepEqual(json.stderr, [], '--json: the list is in the output, nothing on stderr');
    });

    it(`mirror into a folder whose entries fail with ${code}: a summary (#11.11)`, async () => {
      const { store, snapshot } = await setup();
      const folder = path.join(temp.make('m'), 'mirror');
      // The snapshot's entries fail; the mirror's folder and state file are written.
      const port = faultyPort({
        failAt: 1,
        code,
        under: folder,
        skip: (_op, file) => file === folder || path.basename(file).startsWith('.'),
      });
      const run = await runWithPort(['mirror', snapshot.id, folder, '--repo', store], port);
      assert.equal(run.code, 1);
      const n = Number(/(\d+) items were not mirrored/.exec(run.stderr.join('\n'))?.[1]);
      assert.ok(n > FIRST_PROBLEMS, run.stderr.join('\n'));
      assertSummarised(
        run.stderr,
        'mirrored',
        n,
        code === 'EACCES' ? /permission denied/ : /the disk is full/,
        /--json/,
        `mirror, ${code}`,
      );
    });
  }

  it('export of a snapshot with many entries it must leave out: a summary; with --json the list is in the output (#11.11)', async () => {
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const w = repo.newWriter();
    const data = await w.add('data', Buffer.from('payload'));
    const entries: TreeEntry[] = [{ type: 'file', name: 'ok.txt', mode: 0o644, size: 7, content: [data] }];
    for (let i = 0; i < 12; i++)
      entries.push({ type: 'symlink', name: `empty-link-${String(i).padStart(2, '0')}`, target: '' });
    const root = await w.addTree(entries);
    await w.finish();
    const snapshot = await forgeSnapshot(repo, root);
    await repo.close();
    const out = temp.make('out');
    const run = await runWithPort(['export', snapshot.id, path.join(out, 'a.tar.gz'), '--repo', store]);
    assert.equal(run.code, 1);
    assertSummarised(run.stderr, 'exported', 12, /\(12\)/, /--json/, 'export');
    const json = await runWithPort(['export', snapshot.id, path.join(out, 'b.zip'), '--repo', store, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout.join('')) as { skipped: unknown[] }).skipped.length, 12);
    assertSummarised(json.stderr, 'exported', 12, /\(12\)/, /JSON output/, 'export --json');
  });

  it('the built CLI restoring into a read-only target (bind mount, or as nobody): a summary, not a line per file (#11.11)', async function () {
    if (!fs.existsSync(DIST_CLI)) this.skip();
    const { store, snapshot } = await setup();
    const outer = temp.make('ro');
    const ro = readOnlyBindMount(outer);
    let prefix: string[] = [];
    let target: string;
    if (ro) {
      target = path.join(ro.path, 'restored');
    } else {
      const nobody = asNobody();
      if (!nobody) this.skip(); // neither mount rights nor setpriv: the FsPort tests above still run
      prefix = nobody as string[];
      openToAll(store, 0o755);
      for (const rel of fs.readdirSync(store, { recursive: true }) as string[])
        fs.chmodSync(path.join(store, rel), fs.statSync(path.join(store, rel)).isDirectory() ? 0o755 : 0o644);
      openToAll(outer, 0o755); // nobody may read it but not write it
      target = path.join(outer, 'restored');
    }
    try {
      // The target exists but cannot be written: every entry fails.
      if (ro) fs.mkdirSync(path.join(outer, 'restored'));
      else fs.mkdirSync(target, { mode: 0o755 });
      const run = await runDistCli(['restore', snapshot.id, '--repo', store, '--target', target], prefix);
      assert.equal(run.code, 1, run.stderr);
      const lines = run.stderr.split('\n').filter((l) => l !== '' && !/reading without a lock/.test(l));
      const n = Number(/(\d+) items were not restored/.exec(lines.join('\n'))?.[1]);
      assert.ok(n >= FILES, lines.join('\n'));
      assertSummarised(lines, 'restored', n, /permission denied|read-only file system/, /--json/, 'read-only target');
    } finally {
      ro?.dispose();
    }
  });
});
