// Branch and HEAD of a workspace that is a git repository, and what identifies the project across moves and
// clones (the origin remote and the root commit), for the snapshot record. Git is optional: without git, or
// outside a repository, this answers undefined and nothing else changes.
// Invariant: the on-save path pays for a git process only when HEAD, a ref or the config actually moved (a
// few lstat calls decide), so saving a file stays in the milliseconds; the root commit is looked up once.
// HEAD, branch and origin are read from .git's own small files (no process); git is asked only for the root
// commit when no earlier snapshot recorded it, and for layouts only git should interpret.

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
  const cleanPath = rest
    .replace(/\\/g, '/')
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .replace(/^\/*~?\/*/, '');
  return host ? `${host.toLowerCase()}/${cleanPath}` : cleanPath;
}

/** Where a repository's files are: its own git dir (HEAD) and the common dir (refs, packed-refs, config). */
interface GitLayout {
  gitDir: string;
  commonDir: string;
}

/**
 * The repository a folder belongs to, found the way git finds it (the folder or the nearest one above with a
 * `.git` folder, or a `.git` file naming a worktree's git dir), from a few small reads. Undefined when there is
 * none; `'unusual'` for what only git itself should answer (GIT_DIR in the environment, a reftable store,
 * included config files), where the reader asks git.
 */
export function gitLayout(port: FsPort, workspace: string): GitLayout | 'unusual' | undefined {
  if (
    process.env.GIT_DIR ||
    process.env.GIT_WORK_TREE ||
    process.env.GIT_COMMON_DIR ||
    process.env.GIT_CEILING_DIRECTORIES
  )
    return 'unusual';
  let dir = path.resolve(workspace);
  for (;;) {
    const dotGit = path.join(dir, '.git');
    const stat = port.lstatSync(dotGit);
    let gitDir: string | undefined;
    if (stat?.isDirectory() && port.lstatSync(path.join(dotGit, 'HEAD'))) gitDir = dotGit;
    else if (stat?.isFile()) {
      const line = /^gitdir:\s*(.+?)\s*$/m.exec(port.readFileSync(dotGit).toString('utf8'));
      if (!line) return 'unusual';
      gitDir = path.resolve(dir, line[1]);
    } else if (stat) return 'unusual';
    if (gitDir) {
      let commonDir = gitDir;
      if (port.lstatSync(path.join(gitDir, 'commondir')))
        commonDir = path.resolve(gitDir, port.readFileSync(path.join(gitDir, 'commondir')).toString('utf8').trim());
      if (port.lstatSync(path.join(commonDir, 'reftable')) || port.lstatSync(path.join(gitDir, 'config.worktree')))
        return 'unusual';
      return { gitDir, commonDir };
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The commit a ref names, from its loose file or packed-refs; undefined when it names none (yet). */
function resolveRef(port: FsPort, layout: GitLayout, ref: string, depth = 0): string | undefined | 'unusual' {
  if (depth > 5 || !/^refs\/[^\0]+$/.test(ref) || ref.split('/').includes('..')) return 'unusual';
  for (const base of layout.gitDir === layout.commonDir ? [layout.gitDir] : [layout.gitDir, layout.commonDir]) {
    const file = path.join(base, ref);
    if (!port.lstatSync(file)?.isFile()) continue;
    const text = port.readFileSync(file).toString('utf8').trim();
    if (COMMIT.test(text)) return text;
    const symbolic = /^ref:\s*(\S+)$/.exec(text);
    return symbolic ? resolveRef(port, layout, symbolic[1], depth + 1) : 'unusual';
  }
  const packed = path.join(layout.commonDir, 'packed-refs');
  if (!port.lstatSync(packed)) return undefined;
  for (const line of port.readFileSync(packed).toString('utf8').split('\n')) {
    if (line.endsWith(` ${ref}`) || line.endsWith(` ${ref}\r`)) {
      const sha = line.slice(0, line.indexOf(' '));
      return COMMIT.test(sha) ? sha : 'unusual';
    }
  }
  return undefined;
}

/**
 * `remote.origin.url` from a config file, read as git reads it (sections and keys in any case, quoted values,
 * comments, the last value wins); `'unusual'` when the file includes others, which only git should follow.
 */
export function originUrl(configText: string): string | undefined | 'unusual' {
  let inOrigin = false;
  let url: string | undefined;
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\](.*)$/.exec(line);
    if (section) {
      const name = section[1].toLowerCase();
      if (name === 'include' || name === 'includeif') return 'unusual';
      inOrigin =
        section[2] !== undefined
          ? name === 'remote' && section[2].replace(/\\(.)/g, '$1') === 'origin'
          : name === 'remote.origin';
      const rest = section[3].trim();
      if (!rest || rest.startsWith('#') || rest.startsWith(';')) continue;
      return 'unusual';
    }
    if (!inOrigin) continue;
    const pair = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!pair || pair[1].toLowerCase() !== 'url') continue;
    url = configValue(pair[2] ?? '');
  }
  return url;
}

