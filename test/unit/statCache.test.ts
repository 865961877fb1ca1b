// The stat cache: unchanged files are not read again, changed ones are, racy ones are, and a cache made
// under other rules is not trusted. Reads are counted with a spying FsPort; mtimes are set with utimes and
// the scan clock with the store's `now`, so nothing depends on how fast the machine is.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rules } from '../../src/core/scan/rules';
import { FINE_MARGIN_MS, RACY_MS, StatCache } from '../../src/core/scan/statCache';
import { entryAt } from '../../src/core/query/browse';
import {
  ageFile,
  ageTree,
  contentReadsUnder,
  openRepo,
  snapshotterFor,
  spyPort,
  turnCounter,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

const HOUR = 3600_000;

describe('StatCache', () => {
  const temp = useTempDirs();

  function workspace(): string {
    const ws = temp.make('ws');
    writeTree(ws, {
      'a.txt': 'alpha',
      'b.txt': 'bravo',
      'src/c.ts': 'charlie',
      'src/deep/d.ts': 'delta',
      link: { symlink: 'a.txt' },
    });
    ageTree(ws, HOUR);
    return ws;
  }

  it('does not read an unchanged file again on the next full snapshot', async () => {
    const ws = workspace();
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const first = await snapshotterFor(repo, ws).snapshot();
    assert.equal(contentReadsUnder(spy, ws).length, 4, 'the first snapshot reads every file once');
    spy.reset();
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.equal(second.created, false);
    assert.equal(second.snapshot.id, first.snapshot.id);
    assert.deepEqual(contentReadsUnder(spy, ws), []);
    assert.deepEqual(spy.callsUnder(path.join(ws, 'link'), 'readlink'), [], 'an unchanged link is not read either');
  });

  it('reads a changed file (and only it), even a same-size edit whose old mtime was put back', async () => {
    const ws = workspace();
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    await snapshotterFor(repo, ws).snapshot();
    const file = path.join(ws, 'src', 'deep', 'd.ts');
    const before = fs.statSync(file);
    fs.writeFileSync(file, 'DELTA');
    fs.utimesSync(file, before.atime, before.mtime);
    assert.equal(fs.statSync(file).mtimeMs, before.mtimeMs, 'precondition: size and mtime look unchanged');
    spy.reset();
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(contentReadsUnder(spy, ws), [file]);
    assert.equal(second.created, true);
    assert.deepEqual(
      second.changes.map((c) => `${c.kind} ${c.path}`),
      ['modified src/deep/d.ts'],
    );
  });

  it('notices a new file and a deleted file in a folder whose other files are unchanged', async () => {
    const ws = workspace();
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    await snapshotterFor(repo, ws).snapshot();
    fs.unlinkSync(path.join(ws, 'b.txt'));
    writeTree(ws, { 'src/new.ts': 'new' });
    ageFile(path.join(ws, 'src/new.ts'), HOUR);
    spy.reset();
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(contentReadsUnder(spy, ws), [path.join(ws, 'src', 'new.ts')]);
    assert.deepEqual(second.changes.map((c) => `${c.kind} ${c.path}`).sort(), ['added src/new.ts', 'deleted b.txt']);
  });

  it('re-reads a file whose mtime is not clearly before the scan that recorded it (racy rule)', async () => {
    const ws = temp.make('ws');
    writeTree(ws, {
      'old.txt': 'old',
      'coarse.txt': 'coarse',
      'fine-racy.txt': 'fine racy',
      'fine-old.txt': 'fine old',
    });
    // A whole second well in the past; the recording scan starts 1.5 s after it.
    const base = Math.floor(Date.now() / 1000) * 1000 - 10_000;
    const scanStart = base + 1500;
    const setMtime = (name: string, ms: number) => fs.lutimesSync(path.join(ws, name), new Date(ms), new Date(ms));
    setMtime('old.txt', base - 60_000); // whole second, long before: trusted
    setMtime('coarse.txt', base); // whole second (a coarse file system?) within RACY_MS: never trusted
    setMtime('fine-racy.txt', scanStart - FINE_MARGIN_MS / 2); // fine stamp within the fine margin: not trusted
    setMtime('fine-old.txt', scanStart - 503); // fine stamp clearly before: trusted
    assert.ok(scanStart - base < RACY_MS && 503 > FINE_MARGIN_MS, 'precondition on the constants');
    let clock = scanStart;
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy, now: () => new Date(clock) });
    await snapshotterFor(repo, ws).snapshot();
    clock = scanStart + HOUR;
    spy.reset();
    await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(contentReadsUnder(spy, ws).sort(), [path.join(ws, 'coarse.txt'), path.join(ws, 'fine-racy.txt')]);
    // Once a later scan has recorded them long after their mtime, they are trusted too.
    clock = scanStart + 2 * HOUR;
    spy.reset();
    await snapshotterFor(repo, ws).snapshot();
    assert.deepEqual(contentReadsUnder(spy, ws), []);
  });

  it('does not trust a cache built under other rules', async () => {
    const ws = workspace();
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    await snapshotterFor(repo, ws, { excludes: ['*.log'] }).snapshot();
    spy.reset();
    await snapshotterFor(repo, ws, { excludes: ['*.log'] }).snapshot();
    assert.deepEqual(contentReadsUnder(spy, ws), [], 'control: same rules, nothing read');
    spy.reset();
    await snapshotterFor(repo, ws, { excludes: ['*.tmp'] }).snapshot();
    assert.equal(contentReadsUnder(spy, ws).length, 4, 'other rules: every file read again');
    spy.reset();
    await snapshotterFor(repo, ws, { excludes: ['*.tmp'], gitignore: true }).snapshot();
    assert.equal(contentReadsUnder(spy, ws).length, 4, 'turning .gitignore on counts as other rules');
  });

  // #16: at 200,000 files decoding the cache at the start of a full scan held the editor's host 137 ms.
  it('decodeAsync gives the cache decode gives, letting the event loop turn between folders (#16)', async () => {
    const fingerprint = new Rules({}).fingerprint;
    const built = StatCache.empty(fingerprint, 1_000);
    const tree = (d: number) => createHash('sha256').update(`tree ${d}`).digest('hex');
    for (let d = 0; d < 60_000; d++) {
      const recorder = built.recorder();
      recorder.add('f.txt', { size: d, mtimeMs: 500, ctimeMs: 500, ino: d + 1, mode: 0o100644 });
      recorder.finish(`d${d}`, tree(d), { files: 1, dirs: 0, symlinks: 0, bytes: d }, 1);
    }
    const saved = built.encode();
    const loop = turnCounter();
    let decoded: StatCache;
    try {
      decoded = await StatCache.decodeAsync(saved, fingerprint, 2_000);
    } finally {
      loop.stop();
    }
    assert.ok(loop.turns() >= 2, `${loop.turns()} turn(s) of the event loop while 60,000 folders were decoded`);
    const whole = StatCache.decode(saved, fingerprint, 2_000);
    for (const d of [0, 777, 59_999]) {
      assert.equal(decoded.previousDir(`d${d}`)?.tree, tree(d));
      assert.equal(decoded.previousDir(`d${d}`)?.tree, whole.previousDir(`d${d}`)?.tree);
    }
  });

  it('decodes a saved cache only under the same rules, and treats garbage as no cache', async () => {
    const ws = workspace();
    const repo = await openRepo(temp.fresh('store'));
    const snapshotter = snapshotterFor(repo, ws);
    await snapshotter.snapshot();
    const saved = await repo.loadCache(`stat-${(await snapshotter.workspace()).id}`);
    assert.ok(saved && saved.length > 0, 'a full snapshot saves a stat cache');
    // The snapshotter's rules: default excludes plus the store itself, the workspace's .git included (#12).
    const rules = new Rules({ excludeAbsolute: [repo.location], includeGit: true });
    const same = StatCache.decode(saved, rules.fingerprint, Date.now());
    assert.ok(same.previousDir('') !== undefined && same.previousDir('src/deep') !== undefined);
    const deep = await entryAt(repo, (await repo.resolveSnapshot('latest')).tree, 'src/deep');
    assert.equal(deep?.type, 'dir');
    assert.equal(
      same.previousDir('src/deep')?.tree,
      deep?.type === 'dir' ? deep.tree : 'no tree',
      'the cache names the tree the snapshot holds',
    );
    const other = StatCache.decode(
      saved,
      new Rules({ excludes: ['x'], excludeAbsolute: [repo.location] }).fingerprint,
      Date.now(),
    );
    assert.equal(other.previousDir(''), undefined);
    const withoutGit = StatCache.decode(saved, rules.withGit(false).fingerprint, Date.now());
    assert.equal(withoutGit.previousDir(''), undefined, 'a cache made with .git is not trusted once .git is left out');
    for (const garbage of [
      Buffer.alloc(0),
      Buffer.from('{'),
      Buffer.from('{"v":99}'),
      Buffer.alloc(64, 0xff),
      saved.subarray(0, Math.floor(saved.length / 2)),
    ]) {
      assert.equal(StatCache.decode(garbage, rules.fingerprint, Date.now()).previousDir(''), undefined);
    }
  });
});
