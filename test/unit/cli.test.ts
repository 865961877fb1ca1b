// The CLI contract scripts depend on: commands, human and --json output, snapshot references, the
// environment, and exit codes (0 done, 1 error with one line on stderr, 2 usage).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repository } from '../../src/core/repository/repository';
import {
  DIST_CLI,
  MiB,
  lines,
  openRepo,
  runCliCaptured,
  seededBytes,
  spawnCli,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { CliRun } from './helpers/fixtures';

interface SnapshotJson {
  id: string;
  time: string;
  files: number;
  bytesAdded: number;
  created: boolean;
  label?: string;
  workspace: { path: string; id: string };
}

interface ListJson {
  id: string;
  time: string;
  trigger: string;
  label: string | null;
  workspace: { path: string; id: string };
}

/** An error the way the contract wants it: exit 1, exactly one line on stderr, no stack trace. */
function assertOneLineError(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 1, `exit code (stderr: ${run.stderr.join(' | ')})`);
  assert.equal(run.stderr.length, 1, `one line on stderr, got:\n${run.stderr.join('\n')}`);
  assert.match(run.stderr[0], pattern);
  assert.doesNotMatch(run.stderr[0], /\bat .*:\d+:\d+|Error:/, 'no stack trace or raw error name');
  assert.equal(run.stdout.filter((l) => l !== '').length, 0, 'nothing on stdout');
}

function assertUsage(run: CliRun, what: string): void {
  assert.equal(run.code, 2, `${what}: exit code (stderr: ${run.stderr.join(' | ')})`);
  assert.ok(run.stderr.length > 0, `${what}: says why on stderr`);
  assert.match(run.stderr.join('\n'), /usage/i, `${what}: shows usage`);
}

