// Branch and HEAD of a workspace that is a git repository, and what identifies the project across moves and
// clones (the origin remote and the root commit), for the snapshot record. Git is optional: without git, or
// outside a repository, this answers undefined and nothing else changes.
// Invariant: the on-save path pays for a git process only when HEAD, a ref or the config actually moved (a
// few lstat calls decide), so saving a file stays in the milliseconds; the root commit is looked up once.

import * as path from 'node:path';
import type { FsPort } from '../storage/fsPort';

export interface GitInfo {
  branch?: string;
  head?: string;
  /** The origin remote's URL without credentials. */
  remote?: string;
  /** The first commit of HEAD's history (the oldest, when several histories were merged). */
  rootCommit?: string;
}

const NOT_A_REPO_RECHECK_MS = 60_000;
const COMMIT = /^[0-9a-f]{40,64}$/;

/**
 * A remote URL without what could be a secret: the user and password of a URL (`https://token@host/...`
 * carries a token as its user name). An scp-like `git@host:path` keeps its user, which names no secret.
 */
export function stripCredentials(url: string): string {
  const trimmed = url.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return trimmed;
  return trimmed.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * A remote as two clones of one project both name it, whatever the spelling: host (lower case) and path,
 * without scheme, user, port, `.git` or trailing slash (`git@github.com:a/b.git` = `https://github.com/a/b`).
 */
export function comparableRemote(url: string): string {
  const stripped = stripCredentials(url);
  let host = '';
  let rest = stripped;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)(.*)$/i.exec(stripped);
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.*)$/.exec(stripped);
  if (scheme) {
    host = scheme[1].replace(/^[^@]*@/, '').replace(/:\d+$/, '');
    rest = scheme[2];
  } else if (scp && !/^[a-z]:[\\/]/i.test(stripped)) {
    host = scp[1];
    rest = scp[2];
  }
  const cleanPath = rest.replace(/\\/g, '/').replace(/\/+$/, '').replace(/\.git$/, '').replace(/^\/*~?\/*/, '');
  return host ? `${host.toLowerCase()}/${cleanPath}` : cleanPath;
}

export class GitInfoReader {
  private gitDir: string | undefined;
  private notRepoUntil = 0;
  private cachedKey = '';
  private cached: GitInfo | undefined;
  private rootCommit: string | undefined;

  constructor(
    private readonly workspace: string,
    private readonly port: FsPort,
  ) {}

  async read(): Promise<GitInfo | undefined> {
    if (Date.now() < this.notRepoUntil) return undefined;
    try {
      const { simpleGit } = await import('simple-git');
      const git = simpleGit({ baseDir: this.workspace, timeout: { block: 5000 } });
      let info: GitInfo | undefined;
      if (!this.gitDir) {
        // One process for the usual case (a repository with commits): git dir, HEAD and branch at once.
        const lines = (await git.raw(['rev-parse', '--absolute-git-dir', 'HEAD', '--abbrev-ref', 'HEAD']).catch(() => '')).trim().split('\n');
        if (lines.length === 3 && COMMIT.test(lines[1])) {
          this.gitDir = lines[0];
          info = { head: lines[1] };
          if (lines[2] && lines[2] !== 'HEAD') info.branch = lines[2];
        } else {
          const dir = (await git.revparse(['--git-dir'])).trim();
          this.gitDir = path.resolve(this.workspace, dir);
        }
      }
      const key = this.stateKey();
      if (key === this.cachedKey && this.cached) return this.cached;
      if (!info) {
        info = {};
        const branch = (await git.revparse(['--abbrev-ref', 'HEAD']).catch(() => '')).trim();
        if (branch && branch !== 'HEAD') info.branch = branch;
        const head = (await git.revparse(['--verify', '-q', 'HEAD']).catch(() => '')).trim();
        if (COMMIT.test(head)) info.head = head;
        if (!info.branch) {
          // A fresh repository has no commit yet, but HEAD still names the branch to be.
          const symbolic = (await git.raw(['symbolic-ref', '-q', '--short', 'HEAD']).catch(() => '')).trim();
          if (symbolic) info.branch = symbolic;
        }
      }
      const remote = (await git.raw(['config', '--get', 'remote.origin.url']).catch(() => '')).trim();
      if (remote) info.remote = stripCredentials(remote);
      if (!this.rootCommit && info.head) {
        // Walks the whole history: once per reader (a rewritten root is rare enough to wait for a restart).
        const roots = (await git.raw(['rev-list', '--max-parents=0', 'HEAD']).catch(() => '')).trim().split('\n').filter((line) => COMMIT.test(line));
        this.rootCommit = roots[roots.length - 1];
      }
      if (this.rootCommit && info.head) info.rootCommit = this.rootCommit;
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

  /** Mtimes of the files a commit, checkout, branch switch or remote change touches. */
  private stateKey(): string {
    const dir = this.gitDir as string;
    const parts: string[] = [];
    for (const name of ['HEAD', 'logs/HEAD', 'packed-refs', 'config']) {
      const stat = this.port.lstatSync(path.join(dir, name));
      parts.push(stat ? `${stat.mtimeMs}:${stat.size}` : '-');
    }
    return parts.join('|');
  }
}

/**
 * The message of the newest entry of the workspace's `.git/logs/HEAD` ("checkout: moving from main to fix",
 * "pull: Fast-forward"), which says what moved HEAD; undefined without one (no repository, a `.git` file of
 * a worktree, reflogs off). Reads only the file's last 4 KiB, whatever its length.
 */
export async function lastHeadMove(port: FsPort, workspace: string): Promise<string | undefined> {
  const file = path.join(workspace, '.git', 'logs', 'HEAD');
  let handle;
  try {
    handle = await port.open(file, 'r');
    const size = (await handle.stat()).size;
    const length = Math.min(size, 4096);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, size - length);
    const lines = buffer.subarray(0, bytesRead).toString('utf8').split('\n').filter((line) => line.includes('\t'));
    const last = lines[lines.length - 1];
    return last ? last.slice(last.indexOf('\t') + 1).trim() : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