function configValue(text: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && i + 1 < text.length) {
      const n = text[++i];
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'b' ? '\b' : n;
    } else if ((c === '#' || c === ';') && !quoted) break;
    else out += c;
  }
  return out.trim();
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

  /**
   * `known` is what the parent snapshot recorded: its root commit spares walking the history again in a
   * process that has not read it yet (every CLI run), as a long-lived reader keeps it (see `rootCommit`).
   */
  async read(known?: GitInfo): Promise<GitInfo | undefined> {
    if (Date.now() < this.notRepoUntil) return undefined;
    if (!this.rootCommit && known?.rootCommit && COMMIT.test(known.rootCommit)) this.rootCommit = known.rootCommit;
    // HEAD, branch and remote come from a few small files: no git process for a run that needs no history.
    const direct = this.readDirect();
    if (direct === undefined) return this.notRepo();
    if (direct !== 'unusual' && (this.rootCommit || !direct.head)) {
      if (this.rootCommit && direct.head) direct.rootCommit = this.rootCommit;
      return direct;
    }
    return this.readWithGit(direct === 'unusual' ? undefined : direct);
  }

  private notRepo(): undefined {
    this.gitDir = undefined;
    this.notRepoUntil = Date.now() + NOT_A_REPO_RECHECK_MS;
    return undefined;
  }

  private readDirect(): GitInfo | 'unusual' | undefined {
    try {
      const layout = gitLayout(this.port, this.workspace);
      if (layout === undefined || layout === 'unusual') return layout;
      const headText = this.port.readFileSync(path.join(layout.gitDir, 'HEAD')).toString('utf8').trim();
      const info: GitInfo = {};
      if (COMMIT.test(headText)) info.head = headText;
      else {
        const symbolic = /^ref:\s*(refs\/heads\/\S+)$/.exec(headText);
        if (!symbolic) return 'unusual';
        info.branch = symbolic[1].slice('refs/heads/'.length);
        const head = resolveRef(this.port, layout, symbolic[1]);
        if (head === 'unusual') return 'unusual';
        if (head) info.head = head;
      }
      const config = path.join(layout.commonDir, 'config');
      const remote = this.port.lstatSync(config)
        ? originUrl(this.port.readFileSync(config).toString('utf8'))
        : undefined;
      if (remote === 'unusual') return 'unusual';
      if (remote) info.remote = stripCredentials(remote);
      return info;
    } catch {
      // A file that vanished or could not be read mid-way (a commit in progress): let git answer.
      return 'unusual';
    }
  }

  /** The same answers from git itself, for the layouts readDirect leaves to it and for the root commit. */
  private async readWithGit(direct: GitInfo | undefined): Promise<GitInfo | undefined> {
    try {
      const { simpleGit } = await import('simple-git');
      const git = simpleGit({ baseDir: this.workspace, timeout: { block: 5000 } });
      let info: GitInfo | undefined = direct ? { ...direct } : undefined;
      if (!this.gitDir) {
        // One process for the usual case (a repository with commits): git dir, HEAD and branch at once.
        const lines = (
          await git.raw(['rev-parse', '--absolute-git-dir', 'HEAD', '--abbrev-ref', 'HEAD']).catch(() => '')
        )
          .trim()
          .split('\n');
        if (lines.length === 3 && COMMIT.test(lines[1])) {
          this.gitDir = lines[0];
          info ??= { head: lines[1], ...(lines[2] && lines[2] !== 'HEAD' ? { branch: lines[2] } : {}) };
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
        const remote = (await git.raw(['config', '--get', 'remote.origin.url']).catch(() => '')).trim();
        if (remote) info.remote = stripCredentials(remote);
      }
      if (!this.rootCommit && info.head) {
        // Walks the whole history: once per reader (a rewritten root is rare enough to wait for a restart).
        const roots = (await git.raw(['rev-list', '--max-parents=0', 'HEAD']).catch(() => ''))
          .trim()
          .split('\n')
          .filter((line) => COMMIT.test(line));
        this.rootCommit = roots[roots.length - 1];
      }
      if (this.rootCommit && info.head) info.rootCommit = this.rootCommit;
      this.cachedKey = key;
      this.cached = info;
      return info;
    } catch {
      // Not a repository, or git is not installed: note it and check again later (the user may `git init`).
      return this.notRepo();
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
    const lines = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.includes('\t'));
    const last = lines[lines.length - 1];
    return last ? last.slice(last.indexOf('\t') + 1).trim() : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
