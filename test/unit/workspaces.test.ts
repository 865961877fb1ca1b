// The workspaces a store holds (#12 "Restore a project from anywhere"): listed from any store, plain,
// encrypted or a destination's copy, without a lock; picked by id, id prefix, name or path, with one
// sentence naming the choices when the pick is unknown or ambiguous.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listWorkspaces, resolveWorkspace } from '../../src/core/query/workspaces';
import type { WorkspaceSummary } from '../../src/core/query/workspaces';
import { replicate } from '../../src/core/replicate/replicate';
import { Repository } from '../../src/core/repository/repository';
import { openRepo, rejectionCode, snapshotterFor, useTempDirs, writeTree } from './helpers/fixtures';

describe('workspaces a store holds (#12)', () => {
  const temp = useTempDirs();

  /** Two workspaces: "app" with three snapshots (the last labelled), then "site" with one, taken later. */
  async function twoWorkspaces(repo: Repository): Promise<{ app: string; site: string }> {
    const app = temp.make('app');
    writeTree(app, { 'a.txt': 'one\n' });
    const s = snapshotterFor(repo, app);
    await s.snapshot();
    writeTree(app, { 'a.txt': 'one two\n' });
    await s.snapshot();
    writeTree(app, { 'b.txt': 'three\n' });
    await s.snapshot({ label: 'release' });
    const site = temp.make('site');
    writeTree(site, { 'index.html': '<p>hi</p>\n' });
    await snapshotterFor(repo, site).snapshot();
    return { app: fs.realpathSync(app), site: fs.realpathSync(site) };
  }

  it('lists every workspace newest first with its name, last path, count, latest size and label, and whether its folder exists', async () => {
    const repo = await openRepo(temp.fresh('store'));
    const { app, site } = await twoWorkspaces(repo);
    fs.rmSync(app, { recursive: true });
    const list = await listWorkspaces(repo);
    assert.deepEqual(
      list.map((w) => w.name),
      [path.basename(site), path.basename(app)],
    );
    const [s, a] = list;
    assert.equal(a.lastPath, app);
    assert.equal(a.snapshots, 3);
    assert.equal(a.bytes, 'one two\n'.length + 'three\n'.length);
    assert.equal(a.latestLabel, 'release');
    assert.equal(a.folderExists, false, 'the app folder was deleted');
    assert.equal(s.folderExists, true);
    assert.equal(s.snapshots, 1);
    const snapshots = await repo.listSnapshots();
    assert.equal(a.latestSnapshotId, snapshots.filter((r) => r.workspace.id === a.id).pop()?.id);
    assert.equal(a.lastTime, snapshots.filter((r) => r.workspace.id === a.id).pop()?.time);
  });

  it('asks the injected exists() about each last path', async () => {
    const repo = await openRepo(temp.fresh('store'));
    const { app } = await twoWorkspaces(repo);
    const asked: string[] = [];
    const list = await listWorkspaces(repo, { exists: async (p) => (asked.push(p), p === app) });
    assert.deepEqual(
      list.map((w) => w.folderExists),
      [false, true],
    );
    assert.equal(asked.length, 2);
  });

  it('answers while another process holds the exclusive lock (a prune): it reads without a lock', async () => {
    const dir = temp.fresh('store');
    const repo = await openRepo(dir);
    await twoWorkspaces(repo);
    const other = await Repository.open(dir);
    const lock = await other.lock(true, 'a prune');
    try {
      const list = await listWorkspaces(await Repository.open(dir));
      assert.equal(list.length, 2);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'locks')).length, 1, 'no lock of its own');
    } finally {
      await lock.release();
    }
  });

  it('lists the workspaces of an encrypted store and of a destination holding a copy of it', async () => {
    const dir = temp.fresh('store');
    const passphrase = async () => 'a long enough passphrase';
    const repo = await openRepo(dir, { encrypt: true, scryptN: 2 ** 10, passphrase });
    await twoWorkspaces(repo);
    const copy = temp.fresh('copy');
    await replicate(repo, copy);
    for (const location of [dir, copy]) {
      const opened = await Repository.open(location, { passphrase });
      assert.deepEqual(
        (await listWorkspaces(opened)).map((w) => w.snapshots),
        [1, 3],
        location,
      );
    }
  });

  it('an empty store lists no workspace', async () => {
    assert.deepEqual(await listWorkspaces(await openRepo(temp.fresh('store'))), []);
  });

  describe('resolveWorkspace', () => {
    const summary = (id: string, lastPath: string): WorkspaceSummary => ({
      id,
      name: path.basename(lastPath),
      lastPath,
      lastTime: '2030-01-01T00:00:00.000Z',
      snapshots: 1,
      bytes: 0,
      latestSnapshotId: '0'.repeat(32),
      folderExists: false,
    });
    const all = [
      summary('aaaa111122223333', '/home/ann/app'),
      summary('aaaa999988887777', '/srv/app'),
      summary('bbbb000011112222', '/home/ann/site'),
    ];

    it('picks by exact id, by path, by name, and by a unique id prefix', () => {
      assert.equal(resolveWorkspace(all, 'aaaa999988887777').lastPath, '/srv/app');
      assert.equal(resolveWorkspace(all, '/home/ann/app/').id, 'aaaa111122223333');
      assert.equal(resolveWorkspace(all, 'site').id, 'bbbb000011112222');
      assert.equal(resolveWorkspace(all, 'aaaa9').id, 'aaaa999988887777');
      assert.equal(resolveWorkspace(all, 'BBBB').id, 'bbbb000011112222');
    });

    it('an ambiguous name or prefix is refused with one sentence listing the candidates', async () => {
      for (const given of ['app', 'aaaa']) {
        const { code, message } = await rejectionCode(async () => resolveWorkspace(all, given));
        assert.equal(code, 'WORKSPACE_AMBIGUOUS');
        assert.match(message, /\/home\/ann\/app/);
        assert.match(message, /\/srv\/app/);
        assert.doesNotMatch(message, /site/);
        assert.equal(message.split('\n').length, 1);
      }
    });

    it('an unknown one is refused with one sentence listing every workspace', async () => {
      const { code, message } = await rejectionCode(async () => resolveWorkspace(all, 'nothing'));
      assert.equal(code, 'WORKSPACE_UNKNOWN');
      for (const s of all) assert.ok(message.includes(s.lastPath), message);
      assert.equal((await rejectionCode(async () => resolveWorkspace([], 'app'))).code, 'WORKSPACE_UNKNOWN');
    });
  });
});
