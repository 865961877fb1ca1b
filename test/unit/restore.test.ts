// Restore: whole snapshots, folders, single files, into the workspace or elsewhere; dry runs; modes and
// links; deleting extras; damaged data; hostile trees that try to write outside the target.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import type { TreeEntry } from '../../src/core/repository/tree';
import { Restorer } from '../../src/core/restore/restorer';
import type { RestoreOptions } from '../../src/core/restore/restorer';
import { entryAt } from '../../src/core/query/browse';
import {
  ageTree,
  damageBlob,
  describeTreeDiff,
  expectedTree,
  forgeSnapshot,
  listAll,
  openRepo,
  readTree,
  rejectionCode,
  runCliCaptured,
  seededBytes,
  snapshotterFor,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { ReadTree, TreeSpec } from './helpers/fixtures';

const SPEC: TreeSpec = {
  'README.md': '# project\n',
  'src/index.ts': 'export const x = 1;\n',
  'src/lib/util.ts': 'export function f() {}\n',
  'bin/run.sh': { mode: 0o755, content: '#!/bin/sh\necho run\n' },
  'secret.key': { mode: 0o600, content: 'k' },
  'data/blob.bin': seededBytes(20_000, 3),
  'data/empty.txt': '',
  'links/to-readme': { symlink: '../README.md' },
  'links/absolute': { symlink: '/etc/hostname' },
  'links/dangling': { symlink: 'nowhere' },
  'empty-dir': { dir: true },
};

function assertSameTree(actual: ReadTree, expected: ReadTree, what: string): void {
  const diff = describeTreeDiff(actual, expected);
  assert.equal(diff, '', `${what} differs:\n${diff}`);
  assert.deepEqual(actual, expected);
}

describe('Restorer', () => {
  const temp = useTempDirs();

  async function setup(
    spec: TreeSpec = SPEC,
  ): Promise<{ ws: string; repo: Repository; snapshot: SnapshotRecord; state: ReadTree }> {
    const ws = temp.make('ws');
    writeTree(ws, spec);
    const repo = await openRepo(temp.fresh('store'));
    const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
    return { ws, repo, snapshot, state: readTree(ws) };
  }

  function restore(repo: Repository, snapshot: SnapshotRecord, options: RestoreOptions) {
    return new Restorer(repo).restore(snapshot, options);
  }

  describe('what is restored', () => {
    it('restores a whole snapshot into a new folder: bytes, modes, links, empty folders', async () => {
      const { repo, snapshot, state } = await setup();
      assert.deepEqual(state, expectedTree(SPEC), 'precondition: the workspace is the spec');
      const target = temp.fresh('target');
      const result = await restore(repo, snapshot, { target });
      assert.deepEqual(result.problems, []);
      assertSameTree(readTree(target), state, 'restored tree');
      assert.equal(fs.statSync(path.join(target, 'bin', 'run.sh')).mode & 0o777, 0o755);
      assert.equal(fs.lstatSync(path.join(target, 'links', 'absolute')).isSymbolicLink(), true);
      assert.equal(result.restored, result.plan.changes.length);
    });

    it('restores one folder, and one file, with their parent folders', async () => {
      const { repo, snapshot, state } = await setup();
      const t1 = temp.make('t1');
      await restore(repo, snapshot, { target: t1, paths: ['src/lib'] });
      assert.deepEqual(readTree(t1), { 'src/lib/util.ts': state['src/lib/util.ts'] });
      const t2 = temp.make('t2');
      await restore(repo, snapshot, { target: t2, paths: ['./bin/run.sh'] });
      assert.deepEqual(readTree(t2), { 'bin/run.sh': state['bin/run.sh'] });
      const t3 = temp.make('t3');
      await restore(repo, snapshot, { target: t3, paths: ['links/to-readme', 'empty-dir'] });
      assert.deepEqual(readTree(t3), { 'links/to-readme': { symlink: '../README.md' }, 'empty-dir': { dir: true } });
    });

    it('restores into the workspace, putting back edited and deleted files and leaving extra ones', async () => {
      const { ws, repo, snapshot, state } = await setup();
      fs.writeFileSync(path.join(ws, 'src', 'index.ts'), 'broken');
      fs.chmodSync(path.join(ws, 'bin', 'run.sh'), 0o644);
      fs.rmSync(path.join(ws, 'src', 'lib'), { recursive: true });
      fs.unlinkSync(path.join(ws, 'links', 'to-readme'));
      fs.symlinkSync('elsewhere', path.join(ws, 'links', 'to-readme'));
      fs.writeFileSync(path.join(ws, 'extra.txt'), 'mine');
      const result = await restore(repo, snapshot, { target: ws });
      assert.deepEqual(result.problems, []);
      assertSameTree(
        readTree(ws),
        { ...state, 'extra.txt': { mode: 0o644, content: Buffer.from('mine') } },
        'workspace',
      );
    });

    it('brings back a deleted file from an older snapshot', async () => {
      const { ws, repo, snapshot, state } = await setup();
      fs.unlinkSync(path.join(ws, 'src', 'index.ts'));
      const later = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      assert.equal(await entryAt(repo, later.tree, 'src/index.ts'), undefined);
      await restore(repo, snapshot, { target: ws, paths: ['src/index.ts'] });
      assert.deepEqual(readTree(ws)['src/index.ts'], state['src/index.ts']);
    });

    it('changes nothing when the target already matches (files compared by content, not only size)', async () => {
      const { ws, repo, snapshot } = await setup();
      const result = await restore(repo, snapshot, { target: ws });
      assert.deepEqual(result.plan.changes, []);
      assert.equal(
        result.plan.unchanged,
        Object.keys(readTree(ws)).length + 5 /* folders: src, src/lib, bin, data, links */,
      );
      fs.writeFileSync(path.join(ws, 'README.md'), '# PROJECT\n'); // same size, other bytes
      const again = await restore(repo, snapshot, { target: ws, dryRun: true });
      assert.deepEqual(again.plan.changes, [{ path: 'README.md', action: 'overwrite', type: 'file' }]);
    });

    it('restores a file whose name starts with two dots', async () => {
      const { repo, snapshot } = await setup({ '..notes': 'n', 'a/...': 'three' });
      const target = temp.fresh('target');
      const result = await restore(repo, snapshot, { target });
      assert.deepEqual(result.problems, []);
      assert.deepEqual(readTree(target), expectedTree({ '..notes': 'n', 'a/...': 'three' }));
    });

    it('plans each path once when requested paths overlap', async () => {
      const { repo, snapshot, state } = await setup();
      const target = temp.make('t');
      const result = await restore(repo, snapshot, {
        target,
        paths: ['src/lib/util.ts', 'src', './src/index.ts', 'src/'],
      });
      assert.deepEqual(result.plan.changes.map((c) => c.path).sort(), [
        'src',
        'src/index.ts',
        'src/lib',
        'src/lib/util.ts',
      ]);
      assert.equal(result.restored, 4);
      assert.deepEqual(readTree(target), {
        'src/index.ts': state['src/index.ts'],
        'src/lib/util.ts': state['src/lib/util.ts'],
      });
    });

    it('refuses a target below a file with a clear error', async () => {
      const { repo, snapshot } = await setup();
      const dir = temp.make('x');
      fs.writeFileSync(path.join(dir, 'file'), 'f');
      const r = await rejectionCode(() => restore(repo, snapshot, { target: path.join(dir, 'file', 'sub') }));
      assert.equal(r.code, 'RESTORE_CONFLICT', r.message);
      assert.match(r.message, /file/);
      assert.deepEqual(fs.readdirSync(dir), ['file']);
    });

    it('refuses a target that is a file, and a path that is not in the snapshot', async () => {
      const { repo, snapshot } = await setup();
      const dir = temp.make('x');
      fs.writeFileSync(path.join(dir, 'file'), 'f');
      assert.equal(
        (await rejectionCode(() => restore(repo, snapshot, { target: path.join(dir, 'file') }))).code,
        'RESTORE_CONFLICT',
      );
      assert.equal(
        (await rejectionCode(() => restore(repo, snapshot, { target: dir, paths: ['src/nope.ts'] }))).code,
        'PATH_NOT_FOUND',
      );
      assert.equal(
        (await rejectionCode(() => restore(repo, snapshot, { target: dir, paths: ['README.md/below'] }))).code,
        'PATH_NOT_FOUND',
      );
      assert.equal(
        (await rejectionCode(() => restore(repo, snapshot, { target: dir, paths: ['../README.md'] }))).code,
        'UNSAFE_PATH',
      );
      assert.deepEqual(fs.readdirSync(dir), ['file']);
    });
  });

  describe('dry run', () => {
    it('lists what would be created, overwritten and deleted, and writes nothing', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'src', 'index.ts'), 'edited');
      fs.unlinkSync(path.join(ws, 'README.md'));
      writeTree(ws, { 'extra/new.txt': 'new', 'node_modules/dep/index.js': 'dep' });
      const before = readTree(ws);
      const result = await restore(repo, snapshot, { target: ws, dryRun: true, deleteExtra: true });
      assert.deepEqual(result.plan.changes.map((c) => `${c.action} ${c.type} ${c.path}`).sort(), [
        'create file README.md',
        'delete dir extra',
        'delete file extra/new.txt',
        'overwrite file src/index.ts',
      ]);
      assert.equal(result.restored, 0);
      assert.equal(result.deleted, 0);
      assertSameTree(readTree(ws), before, 'workspace after a dry run');
    });

    it('writes nothing, not even the target folder, when it does not exist', async () => {
      const { repo, snapshot } = await setup();
      const target = temp.fresh('target');
      const result = await restore(repo, snapshot, { target, dryRun: true });
      assert.ok(result.plan.changes.length > 5 && result.plan.changes.every((c) => c.action === 'create'));
      assert.equal(fs.existsSync(target), false);
    });
  });

  describe('deleting extras', () => {
    it('removes files the snapshot does not have, but leaves excluded folders like node_modules alone', async () => {
      const { ws, repo, snapshot, state } = await setup();
      writeTree(ws, {
        'extra.txt': 'x',
        'src/lib/extra/deep.ts': 'd',
        'node_modules/dep/index.js': 'dep',
        'src/node_modules/x.js': 'x',
        '.git/HEAD': 'ref',
      });
      const result = await restore(repo, snapshot, { target: ws, deleteExtra: true });
      assert.deepEqual(result.problems, []);
      assertSameTree(
        readTree(ws),
        {
          ...state,
          'node_modules/dep/index.js': readTree(ws)['node_modules/dep/index.js'],
          'src/node_modules/x.js': readTree(ws)['src/node_modules/x.js'],
          '.git/HEAD': readTree(ws)['.git/HEAD'],
        },
        'workspace',
      );
      assert.equal(fs.readFileSync(path.join(ws, 'node_modules', 'dep', 'index.js'), 'utf8'), 'dep');
      assert.equal(fs.existsSync(path.join(ws, 'extra.txt')), false);
    });

    it('only inside the restored folders when paths are given', async () => {
      const { ws, repo, snapshot } = await setup();
      writeTree(ws, { 'extra.txt': 'x', 'src/extra.ts': 'e' });
      await restore(repo, snapshot, { target: ws, deleteExtra: true, paths: ['src'] });
      assert.equal(fs.existsSync(path.join(ws, 'src', 'extra.ts')), false);
      assert.equal(fs.existsSync(path.join(ws, 'extra.txt')), true);
    });

    it('replaces a file with the folder the snapshot has, and a folder with the file', async () => {
      const { ws, repo, snapshot, state } = await setup();
      fs.rmSync(path.join(ws, 'src', 'lib'), { recursive: true });
      fs.writeFileSync(path.join(ws, 'src', 'lib'), 'now a file');
      fs.unlinkSync(path.join(ws, 'README.md'));
      writeTree(ws, { 'README.md/inner.txt': 'now a folder' });
      const result = await restore(repo, snapshot, { target: ws, deleteExtra: true });
      assert.deepEqual(result.problems, []);
      assertSameTree(readTree(ws), state, 'workspace');
    });

    it('never deletes the store when it lives inside the target (library call without rules, and the CLI)', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a', 'src/b.ts': 'b' });
      const storeDir = path.join(ws, '.pb-store');
      const repo = await openRepo(storeDir);
      const snapshot = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      writeTree(ws, { 'extra.txt': 'x' });
      const result = await restore(repo, snapshot, { target: ws, deleteExtra: true, dryRun: true });
      assert.deepEqual(
        result.plan.changes.map((c) => `${c.action} ${c.path}`),
        ['delete extra.txt'],
      );
      await restore(repo, snapshot, { target: ws, deleteExtra: true });
      assert.ok(fs.existsSync(path.join(storeDir, 'config')), 'the store survived');
      assert.equal(fs.existsSync(path.join(ws, 'extra.txt')), false);
      writeTree(ws, { 'extra2.txt': 'x' });
      const run = await runCliCaptured(['restore', 'latest', '--target', ws, '--delete', '--repo', storeDir]);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      assert.equal(fs.existsSync(path.join(ws, 'extra2.txt')), false);
      assert.equal((await Repository.open(storeDir)).config.id, repo.config.id);
      assert.equal(
        (await runCliCaptured(['list', '--json', '--repo', storeDir])).json<unknown[]>().length,
        2,
        'the original and the pre-restore snapshot',
      );
    });

    it('missingAsDelete: requested paths the snapshot lacks are deleted (undo of a restore), excluded folders kept', async () => {
      const { ws, repo, snapshot, state } = await setup();
      writeTree(ws, { 'new.txt': 'n', 'newdir/a.txt': 'a', 'newdir/sub/b.txt': 'b', 'newdir/node_modules/m.js': 'm' });
      const dry = await restore(repo, snapshot, {
        target: ws,
        paths: ['new.txt', 'newdir', 'README.md', 'never-existed'],
        missingAsDelete: true,
        dryRun: true,
      });
      assert.deepEqual(dry.plan.changes.map((c) => `${c.action} ${c.path}`).sort(), [
        'delete new.txt',
        'delete newdir',
        'delete newdir/a.txt',
        'delete newdir/sub',
        'delete newdir/sub/b.txt',
      ]);
      await restore(repo, snapshot, { target: ws, paths: ['new.txt', 'newdir', 'README.md'], missingAsDelete: true });
      assertSameTree(
        readTree(ws),
        { ...state, 'newdir/node_modules/m.js': { mode: 0o644, content: Buffer.from('m') } },
        'workspace',
      );
      // Without the option, a missing path is an error.
      assert.equal(
        (await rejectionCode(() => restore(repo, snapshot, { target: ws, paths: ['new.txt'] }))).code,
        'PATH_NOT_FOUND',
      );
    });

    it('does not follow a symlink to a folder outside while looking for extras', async () => {
      const { ws, repo, snapshot, state } = await setup();
      const outside = temp.make('outside');
      writeTree(outside, { 'precious.txt': 'keep me' });
      fs.symlinkSync(outside, path.join(ws, 'src', 'escape'));
      await restore(repo, snapshot, { target: ws, deleteExtra: true });
      assert.deepEqual(readTree(outside), expectedTree({ 'precious.txt': 'keep me' }));
      assertSameTree(readTree(ws), state, 'workspace');
    });
  });

  describe('damaged data', () => {
    it('fails only the files whose data is damaged, with a clear problem; the rest restores', async () => {
      // Over 32 KiB each, so each file is a storage unit of its own (small files share compressed bundles).
      const spec: TreeSpec = {
        'good.bin': seededBytes(40_000, 1),
        'bad.bin': seededBytes(40_000, 2),
        'dir/also-good.txt': 'fine',
      };
      const { ws, repo, snapshot } = await setup(spec);
      const bad = await entryAt(repo, snapshot.tree, 'bad.bin');
      assert.ok(bad?.type === 'file');
      damageBlob(repo, bad.content[0]);
      const fresh = await Repository.open(repo.location);
      const target = temp.make('target');
      const result = await restore(fresh, snapshot, { target });
      assert.deepEqual(
        result.problems.map((p) => p.path),
        ['bad.bin'],
      );
      assert.match(result.problems[0].reason, /damaged/);
      assert.deepEqual(
        readTree(target),
        expectedTree({ 'good.bin': spec['good.bin'], 'dir/also-good.txt': 'fine' }),
        'no partial or temp file is left',
      );

      // Over an existing file, the old content stays whole.
      fs.writeFileSync(path.join(ws, 'bad.bin'), 'old but intact');
      const over = await restore(fresh, snapshot, { target: ws });
      assert.deepEqual(
        over.problems.map((p) => p.path),
        ['bad.bin'],
      );
      assert.equal(fs.readFileSync(path.join(ws, 'bad.bin'), 'utf8'), 'old but intact');
      assert.deepEqual(fs.readdirSync(ws).sort(), ['bad.bin', 'dir', 'good.bin']);
    });
  });

  describe('hostile stores', () => {
    async function hostileRepo(): Promise<Repository> {
      return openRepo(temp.fresh('store'));
    }

    it('writes nothing outside the target for names like "..", "a/b", "/etc", "x\\0y"', async () => {
      const repo = await hostileRepo();
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const file = (name: string): TreeEntry => ({ type: 'file', name, mode: 0o644, size: 7, content: [data] });
      const escapedTree = await w.addTree([file('escaped.txt')]);
      const inner = await w.addTree([
        file('ok-inner.txt'),
        { type: 'dir', name: '..', tree: escapedTree },
        file('../../up.txt'),
      ]);
      const root = await w.addTree([
        file('..'),
        file('a/b'),
        { type: 'dir', name: '/etc', tree: escapedTree },
        file('x\0y'),
        file('.'),
        file(''),
        { type: 'symlink', name: '../evil-link', target: '/' },
        file('ok.txt'),
        { type: 'dir', name: 'sub', tree: inner },
      ]);
      await w.finish();
      const snapshot = await forgeSnapshot(repo, root);
      const outer = temp.make('outer');
      const target = path.join(outer, 'target', 'deeper');
      const result = await new Restorer(repo).restore(snapshot, { target });
      assert.deepEqual(listAll(outer), [
        'target',
        'target/deeper',
        'target/deeper/ok.txt',
        'target/deeper/sub',
        'target/deeper/sub/ok-inner.txt',
      ]);
      assert.deepEqual(
        result.problems.map((p) => p.path).sort(),
        ['', '.', '..', '../evil-link', '/etc', 'a/b', 'sub/..', 'sub/../../up.txt', 'x\0y'].sort(),
      );
      for (const p of result.problems) assert.match(p.reason, /refused|unsafe|outside|name/i, p.reason);
      // And a dry run reports the same problems and plans nothing hostile.
      const dry = await new Restorer(repo).restore(snapshot, { target: temp.fresh('t'), dryRun: true });
      assert.deepEqual(dry.plan.changes.map((c) => c.path).sort(), ['ok.txt', 'sub', 'sub/ok-inner.txt']);
    });

    it('never writes through a symlink from the store or one already in the target', async () => {
      const repo = await hostileRepo();
      const outside = temp.make('outside');
      const outside2 = temp.make('outside2');
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const inner = await w.addTree([{ type: 'file', name: 'f.txt', mode: 0o644, size: 7, content: [data] }]);
      // Snapshot A: x is a link to the outside. Snapshot B: x is a folder with a file.
      const rootA = await w.addTree([
        { type: 'symlink', name: 'x', target: outside },
        { type: 'dir', name: 'd', tree: inner },
      ]);
      const rootB = await w.addTree([{ type: 'dir', name: 'x', tree: inner }]);
      await w.finish();
      const a = await forgeSnapshot(repo, rootA);
      const b = await forgeSnapshot(repo, rootB);
      const target = temp.make('target');
      // The target already has a link where A has the folder d.
      fs.symlinkSync(outside2, path.join(target, 'd'));
      const ra = await new Restorer(repo).restore(a, { target });
      assert.deepEqual(ra.problems, []);
      assert.equal(fs.readlinkSync(path.join(target, 'x')), outside, 'the link itself is restored as a link');
      assert.ok(
        fs.lstatSync(path.join(target, 'd')).isDirectory(),
        'the link in the way was replaced by a real folder',
      );
      const rb = await new Restorer(repo).restore(b, { target });
      assert.deepEqual(rb.problems, []);
      assert.ok(fs.lstatSync(path.join(target, 'x')).isDirectory());
      assert.equal(fs.readFileSync(path.join(target, 'x', 'f.txt'), 'utf8'), 'payload');
      // A single file below a link in the target.
      fs.rmSync(path.join(target, 'x'), { recursive: true });
      fs.symlinkSync(outside, path.join(target, 'x'));
      await new Restorer(repo).restore(b, { target, paths: ['x/f.txt'] });
      assert.ok(fs.lstatSync(path.join(target, 'x')).isDirectory());
      assert.deepEqual(fs.readdirSync(outside), [], 'nothing was written through x');
      assert.deepEqual(fs.readdirSync(outside2), [], 'nothing was written through d');
    });

    it('replaces a symlink where a file goes instead of writing through it', async () => {
      const { repo, snapshot, state } = await setup();
      const outside = temp.make('outside');
      writeTree(outside, { 'victim.txt': 'untouched' });
      const target = temp.make('target');
      writeTree(target, {
        'README.md': { symlink: path.join(outside, 'victim.txt') },
        'src/index.ts': { symlink: '../../victim.txt' },
      });
      const result = await restore(repo, snapshot, { target });
      assert.deepEqual(result.problems, []);
      assert.deepEqual(readTree(outside), expectedTree({ 'victim.txt': 'untouched' }));
      assertSameTree(readTree(target), state, 'target');
    });

    it('reports a missing tree as a problem instead of failing the whole restore', async () => {
      const repo = await hostileRepo();
      const w = repo.newWriter();
      const data = await w.add('data', Buffer.from('payload'));
      const root = await w.addTree([
        { type: 'dir', name: 'lost', tree: 'f'.repeat(64) },
        { type: 'file', name: 'ok.txt', mode: 0o644, size: 7, content: [data] },
      ]);
      await w.finish();
      const snapshot = await forgeSnapshot(repo, root);
      const target = temp.make('target');
      const result = await new Restorer(repo).restore(snapshot, { target });
      assert.deepEqual(
        result.problems.map((p) => p.path),
        ['lost'],
      );
      assert.equal(fs.readFileSync(path.join(target, 'ok.txt'), 'utf8'), 'payload');
    });
  });

  describe('over the workspace through the CLI', () => {
    it('first takes a pre-restore snapshot; restoring it with --delete undoes the restore exactly', async () => {
      const { ws, repo, snapshot } = await setup();
      // Edits never snapshotted: the undo must still bring them back.
      fs.writeFileSync(path.join(ws, 'src', 'index.ts'), 'work in progress');
      fs.unlinkSync(path.join(ws, 'README.md'));
      writeTree(ws, { 'notes/todo.txt': 'todo', 'bin/run.sh': { mode: 0o700, content: 'changed' } });
      ageTree(ws);
      const beforeRestore = readTree(ws);
      const env = { PROJECT_BACKUP_REPO: repo.location };
      const run = await runCliCaptured(['restore', snapshot.id.slice(0, 8), '--target', ws, '--json'], env);
      assert.equal(run.code, 0, run.stderr.join('\n'));
      const out = run.json<{ undo: string | null; restored: number }>();
      assert.ok(out.undo, 'an undo snapshot was made');
      const undo = await (await Repository.open(repo.location)).loadSnapshot(out.undo);
      assert.equal(undo.trigger, 'pre-restore');
      assert.equal(undo.parent, snapshot.id);
      assert.equal(fs.readFileSync(path.join(ws, 'src', 'index.ts'), 'utf8'), 'export const x = 1;\n');
      assert.ok(fs.existsSync(path.join(ws, 'notes', 'todo.txt')), 'without --delete, extra files stay');

      const back = await runCliCaptured(['restore', out.undo, '--target', ws, '--delete'], env);
      assert.equal(back.code, 0, back.stderr.join('\n'));
      assertSameTree(readTree(ws), beforeRestore, 'workspace after undo');
    });

    it('does not take a pre-restore snapshot when restoring elsewhere or in a dry run', async () => {
      const { ws, repo, snapshot } = await setup();
      fs.writeFileSync(path.join(ws, 'README.md'), 'edited');
      const env = { PROJECT_BACKUP_REPO: repo.location };
      const elsewhere = await runCliCaptured(['restore', 'latest', '--target', temp.fresh('t'), '--json'], env);
      assert.equal(elsewhere.json<{ undo: unknown }>().undo, null);
      const dry = await runCliCaptured(['restore', 'latest', '--target', ws, '--dry-run', '--json'], env);
      assert.equal(dry.json<{ undo: unknown }>().undo, null);
      assert.equal(fs.readFileSync(path.join(ws, 'README.md'), 'utf8'), 'edited');
      assert.deepEqual(
        (await (await Repository.open(repo.location)).listSnapshots()).map((s) => s.id),
        [snapshot.id],
      );
    });
  });
});
