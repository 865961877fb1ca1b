// The git repository in the real editor (#12): with includeGitFolder off, "Back Up the Git History" turns it
// on and takes a full snapshot that holds .git; an ordinary restore of that snapshot into the live folder
// (which has moved on by a commit) restores the files and never touches its .git, so no commit is lost.
// The folder is a repository of its own beside the test workspace, so the other suites' workspace stays
// a plain folder.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { listTree } from '../../src/core/query/browse';
import { runRestore } from '../../src/vscode/restoreFlow';
import { MemoryMemento, ScriptedPrompter, api } from './helpers/api';
import { workspaceMode } from './helpers/environment';

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8' },
  ).trim();
}

if (workspaceMode() === 'single-folder') {
  describe('the git repository (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let repoDir: string;
    let folder: vscode.WorkspaceFolder;
    const config = () => vscode.workspace.getConfiguration('projectBackup');

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      repoDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pb-gitproj-')), 'gitproj');
      fs.mkdirSync(repoDir);
      git(repoDir, 'init', '--quiet', '-b', 'main');
      fs.writeFileSync(path.join(repoDir, 'app.js'), 'console.log("v1");\n');
      git(repoDir, 'add', '-A');
      git(repoDir, 'commit', '--quiet', '-m', 'v1');
      folder = { uri: vscode.Uri.file(repoDir), name: 'gitproj', index: 99 };
    });

    after(async () => {
      await config().update('includeGitFolder', undefined, vscode.ConfigurationTarget.Global);
    });

    it('with includeGitFolder off a full snapshot leaves .git out; "Back Up the Git History" turns it on and snapshots it (#12)', async () => {
      await config().update('includeGitFolder', false, vscode.ConfigurationTarget.Global);
      assert.equal(await a.service.includesGit(folder), false);
      const without = await a.service.snapshotFolder(folder, { trigger: 'manual' });
      const repo = await a.service.localRepository(folder);
      assert.equal(
        (await listTree(repo, without.snapshot, '')).some((e) => e.path === '.git'),
        false,
        '.git left out',
      );

      const result = await a.service.includeGitFolder(folder);
      assert.equal(config().get('includeGitFolder'), true);
      assert.equal(await a.service.includesGit(folder), true);
      const gitEntries = await listTree(repo, result.snapshot, '.git');
      assert.ok(
        gitEntries.some((e) => e.path === '.git/HEAD'),
        `the snapshot holds .git: ${gitEntries.map((e) => e.path).join(', ')}`,
      );
    });

    it('an ordinary restore into the live folder restores the files and never replaces its newer .git (#12)', async () => {
      const snapshots = await a.service.snapshots(folder, true);
      const withGit = snapshots[snapshots.length - 1];
      // The project moves on: a new commit, then the user restores the older snapshot.
      fs.writeFileSync(path.join(repoDir, 'app.js'), 'console.log("v2");\n');
      git(repoDir, 'commit', '--quiet', '-am', 'v2, not in any snapshot');
      const head = git(repoDir, 'rev-parse', 'HEAD');
      const state = new MemoryMemento();
      const result = await runRestore(
        { service: a.service, prompter, log: a.log, state },
        { folder, snapshot: withGit, paths: [], deleteExtra: true, title: 'Restore snapshot' },
      );
      assert.ok(result, 'the restore ran');
      const preview = prompter.previews[prompter.previews.length - 1];
      assert.equal(
        preview.some((c) => c.path === '.git' || c.path.startsWith('.git/')),
        false,
        `the preview touches nothing in .git: ${preview.map((c) => c.path).join(', ')}`,
      );
      assert.equal(
        fs.readFileSync(path.join(repoDir, 'app.js'), 'utf8'),
        'console.log("v1");\n',
        'the file is restored',
      );
      assert.equal(git(repoDir, 'rev-parse', 'HEAD'), head, 'the newer commit is still HEAD');
      assert.match(git(repoDir, 'log', '--oneline'), /v2, not in any snapshot/);
    });
  });
}
