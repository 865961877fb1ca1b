// A store is input, and input can be hostile or damaged. Restore refuses entries that would write outside
// the target or through a symlink, and restores links as links; damaged store files (truncated or garbage
// packs, index files, snapshot records, config, cache, locks) and bad paths are each one clear sentence:
// the CLI exits 1 with one line per thing that failed, never a crash or a stack trace.
// The engine-level cases of hostile names ("..", "/etc", "a/b", NUL) and of a crafted `x/f` under a symlink
// `x` are in restore.test.ts ("hostile stores"); here they go through the CLI, with a few shapes more.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repository } from '../../src/core/repository/repository';
import type { TreeEntry } from '../../src/core/repository/tree';
import { entryAt } from '../../src/core/query/browse';
import { isTempName } from '../../src/core/storage/atomic';
import {
  expectedTree,
  forgeSnapshot,
  listAll,
  openRepo,
  readTree,
  runCliCaptured,
  seededBytes,
  seededText,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { CliRun, TreeSpec } from './helpers/fixtures';

/** A failure the way the CLI contract wants it: exit 1, the given number of lines, each a sentence of ours. */
function assertFails(run: CliRun, what: string, pattern: RegExp, lines = 1): void {
  const stderr = run.stderr.filter((l) => l !== '');
  assert.equal(run.code, 1, `${what}: exit code (stderr: ${stderr.join(' | ')})`);
  assert.equal(stderr.length, lines, `${what}: ${lines} line(s) on stderr, got:\n${stderr.join('\n')}`);
  for (const line of stderr) {
    assert.match(line, /^(project-backup: |not restored: |Warning: )/, `${what}: "${line}"`);
    assert.doesNotMatch(
      line,
      /unexpected error|\bat .*:\d+:\d+|^\s+at /,
      `${what}: a sentence of ours, not a crash: "${line}"`,
    );
  }
  assert.match(stderr.join('\n'), pattern, what);
}

const SPEC: TreeSpec = {
  'README.md': '# project\n',
  'src/index.ts': seededText(2_000, 1),
  'src/lib/util.ts': seededText(3_000, 2),
  'assets/photo.bin': seededBytes(50_000, 3),
};

describe('hostile and damaged stores', () => {
  const temp = useTempDirs();

  async function setup() {
    const ws = temp.make('ws');
    writeTree(ws, SPEC);
    const store = temp.fresh('store');
    const repo = await openRepo(store);
    const first = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    const firstState = readTree(ws);
    const indexBefore = new Set(fs.readdirSync(path.join(store, 'index')));
    writeTree(ws, { 'src/index.ts': seededText(2_100, 11), 'notes.txt': 'second\n' });
    const second = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    /** The index file the second snapshot wrote (it names that snapshot's new trees and data). */
    const secondIndex = path.join(
      store,
      'index',
      fs.readdirSync(path.join(store, 'index')).find((f) => !indexBefore.has(f)) as string,
    );
    const cli = (...argv: string[]) => runCliCaptured([...argv, '--repo', store]);
    return { ws, store, repo, first, firstState, second, secondIndex, cli };
  }

  /** The pack a blob lives in, as a path. */
  function packOf(repo: Repository, id: string): string {
    const at = repo.locate(id);
    assert.ok(at, `blob ${id} is indexed`);
    return path.join(repo.location, 'data', at.packId.slice(0, 2), at.packId);
  }

  describe('hostile trees, through the CLI', () => {
    it('refuses "..", absolute and slashed names, one line each; restores the rest, and links as links, unchanged and never followed', async () => {
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const outside = temp.make('outside');
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const file = (name: string): TreeEntry => ({ type: 'file', name, mode: 0o644, size: 7, content: [data] });
      const escaped = await w.addTree([file('escaped.txt')]);
      const root = await w.addTree([
        file('..'),
        { type: 'dir', name: '/tmp', tree: escaped },
        file('../../up.txt'),
        { type: 'symlink', name: 'x', target: outside },
        { type: 'symlink', name: 'up', target: '../../../../../../etc/passwd' },
        { type: 'symlink', name: 'abs', target: '/' },
        file('ok.txt'),
      ]);
      await w.finish();
      const snapshot = await forgeSnapshot(repo, root);
      const target = path.join(temp.make('outer'), 'target');
      const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target]);
      assertFails(run, 'hostile restore', /refused/, 3);
      assert.deepEqual(
        run.stderr
          .filter((l) => l)
          .map((l) => l.split(': ')[1])
          .sort(),
        ['..', '../../up.txt', '/tmp'].sort(),
      );
      assert.deepEqual(listAll(path.dirname(target)), [
        'target',
        'target/abs',
        'target/ok.txt',
        'target/up',
        'target/x',
      ]);
      assert.deepEqual(readTree(target), {
        abs: { symlink: '/' },
        'ok.txt': { mode: 0o644, content: Buffer.from('payload') },
        up: { symlink: '../../../../../../etc/passwd' },
        x: { symlink: outside },
      });
      assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written through the link x');
    });

    it('a crafted x/f never goes through a symlink x already in the target (whole restore and --path x/f), nor through a deeper link a/b', async () => {
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const outside = temp.make('elsewhere');
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const inner = await w.addTree([{ type: 'file', name: 'f', mode: 0o644, size: 7, content: [data] }]);
      const b = await w.addTree([{ type: 'dir', name: 'c', tree: inner }]);
      const a = await w.addTree([{ type: 'dir', name: 'b', tree: b }]);
      const root = await w.addTree([
        { type: 'dir', name: 'x', tree: inner },
        { type: 'dir', name: 'a', tree: a },
      ]);
      await w.finish();
      const snapshot = await forgeSnapshot(repo, root);
      for (const paths of [[], ['--path', 'x/f', '--path', 'a/b/c/f']]) {
        const target = temp.make('target');
        fs.symlinkSync(outside, path.join(target, 'x'));
        fs.mkdirSync(path.join(target, 'a'));
        fs.symlinkSync(outside, path.join(target, 'a', 'b'));
        const run = await runCliCaptured(['restore', snapshot.id, '--repo', store, '--target', target, ...paths]);
        assert.equal(run.code, 0, run.stderr.join('\n'));
        assert.deepEqual(
          fs.readdirSync(outside),
          [],
          `nothing written in the link's target (${paths.join(' ') || 'whole restore'})`,
        );
        assert.ok(
          fs.lstatSync(path.join(target, 'x')).isDirectory() && fs.lstatSync(path.join(target, 'a', 'b')).isDirectory(),
          'the links were replaced by real folders',
        );
        assert.equal(fs.readFileSync(path.join(target, 'a', 'b', 'c', 'f'), 'utf8'), 'payload');
      }
    });

    it('a hardlink in the target to a file outside is replaced, not written through', async () => {
      const { store, first } = await setup();
      const outside = temp.make('outside');
      fs.writeFileSync(path.join(outside, 'victim.md'), 'precious, outside the target');
      const target = temp.make('target');
      fs.linkSync(path.join(outside, 'victim.md'), path.join(target, 'README.md'));
      const run = await runCliCaptured(['restore', first.id, '--repo', store, '--target', target]);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.equal(fs.readFileSync(path.join(outside, 'victim.md'), 'utf8'), 'precious, outside the target');
      assert.equal(fs.readFileSync(path.join(target, 'README.md'), 'utf8'), SPEC['README.md']);
    });
  });

  describe('damaged data files', () => {
    for (const damage of ['truncated', 'garbage', 'missing'] as const) {
      it(`a ${damage} pack: restore names the pack once per file that needs it, the other snapshot restores, cat is one line`, async () => {
        const { repo, first, second, cli } = await setup();
        const changed = await entryAt(repo, second.tree, 'src/index.ts');
        assert.ok(changed?.type === 'file');
        const pack = packOf(repo, changed.content[0]);
        assert.notEqual(
          pack,
          packOf(
            repo,
            await entryAt(repo, first.tree, 'README.md').then((e) => (e?.type === 'file' ? e.content[0] : '')),
          ),
          'the snapshots wrote separate packs',
        );
        if (damage === 'truncated') fs.truncateSync(pack, Math.floor(fs.statSync(pack).size / 2));
        if (damage === 'garbage') fs.writeFileSync(pack, seededBytes(fs.statSync(pack).size, 7));
        if (damage === 'missing') fs.rmSync(pack);
        // The second snapshot's trees live in that pack too: its restore cannot even be planned.
        const target = temp.fresh('t');
        const pattern = {
          truncated: /shorter than its index says|truncated|damaged/,
          garbage: /damaged/,
          missing: /missing/,
        }[damage];
        assertFails(
          await cli('restore', second.id, '--target', target),
          `restore of the snapshot in the ${damage} pack`,
          pattern,
        );
        assert.deepEqual(
          fs.existsSync(target) ? listAll(target).filter((p) => isTempName(path.posix.basename(p))) : [],
          [],
          'no temp file left',
        );
        assertFails(await cli('cat', second.id, 'notes.txt'), `cat from the ${damage} pack`, pattern);
        const older = temp.fresh('older');
        const run = await cli('restore', first.id, '--target', older);
        assert.equal(run.code, 0, `the first snapshot does not need that pack: ${run.stderr.join(' | ')}`);
        assert.deepEqual(readTree(older), expectedTree(SPEC));
      });
    }

    it('a snapshot whose root is not a tree, or is missing: one line, no crash', async () => {
      const { repo, cli } = await setup();
      const w = repo.newWriter();
      const notATree = await w.add('data', Buffer.from('{"v":1,"entries":"not a list"}'));
      await w.finish();
      const wrong = await forgeSnapshot(repo, notATree);
      assertFails(
        await cli('restore', wrong.id, '--target', temp.fresh('t')),
        'root is not a tree',
        /not a valid tree/,
      );
      assertFails(await cli('ls', wrong.id), 'ls of a root that is not a tree', /not a valid tree/);
      const lost = await forgeSnapshot(repo, 'e'.repeat(64));
      assertFails(await cli('restore', lost.id, '--target', temp.fresh('t')), 'root is missing', /missing/);
    });

    for (const damage of ['garbage', 'truncated', 'empty'] as const) {
      it(`${damage === 'empty' ? 'an' : 'a'} ${damage} index file: one warning line naming it; what it named fails in one sentence, the rest works, the next snapshot stores it again`, async () => {
        const { ws, second, secondIndex, first, firstState, cli } = await setup();
        const bytes = fs.readFileSync(secondIndex);
        fs.writeFileSync(
          secondIndex,
          damage === 'garbage'
            ? seededBytes(bytes.length, 9)
            : damage === 'truncated'
              ? bytes.subarray(0, bytes.length >> 1)
              : Buffer.alloc(0),
        );
        const warning = new RegExp(`^Warning: index/${path.basename(secondIndex)} is damaged`);
        const list = await cli('list', '--json');
        assert.equal(list.code, 0, list.stderr.join('\n'));
        assert.deepEqual(
          list.json<Array<{ id: string }>>().map((s) => s.id),
          [first.id, second.id],
        );
        assert.equal(list.stderr.filter((l) => l).length, 1);
        assert.match(list.stderr[0], warning);
        // The second snapshot's trees were named only by that index: its restore fails, in one sentence.
        assertFails(
          await cli('restore', second.id, '--target', temp.fresh('t')),
          `restore of what the ${damage} index named`,
          /missing/,
          2,
        );
        const older = temp.fresh('older');
        const ok = await cli('restore', first.id, '--target', older);
        assert.equal(ok.code, 0, ok.stderr.join('\n'));
        assert.deepEqual(readTree(older), firstState);
        // A snapshot no longer finds those objects in the index, so it stores them again: latest restores.
        const again = await cli('snapshot', ws);
        assert.equal(again.code, 0, again.stderr.join('\n'));
        const latest = temp.fresh('latest');
        const restored = await cli('restore', 'latest', '--target', latest);
        assert.equal(restored.code, 0, restored.stderr.join('\n'));
        assert.deepEqual(readTree(latest), readTree(ws));
      });
    }
  });

  describe('damaged snapshot records', () => {
    it('a garbage, truncated or empty record, or one holding another id: list names it in one line and shows the others; the others still restore, and snapshots go on', async () => {
      // One damaged record must not take every other snapshot down with it: Repository.listSnapshots
      // promises to leave damaged records out "rather than hiding every other snapshot".
      const failures: string[] = [];
      for (const damage of ['garbage', 'truncated', 'empty', 'another id inside'] as const) {
        const { ws, store, first, second, cli } = await setup();
        const file = path.join(store, 'snapshots', second.id);
        const bytes = fs.readFileSync(file);
        const forged = JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), id: 'f'.repeat(32) });
        fs.writeFileSync(
          file,
          {
            garbage: seededBytes(bytes.length, 5),
            truncated: bytes.subarray(0, bytes.length >> 1),
            empty: Buffer.alloc(0),
            'another id inside': Buffer.from(forged),
          }[damage],
        );
        const list = await cli('list', '--json');
        assert.equal(list.code, 0, list.stderr.join('\n'));
        assert.deepEqual(
          list.json<Array<{ id: string }>>().map((s) => s.id),
          [first.id],
        );
        assert.equal(list.stderr.filter((l) => l).length, 1, list.stderr.join('\n'));
        assert.match(list.stderr[0], new RegExp(`${second.id.slice(0, 8)}.*damaged`));
        for (const argv of [
          ['restore', first.id, '--target', temp.fresh('t')],
          ['ls', first.id],
          ['cat', first.id, 'README.md'],
          ['snapshot', ws],
        ]) {
          const run = await cli(...argv);
          if (run.code !== 0)
            failures.push(`${damage} record: ${argv[0]}: exit ${run.code}: ${run.stderr.join(' | ')}`);
          else assert.doesNotMatch(run.stderr.join('\n'), /unexpected error/);
        }
      }
      assert.deepEqual(failures, [], 'with one record damaged, commands on the other snapshots must still work');
    });
  });

  describe('the config', () => {
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['that is missing', (file) => fs.rmSync(file), /no backup store|no config|config file is missing/],
      ['of garbage', (file) => fs.writeFileSync(file, seededBytes(300, 4)), /config .*not valid/],
      ['cut short', (file) => fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 40)), /config .*not valid/],
      [
        'of a newer format',
        (file) => fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), format: 99 })),
        /format 99, newer.*update/,
      ],
      [
        'of an encrypted store',
        (file) =>
          fs.writeFileSync(
            file,
            JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), encryption: { kdf: 'scrypt' } }),
          ),
        /encrypted/,
      ],
      [
        'missing its chunker',
        (file) =>
          fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), chunker: null })),
        /incomplete/,
      ],
      ['that is a folder', (file) => (fs.rmSync(file), fs.mkdirSync(file)), /config/],
    ];
    for (const [what, damage, pattern] of cases) {
      it(`a config ${what}: every command is one line, and nothing is written`, async () => {
        const { ws, store, cli } = await setup();
        damage(path.join(store, 'config'));
        const before = listAll(store);
        for (const argv of [['list'], ['snapshot', ws], ['restore', 'latest', '--target', temp.fresh('t')], ['init']]) {
          assertFails(await cli(...argv), `${argv[0]} with a config ${what}`, pattern);
        }
        assert.deepEqual(listAll(store), before, 'the store was left as it was');
      });
    }
  });

  describe('bad paths', () => {
    it('a workspace that is a file, below a file, or a dangling link; a store that is a file: one line each', async () => {
      const dir = temp.make('paths');
      writeTree(dir, { 'file.txt': 'f', dangling: { symlink: 'nowhere' } });
      const store = path.join(dir, 'store');
      for (const [ws, pattern] of [
        [path.join(dir, 'file.txt'), /is a file, not a folder/],
        [path.join(dir, 'file.txt', 'sub'), /does not exist/],
        [path.join(dir, 'dangling'), /does not exist/],
      ] as const) {
        assertFails(
          await runCliCaptured(['snapshot', ws, '--repo', store]),
          `workspace ${path.relative(dir, ws)}`,
          pattern,
        );
      }
      assert.equal(fs.existsSync(store), false, 'no store was created for nothing');
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a' });
      assertFails(
        await runCliCaptured(['snapshot', ws, '--repo', path.join(dir, 'file.txt')]),
        'store that is a file',
        /is a file, not a backup store folder/,
      );
      assertFails(
        await runCliCaptured(['list', '--repo', path.join(dir, 'file.txt')]),
        'list of a store that is a file',
        /is a file, not a backup store folder/,
      );
      assert.equal(fs.readFileSync(path.join(dir, 'file.txt'), 'utf8'), 'f');
    });
  });

  describe('disposable files: a damaged cache or lock costs time, never a snapshot', () => {
    it('a stat cache whose folder entries have the wrong types: the next snapshot rescans instead of crashing', async () => {
      // Regression guard: a cache header with `null` for a folder's tree id decoded "fine", and every later
      // full snapshot failed with "unexpected error: Cannot read properties of null (reading 'length')",
      // the cache never being rewritten because the snapshot failed first.
      const { ws, store, repo, cli } = await setup();
      // The stat cache (the store's cache/ also holds small ones: snapshot stamps, the index a scan checked).
      const name = fs.readdirSync(path.join(store, 'cache')).find((n) => n.startsWith('stat-')) as string;
      const data = await repo.loadCache(name);
      assert.ok(data);
      // Layout v3 (statCache.ts): the folders' records, the header, its length and "PBC3".
      const headerLength = data.readUInt32LE(data.length - 8);
      const headerStart = data.length - 8 - headerLength;
      const header = JSON.parse(data.toString('utf8', headerStart, headerStart + headerLength)) as {
        dirs: unknown[][];
      };
      const failures: string[] = [];
      for (const [what, change] of [
        ['a null tree id', (d: unknown[]) => (d[1] = null)],
        ['a string for a name count', (d: unknown[]) => (d[7] = 'two')],
        ['a string for a count', (d: unknown[]) => (d[2] = 'two')],
      ] as const) {
        const dirs = header.dirs.map((d) => [...d]);
        for (const d of dirs) change(d);
        const json = Buffer.from(JSON.stringify({ ...header, dirs }), 'utf8');
        const trailer = Buffer.from(data.subarray(data.length - 8));
        trailer.writeUInt32LE(json.length, 0);
        await repo.saveCache(name, Buffer.concat([data.subarray(0, headerStart), json, trailer]));
        writeTree(ws, { [`changed-${what.length}.txt`]: what });
        const run = await cli('snapshot', ws, '--json');
        if (run.code !== 0) {
          failures.push(`a cache with ${what}: exit ${run.code}: ${run.stderr.join(' | ')}`);
          continue;
        }
        const restored = temp.fresh('t');
        assert.equal((await cli('restore', run.json<{ id: string }>().id, '--target', restored)).code, 0);
        assert.deepEqual(readTree(restored), readTree(ws), `a cache with ${what}: the snapshot is the workspace`);
      }
      assert.deepEqual(failures, [], 'a damaged cache must mean "no cache", never a failed snapshot');
    });

    it('a garbage or empty lock file is taken as stale and removed; the snapshot goes on', async () => {
      const { ws, store, cli } = await setup();
      fs.writeFileSync(path.join(store, 'locks', 'a'.repeat(32)), seededBytes(100, 3));
      fs.writeFileSync(path.join(store, 'locks', 'b'.repeat(32)), '');
      writeTree(ws, { 'more.txt': 'more' });
      const run = await cli('snapshot', ws);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.deepEqual(fs.readdirSync(path.join(store, 'locks')), []);
    });
  });
});
