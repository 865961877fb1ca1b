// What taking `.git` into full snapshots costs (#12), on a real repository: `npm run bench:git` copies a git
// working copy (this repository by default; --source another), then measures
//   1. the first full snapshot, with and without .git: time and store size;
//   2. a day of commits: the last N commits (20) are taken out of the copy and brought back one by one
//      (fetch and fast-forward, which writes loose objects as committing does), a full snapshot after each,
//      with and without .git in two stores: how much more the store grows per day when it keeps .git too.
// The source is only read. Figures go to stdout and to DIR/git-cost.json.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Repository } from '../src/core/repository/repository';
import { Snapshotter } from '../src/core/snapshot/snapshotter';
import { gitFolderSize } from '../src/core/snapshot/gitFolder';
import { nodeFs } from '../src/core/storage/fsPort';
import { dirSize } from './measure';
import { formatMiB } from './workspace';

const usage = `usage: node dist/bench-git.js [--source DIR] [--dir DIR] [--commits N]
  --source   a git working copy to measure (default: this repository); only read
  --dir      work folder (default: $TMPDIR/pb-bench-git), removed first
  --commits  commits replayed as "a day" (default 20)`;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=Bench', '-c', 'user.email=bench@example.com', '-c', 'commit.gpgsign=false', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
}

/** Bytes a store holds for its content (packs, index, records, config), not its disposable caches. */
function storeSize(dir: string): number {
  return ['data', 'index', 'snapshots'].reduce(
    (sum, kind) => sum + dirSize(path.join(dir, kind)),
    fs.statSync(path.join(dir, 'config')).size,
  );
}

async function snapshot(
  store: string,
  workspace: string,
  includeGit: boolean,
): Promise<{ ms: number; bytes: number; files: number }> {
  const repo = await Repository.open(store, { create: true });
  const started = performance.now();
  const result = await new Snapshotter(repo, { workspace, includeGit, maxFileSize: 50 * 1024 * 1024 }).snapshot({
    trigger: 'manual',
  });
  const ms = performance.now() - started;
  await repo.close();
  return { ms, bytes: storeSize(store), files: result.snapshot.stats.files };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return console.log(usage);
  const source = path.resolve(arg('--source') ?? path.join(__dirname, '..'));
  const dir = path.resolve(arg('--dir') ?? path.join(os.tmpdir(), 'pb-bench-git'));
  const commits = Number(arg('--commits') ?? 20);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const project = path.join(dir, 'project');

  // A copy of the repository as it is on disk (loose objects, packs, reflogs), with a clean working tree.
  fs.mkdirSync(project);
  fs.cpSync(path.join(source, '.git'), path.join(project, '.git'), { recursive: true });
  git(project, 'reset', '-q', '--hard');
  const size = await gitFolderSize(nodeFs, project);
  const workingFiles = git(project, 'ls-files').split('\n').length;
  console.log(
    `${source}: ${workingFiles} tracked files, .git ${formatMiB(size?.bytes ?? 0)} in ${size?.files ?? 0} files, ${git(project, 'rev-list', '--count', 'HEAD')} commits`,
  );

  const first = {
    without: await snapshot(path.join(dir, 'store-without'), project, false),
    with: await snapshot(path.join(dir, 'store-with'), project, true),
  };
  console.log(
    `first full snapshot without .git: ${first.without.ms.toFixed(0)} ms, store ${formatMiB(first.without.bytes)} (${first.without.files} files)`,
  );
  console.log(
    `first full snapshot with .git:    ${first.with.ms.toFixed(0)} ms, store ${formatMiB(first.with.bytes)} (${first.with.files} files)`,
  );

  // A day of commits: take the last N (first-parent) commits out of the copy entirely, then bring them back
  // one at a time from a second copy (fetch + fast-forward: a small fetch is unpacked into loose objects, as
  // committing writes them), with a full snapshot after each.
  const donor = path.join(dir, 'donor');
  fs.cpSync(path.join(source, '.git'), path.join(donor, '.git'), { recursive: true });
  const tip = git(project, 'rev-parse', 'HEAD');
  const replay = git(project, 'rev-list', '--first-parent', '--reverse', `--max-count=${commits}`, tip).split('\n');
  replay.forEach((sha, i) => git(donor, 'update-ref', `refs/replay/${i}`, sha));
  git(project, 'checkout', '-q', '--detach', `${replay[0]}~1`);
  for (const ref of git(project, 'for-each-ref', '--format=%(refname)').split('\n').filter(Boolean))
    git(project, 'update-ref', '-d', ref);
  git(project, 'checkout', '-q', '-b', 'main');
  git(project, 'reflog', 'expire', '--expire=now', '--all');
  git(project, 'gc', '-q', '--prune=now');
  const day = { without: path.join(dir, 'day-without'), with: path.join(dir, 'day-with') };
  const base = { without: await snapshot(day.without, project, false), with: await snapshot(day.with, project, true) };
  const times: number[] = [];
  for (let i = 0; i < replay.length; i++) {
    git(project, 'fetch', '-q', donor, `refs/replay/${i}`);
    git(project, 'merge', '-q', '--ff-only', replay[i]);
    await snapshot(day.without, project, false);
    const taken = await snapshot(day.with, project, true);
    times.push(taken.ms);
  }
  const end = { without: storeSize(day.without), with: storeSize(day.with) };
  const growth = { without: end.without - base.without.bytes, with: end.with - base.with.bytes };
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? 0;
  console.log(
    `a day of ${replay.length} commits, a full snapshot after each: the store grew ${formatMiB(growth.without)} without .git, ${formatMiB(growth.with)} with it (+${formatMiB(growth.with - growth.without)}); median snapshot with .git ${median.toFixed(0)} ms`,
  );
  fs.writeFileSync(
    path.join(dir, 'git-cost.json'),
    JSON.stringify(
      {
        source,
        workingFiles,
        gitBytes: size?.bytes ?? 0,
        gitFiles: size?.files ?? 0,
        first,
        day: { commits: replay.length, base, growth, medianSnapshotMs: median },
      },
      null,
      2,
    ),
  );
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
