// Branch and HEAD of a workspace that is a git repository, for the snapshot record. Git is optional:
// without git, or outside a repository, this answers undefined and nothing else changes.
// Invariant: the on-save path pays for a git process only when HEAD or a ref actually moved (a few lstat
// calls decide), so saving a file stays in the milliseconds.

import * as path from 'node:path';
import type { FsPort } from '../storage/fsPort';

export interface GitInfo {
  branch?: string;
  head?: string;
}

const NOT_A_REPO_RECHECK_MS = 60_000;

export class GitInfoReader {
  private gitDir: string | undefined;
  private notRepoUntil = 0;
  private cachedKey = '';
  private cached: GitInfo | undefined;

  constructor(
    private readonly workspace: string,
    private readonly port: FsPort,
  ) {}

  async read(): Promise<GitInfo | undefined> {
    if (Date.now() < this.notRepoUntil) return undefined;
    try {
      const { simpleGit } = await import('simple-git');
      const git = simpleGit({ baseDir: this.workspace, timeout: { block: 5000 } });
      if (!this.gitDir) {
        // One process for the usual case (a repository with commits): git dir, HEAD and branch at once.
        const lines = (await git.raw(['rev-parse', '--absolute-git-dir', 'HEAD', '--abbrev-ref', 'HEAD']).catch(() => '')).trim().split('\n');
        if (lines.length === 3 && /^[0-9a-f]{40,64}$/.test(lines[1])) {
          this.gitDir = lines[0];
          const info: GitInfo = { head: lines[1] };
          if (lines[2] && lines[2] !== 'HEAD') info.branch = lines[2];
          this.cachedKey = this.stateKey();
          this.cached = info;
          return info;
        }
        const dir = (await git.revparse(['--git-dir'])).trim();
        this.gitDir = path.resolve(this.workspace, dir);
      }
      const key = this.stateKey();
      if (key === this.cachedKey && this.cached) return this.cached;
      const info: GitInfo = {};
      const branch = (await git.revparse(['--abbrev-ref', 'HEAD']).catch(() => '')).trim();
      if (branch && branch !== 'HEAD') info.branch = branch;
      const head = (await git.revparse(['--verify', '-q', 'HEAD']).catch(() => '')).trim();
      if (/^[0-9a-f]{40,64}$/.test(head)) info.head = head;
      if (!info.branch) {
        // A fresh repository has no commit yet, but HEAD still names the branch to be.
        const symbolic = (await git.raw(['symbolic-ref', '-q', '--short', 'HEAD']).catch(() => '')).trim();
        if (symbolic) info.branch = symbolic;
      }
      this.cachedKey = key;
      this.cached = info;
      return info;
    } catch {
      // Not a repository, or git is not installed: note it and check again later (the user may `git init`).
      this.gitDir = undefined;
      this.notRepoUntil = Date.now() + NOT_A_REPO_RECHECK_MS;
      return undefined;
    }
  }

  /** Mtimes of the files a commit, checkout or branch switch touches. */
  private stateKey(): string {
    const dir = this.gitDir as string;
    const parts: string[] = [];
    for (const name of ['HEAD', 'logs/HEAD', 'packed-refs']) {
      const stat = this.port.lstatSync(path.join(dir, name));
      parts.push(stat ? `${stat.mtimeMs}:${stat.size}` : '-');
    }
    return parts.join('|');
  }
}
