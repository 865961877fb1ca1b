// #12 "The git repository comes back working": full snapshots take the workspace's .git whole (no size cap,
// no excludes inside it), saves never scan it, a restore into an empty folder gives back a working
// repository, and a restore into a folder with its own .git never touches it unless asked to replace it.

import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { entryAt } from '../../src/core/query/browse';
import type { Repository } from '../../src/core/repository/repository';
import type { SnapshotRecord } from '../../src/core/repository/snapshotRecord';
import { Restorer } from '../../src/core/restore/restorer';
import { Rules } from '../../src/core/scan/rules';
import { LARGE_GIT_FOLDER_BYTES, gitFolderSize } from '../../src/core/snapshot/gitFolder';
import { nodeFs } from '../../src/core/storage/fsPort';
import {
  ageTree,
  contentReadsUnder,
  git,
  openRepo,
  runCliCaptured,
  snapshotterFor,
  spyPort,
  useTempDirs,
  writeTree,
} from './helpers/fixtures';

/** Every file under `dir` with a hash of its content, for "nothing here changed" checks. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else
        out[child] = crypto
          .createHash('sha256')
          .update(fs.readFileSync(path.join(dir, child)))
          .digest('hex');
    }
  };
  walk('');
  return out;
}

/** What a user looks at to see that a repository works and nothing was lost. */
function gitState(dir: string): Record<string, string> {
  return {
    log: git(dir, 'log', '--all', '--format=%H %s'),
    head: git(dir, 'rev-parse', 'HEAD'),
    status: git(dir, 'status', '--porcelain'),
    stash: git(dir, 'stash', 'list', '--format=%gd %s'),
    branches: git(dir, 'branch', '--format=%(refname:short) %(objectname) %(upstream:track)'),
  };
}

