// Git history that exists only on this machine (#12): when full snapshots leave `.git` out (the setting
// off, or a large one declined), Backup Health shows a gap if the repository has no remote or commits no
// remote holds, with the fix "Back up the git history"; included, or all pushed, there is no gap.
// localGitHistory reads those facts from a real repository.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { assessHealth } from '../../src/core/health/health';
import type { HealthInput } from '../../src/core/health/health';
import { localGitHistory } from '../../src/core/snapshot/gitFolder';
import { nodeFs } from '../../src/core/storage/fsPort';
import { git, useTempDirs, writeTree } from './helpers/fixtures';

const NOW = new Date('2026-11-25T12:00:00Z');

function input(workspace: string, store: string, gitFacts: HealthInput['git']): HealthInput {
  return {
    workspace,
    store,
    lastSnapshot: NOW.toISOString(),
    snapshotCount: 1,
    lastVerify: { time: NOW.toISOString(), ok: true },
    encrypted: false,
    destinations: [],
    now: NOW,
    git: gitFacts,
  };
}

describe('git history only on this machine (#12)', () => {
  const temp = useTempDirs();

  it('is a gap with the fix "includeGit" when .git is left out and commits are on no remote, or there is no remote', async () => {
    const ws = temp.make('ws');
    const store = temp.make('store');
    const unpushed = await assessHealth(
      input(ws, store, { included: false, hasRemote: true, localOnlyCommits: 3 }),
      nodeFs,
    );
    const gap = unpushed.gaps.find((g) => g.id === 'gitHistory');
    assert.ok(gap, 'a gap');
    assert.equal(gap.fix, 'includeGit');
    assert.match(gap.message, /3 commits are on no remote/);
    const noRemote = await assessHealth(
      input(ws, store, { included: false, hasRemote: false, localOnlyCommits: 0 }),
      nodeFs,
    );
    assert.match(noRemote.gaps.find((g) => g.id === 'gitHistory')?.message ?? '', /has no remote/);
  });

  it('is no gap when .git is backed up, when every commit is pushed, or without a repository', async () => {
    const ws = temp.make('ws');
    const store = temp.make('store');
    for (const facts of [
      { included: true, hasRemote: false, localOnlyCommits: 5 },
      { included: false, hasRemote: true, localOnlyCommits: 0 },
      undefined,
    ]) {
      const report = await assessHealth(input(ws, store, facts), nodeFs);
      assert.equal(
        report.gaps.some((g) => g.id === 'gitHistory'),
        false,
        JSON.stringify(facts),
      );
    }
  });

  it('localGitHistory counts the commits on no remote, and says when there is no remote or no repository', async () => {
    const root = temp.make('repos');
    const remote = path.join(root, 'origin.git');
    const ws = path.join(root, 'ws');
    fs.mkdirSync(ws);
    git(root, 'init', '--quiet', '--bare', remote);
    git(ws, 'init', '--quiet', '-b', 'main');
    writeTree(ws, { 'a.txt': 'a\n' });
    git(ws, 'add', '-A');
    git(ws, 'commit', '--quiet', '-m', 'one');
    assert.deepEqual(await localGitHistory(ws), { hasRemote: false, localOnlyCommits: 1 });
    git(ws, 'remote', 'add', 'origin', remote);
    git(ws, 'push', '--quiet', 'origin', 'main');
    assert.deepEqual(await localGitHistory(ws), { hasRemote: true, localOnlyCommits: 0 });
    writeTree(ws, { 'a.txt': 'b\n' });
    git(ws, 'commit', '--quiet', '-am', 'two');
    git(ws, 'checkout', '--quiet', '-b', 'topic');
    writeTree(ws, { 'b.txt': 'c\n' });
    git(ws, 'add', '-A');
    git(ws, 'commit', '--quiet', '-m', 'three');
    assert.deepEqual(await localGitHistory(ws), { hasRemote: true, localOnlyCommits: 2 });
    assert.equal(await localGitHistory(temp.make('plain')), undefined);
    // A folder inside another repository is not that repository's workspace.
    fs.mkdirSync(path.join(ws, 'sub'));
    assert.equal(await localGitHistory(path.join(ws, 'sub')), undefined);
  });
});
