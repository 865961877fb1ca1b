// #12 "History follows the project, not the path": a workspace is its real path's id; a moved or renamed
// project is recognised (same git remote and root commit, or most files the same), and a lineage record
// makes the old id's snapshots its history: in listings, file history, `latest`, health, and as the parent
// of its first snapshot.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gatherHealth } from '../../src/core/health/gather';
import {
  continueHistory,
  findLikelyPredecessor,
  workspaceHistoryIds,
  workspaceSnapshots,
} from '../../src/core/query/lineage';
import { LINEAGE_PREFIX } from '../../src/core/records/lineageRecords';
import { listWorkspaces, resolveWorkspace } from '../../src/core/query/workspaces';
import { replicate } from '../../src/core/replicate/replicate';
import { Repository } from '../../src/core/repository/repository';
import { comparableRemote, stripCredentials } from '../../src/core/workspace/gitInfo';
import { workspaceIdFor } from '../../src/core/workspace/workspace';
import { nodeFs } from '../../src/core/storage/fsPort';
import {
  git,
  openRepo,
  rejectionCode,
  runCliCaptured,
  seededText,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';
import type { TreeSpec } from './helpers/fixtures';

const PROJECT: TreeSpec = Object.fromEntries(
  Array.from({ length: 10 }, (_, i) => [`src/file${i}.ts`, seededText(200 + i * 37, i)]),
);

describe('history follows the project (#12)', function () {
  this.timeout(60_000);
  const temp = useTempDirs();

  /** A project snapshotted twice at `old`, then moved to `moved` (same parent folder). */
  async function movedProject(repo: Repository): Promise<{ old: string; moved: string; oldId: string }> {
    const root = temp.make('home');
    const old = path.join(root, 'old-name');
    writeTree(old, PROJECT);
    await snapshotterFor(repo, old).snapshot();
    writeTree(old, { 'notes.md': 'v2\n' });
    await snapshotterFor(repo, old).snapshot();
    const oldId = workspaceIdFor(fs.realpathSync(old));
    const moved = path.join(root, 'new-name');
    fs.renameSync(old, moved);
    return { old: path.join(fs.realpathSync(root), 'old-name'), moved: fs.realpathSync(moved), oldId };
  }

  describe('git identity in snapshot records', () => {
    it('records the origin remote without credentials and the root commit', async () => {
      const ws = temp.make('ws');
      writeTree(ws, { 'a.txt': 'a' });
      git(ws, 'init', '-q', '-b', 'main');
      git(ws, 'remote', 'add', 'origin', 'https://ann:s3cret@example.com/team/app.git');
      git(ws, 'add', '.');
      git(ws, 'commit', '-q', '-m', 'first');
      const root = git(ws, 'rev-parse', 'HEAD');
      const repo = await openRepo(temp.fresh('store'));
      const first = (await snapshotterFor(repo, ws, { git: true }).snapshot()).snapshot;
      assert.deepEqual(first.git, {
        branch: 'main',
        head: root,
        remote: 'https://example.com/team/app.git',
        rootCommit: root,
      });
      writeTree(ws, { 'a.txt': 'b' });
      git(ws, 'commit', '-q', '-am', 'second');
      const second = (await snapshotterFor(repo, ws, { git: true }).snapshot()).snapshot;
      assert.equal(second.git?.rootCommit, root);
      assert.notEqual(second.git?.head, root);
      const stored = fs
        .readdirSync(path.join(repo.location, 'snapshots'))
        .map((f) => fs.readFileSync(path.join(repo.location, 'snapshots', f), 'utf8'));
      assert.ok(
        stored.every((text) => !text.includes('s3cret') && !text.includes('ann:')),
        'no credentials in any record',
      );
    });

    it('strips credentials from URLs and compares remotes however they are spelled', () => {
      const table: Array<[string, string]> = [
        ['https://ann:pw@github.com/a/b.git', 'https://github.com/a/b.git'],
        ['https://ghp_token@github.com/a/b', 'https://github.com/a/b'],
        ['ssh://git@host:2222/srv/repo.git', 'ssh://host:2222/srv/repo.git'],
        ['git@github.com:a/b.git', 'git@github.com:a/b.git'],
        ['/srv/git/app.git', '/srv/git/app.git'],
      ];
      for (const [given, expected] of table) assert.equal(stripCredentials(given), expected, given);
      const same = [
        'git@github.com:a/b.git',
        'https://github.com/a/b',
        'https://token@GitHub.com/a/b.git/',
        'ssh://git@github.com/a/b.git',
      ];
      for (const url of same) assert.equal(comparableRemote(url), 'github.com/a/b', url);
      assert.notEqual(comparableRemote('git@github.com:a/c.git'), comparableRemote('git@github.com:a/b.git'));
      assert.equal(comparableRemote('/srv/git/app.git'), 'srv/git/app');
    });
  });

  describe('continueHistory and workspaceHistoryIds', () => {
    it('links a moved folder to its old workspace once, and chains through further moves', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const { moved, oldId } = await movedProject(repo);
      const movedId = workspaceIdFor(moved);
      assert.deepEqual(await workspaceHistoryIds(repo, movedId), [movedId]);
      const done = await continueHistory(repo, oldId, moved);
      assert.deepEqual(
        { created: done.created, from: done.from, to: done.to.id },
        { created: true, from: oldId, to: movedId },
      );
      assert.deepEqual(await workspaceHistoryIds(repo, movedId), [movedId, oldId]);
      assert.equal((await continueHistory(repo, oldId, moved)).created, false, 'idempotent');
      assert.equal((await repo.backend.list('meta')).filter((k) => k.startsWith(LINEAGE_PREFIX)).length, 1);
      // Moved again, after a snapshot at the second place: made though its files are the old latest's.
      const here = await snapshotterFor(repo, moved).snapshot();
      assert.equal(here.created, true);
      assert.deepEqual(here.changes, []);
      assert.equal(here.snapshot.workspace.id, movedId);
      const third = path.join(path.dirname(moved), 'third-name');
      fs.renameSync(moved, third);
      await continueHistory(repo, movedId, third);
      assert.deepEqual(await workspaceHistoryIds(repo, workspaceIdFor(fs.realpathSync(third))), [
        workspaceIdFor(fs.realpathSync(third)),
        movedId,
        oldId,
      ]);
    });

    it('refuses an unknown workspace and the folder itself with one sentence each, and takes a lock to write', async () => {
      const spy = spyPort();
      const repo = await openRepo(temp.fresh('store'), { port: spy });
      const { moved, oldId } = await movedProject(repo);
      const unknown = await rejectionCode(() => continueHistory(repo, 'ffffffffffffffff', moved));
      assert.equal(unknown.code, 'WORKSPACE_UNKNOWN');
      await snapshotterFor(repo, moved).snapshot();
      const itself = await rejectionCode(() => continueHistory(repo, workspaceIdFor(moved), moved));
      assert.equal(itself.code, 'USAGE');
      spy.reset();
      await continueHistory(repo, oldId, moved);
      assert.ok(spy.callsUnder(path.join(repo.location, 'locks')).length > 0, 'a lock file was written');
      assert.deepEqual(fs.readdirSync(path.join(repo.location, 'locks')), [], 'and released');
    });

    it('in an encrypted store the record is sealed and its key does not name the workspaces; a copy carries it', async () => {
      const passphrase = async () => 'a long enough passphrase';
      const repo = await openRepo(temp.fresh('store'), { encrypt: true, scryptN: 2 ** 10, passphrase });
      const { moved, oldId } = await movedProject(repo);
      await continueHistory(repo, oldId, moved);
      const [key] = (await repo.backend.list('meta')).filter((k) => k.startsWith(LINEAGE_PREFIX));
      const bytes = await repo.backend.load(key);
      for (const id of [oldId, workspaceIdFor(moved)]) {
        assert.ok(!key.includes(id) && !bytes.includes(id), 'no workspace id in the key or the bytes');
      }
      const copy = temp.fresh('copy');
      await replicate(repo, copy);
      const atCopy = await Repository.open(copy, { passphrase });
      assert.deepEqual(await workspaceHistoryIds(atCopy, workspaceIdFor(moved)), [workspaceIdFor(moved), oldId]);
    });
  });

  describe('the queries follow the history', () => {
    it('the first snapshot after a continued move has the old latest as parent, scans the folder whole, and saves continue from it', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const { moved, oldId } = await movedProject(repo);
      const oldLatest = (await repo.listSnapshots()).filter((s) => s.workspace.id === oldId).pop();
      await continueHistory(repo, oldId, moved);
      fs.rmSync(path.join(moved, 'notes.md'));
      writeTree(moved, { 'src/file0.ts': 'edited after the move' });
      // Even asked for one path, the first snapshot here scans the folder: the old tree describes another folder.
      const first = await snapshotterFor(repo, moved).snapshot({ paths: ['src/file0.ts'] });
      assert.equal(first.snapshot.parent, oldLatest?.id);
      assert.equal(first.snapshot.paths, undefined, 'a full scan');
      assert.deepEqual(first.changes.map((c) => `${c.kind} ${c.path}`).sort(), [
        'deleted notes.md',
        'modified src/file0.ts',
      ]);
      writeTree(moved, { 'src/file1.ts': 'a save' });
      const save = await snapshotterFor(repo, moved).snapshot({ paths: ['src/file1.ts'] });
      assert.equal(save.snapshot.parent, first.snapshot.id);
      assert.deepEqual(save.snapshot.paths, ['src/file1.ts']);
    });

    it('listings, latest, file history and health of the new folder include the old snapshots; the old one is folded into it', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const { moved, oldId } = await movedProject(repo);
      await continueHistory(repo, oldId, moved);
      const movedId = workspaceIdFor(moved);
      const cli = (...argv: string[]) => runCliCaptured([...argv, '--repo', repo.location]);
      // Before any snapshot at the new place, `latest` of it is the old latest.
      const ls = await cli('ls', 'latest', '--workspace', moved);
      assert.equal(ls.code, 0, ls.stderr.join('\n'));
      assert.ok(ls.stdout.some((l) => l.endsWith('notes.md')));
      writeTree(moved, { 'notes.md': 'v3\n' });
      await snapshotterFor(repo, moved).snapshot();
      assert.equal((await workspaceSnapshots(repo, movedId)).length, 3);
      const list = await cli('list', '--workspace', moved, '--json');
      assert.equal(list.json<unknown[]>().length, 3);
      const history = await cli('history', 'notes.md', '--workspace', moved, '--json');
      const byId = new Map(
        list.json<Array<{ id: string; workspace: { id: string } }>>().map((r) => [r.id, r.workspace.id]),
      );
      assert.deepEqual(
        history.json<Array<{ snapshot: string }>>().map((v) => byId.get(v.snapshot)),
        [movedId, oldId],
        'notes.md: v3 at the new place, then v2 at the old',
      );
      assert.equal(history.json<unknown[]>().length, 2);
      const workspaces = await listWorkspaces(repo);
      assert.equal(workspaces.length, 1, 'the old workspace is folded into the new one');
      assert.deepEqual([workspaces[0].id, workspaces[0].snapshots, workspaces[0].previousIds], [movedId, 3, [oldId]]);
      assert.equal(resolveWorkspace(workspaces, oldId).id, movedId, 'the old id still finds the project');
      const health = await gatherHealth(repo, nodeFs, { workspace: moved, workspaceId: movedId });
      assert.equal(health.snapshotCount, 3, 'Backup Health counts the old snapshots too');
    });
  });

  describe('findLikelyPredecessor', () => {
    it('finds a moved folder by its files (most identical by path and size), and says why', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const { moved, old } = await movedProject(repo);
      writeTree(moved, { 'src/file3.ts': 'changed after the move' });
      const found = await findLikelyPredecessor(repo, moved, nodeFs);
      assert.equal(found?.workspace.lastPath, old);
      assert.match(
        found?.reason ?? '',
        /^10 of 11 files in .* are the same \(path and size\) as in the latest snapshot of .*old-name, which no longer exists\.$/,
      );
    });

    it('finds a fresh clone of the same repository (same remote and root commit) in another folder, whatever its files', async () => {
      const origin = temp.make('origin.git');
      git(origin, 'init', '-q', '--bare', '-b', 'main');
      const first = temp.make('first');
      writeTree(first, { 'README.md': 'app\n' });
      git(first, 'init', '-q', '-b', 'main');
      git(first, 'remote', 'add', 'origin', origin);
      git(first, 'add', '.');
      git(first, 'commit', '-q', '-m', 'root');
      git(first, 'push', '-q', 'origin', 'main');
      writeTree(first, Object.fromEntries(Object.entries(PROJECT).map(([k, v]) => [`local/${k}`, v])));
      const repo = await openRepo(temp.fresh('store'));
      await snapshotterFor(repo, first, { git: true }).snapshot();
      fs.rmSync(first, { recursive: true });
      const clone = path.join(temp.make('elsewhere'), 'clone');
      git(path.dirname(clone), 'clone', '-q', origin, clone);
      const found = await findLikelyPredecessor(repo, clone, nodeFs);
      assert.equal(found?.workspace.id, workspaceIdFor(first));
      assert.match(
        found?.reason ?? '',
        /is the same git repository \(.*origin_git-\w+, first commit [0-9a-f]{8}\) as .*first-\w+, which no longer exists\.$/,
      );
      assert.equal(
        await findLikelyPredecessor(repo, clone, nodeFs, { git: false }),
        undefined,
        'without git, its one file is not most of the old 11',
      );
    });

    it('offers nothing for a folder with snapshots of its own, one already continuing a history, an old folder that still exists, different files, or an empty folder', async () => {
      const repo = await openRepo(temp.fresh('store'));
      const { moved, oldId } = await movedProject(repo);
      // The old folder is back (a copy, not a move): it is its own project.
      const back = path.join(path.dirname(moved), 'old-name');
      fs.cpSync(moved, back, { recursive: true });
      assert.equal(await findLikelyPredecessor(repo, moved, nodeFs), undefined, 'old folder exists');
      fs.rmSync(back, { recursive: true });
      assert.ok(await findLikelyPredecessor(repo, moved, nodeFs), 'precondition: found once the old folder is gone');
      const other = temp.make('other');
      writeTree(other, { 'x.txt': 'unrelated', ...Object.fromEntries(Object.entries(PROJECT).slice(0, 4)) });
      assert.equal(await findLikelyPredecessor(repo, other, nodeFs), undefined, '4 of 11 files is not most');
      assert.equal(await findLikelyPredecessor(repo, temp.make('empty'), nodeFs), undefined, 'an empty folder');
      await continueHistory(repo, oldId, moved);
      assert.equal(await findLikelyPredecessor(repo, moved, nodeFs), undefined, 'already continues it');
      const own = temp.make('own');
      writeTree(own, PROJECT);
      await snapshotterFor(repo, own).snapshot();
      assert.equal(await findLikelyPredecessor(repo, own, nodeFs), undefined, 'has snapshots of its own');
    });
  });
});
