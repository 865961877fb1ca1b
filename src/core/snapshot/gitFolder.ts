// The size of a workspace's `.git`, so a front end can ask once before the first full snapshot takes a very
// large one whole (full snapshots include `.git` by default: see SnapshotterOptions.includeGit).
// Invariant: reads metadata only (readdir and lstat, never file content), follows no symlink, and gives the
// event loop a turn while it walks.

import * as path from 'node:path';
import type { LocalGitHistory } from '../health/health';
import { yieldIfBusy } from '../eventLoop';
import type { FsPort } from '../storage/fsPort';

/**
 * Above this, ask before including `.git` (once per workspace). 1 GiB: below it the first full snapshot of
 * `.git` costs well under a minute on a local disk and the store grows by about `.git`'s own size (git packs
 * are already compressed, so they are stored nearly as they are), which few users would notice; above it
 * (large binary histories, monorepos) the same snapshot takes minutes and doubles the space the project
 * uses, which is worth a question. Most repositories are far below: this project's own `.git` is a few MB.
 */
export const LARGE_GIT_FOLDER_BYTES = 1024 ** 3;

export interface GitFolderSize {
  /** Total size of the files below `.git`. */
  bytes: number;
  files: number;
}

/**
 * The size of `<workspace>/.git`, or undefined when the workspace has no `.git` folder (none at all, or a
 * `.git` file pointing elsewhere, as in a worktree or submodule, whose repository is not inside it).
 * A folder that cannot be read counts as empty: the answer is for a question, never a failure.
 */
export async function gitFolderSize(port: FsPort, workspace: string): Promise<GitFolderSize | undefined> {
  const root = path.join(workspace, '.git');
  if (!port.lstatSync(root)?.isDirectory()) return undefined;
  const total: GitFolderSize = { bytes: 0, files: 0 };
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let entries;
    try {
      entries = port.readdirSync(dir);
    } catch {
      continue;
    }
    for (const entry of entries) {
      const turn = yieldIfBusy();
      if (turn) await turn;
      const abs = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(abs);
      else if (entry.isFile()) {
        let stat;
        try {
          stat = port.lstatSync(abs);
        } catch {
          continue;
        }
        if (stat) {
          total.bytes += stat.size;
          total.files++;
        }
      }
    }
  }
  return total;
}

/**
 * What of the workspace's git history exists only on this machine: whether it has a remote, and how many
 * commits on local branches no remote-tracking branch holds. Undefined without git or outside a repository.
 * Two git processes: for the health view, never for a snapshot.
 */
export async function localGitHistory(workspace: string): Promise<LocalGitHistory | undefined> {
  try {
    const { simpleGit } = await import('simple-git');
    const git = simpleGit({ baseDir: workspace, timeout: { block: 10_000 } });
    const top = (await git.raw(['rev-parse', '--show-toplevel'])).trim();
    if (path.resolve(top) !== path.resolve(workspace)) return undefined; // a folder inside another repository
    const remotes = (await git.raw(['remote'])).trim();
    const count = Number((await git.raw(['rev-list', '--count', '--branches', '--not', '--remotes'])).trim());
    return { hasRemote: remotes.length > 0, localOnlyCommits: Number.isFinite(count) ? count : 0 };
  } catch {
    return undefined;
  }
}
