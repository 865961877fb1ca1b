// Snapshots: no duplicates, minimal writes, incremental paths, the record, git, torn reads, several
// workspaces in one store.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listTree, readWholeFile } from '../../src/core/query/browse';
import { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { workspaceIdFor } from '../../src/core/workspace/workspace';
import {
  KiB,
  MiB,
  ageTree,
  git,
  openRepo,
  rejectionCode,
  seededBytes,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

const HOUR = 3600_000;

async function paths(repo: Repository, snapshot: SnapshotRecord): Promise<string[]> {
  return (await listTree(repo, snapshot, '', true)).map((e) => e.path).sort();
}

async function text(repo: Repository, snapshot: SnapshotRecord, p: string): Promise<string> {
  return (await readWholeFile(repo, snapshot, p)).toString('utf8');
}

function changeList(changes: ReadonlyArray<{ kind: string; path: string }>): string[] {
  return changes.map((c) => `${c.kind} ${c.path}`).sort();
}

describe('Snapshotter', () => {
  const temp = useTempDirs();

  const BASE: TreeSpec = {
    'README.md': '# project',
    'a/other.txt': 'other',
    'a/b/c/file.txt': 'version 1',
    'a/b/z/w.txt': 'w',
    'x/y.txt': 'y',
    'tool.sh': { mode: 0o755, content: '#!/bin/sh\necho hi\n' },
    link: { symlink: 'README.md' },
    empty: { dir: true },
  };

  async function setup(spec: TreeSpec = BASE, age = true): Promise<{ ws: string; repo: Repository; store: string }> {
    const ws = temp.make('ws');
    writeTree(ws, spec);
    if (age) ageTree(ws, HOUR);
    const store = temp.fresh('store');
    return { ws, store, repo: await openRepo(store) };
  }

  describe('no duplicate snapshots', () => {
    it('a second snapshot without changes creates nothing and names the existing one', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot();
      assert.equal(first.created, true);
      const second = await snapshotterFor(repo, ws).snapshot({ label: 'again' });
      assert.equal(second.created, false);
      assert.equal(second.snapshot.id, first.snapshot.id);
      assert.deepEqual(second.changes, []);
      assert.equal((await repo.listSnapshots()).length, 1);
    });

    it('nor does an incremental snapshot of unchanged paths (root and nested, relative and absolute)', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot();
      for (const p of [
        ['README.md'],
        ['a/b/c/file.txt'],
        [path.join(ws, 'x', 'y.txt')],
        ['a/b'],
        ['link'],
        ['empty'],
        ['tool.sh', 'a/other.txt'],
      ]) {
        const again = await snapshotterFor(repo, ws).snapshot({ paths: p });
        assert.equal(again.created, false, `paths ${p.join(', ')}`);
        assert.equal(again.snapshot.id, first.snapshot.id);
      }
      assert.equal((await Repository.open(repo.location).then((r) => r.listSnapshots())).length, 1);
    });

    it('nor does touching a file (new mtime, same content), in a full or an incremental snapshot', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot();
      const file = path.join(ws, 'a', 'b', 'c', 'file.txt');
      const now = new Date();
      fs.utimesSync(file, now, now);
      assert.equal((await snapshotterFor(repo, ws).snapshot()).created, false);
      fs.utimesSync(file, new Date(now.getTime() - 5000), new Date(now.getTime() - 5000));
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['a/b/c/file.txt'] });
      assert.equal(inc.created, false);
      assert.equal(inc.snapshot.id, first.snapshot.id);
    });

    it('but a permission change is a change', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.chmodSync(path.join(ws, 'x', 'y.txt'), 0o755);
      const second = await snapshotterFor(repo, ws).snapshot();
      assert.equal(second.created, true);
      assert.deepEqual(changeList(second.changes), ['modified x/y.txt']);
    });
  });

  describe('what a snapshot writes', () => {
    it('changing one file writes its blob and only the trees on its path (full scan)', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'a', 'b', 'c', 'file.txt'), 'version 2');
      const second = await snapshotterFor(repo, ws).snapshot();
      // 1 data blob + trees of a/b/c, a/b, a and the root.
      assert.equal(second.snapshot.stats.blobsAdded, 1 + 4);
      assert.deepEqual(changeList(second.changes), ['modified a/b/c/file.txt']);
      assert.equal(await text(repo, second.snapshot, 'a/b/c/file.txt'), 'version 2');
    });

    it('the same holds for an incremental snapshot of the path, and for a file at the root', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'a', 'b', 'c', 'file.txt'), 'version 3');
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['a/b/c/file.txt'] });
      assert.equal(inc.snapshot.stats.blobsAdded, 1 + 4);
      fs.writeFileSync(path.join(ws, 'README.md'), '# changed');
      const root = await snapshotterFor(repo, ws).snapshot();
      assert.equal(root.snapshot.stats.blobsAdded, 1 + 1);
      assert.ok(root.snapshot.stats.bytesAdded > 0);
    });

    it('a file changed back to content the store already has writes only trees', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'x', 'y.txt'), 'version 1'); // same bytes as a/b/c/file.txt
      const second = await snapshotterFor(repo, ws).snapshot();
      assert.equal(second.snapshot.stats.blobsAdded, 2, 'trees of x and the root; the data is already stored');
    });
  });

  describe('incremental snapshots of given paths', () => {
    it('records an edit of a listed path and ignores unlisted changes', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'x', 'y.txt'), 'y2');
      fs.writeFileSync(path.join(ws, 'README.md'), 'not listed');
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['x/y.txt'] });
      assert.deepEqual(changeList(inc.changes), ['modified x/y.txt']);
      assert.equal(await text(repo, inc.snapshot, 'x/y.txt'), 'y2');
      assert.equal(await text(repo, inc.snapshot, 'README.md'), '# project');
      assert.deepEqual(inc.snapshot.paths, ['x/y.txt']);
      assert.equal(inc.snapshot.stats.files, 6, 'totals carried from the parent');
    });

    it('turns a path that is gone into a deletion, and a deleted folder disappears whole', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.unlinkSync(path.join(ws, 'x', 'y.txt'));
      const del = await snapshotterFor(repo, ws).snapshot({ paths: ['x/y.txt'] });
      assert.deepEqual(changeList(del.changes), ['deleted x/y.txt']);
      assert.ok((await paths(repo, del.snapshot)).includes('x'), 'the folder still exists (empty)');

      fs.rmSync(path.join(ws, 'a', 'b'), { recursive: true });
      const gone = await snapshotterFor(repo, ws).snapshot({ paths: ['a/b/c/file.txt'] });
      const after = await paths(repo, gone.snapshot);
      assert.ok(!after.some((p) => p === 'a/b' || p.startsWith('a/b/')), after.join(', '));
      assert.ok(after.includes('a/other.txt'));
      assert.deepEqual(changeList(gone.changes), [
        'deleted a/b',
        'deleted a/b/c',
        'deleted a/b/c/file.txt',
        'deleted a/b/z',
        'deleted a/b/z/w.txt',
      ]);
      assert.equal(gone.snapshot.stats.files, 3);
      assert.equal(gone.snapshot.stats.filesDeleted, 2);
    });

    it('adds new files in new folders', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      writeTree(ws, { 'new/deeper/n.txt': 'n' });
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: [path.join(ws, 'new', 'deeper', 'n.txt')] });
      assert.deepEqual(changeList(inc.changes), ['added new', 'added new/deeper', 'added new/deeper/n.txt']);
      assert.equal(await text(repo, inc.snapshot, 'new/deeper/n.txt'), 'n');
    });

    it('a deletion inside a folder that is new since the parent still records that folder (found by the round-trip property)', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      // Between two snapshots: a new folder gets a subfolder with a file, then the subfolder goes again.
      writeTree(ws, { 'fresh/sub/f.txt': 'f' });
      fs.rmSync(path.join(ws, 'fresh', 'sub'), { recursive: true });
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['fresh/sub/f.txt', 'fresh/sub'] });
      assert.deepEqual(changeList(inc.changes), ['added fresh'], 'the empty folder fresh/ exists on disk');
      const full = await snapshotterFor(repo, ws).snapshot();
      assert.equal(
        full.created,
        false,
        `a full scan found what the incremental one missed: ${changeList(full.changes).join(', ')}`,
      );
    });

    it('a deletion below an excluded folder records nothing', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot();
      writeTree(ws, { 'node_modules/pkg/x.js': 'x' });
      const inc = await snapshotterFor(repo, ws).snapshot({
        paths: ['node_modules/pkg/gone.js', 'a/node_modules/gone/y.js'],
      });
      assert.equal(inc.created, false);
      assert.equal(inc.snapshot.id, first.snapshot.id);
    });

    it('rescans a path that is a folder (edits, additions, deletions inside it)', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'a', 'other.txt'), 'changed');
      fs.unlinkSync(path.join(ws, 'a', 'b', 'z', 'w.txt'));
      writeTree(ws, { 'a/b/fresh.txt': 'fresh' });
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['a'] });
      assert.deepEqual(changeList(inc.changes), ['added a/b/fresh.txt', 'deleted a/b/z/w.txt', 'modified a/other.txt']);
    });

    it('gives the same tree a full scan would (a full snapshot right after finds nothing new)', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      fs.writeFileSync(path.join(ws, 'a', 'other.txt'), 'changed');
      fs.rmSync(path.join(ws, 'x'), { recursive: true });
      writeTree(ws, { 'n1/n2/n.txt': 'n', link: { symlink: 'tool.sh' } });
      fs.chmodSync(path.join(ws, 'README.md'), 0o600);
      const inc = await snapshotterFor(repo, ws).snapshot({
        paths: ['a/other.txt', 'x', 'n1/n2/n.txt', 'link', 'README.md'],
      });
      assert.equal(inc.created, true);
      const full = await snapshotterFor(repo, ws).snapshot();
      assert.equal(full.created, false, `full scan found: ${changeList(full.changes).join(', ')}`);
      assert.equal(full.snapshot.id, inc.snapshot.id);
    });

    it('refuses a path outside the workspace (UNSAFE_PATH) and records nothing', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      const outside = temp.make('outside');
      fs.writeFileSync(path.join(outside, 'o.txt'), 'o');
      for (const p of ['../o.txt', path.join(outside, 'o.txt'), ws + '-sibling/x', '/']) {
        const r = await rejectionCode(() => snapshotterFor(repo, ws).snapshot({ paths: [p] }));
        assert.equal(r.code, 'UNSAFE_PATH', p);
      }
      assert.equal((await repo.listSnapshots()).length, 1);
    });

    it('accepts a file whose name merely starts with two dots', async () => {
      const { ws, repo } = await setup();
      await snapshotterFor(repo, ws).snapshot();
      writeTree(ws, { '..notes': 'dots', 'a/...': 'three dots' });
      const inc = await snapshotterFor(repo, ws).snapshot({ paths: ['..notes', 'a/...'] });
      assert.deepEqual(changeList(inc.changes), ['added ..notes', 'added a/...']);
    });

    it('ignores excluded paths', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot();
      writeTree(ws, { 'node_modules/x.js': 'x', 'a/node_modules/y/z.js': 'z', '.git/HEAD': 'h', 'a/.DS_Store': 'd' });
      const inc = await snapshotterFor(repo, ws).snapshot({
        paths: ['node_modules/x.js', 'a/node_modules/y/z.js', 'node_modules', '.git/HEAD', 'a/.DS_Store'],
      });
      assert.equal(inc.created, false);
      assert.equal(inc.snapshot.id, first.snapshot.id);
    });

    it('without a parent snapshot, takes a full snapshot', async () => {
      const { ws, repo } = await setup();
      const first = await snapshotterFor(repo, ws).snapshot({ paths: ['README.md'] });
      assert.equal(first.snapshot.stats.files, 6);
      assert.equal(first.snapshot.paths, undefined);
    });
  });

  describe('the snapshot record', () => {
    it('has id, time, workspace, host, trigger, label, pinned, parent, stats and tool', async () => {
      const { ws, repo, store } = await setup();
      const before = Date.now();
      const first = (await snapshotterFor(repo, ws).snapshot()).snapshot;
      const real = fs.realpathSync(ws);
      assert.match(first.id, /^[0-9a-f]{32}$/);
      assert.ok(Date.parse(first.time) >= before - 1000, first.time);
      assert.equal(new Date(first.time).toISOString(), first.time);
      assert.deepEqual(first.workspace, { path: real, id: workspaceIdFor(real) });
      assert.equal(first.host, os.hostname());
      assert.equal(first.trigger, 'manual');
      assert.equal(first.label, undefined);
      assert.equal(first.pinned, undefined);
      assert.equal(first.parent, undefined);
      assert.equal(first.git, undefined);
      assert.match(first.tool, /project-backup/);
      assert.deepEqual(
        { ...first.stats, bytesAdded: 0, dataAdded: 0 },
        {
          files: 6,
          dirs: 6,
          symlinks: 1,
          bytes: 9 + 5 + 9 + 1 + 1 + 18,
          filesNew: 6 + 1 /* change counts include the symlink */,
          filesChanged: 0,
          filesDeleted: 0,
          bytesAdded: 0,
          dataAdded: 0,
          blobsAdded: 6 + 7,
          skipped: 0,
        },
      );
      assert.ok(first.stats.bytesAdded > 0 && first.stats.dataAdded > 0);

      fs.writeFileSync(path.join(ws, 'x', 'y.txt'), 'yy');
      fs.unlinkSync(path.join(ws, 'a', 'other.txt'));
      writeTree(ws, { 'added.txt': 'new' });
      const second = (
        await snapshotterFor(repo, ws, { trigger: 'save' }).snapshot({ label: 'before refactor', pinned: true })
      ).snapshot;
      assert.equal(second.parent, first.id);
      assert.equal(second.trigger, 'save');
      assert.equal(second.label, 'before refactor');
      assert.equal(second.pinned, true);
      assert.ok(second.time > first.time);
      assert.equal(second.stats.filesNew, 1);
      assert.equal(second.stats.filesChanged, 1);
      assert.equal(second.stats.filesDeleted, 1);
      assert.equal(second.stats.files, 6);
      assert.equal(second.stats.bytes, first.stats.bytes + 1 - 5 + 3);

      fs.writeFileSync(path.join(ws, 'added.txt'), 'newer');
      const third = (await snapshotterFor(repo, ws).snapshot({ trigger: 'schedule', paths: ['added.txt'] })).snapshot;
      assert.equal(third.trigger, 'schedule');
      assert.equal(third.parent, second.id);
      assert.deepEqual(
        [third.stats.files, third.stats.bytes, third.stats.filesChanged],
        [6, second.stats.bytes + 2, 1],
      );
      // What was written is what a fresh reader sees.
      const fresh = await Repository.open(store);
      assert.deepEqual(await fresh.loadSnapshot(second.id), second);
      assert.deepEqual(await fresh.loadSnapshot(third.id), third);
    });

    it('snapshot times strictly increase, even for snapshots within one millisecond', async () => {
      const { ws, repo } = await setup();
      const fixed = new Date('2030-01-01T00:00:00.000Z');
      const frozen = await Repository.open(repo.location, { now: () => fixed });
      const times: string[] = [];
      for (let i = 0; i < 3; i++) {
        fs.writeFileSync(path.join(ws, 'x', 'y.txt'), `v${i}`);
        times.push((await snapshotterFor(frozen, ws).snapshot()).snapshot.time);
      }
      assert.ok(times[0] < times[1] && times[1] < times[2], times.join(' '));
    });

    it('records branch and HEAD when the workspace is a git repository', async function () {
      this.timeout(20_000);
      const { ws, repo } = await setup({ 'a.txt': 'a' }, false);
      git(ws, 'init', '-q', '-b', 'main');
      git(ws, 'add', '.');
      git(ws, 'commit', '-q', '-m', 'first');
      const head = git(ws, 'rev-parse', 'HEAD');
      const first = (await snapshotterFor(repo, ws, { git: true }).snapshot()).snapshot;
      // Since #12 also the root commit (and the origin remote, when there is one: see lineage.test.ts).
      assert.deepEqual(first.git, { branch: 'main', head, rootCommit: head });
      // Since #12 a full snapshot takes the workspace's .git whole (it used to be left out).
      assert.ok((await paths(repo, first)).includes('.git/HEAD'));
      git(ws, 'checkout', '-q', '-b', 'feature');
      fs.writeFileSync(path.join(ws, 'a.txt'), 'b');
      git(ws, 'commit', '-q', '-am', 'second');
      const second = (await snapshotterFor(repo, ws, { git: true }).snapshot()).snapshot;
      assert.deepEqual(second.git, { branch: 'feature', head: git(ws, 'rev-parse', 'HEAD'), rootCommit: head });
      assert.notEqual(second.git?.head, head);
    });

    it('has no git field, and no error, when the workspace is not a repository', async () => {
      const { ws, repo } = await setup({ 'a.txt': 'a' }, false);
      const result = await snapshotterFor(repo, ws, { git: true }).snapshot();
      assert.equal(result.created, true);
      assert.equal('git' in result.snapshot, false);
    });
  });

  describe('files that change while being read', () => {
    function appendingPort(file: string, times: number) {
      let reads = 0;
      const grow = () => {
        if (reads++ < times) fs.appendFileSync(file, `+${reads}`);
      };
      return spyPort({
        readFile: async (base, p) => {
          const data = await base.readFile(p);
          if (p === file) grow();
          return data;
        },
        readFileSync: (base, p) => {
          const data = base.readFileSync(p);
          if (p === file) grow();
          return data;
        },
        open: async (base, p, flags, mode) => {
          const handle = await base.open(p, flags, mode);
          if (p !== file || flags !== 'r') return handle;
          // Delegate everything, so the wrapper keeps up with FileHandlePort; only close() also grows the file.
          return new Proxy(handle, {
            get(target, prop) {
              if (prop === 'close') {
                return async () => {
                  await target.close();
                  grow();
                };
              }
              const value = Reflect.get(target, prop) as unknown;
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        },
      });
    }

    it('re-reads a file that changed during the read and stores a consistent state', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'log.txt': 'start', 'other.txt': 'o' });
      const file = path.join(ws, 'log.txt');
      const repo = await openRepo(temp.fresh('store'), { port: appendingPort(file, 1) });
      const result = await snapshotterFor(repo, ws).snapshot();
      assert.deepEqual(result.skipped, []);
      assert.equal(await text(repo, result.snapshot, 'log.txt'), 'start+1');
      assert.equal(fs.readFileSync(file, 'utf8'), 'start+1');
    });

    it('does the same for a large (chunked) file', async () => {
      const ws = temp.make('ws');
      const big = seededBytes(MiB + 300 * KiB, 5);
      writeTree(ws, { 'big.bin': big });
      const file = path.join(ws, 'big.bin');
      const repo = await openRepo(temp.fresh('store'), { port: appendingPort(file, 1) });
      const result = await snapshotterFor(repo, ws).snapshot();
      assert.deepEqual(result.skipped, []);
      assert.ok((await readWholeFile(repo, result.snapshot, 'big.bin')).equals(fs.readFileSync(file)));
      assert.equal(fs.statSync(file).size, big.length + 2);
    });

    it('reports a file that keeps changing in `skipped` instead of storing it torn', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'busy.log': 'start', 'calm.txt': 'c' });
      const file = path.join(ws, 'busy.log');
      const repo = await openRepo(temp.fresh('store'), { port: appendingPort(file, 1000) });
      const result = await snapshotterFor(repo, ws).snapshot();
      assert.deepEqual(
        result.skipped.map((s) => s.path),
        ['busy.log'],
      );
      assert.match(result.skipped[0].reason, /kept changing/);
      assert.deepEqual(await paths(repo, result.snapshot), ['calm.txt']);
      assert.deepEqual(
        result.snapshot.skipped?.map((s) => s.path),
        ['busy.log'],
      );
      assert.equal(result.snapshot.stats.skipped, 1);
    });

    it('keeps the previous version of a file that keeps changing, rather than recording a deletion', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'busy.log': 'start', 'calm.txt': 'c' });
      const file = path.join(ws, 'busy.log');
      const store = temp.fresh('store');
      const first = await snapshotterFor(await openRepo(store), ws).snapshot();
      fs.writeFileSync(path.join(ws, 'calm.txt'), 'changed');
      fs.writeFileSync(file, 'start, then busy'); // changed, so it must be read, and then it keeps changing
      const repo = await Repository.open(store, { port: appendingPort(file, 1000) });
      const second = await snapshotterFor(repo, ws).snapshot();
      assert.deepEqual(
        second.skipped.map((s) => s.path),
        ['busy.log'],
      );
      assert.equal(await text(repo, second.snapshot, 'busy.log'), 'start');
      assert.deepEqual(changeList(second.changes), ['modified calm.txt']);
      assert.equal(first.created, true);
    });
  });

  describe('one store, several workspaces', () => {
    it('keeps each workspace its own chain of snapshots', async () => {
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const ws1 = temp.make('ws1');
      const ws2 = temp.make('ws2');
      writeTree(ws1, { 'shared.txt': 'same content', 'one.txt': '1' });
      writeTree(ws2, { 'shared.txt': 'same content', 'two.txt': '2' });
      const a1 = (await snapshotterFor(repo, ws1).snapshot()).snapshot;
      const b1 = await snapshotterFor(repo, ws2).snapshot();
      assert.equal(b1.created, true, 'a snapshot of another workspace is not a duplicate');
      assert.equal(b1.snapshot.parent, undefined, 'the first of its workspace');
      assert.notEqual(b1.snapshot.workspace.id, a1.workspace.id);
      assert.equal(b1.snapshot.stats.filesNew, 2);
      fs.writeFileSync(path.join(ws1, 'one.txt'), '1b');
      const a2 = (await snapshotterFor(repo, ws1).snapshot()).snapshot;
      assert.equal(a2.parent, a1.id);
      const b2 = await snapshotterFor(repo, ws2).snapshot();
      assert.equal(b2.created, false);
      assert.equal(b2.snapshot.id, b1.snapshot.id);
      assert.equal((await snapshotterFor(repo, ws1).latest())?.id, a2.id);
      assert.equal((await snapshotterFor(repo, ws2).latest())?.id, b1.snapshot.id);
      const all = await (await Repository.open(store)).listSnapshots();
      assert.deepEqual(
        all.map((s) => s.id),
        [a1.id, b1.snapshot.id, a2.id],
      );
    });

    it('treats a symlinked spelling of a workspace as the same workspace', async () => {
      const store = temp.fresh('store');
      const repo = await openRepo(store);
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a' });
      const alias = path.join(temp.make('links'), 'alias');
      fs.symlinkSync(ws, alias);
      const first = await snapshotterFor(repo, ws).snapshot();
      const second = await snapshotterFor(repo, alias).snapshot();
      assert.equal(second.created, false);
      assert.equal(second.snapshot.id, first.snapshot.id);
    });
  });

  describe('errors', () => {
    it('refuses a missing workspace and a workspace that is a file', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const dir = temp.make('x');
      assert.equal(
        (await rejectionCode(() => snapshotterFor(repo, path.join(dir, 'missing')).snapshot())).code,
        'WORKSPACE_NOT_FOUND',
      );
      fs.writeFileSync(path.join(dir, 'file'), 'f');
      assert.equal(
        (await rejectionCode(() => snapshotterFor(repo, path.join(dir, 'file')).snapshot())).code,
        'WORKSPACE_NOT_DIRECTORY',
      );
      assert.deepEqual(await repo.listSnapshots(), []);
    });

    it('a cancelled snapshot records nothing', async () => {
      const { ws, repo } = await setup();
      const controller = new AbortController();
      controller.abort();
      assert.equal(
        (await rejectionCode(() => snapshotterFor(repo, ws).snapshot({ signal: controller.signal }))).code,
        'CANCELLED',
      );
      assert.deepEqual(await repo.listSnapshots(), []);
    });
  });
});
