// Smaller wrong answers of the CLI (#11.12): each case gets the one sentence that is true, not a misleading
// one or a raw Node error: passwd on a plain or missing store, copy to a file, an empty destination, and a
// history path outside the workspace.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openRepo, runCliCaptured, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';
import type { CliRun } from './helpers/fixtures';

function assertOneLine(run: CliRun, code: number, pattern: RegExp, what: string): string {
  const lines = run.stderr.filter((l) => l !== '');
  assert.equal(run.code, code, `${what}: exit code (stderr: ${lines.join(' | ')})`);
  assert.match(lines[0] ?? '', pattern, `${what}: ${lines.join(' | ')}`);
  assert.doesNotMatch(lines.join('\n'), /ENOTDIR|Input\/output|\bat .*:\d+:\d+|unexpected error/, what);
  if (code === 1) assert.equal(lines.length, 1, `${what}: one line, got:\n${lines.join('\n')}`);
  return lines.join('\n');
}

describe('smaller wrong answers (#11.12)', function () {
  this.timeout(60_000);
  const temp = useTempDirs();

  async function plainStore() {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a\n', 'src/b.ts': 'b\n' });
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    await snapshotterFor(repo, ws).snapshot();
    await repo.close();
    return { ws, store };
  }

  it('passwd on a plain store says it is not encrypted, on a missing one that there is none, even without a passphrase (#11.12)', async () => {
    const { store } = await plainStore();
    const plain = assertOneLine(
      await runCliCaptured(['passwd', '--repo', store]),
      1,
      /is not encrypted/,
      'passwd, plain store, no passphrase',
    );
    assert.doesNotMatch(plain, /is encrypted/);
    const missing = temp.fresh('nothing-here');
    const none = assertOneLine(
      await runCliCaptured(['passwd', '--repo', missing]),
      1,
      /There is no backup store at/,
      'passwd, missing store, no passphrase',
    );
    assert.doesNotMatch(none, /is encrypted/);
    assert.equal(fs.existsSync(missing), false, 'nothing was created');
  });

  it('copy --to a file says the destination is a file, not a folder, in one sentence, and leaves it alone (#11.12)', async () => {
    const { store } = await plainStore();
    const file = path.join(temp.make('dest'), 'a-file');
    fs.writeFileSync(file, 'mine\n');
    assertOneLine(
      await runCliCaptured(['copy', '--repo', store, '--to', file]),
      1,
      new RegExp(`${file} is a file, not a folder`),
      'copy to a file',
    );
    assertOneLine(
      await runCliCaptured(['copy', '--repo', store, '--to', path.join(file, 'below')]),
      1,
      /lies below a file, not a folder/,
      'copy below a file',
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'mine\n');
  });

  it("an empty destination, target or store (status --to '') is a usage error, exit 2 (#11.12)", async () => {
    const { ws, store } = await plainStore();
    assertOneLine(
      await runCliCaptured(['status', '--repo', store, '--workspace', ws, '--to', '']),
      2,
      /--to was given an empty value/,
      "status --to ''",
    );
    assertOneLine(
      await runCliCaptured(['restore', 'latest', '--repo', store, '--target', '']),
      2,
      /--target was given an empty value/,
      "restore --target ''",
    );
    assertOneLine(await runCliCaptured(['list', '--repo', '']), 2, /--repo was given an empty value/, "list --repo ''");
    const ok = await runCliCaptured(['status', '--repo', store, '--workspace', ws]);
    assert.notEqual(ok.code, 2, 'without the empty option it runs');
  });

  it('history of an absolute path outside the workspace is refused with one sentence; one inside it works (#11.12)', async () => {
    const { ws, store } = await plainStore();
    const text = assertOneLine(
      await runCliCaptured(['history', '/etc/passwd', '--repo', store, '--workspace', ws]),
      1,
      /\/etc\/passwd is outside the workspace/,
      'history /etc/passwd',
    );
    assert.doesNotMatch(text, /\.\.\//);
    const inside = await runCliCaptured(['history', path.join(ws, 'src', 'b.ts'), '--repo', store, '--workspace', ws]);
    assert.equal(inside.code, 0, inside.stderr.join('\n'));
    assert.equal(inside.stdout.filter((l) => l !== '').length, 1, inside.stdout.join('\n'));
  });

  it('a path longer than the file system allows, or below a file, is one sentence of ours, never a raw ENAMETOOLONG or ENOTDIR (found by test:adversarial)', async () => {
    const { store } = await plainStore();
    const long = path.join(temp.make('long'), 'x'.repeat(5000));
    const tooLong = assertOneLine(
      await runCliCaptured(['list', '--repo', long]),
      1,
      /longer than this file system allows/,
      'list, a 5,000-byte store name',
    );
    const file = path.join(temp.make('f'), 'a-file.txt');
    fs.writeFileSync(file, 'not a folder\n');
    const below = assertOneLine(
      await runCliCaptured(['export', 'latest', path.join(file, 'c.zip'), '--repo', store]),
      1,
      /a file is in the way of a folder/,
      'export below a file',
    );
    for (const text of [tooLong, below]) assert.doesNotMatch(text, /E[A-Z]{3,}: |ENAMETOOLONG|lstat|open '/, text);
    assert.equal(fs.readFileSync(file, 'utf8'), 'not a folder\n');
  });
});