describe('.git in full snapshots (#12)', function () {
  this.timeout(60_000);
  const temp = useTempDirs();

  /** A repository with a pushed commit, an unpushed one, a second branch and a stash; the working tree clean. */
  function repository(): string {
    const ws = temp.make('project');
    const origin = temp.make('origin.git');
    git(origin, 'init', '-q', '--bare', '-b', 'main');
    writeTree(ws, { 'README.md': 'project\n', 'src/main.ts': 'main();\n' });
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'remote', 'add', 'origin', origin);
    git(ws, 'add', '.');
    git(ws, 'commit', '-q', '-m', 'pushed');
    git(ws, 'push', '-q', '-u', 'origin', 'main');
    git(ws, 'checkout', '-q', '-b', 'feature');
    writeTree(ws, { 'src/feature.ts': 'feature();\n' });
    git(ws, 'add', '.');
    git(ws, 'commit', '-q', '-m', 'feature work');
    git(ws, 'checkout', '-q', 'main');
    writeTree(ws, { 'src/main.ts': 'main(2);\n' });
    git(ws, 'commit', '-q', '-am', 'not pushed yet');
    writeTree(ws, { 'README.md': 'half-done idea\n' });
    git(ws, 'stash', 'push', '-q', '-m', 'an idea');
    assert.equal(git(ws, 'status', '--porcelain'), '', 'precondition: clean');
    assert.match(git(ws, 'status', '-sb'), /ahead 1/, 'precondition: one unpushed commit');
    return ws;
  }

  async function restoreInto(
    repo: Repository,
    snapshot: SnapshotRecord,
    target: string,
    options: { deleteExtra?: boolean; replaceGit?: boolean; rules?: Rules } = {},
  ) {
    return new Restorer(repo).restore(snapshot, { target, ...options });
  }

  it('a whole snapshot restored into a new folder is a working repository: log, unpushed commit, branches, stash, clean status (#12)', async () => {
    const ws = repository();
    const before = gitState(ws);
    const repo = await openRepo(temp.fresh('store'));
    const { snapshot } = await snapshotterFor(repo, ws, { git: true }).snapshot({ trigger: 'manual' });
    fs.rmSync(ws, { recursive: true, force: true });
    const target = path.join(temp.make('elsewhere'), 'project');
    const result = await restoreInto(repo, snapshot, target);
    assert.deepEqual(result.problems, []);
    assert.equal(result.plan.gitLeft, undefined);
    assert.deepEqual(gitState(target), before);
    assert.match(git(target, 'status', '-sb'), /ahead 1/, 'the unpushed commit is still unpushed, not lost');
  });

  it('a restore into a folder with its own .git leaves every file under it as it is, --delete too, and says so (#12)', async () => {
    const ws = repository();
    const repo = await openRepo(temp.fresh('store'));
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    // Newer work in the live repository that an old .git would lose.
    writeTree(ws, { 'src/main.ts': 'main(3);\n', 'new.txt': 'new\n' });
    git(ws, 'add', '.');
    git(ws, 'commit', '-q', '-m', 'newer commit');
    const gitBefore = fingerprint(path.join(ws, '.git'));
    // The editor passes the folder's own rules, whose excludes may not name .git at all.
    const rules = new Rules({ excludes: ['node_modules'] });
    const result = await restoreInto(repo, snapshot, ws, { deleteExtra: true, rules });
    assert.deepEqual(result.problems, []);
    assert.equal(result.plan.gitLeft, true);
    assert.ok(
      !result.plan.changes.some((c) => c.path === '.git' || c.path.startsWith('.git/')),
      'nothing under .git is planned',
    );
    assert.deepEqual(fingerprint(path.join(ws, '.git')), gitBefore);
    assert.equal(fs.readFileSync(path.join(ws, 'src', 'main.ts'), 'utf8'), 'main(2);\n', 'the files were restored');
    assert.equal(
      fs.existsSync(path.join(ws, 'new.txt')),
      false,
      '--delete removed what the snapshot lacks, outside .git',
    );
    assert.match(git(ws, 'log', '-1', '--format=%s'), /newer commit/);
  });

  it("replaceGit puts the snapshot's .git in place of the target's, removing what it lacks with deleteExtra", async () => {
    const ws = repository();
    const head = git(ws, 'rev-parse', 'HEAD');
    const repo = await openRepo(temp.fresh('store'));
    const { snapshot } = await snapshotterFor(repo, ws).snapshot();
    writeTree(ws, { 'new.txt': 'new\n' });
    git(ws, 'add', '.');
    git(ws, 'commit', '-q', '-m', 'newer commit');
    git(ws, 'branch', 'later');
    const result = await restoreInto(repo, snapshot, ws, { deleteExtra: true, replaceGit: true });
    assert.deepEqual(result.problems, []);
    assert.equal(result.plan.gitLeft, undefined);
    assert.equal(git(ws, 'rev-parse', 'HEAD'), head);
    assert.equal(git(ws, 'branch', '--list', 'later'), '', 'a branch the snapshot lacks is gone with --delete');
    assert.equal(git(ws, 'status', '--porcelain'), '');
  });

  it("a save never scans .git: its paths there are ignored and the parent's .git is carried forward", async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', '.git/HEAD': 'ref: refs/heads/main\n', '.git/index': 'index v1' });
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const first = await snapshotterFor(repo, ws).snapshot();
    const gitTree = await entryAt(repo, first.snapshot.tree, '.git');
    assert.equal(gitTree?.type, 'dir');
    writeTree(ws, { '.git/index': 'index v2', 'a.txt': 'changed' });
    spy.reset();
    const only = await snapshotterFor(repo, ws).snapshot({ paths: ['.git/index', '.git'] });
    assert.equal(only.created, false, 'paths under .git make no snapshot');
    const save = await snapshotterFor(repo, ws).snapshot({ paths: ['a.txt', '.git/index'] });
    assert.equal(save.created, true);
    assert.deepEqual(
      save.changes.map((c) => `${c.kind} ${c.path}`),
      ['modified a.txt'],
    );
    assert.deepEqual(await entryAt(repo, save.snapshot.tree, '.git'), gitTree);
    assert.deepEqual(spy.callsUnder(path.join(ws, '.git')), [], 'not even a stat under .git');
  });

  it("the size cap, exclude globs and .gitignore do not apply inside .git; a nested repository's .git is still left out", async () => {
    const ws = temp.make('ws');
    const big = Buffer.alloc(5000, 7);
    writeTree(ws, {
      'big.bin': big,
      '.gitignore': '*.idx\n',
      '.git/objects/pack/pack-1.pack': big,
      '.git/objects/pack/pack-1.idx': 'idx',
      '.git/logs/HEAD': 'log',
      'vendor/lib/.git/HEAD': 'nested',
      'vendor/lib/x.idx': 'ignored by .gitignore',
    });
    const repo = await openRepo(temp.fresh('store'));
    const result = await snapshotterFor(repo, ws, {
      maxFileSize: 1000,
      excludes: ['*.pack', 'logs', '.git'],
      gitignore: true,
    }).snapshot();
    const tree = result.snapshot.tree;
    for (const kept of ['.git/objects/pack/pack-1.pack', '.git/objects/pack/pack-1.idx', '.git/logs/HEAD'])
      assert.ok(await entryAt(repo, tree, kept), kept);
    for (const left of ['big.bin', 'vendor/lib/.git', 'vendor/lib/x.idx'])
      assert.equal(await entryAt(repo, tree, left), undefined, left);
    assert.deepEqual(
      result.skipped.map((s) => s.path),
      ['big.bin'],
    );
  });

  it('includeGit: false leaves .git out, and so does `snapshot --no-git`', async () => {
    const ws = temp.make('ws');
    writeTree(ws, { 'a.txt': 'a', '.git/HEAD': 'ref: refs/heads/main\n' });
    const repo = await openRepo(temp.fresh('store'));
    const off = await snapshotterFor(repo, ws, { includeGit: false }).snapshot();
    assert.equal(await entryAt(repo, off.snapshot.tree, '.git'), undefined);
    const store = temp.fresh('cli-store');
    const run = await runCliCaptured(['snapshot', ws, '--repo', store, '--no-git', '--json']);
    assert.equal(run.code, 0, run.stderr.join('\n'));
    assert.equal(run.json<{ files: number }>().files, 1);
    const withGit = await runCliCaptured(['snapshot', ws, '--repo', temp.fresh('cli-store-2'), '--json']);
    assert.equal(withGit.json<{ files: number }>().files, 2);
  });

  it('a full snapshot that changed nothing reads nothing under .git (the stat cache covers it)', async () => {
    const ws = repository();
    ageTree(ws);
    const spy = spyPort();
    const repo = await openRepo(temp.fresh('store'), { port: spy });
    const first = await snapshotterFor(repo, ws).snapshot();
    assert.ok(contentReadsUnder(spy, path.join(ws, '.git')).length > 10, 'the first snapshot reads .git');
    spy.reset();
    const second = await snapshotterFor(repo, ws).snapshot();
    assert.equal(second.created, false);
    assert.equal(second.snapshot.id, first.snapshot.id);
    assert.deepEqual(contentReadsUnder(spy, path.join(ws, '.git')), []);
  });

  it('restore --replace-git from the CLI, and the plan line ".git left as it is" without it', async () => {
    const ws = repository();
    const store = temp.fresh('store');
    assert.equal((await runCliCaptured(['snapshot', ws, '--repo', store])).code, 0);
    const dry = await runCliCaptured(['restore', 'latest', '--repo', store, '--target', ws, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr.join('\n'));
    assert.match(dry.stdout.join('\n'), /\.git left as it is: .* has its own \(restore with --replace-git/);
    const json = await runCliCaptured(['restore', 'latest', '--repo', store, '--target', ws, '--dry-run', '--json']);
    assert.equal(json.json<{ gitLeft: boolean }>().gitLeft, true);
    const fresh = path.join(temp.make('other'), 'copy');
    const into = await runCliCaptured(['restore', 'latest', '--repo', store, '--target', fresh, '--json']);
    assert.equal(into.json<{ gitLeft: boolean }>().gitLeft, false);
    assert.equal(git(fresh, 'status', '--porcelain'), '');
  });

  describe('gitFolderSize', () => {
    it('sums the files below .git; undefined without a .git folder (none, or a .git file as in a worktree)', async () => {
      const ws = temp.make('ws');
      writeTree(ws, {
        '.git/HEAD': 'x'.repeat(10),
        '.git/objects/ab/cd': 'y'.repeat(1000),
        'outside.txt': 'z'.repeat(50),
      });
      assert.deepEqual(await gitFolderSize(nodeFs, ws), { bytes: 1010, files: 2 });
      const worktree = temp.make('wt');
      writeTree(worktree, { '.git': 'gitdir: /elsewhere\n' });
      assert.equal(await gitFolderSize(nodeFs, worktree), undefined);
      assert.equal(await gitFolderSize(nodeFs, temp.make('plain')), undefined);
      assert.equal(LARGE_GIT_FOLDER_BYTES, 1024 ** 3);
    });
  });
});
