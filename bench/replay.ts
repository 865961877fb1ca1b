// Real edits: the last N commits of a real repository (this project's own history) replayed into a bench
// workspace one commit at a time (`git read-tree --reset -u` with a private index: files changed, added and
// deleted exactly as between the two commits), a snapshot after each by ours through the CLI, ours in
// process (the editor's scheduled full snapshot) and a git shadow repository (add -A + commit). Reports the
// total, the per-commit median and how much each store grew over the replay.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Repository } from '../src/core/repository/repository';
import { Snapshotter } from '../src/core/snapshot/snapshotter';
import { dirSize, runCommand, settleDisk } from './measure';
import { GitTool } from './peers';
import { alternatingOrder, median, pairedRatio, type PairedRatio } from './stats';

export type ReplayTool = 'oursCli' | 'oursInProcess' | 'git';
export const replayLabels: Record<ReplayTool, string> = {
  oursCli: 'ours (CLI)',
  oursInProcess: 'ours (in process)',
  git: 'git shadow repo',
};

export interface ReplayFigures {
  source: string;
  commits: number;
  files: { first: number; last: number };
  tools: Record<
    ReplayTool,
    { ms: number[]; totalMs: number; medianMs: number; growthBytes: number; storeBytes: number }
  >;
  /** git's store after `git gc` at the end (its growth counted again from its size after the first commit). */
  gitGrowthAfterGcBytes: number;
  ratios: { oursCliToGit?: PairedRatio; oursInProcessToGit?: PairedRatio };
}

function git(args: string[], env?: NodeJS.ProcessEnv): string {
  const r = spawnSync('git', args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Why the replay cannot run here (not a git checkout, too short a history), or undefined when it can. */
export function replayUnavailable(repoRoot: string, commits: number): string | undefined {
  const inside = spawnSync('git', ['-C', repoRoot, 'rev-parse', '--is-inside-work-tree'], { encoding: 'utf8' });
  if (inside.status !== 0 || inside.stdout.trim() !== 'true')
    return `${repoRoot} is not a git checkout: no history to replay`;
  const count = Number(
    spawnSync('git', ['-C', repoRoot, 'rev-list', '--count', '--first-parent', 'HEAD'], {
      encoding: 'utf8',
    }).stdout.trim(),
  );
  if (!(count >= 2)) return `${repoRoot} has ${count} commit(s): too short a history to replay`;
  void commits; // a shorter history than asked is replayed whole
  return undefined;
}

export async function runReplay(p: {
  repoRoot: string;
  dir: string;
  cliPath: string;
  commits: number;
  log: (line: string) => void;
}): Promise<ReplayFigures> {
  fs.rmSync(p.dir, { recursive: true, force: true });
  const ws = path.join(p.dir, 'ws');
  const scratch = path.join(p.dir, 'scratch');
  fs.mkdirSync(ws, { recursive: true });
  fs.mkdirSync(scratch, { recursive: true });
  const shas = git([
    '-C',
    p.repoRoot,
    'rev-list',
    '--first-parent',
    '--reverse',
    `--max-count=${p.commits + 1}`,
    'HEAD',
  ])
    .split('\n')
    .filter(Boolean);
  // A private index tracks what the workspace holds, so each step writes only what differs between commits.
  const env = { ...process.env, GIT_INDEX_FILE: path.join(scratch, 'replay.index') };
  const checkout = (sha: string) =>
    git(['-C', p.repoRoot, `--work-tree=${ws}`, 'read-tree', '--reset', '-u', sha], env);
  const count = (sha: string) =>
    git(['-C', p.repoRoot, 'ls-tree', '-r', '--name-only', sha]).split('\n').filter(Boolean).length;

  const stores: Record<ReplayTool, string> = {
    oursCli: path.join(p.dir, 'store-cli'),
    oursInProcess: path.join(p.dir, 'store-inproc'),
    git: path.join(p.dir, 'store-git'),
  };
  const gitTool = new GitTool({ ws, store: stores.git, scratch });
  await gitTool.init();
  const repo = await Repository.open(stores.oursInProcess, { create: true });
  const snapshotter = new Snapshotter(repo, { workspace: ws, gitignore: false, maxFileSize: 50 * 1024 * 1024 });
  const snap: Record<ReplayTool, () => Promise<number>> = {
    oursCli: async () =>
      (
        await runCommand({
          cmd: process.execPath,
          args: [p.cliPath, 'snapshot', ws, '--repo', stores.oursCli, '--json'],
          cwd: ws,
        })
      ).ms,
    oursInProcess: async () => {
      const started = performance.now();
      await snapshotter.snapshot({ trigger: 'schedule' });
      return performance.now() - started;
    },
    git: async () => (await gitTool.snapshot({ measureRss: false })).ms,
  };
  const tools: ReplayTool[] = ['oursCli', 'oursInProcess', 'git'];
  const ms: Record<ReplayTool, number[]> = { oursCli: [], oursInProcess: [], git: [] };
  const base: Partial<Record<ReplayTool, number>> = {};
  const files = { first: 0, last: 0 };
  try {
    for (let i = 0; i < shas.length; i++) {
      checkout(shas[i]);
      if (i === 0) files.first = count(shas[i]);
      for (const tool of alternatingOrder(tools, i)) {
        settleDisk();
        const t = await snap[tool]();
        // The first commit is the base every store grows from; it is not one of the replayed edits.
        if (i === 0) base[tool] = dirSize(stores[tool]);
        else ms[tool].push(t);
      }
      if ((i + 1) % 10 === 0) p.log(`replay: ${i + 1}/${shas.length} commits`);
    }
    files.last = count(shas.at(-1)!);
  } finally {
    await repo.close();
  }
  const out = {} as ReplayFigures['tools'];
  for (const tool of tools) {
    const storeBytes = dirSize(stores[tool]);
    out[tool] = {
      ms: ms[tool],
      totalMs: ms[tool].reduce((a, b) => a + b, 0),
      medianMs: median(ms[tool]),
      growthBytes: storeBytes - (base[tool] ?? 0),
      storeBytes,
    };
  }
  await gitTool.compact();
  const gitGrowthAfterGcBytes = dirSize(stores.git) - (base.git ?? 0);
  const figures: ReplayFigures = {
    source: `${p.repoRoot} (${shas[0].slice(0, 10)}..${shas.at(-1)!.slice(0, 10)})`,
    commits: shas.length - 1,
    files,
    tools: out,
    gitGrowthAfterGcBytes,
    ratios: {
      oursCliToGit: pairedRatio(ms.oursCli, ms.git),
      oursInProcessToGit: pairedRatio(ms.oursInProcess, ms.git),
    },
  };
  fs.rmSync(p.dir, { recursive: true, force: true });
  return figures;
}