describe('CLI', () => {
  const temp = useTempDirs();

  async function setup(): Promise<{ ws: string; repo: string; cli: (...argv: string[]) => Promise<CliRun> }> {
    const ws = temp.make('ws');
    writeTree(ws, {
      'README.md': 'hello\n',
      'src/a.ts': 'export const a = 1;\n',
      'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\n' },
      link: { symlink: 'README.md' },
    });
    const repo = temp.fresh('store');
    return { ws, repo, cli: (...argv: string[]) => runCliCaptured([...argv, '--repo', repo]) };
  }

  describe('snapshot', () => {
    it('creates the store on first use and prints one JSON object; an unchanged second run says created=false with the same id', async () => {
      const { ws, repo, cli } = await setup();
      const first = await cli('snapshot', ws, '--json', '--label', 'first one');
      assert.equal(first.code, 0, first.stderr.join('\n'));
      assert.ok(fs.existsSync(path.join(repo, 'config')));
      assert.equal(first.stdout.length, 1);
      const s1 = first.json<SnapshotJson>();
      assert.match(s1.id, /^[0-9a-f]{32}$/);
      assert.ok(!Number.isNaN(Date.parse(s1.time)));
      assert.equal(s1.files, 3);
      assert.equal(s1.created, true);
      assert.ok(s1.bytesAdded > 0);
      assert.equal(s1.label, 'first one');
      assert.equal(s1.workspace.path, fs.realpathSync(ws));

      const second = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      assert.equal(second.created, false);
      assert.equal(second.id, s1.id);
      assert.equal(second.bytesAdded, 0);
      const byPath = (await cli('snapshot', ws, '--json', '--path', 'src/a.ts')).json<SnapshotJson>();
      assert.equal(byPath.created, false);
      assert.equal(byPath.id, s1.id);

      fs.writeFileSync(path.join(ws, 'src', 'a.ts'), 'changed');
      const third = (await cli('snapshot', ws, '--json', '--path', 'src/a.ts')).json<SnapshotJson>();
      assert.equal(third.created, true);
      assert.notEqual(third.id, s1.id);
    });

    it('prints one human sentence, and says so when nothing changed', async () => {
      const { ws, cli } = await setup();
      const first = await cli('snapshot', ws);
      assert.equal(first.code, 0);
      assert.equal(first.stdout.length, 1);
      assert.match(
        first.stdout[0],
        /^Snapshot [0-9a-f]{8} of .+: 4 files changed \(4 new, 0 modified, 0 deleted\), .+ added; 3 files, .+ in all\.$/,
      );
      const again = await cli('snapshot', ws);
      assert.equal(again.code, 0);
      assert.match(again.stdout[0], new RegExp(`^Nothing changed since snapshot ${first.stdout[0].slice(9, 17)}`));
    });

    it('takes the store from PROJECT_BACKUP_REPO, and --repo wins over it', async () => {
      const { ws, repo } = await setup();
      const viaEnv = await runCliCaptured(['snapshot', ws, '--json'], { PROJECT_BACKUP_REPO: repo });
      assert.equal(viaEnv.code, 0, viaEnv.stderr.join('\n'));
      assert.ok(fs.existsSync(path.join(repo, 'config')));
      const other = temp.fresh('other');
      const viaFlag = await runCliCaptured(['snapshot', ws, '--json', '--repo', other], { PROJECT_BACKUP_REPO: repo });
      assert.equal(viaFlag.json<SnapshotJson>().created, true, 'a new store has no snapshot yet');
      assert.ok(fs.existsSync(path.join(other, 'config')));
      const listed = await runCliCaptured(['list', '--json'], { PROJECT_BACKUP_REPO: repo });
      assert.equal(listed.json<ListJson[]>().length, 1);
    });

    it('reports skipped files on stderr and honours --exclude and --max-file-size', async () => {
      const { ws, cli } = await setup();
      writeTree(ws, { 'big.bin': Buffer.alloc(3000), 'debug.log': 'x' });
      const run = await cli('snapshot', ws, '--exclude', '*.log', '--max-file-size', '2k');
      assert.equal(run.code, 0);
      assert.deepEqual(
        run.stderr.map((l) => l.replace(/:.*/, '')),
        ['skipped big.bin'],
      );
      const ls = (await cli('ls', 'latest', '--json')).json<Array<{ path: string }>>();
      assert.deepEqual(ls.map((e) => e.path).sort(), ['README.md', 'bin', 'link', 'src']);
    });
  });

  describe('list', () => {
    it('prints an array oldest first with id, time, trigger, label and workspace; --workspace filters', async () => {
      const { ws, cli } = await setup();
      const ws2 = temp.make('ws2');
      writeTree(ws2, { 'x.txt': 'x' });
      assert.equal((await cli('list', '--json')).code, 1, 'no store yet');
      const a = (await cli('snapshot', ws, '--json', '--label', 'A')).json<SnapshotJson>();
      const b = (await cli('snapshot', ws2, '--json')).json<SnapshotJson>();
      fs.writeFileSync(path.join(ws, 'README.md'), 'changed');
      const c = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      const all = (await cli('list', '--json')).json<ListJson[]>();
      assert.deepEqual(
        all.map((s) => s.id),
        [a.id, b.id, c.id],
      );
      assert.deepEqual(
        all.map((s) => s.label),
        ['A', null, null],
      );
      for (const s of all) {
        assert.equal(s.trigger, 'manual');
        assert.ok(Date.parse(s.time) > 0);
        assert.ok(typeof s.workspace.path === 'string' && typeof s.workspace.id === 'string');
      }
      assert.ok(all[0].time < all[1].time && all[1].time < all[2].time);
      const mine = (await cli('list', '--json', '--workspace', ws)).json<ListJson[]>();
      assert.deepEqual(
        mine.map((s) => s.id),
        [a.id, c.id],
      );
      assert.deepEqual(
        (await cli('list', '--json', '--workspace', ws2)).json<ListJson[]>().map((s) => s.id),
        [b.id],
      );
    });

    it('prints a table with short ids, triggers, labels and a count', async () => {
      const { ws, repo, cli } = await setup();
      await openRepo(repo);
      const empty = await cli('list');
      assert.deepEqual(empty.stdout, ['No snapshots yet.']);
      const a = (await cli('snapshot', ws, '--json', '--label', 'my label')).json<SnapshotJson>();
      const run = await cli('list');
      assert.equal(run.code, 0);
      assert.equal(run.stdout.length, 3);
      assert.match(run.stdout[0], /^ID\s+TIME\s+TRIGGER/);
      assert.ok(run.stdout[1].startsWith(a.id.slice(0, 8)));
      assert.match(run.stdout[1], /manual/);
      assert.match(run.stdout[1], /"my label"/);
      assert.equal(run.stdout[2], '1 snapshot');
    });
  });

  describe('ls, cat, history, diff', () => {
    it('ls lists a snapshot folder (human and JSON), resolving latest and unique prefixes', async () => {
      const { ws, cli } = await setup();
      const s = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      const human = await cli('ls', 'latest');
      assert.equal(human.code, 0);
      const expectedEnds = [' README.md', ' bin/', ' link -> README.md', ' src/'];
      assert.equal(human.stdout.length, expectedEnds.length, human.stdout.join('\n'));
      expectedEnds.forEach((end, k) =>
        assert.ok(human.stdout[k].endsWith(end), `${human.stdout[k]} should end with ${end}`),
      );
      assert.match(
        human.stdout.find((l) => l.endsWith(' README.md'))!,
        /^0644\s+6\s+README\.md$/,
      );
      assert.match(
        human.stdout.find((l) => l.includes('link'))!,
        /link -> README\.md$/,
      );
      const json = (await cli('ls', s.id.slice(0, 5), 'bin', '--json')).json<Array<Record<string, unknown>>>();
      assert.deepEqual(json, [{ path: 'bin/run.sh', name: 'run.sh', type: 'file', mode: 0o755, size: 10 }]);
      const full = (await cli('ls', s.id, '--json')).json<Array<{ path: string; type: string }>>();
      assert.deepEqual(
        full.map((e) => `${e.type}:${e.path}`),
        ['file:README.md', 'dir:bin', 'symlink:link', 'dir:src'],
      );
      const recursive = (await cli('ls', 'latest', '--json', '--recursive')).json<Array<{ path: string }>>();
      assert.deepEqual(
        recursive.map((e) => e.path),
        ['README.md', 'bin', 'bin/run.sh', 'link', 'src', 'src/a.ts'],
      );
    });

    it('cat writes a file byte for byte, including a chunked file over 1 MiB', async () => {
      const { ws, cli } = await setup();
      const big = seededBytes(2 * MiB + 77, 31);
      writeTree(ws, { 'big.bin': big });
      await cli('snapshot', ws);
      const run = await cli('cat', 'latest', 'big.bin');
      assert.equal(run.code, 0);
      assert.ok(run.raw.equals(big), 'identical bytes');
      assert.deepEqual(run.stdout, []);
      assert.equal((await cli('cat', 'latest', 'README.md')).raw.toString(), 'hello\n');
      assert.equal((await cli('cat', 'latest', '/src/a.ts')).raw.toString(), 'export const a = 1;\n');
    });

    it('history lists the versions of a path newest first, including the deletion', async () => {
      const { ws, cli } = await setup();
      const v1 = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      fs.writeFileSync(path.join(ws, 'src', 'a.ts'), 'v2!');
      const v2 = (await cli('snapshot', ws, '--json', '--label', 'second')).json<SnapshotJson>();
      fs.writeFileSync(path.join(ws, 'README.md'), 'unrelated');
      await cli('snapshot', ws);
      fs.unlinkSync(path.join(ws, 'src', 'a.ts'));
      const gone = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      const json = (await cli('history', 'src/a.ts', '--workspace', ws, '--json')).json<
        Array<Record<string, unknown>>
      >();
      assert.deepEqual(
        json.map((v) => [v.snapshot, v.deleted, v.size ?? null, v.label]),
        [
          [gone.id, true, null, null],
          [v2.id, false, 3, 'second'],
          [v1.id, false, 20, null],
        ],
      );
      const abs = (await cli('history', path.join(ws, 'src', 'a.ts'), '--workspace', ws, '--json')).json<unknown[]>();
      assert.equal(abs.length, 3, 'an absolute path inside the workspace works too');
      const human = await cli('history', 'src/a.ts', '--workspace', ws);
      assert.equal(human.stdout.length, 3);
      assert.ok(human.stdout[0].startsWith(gone.id.slice(0, 8)) && human.stdout[0].includes('deleted'));
      assert.ok(human.stdout[1].includes('"second"'));
      const none = await cli('history', 'nope.txt', '--workspace', ws);
      assert.equal(none.code, 0);
      assert.match(none.stdout[0], /is in no snapshot/);
    });

    it('list --workspace and history still work when the workspace folder is gone (recovery)', async () => {
      const { ws, cli } = await setup();
      const s = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      fs.rmSync(ws, { recursive: true });
      assert.deepEqual(
        (await cli('list', '--json', '--workspace', ws)).json<ListJson[]>().map((x) => x.id),
        [s.id],
      );
      const versions = (await cli('history', 'src/a.ts', '--workspace', ws, '--json')).json<
        Array<{ snapshot: string }>
      >();
      assert.deepEqual(
        versions.map((v) => v.snapshot),
        [s.id],
      );
    });

    it('diff lists added, modified and deleted paths between two snapshots', async () => {
      const { ws, cli } = await setup();
      const a = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      fs.writeFileSync(path.join(ws, 'README.md'), 'changed\n!');
      fs.unlinkSync(path.join(ws, 'bin', 'run.sh'));
      writeTree(ws, { 'new/file.txt': 'n' });
      const b = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      const json = (await cli('diff', a.id, b.id.slice(0, 6), '--json')).json<Array<Record<string, unknown>>>();
      assert.deepEqual(json, [
        { path: 'README.md', change: 'modified', type: 'file', sizeBefore: 6, sizeAfter: 9 },
        { path: 'bin/run.sh', change: 'deleted', type: 'file', sizeBefore: 10 },
        { path: 'new', change: 'added', type: 'dir' },
        { path: 'new/file.txt', change: 'added', type: 'file', sizeAfter: 1 },
      ]);
      const human = await cli('diff', a.id, 'latest');
      assert.deepEqual(human.stdout, [
        'M  README.md',
        '-  bin/run.sh',
        '+  new/',
        '+  new/file.txt',
        `1 added, 1 modified, 1 deleted between ${a.id.slice(0, 8)} and ${b.id.slice(0, 8)}.`,
      ]);
      assert.deepEqual((await cli('diff', 'latest', 'latest', '--json')).json(), []);
    });
  });

  describe('restore', () => {
    it('restores into another folder and prints what it did; --dry-run only lists', async () => {
      const { ws, cli } = await setup();
      await cli('snapshot', ws);
      const target = temp.fresh('target');
      const dry = await cli('restore', 'latest', '--target', target, '--dry-run');
      assert.equal(dry.code, 0);
      assert.ok(dry.stdout.includes('would create    README.md'), dry.stdout.join('\n'));
      assert.ok(dry.stdout.includes('would create    bin/'));
      assert.match(
        dry.stdout[dry.stdout.length - 1],
        /^Dry run: 6 to change, 0 already as in snapshot [0-9a-f]{8}; nothing was written\.$/,
      );
      assert.equal(fs.existsSync(target), false);
      const run = await cli('restore', 'latest', '--target', target, '--path', 'src', '--path', 'link', '--json');
      assert.equal(run.code, 0);
      const out = run.json<{
        restored: number;
        problems: unknown[];
        changes: Array<{ path: string; action: string }>;
        dryRun: boolean;
      }>();
      assert.equal(out.dryRun, false);
      assert.deepEqual(out.problems, []);
      assert.deepEqual(out.changes.map((c) => `${c.action} ${c.path}`).sort(), [
        'create link',
        'create src',
        'create src/a.ts',
      ]);
      assert.deepEqual(fs.readdirSync(target).sort(), ['link', 'src']);
      const human = await cli('restore', 'latest', '--target', target);
      assert.match(
        human.stdout[0],
        /^Restored 3 items and deleted 0 from snapshot [0-9a-f]{8} .* 3 already matched\.$/,
      );
    });
  });

  describe('restore into the workspace', () => {
    it('takes a pre-restore snapshot first and prints the command that undoes the restore', async () => {
      const { ws, cli } = await setup();
      await cli('snapshot', ws);
      fs.writeFileSync(path.join(ws, 'README.md'), 'edited after the snapshot\n');
      const run = await cli('restore', 'latest~', '--target', ws);
      assert.notEqual(run.code, 0, 'latest~ is not a snapshot reference');
      const first = (await cli('list', '--json')).json<Array<{ id: string }>>()[0];
      const restored = await cli('restore', first.id, '--target', ws, '--path', 'README.md');
      assert.equal(restored.code, 0, restored.stderr.join('\n'));
      const undoLine = restored.stdout.find((l) => l.startsWith('To undo: project-backup restore '));
      assert.ok(undoLine, restored.stdout.join('\n'));
      assert.notEqual(fs.readFileSync(path.join(ws, 'README.md'), 'utf8'), 'edited after the snapshot\n');
      const list = (await cli('list', '--json')).json<Array<{ id: string; trigger: string }>>();
      const undo = list[list.length - 1];
      assert.equal(undo.trigger, 'pre-restore');
      assert.ok(undoLine.includes(undo.id.slice(0, 8)) && undoLine.includes(`--target ${ws} --delete`));
      // Following the printed advice puts the edit back.
      assert.equal((await cli('restore', undo.id, '--target', ws, '--delete')).code, 0);
      assert.equal(fs.readFileSync(path.join(ws, 'README.md'), 'utf8'), 'edited after the snapshot\n');
    });

    it('a restore into a folder inside the workspace is undoable too', async () => {
      const { ws, cli } = await setup();
      await cli('snapshot', ws);
      const before = (await cli('list', '--json')).json<unknown[]>().length;
      const run = await cli('restore', 'latest', '--target', path.join(ws, 'recovered'));
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.ok(
        run.stdout.some((l) => l.startsWith('To undo: ')),
        run.stdout.join('\n'),
      );
      assert.ok(fs.existsSync(path.join(ws, 'recovered', 'README.md')));
      assert.ok((await cli('list', '--json')).json<unknown[]>().length >= before);
    });
  });

  describe('errors: exit 1 with one line on stderr, no stack trace', () => {
    it('missing workspace folder, and a workspace that is a file (and no store is created for nothing)', async () => {
      const { ws, repo, cli } = await setup();
      assertOneLineError(await cli('snapshot', path.join(ws, 'does-not-exist')), /does not exist/);
      assertOneLineError(await cli('snapshot', path.join(ws, 'README.md')), /is a file, not a folder/);
      assert.equal(fs.existsSync(repo), false, 'a failed first snapshot leaves no empty store behind');
    });

    it('a store folder with no config', async () => {
      const empty = temp.make('empty');
      for (const argv of [
        ['list'],
        ['ls', 'latest'],
        ['cat', 'latest', 'a'],
        ['diff', 'a', 'b'],
        ['restore', 'latest', '--target', empty],
      ]) {
        assertOneLineError(await runCliCaptured([...argv, '--repo', empty]), /no backup store/i);
      }
      assert.deepEqual(fs.readdirSync(empty), [], 'read commands never create a store');
    });

    it('an unknown snapshot id, an ambiguous prefix, and latest in an empty store', async () => {
      const { ws, repo, cli } = await setup();
      await openRepo(repo);
      assertOneLineError(await cli('ls', 'latest'), /no snapshots/);
      const s = (await cli('snapshot', ws, '--json')).json<SnapshotJson>();
      assertOneLineError(await cli('ls', 'ffffffffff'), /No snapshot matches "ffffffffff"/);
      assertOneLineError(await cli('cat', 'zzz', 'README.md'), /No snapshot matches/);
      const store = await Repository.open(repo);
      const record = await store.loadSnapshot(s.id);
      await store.saveSnapshot({ ...record, id: 'abc00000000000000000000000000001' });
      await store.saveSnapshot({ ...record, id: 'abc00000000000000000000000000002' });
      assertOneLineError(await cli('ls', 'abc0'), /matches 2 snapshots/);
      assert.equal((await cli('ls', 'abc00000000000000000000000000002')).code, 0, 'a full id is never ambiguous');
    });

    it('a path that is not in the snapshot', async () => {
      const { ws, cli } = await setup();
      await cli('snapshot', ws);
      assertOneLineError(await cli('cat', 'latest', 'nope.txt'), /nope\.txt is not in snapshot/);
      assertOneLineError(await cli('cat', 'latest', 'src'), /is a folder/);
      assertOneLineError(await cli('ls', 'latest', 'nope'), /nope is not in snapshot/);
      assertOneLineError(
        await cli('restore', 'latest', '--target', temp.fresh('t'), '--path', 'nope'),
        /nope is not in snapshot/,
      );
      assertOneLineError(await cli('cat', 'latest', '../etc/passwd'), /contains/);
    });
  });

  describe('usage: exit 2', () => {
    it('unknown command, no command, missing arguments, bad flags, no store given', async () => {
      const { ws, cli } = await setup();
      assertUsage(await cli('frobnicate'), 'unknown command');
      assertUsage(await runCliCaptured([]), 'no command');
      assertUsage(await cli('snapshot'), 'snapshot without workspace');
      assertUsage(await cli('snapshot', ws, ws), 'snapshot with two workspaces');
      assertUsage(await cli('snapshot', ws, '--bogus'), 'unknown flag');
      assertUsage(await cli('snapshot', ws, '--label'), 'flag without value');
      assertUsage(await cli('snapshot', ws, '--max-file-size', 'huge'), 'bad size');
      assertUsage(await cli('snapshot', ws, '--trigger', 'whenever'), 'bad trigger');
      assertUsage(await cli('ls'), 'ls without snapshot');
      assertUsage(await cli('cat', 'latest'), 'cat without path');
      assertUsage(await cli('diff', 'latest'), 'diff with one snapshot');
      assertUsage(await cli('history', 'a.txt'), 'history without --workspace');
      assertUsage(await cli('restore', 'latest'), 'restore without --target');
      assertUsage(await cli('list', 'extra'), 'list with an argument');
      assertUsage(await runCliCaptured(['list']), 'no --repo and no PROJECT_BACKUP_REPO');
      assert.equal(fs.existsSync(path.join(ws, 'config')), false);
    });

    it('init creates an empty store, and is harmless on an existing one', async () => {
      const repo = temp.fresh('store');
      const run = await runCliCaptured(['init', '--repo', repo, '--json']);
      assert.equal(run.code, 0);
      const out = run.json<{ location: string; id: string; format: number }>();
      assert.equal(out.location, path.resolve(repo));
      assert.equal((await Repository.open(repo)).config.id, out.id);
      const again = await runCliCaptured(['init', '--repo', repo, '--json']);
      assert.equal(again.json<{ id: string }>().id, out.id);
      const foreign = temp.make('foreign');
      fs.writeFileSync(path.join(foreign, 'mine.txt'), 'x');
      assertOneLineError(await runCliCaptured(['init', '--repo', foreign]), /not empty/);
    });

    it('--help and --version exit 0', async () => {
      const help = await runCliCaptured(['--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout.join('\n'), /Usage: project-backup/);
      assert.equal((await runCliCaptured(['snapshot', '--help'])).code, 0);
      const version = await runCliCaptured(['--version']);
      assert.equal(version.code, 0);
      assert.match(version.stdout[0], /^project-backup \d+\.\d+\.\d+$/);
    });
  });

  describe('the built bundle (dist/cli.js), end to end', () => {
    before(function () {
      if (!fs.existsSync(DIST_CLI)) {
        // `npm test` builds it first; `node esbuild.js` builds it by hand.
        console.log(`      skipped: ${DIST_CLI} is missing; build it with \`node esbuild.js\` (npm test does)`);
        this.skip();
      }
    });

    it('exits 0 with JSON on stdout for a snapshot, and cat writes raw bytes', async () => {
      const { ws, repo } = await setup();
      const binary = seededBytes(70_000, 8);
      writeTree(ws, { 'data.bin': binary });
      const snap = spawnCli(['snapshot', ws, '--json'], { PROJECT_BACKUP_REPO: repo });
      assert.equal(snap.code, 0, snap.stderr);
      assert.equal(JSON.parse(snap.stdout).created, true);
      const { spawnSync } = await import('node:child_process');
      const cat = spawnSync(process.execPath, [DIST_CLI, 'cat', 'latest', 'data.bin', '--repo', repo]);
      assert.equal(cat.status, 0);
      assert.ok(Buffer.from(cat.stdout).equals(binary));
    });

    it('exits 1 with one stderr line and no stack trace on errors, and 2 on usage errors', async () => {
      const empty = temp.make('empty');
      const missing = spawnCli(['list', '--repo', empty]);
      assert.equal(missing.code, 1);
      assert.equal(lines(missing.stderr).length, 1, missing.stderr);
      assert.doesNotMatch(missing.stderr, /\n\s+at /);
      assert.equal(missing.stdout, '');
      const ws = spawnCli(['snapshot', path.join(empty, 'nope'), '--repo', temp.fresh('s')]);
      assert.equal(ws.code, 1);
      assert.equal(lines(ws.stderr).length, 1, ws.stderr);
      assert.equal(spawnCli(['frobnicate']).code, 2);
      assert.equal(spawnCli(['ls']).code, 2);
      assert.equal(spawnCli(['list', '--bogus', '--repo', empty]).code, 2);
    });
  });
});
