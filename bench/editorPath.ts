// The editor's own path, in process, as the extension runs it (src/vscode/backupService.ts, scheduler.ts,
// restoreFlow.ts), driven here through src/core with no vscode: one long-lived Repository and Snapshotter
// per folder; on-save through the SaveQueue (content captured at the save, an incremental snapshot of the
// saved path); a scheduled full snapshot under the store's schedule claim; the start-up scan (a fresh open,
// the folder's history read, a full scan); restores with the preview first, then the writes. Each next to a
// git shadow repository driven the way checkpoint extensions drive it (spawned `git add -A` + `git commit`
// with a separate GIT_DIR and work tree; restore with `git checkout <commit> -- path` or the whole tree).
// Steps whose time depends on the disk's state alternate the two (ABAB...) and the ratio is taken pair by pair.
// Every in-process operation also reports its longest event-loop block (loopBlock.ts).

import * as fs from 'fs';
import * as path from 'path';
import { verifyRepository } from '../src/core/check/verify';
import { exportArchive } from '../src/core/export/archive';
import { workspaceSnapshots } from '../src/core/query/lineage';
import { findPaths, grepContent } from '../src/core/query/search';
import { Repository } from '../src/core/repository/repository';
import type { SnapshotRecord } from '../src/core/repository/snapshotRecord';
import { applyRestore, planRestore } from '../src/core/restore/restoreJob';
import { prune } from '../src/core/retention/prune';
import { SaveQueue } from '../src/core/snapshot/saveQueue';
import { Snapshotter } from '../src/core/snapshot/snapshotter';
import { workspaceIdFor } from '../src/core/workspace/workspace';
import { Lock } from '../src/core/storage/lock';
import { nodeFs } from '../src/core/storage/fsPort';
import { withLoopMonitor, type Blocked } from './loopBlock';
import { percentile, settleDisk } from './measure';
import { GitTool } from './peers';
import { alternatingOrder, median, pairedRatio, type PairedRatio } from './stats';
import type { WorkspaceEditor } from './workspace';

/** The extension's defaults (package.json contributes): .gitignore not applied, 50 MB file limit, .git included. */
const EXTENSION_DEFAULTS = { gitignore: false, maxFileSize: 50 * 1024 * 1024, includeGit: true, git: true };

export interface CompareRow {
  key: 'first' | 'noChange' | 'edit' | 'startup' | 'restoreOne' | 'restoreAll';
  label: string;
  ours: number[];
  git: number[];
  oursMedianMs: number;
  gitMedianMs: number;
  ratio?: PairedRatio;
  /** Longest event-loop block over every repetition of ours. */
  maxBlockMs: number;
}

export interface BlockRow {
  op: string;
  ms: number;
  maxBlockMs: number;
  blocksOver20: number;
  detail?: string;
}

export interface EditorPathFigures {
  rows: CompareRow[];
  onSave: {
    saves: number;
    ours: { p50: number; p99: number; max: number; maxBlockMs: number };
    git: { p50: number; p99: number; max: number };
  };
  blocks: BlockRow[];
}

export interface EditorPathParams {
  ws: string;
  /** A folder for this section's stores, restores and archives; created here. */
  dir: string;
  editor: WorkspaceEditor;
  restoreOneFile: string;
  saves: number;
  /** Repetitions of the fair (alternating) steps. */
  pairs: number;
  log: (line: string) => void;
}

/** What the timer sees with no work at all: on a loaded machine the process also waits for a CPU, and that counts as a gap too. */
export const IDLE_OP = 'idle: the timer alone for 2 s (machine baseline, no target)';

async function idleBaseline(): Promise<BlockRow> {
  const b = await withLoopMonitor(() => new Promise<void>((resolve) => setTimeout(resolve, 2000)));
  return { op: IDLE_OP, ms: b.ms, maxBlockMs: b.maxBlockMs, blocksOver20: b.blocksOver20 };
}

/** The editor's snapshotter for one folder, as BackupService.snapshotter builds it. */
function folderSnapshotter(repo: Repository, ws: string): Snapshotter {
  return new Snapshotter(repo, { workspace: ws, ...EXTENSION_DEFAULTS });
}

/** Scheduler.run: the store's schedule claim, then the full snapshot, then the claim released. */
async function scheduledSnapshot(repo: Repository, snapshotter: Snapshotter, ws: string): Promise<void> {
  const claim = await Lock.tryClaim(
    repo.backend,
    `schedule-${workspaceIdFor(fs.realpathSync(ws))}`,
    `the scheduled snapshot of ${ws}`,
  );
  if (!claim) throw new Error('the schedule claim was refused: another process holds it');
  try {
    await snapshotter.snapshot({ trigger: 'schedule' });
  } finally {
    await claim.release();
  }
}

/** Scheduler.startupScan after a window opens: a fresh store object, the folder's history read, a full scan. */
async function startupScan(store: string, ws: string): Promise<void> {
  const repo = await Repository.open(store, { create: true });
  try {
    const snapshots = await workspaceSnapshots(repo, workspaceIdFor(fs.realpathSync(ws)));
    if (snapshots.length === 0) throw new Error('the start-up scan found no history for the workspace');
    await folderSnapshotter(repo, ws).snapshot({ trigger: 'startup' });
  } finally {
    await repo.close();
  }
}

/** The editor's restore into a folder outside the workspace: the plan (its preview), then that plan applied. */
async function restoreAsEditor(
  repo: Repository,
  snapshot: SnapshotRecord,
  target: string,
  paths: string[],
): Promise<void> {
  // As the extension does since #13: the preview is the plan, applied once confirmed.
  const plan = await planRestore(repo, snapshot, { target, paths, onChange: () => undefined });
  const result = await applyRestore(plan);
  if (result.problems.length)
    throw new Error(
      `restore reported ${result.problems.length} problem(s), first: ${result.problems[0].path}: ${result.problems[0].reason}`,
    );
}

function checkSame(a: string, b: string): void {
  if (!fs.readFileSync(a).equals(fs.readFileSync(b))) throw new Error(`${a} differs from ${b}`);
}

export async function runEditorPath(p: EditorPathParams): Promise<EditorPathFigures> {
  const store = path.join(p.dir, 'store-ours');
  const scratch = path.join(p.dir, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const git = new GitTool({ ws: p.ws, store: path.join(p.dir, 'store-git'), scratch });
  await git.init();
  const repo = await Repository.open(store, { create: true });
  const snapshotter = folderSnapshotter(repo, p.ws);
  const rows: CompareRow[] = [];
  const blocks: BlockRow[] = [await idleBaseline()];
  const block = (op: string, b: Blocked<unknown>, detail?: string): void => {
    blocks.push({ op, ms: b.ms, maxBlockMs: b.maxBlockMs, blocksOver20: b.blocksOver20, detail });
  };

  /** Runs `reps` pairs, alternating which tool goes first; `before` prepares the state both then see. */
  const compare = async (
    key: CompareRow['key'],
    label: string,
    reps: number,
    ours: (rep: number) => Promise<void>,
    theirs: (rep: number) => Promise<number>,
    before?: (rep: number) => void | Promise<void>,
  ): Promise<CompareRow> => {
    const o: number[] = [];
    const g: number[] = [];
    let maxBlock = 0;
    for (let rep = 0; rep < reps; rep++) {
      await before?.(rep);
      for (const tool of alternatingOrder(['ours', 'git'] as const, rep)) {
        settleDisk();
        if (tool === 'ours') {
          const b = await withLoopMonitor(() => ours(rep));
          o.push(b.ms);
          maxBlock = Math.max(maxBlock, b.maxBlockMs);
          block(`${label} (#${rep + 1})`, b);
        } else {
          g.push(await theirs(rep));
        }
      }
    }
    const row: CompareRow = {
      key,
      label,
      ours: o,
      git: g,
      oursMedianMs: median(o),
      gitMedianMs: median(g),
      ratio: pairedRatio(o, g),
      maxBlockMs: maxBlock,
    };
    rows.push(row);
    p.log(
      `editor path: ${label}: ours ${row.oursMedianMs.toFixed(1)} ms, git ${row.gitMedianMs.toFixed(1)} ms (medians of ${reps})`,
    );
    return row;
  };

  // The first full snapshot (the catch-up of a folder never backed up) depends on the disk's state too:
  // `pairs` repetitions in alternating order, the earlier ones into throwaway stores (opened before the
  // timing, as the editor opens its store before it snapshots), the last into the stores used from then on.
  let spare: { repo: Repository; git: GitTool; dir: string } | undefined;
  const lastRep = p.pairs - 1;
  await compare(
    'first',
    'first full snapshot',
    p.pairs,
    async (rep) => {
      await (rep === lastRep ? snapshotter : folderSnapshotter(spare!.repo, p.ws)).snapshot({ trigger: 'manual' });
    },
    async (rep) => (await (rep === lastRep ? git : spare!.git).snapshot({ measureRss: false })).ms,
    async (rep) => {
      if (spare) {
        await spare.repo.close();
        fs.rmSync(spare.dir, { recursive: true, force: true });
        spare = undefined;
      }
      if (rep === lastRep) return;
      const dir = path.join(p.dir, `first-${rep}`);
      spare = {
        dir,
        repo: await Repository.open(path.join(dir, 'ours'), { create: true }),
        git: new GitTool({ ws: p.ws, store: path.join(dir, 'git'), scratch }),
      };
      await spare.git.init();
    },
  );
  await compare(
    'noChange',
    'full snapshot, nothing changed (scheduled)',
    Math.max(3, p.pairs),
    () => scheduledSnapshot(repo, snapshotter, p.ws),
    async () => (await git.snapshot({ measureRss: false })).ms,
  );
  await compare(
    'edit',
    'full snapshot after 1% edits',
    p.pairs,
    () => scheduledSnapshot(repo, snapshotter, p.ws),
    async () => (await git.snapshot({ measureRss: false })).ms,
    (rep) => {
      const e = p.editor.editRound(1000 + rep);
      p.log(`editor path: edit round ${rep + 1}: ${e.modified} modified, ${e.added} added, ${e.deleted} deleted`);
    },
  );
  // git has no start-up step of its own: a checkpoint extension's start-up is its add -A + commit.
  await compare(
    'startup',
    'start-up scan (open, history, full scan)',
    p.pairs,
    () => startupScan(store, p.ws),
    async () => (await git.snapshot({ measureRss: false })).ms,
  );

  // On-save: the same saved file goes to both, alternating which goes first.
  p.log(`editor path: ${p.saves} saves through the SaveQueue (ours) and git add + commit`);
  const queue = new SaveQueue(p.ws, {
    port: nodeFs,
    snapshot: (batch) => snapshotter.snapshot({ ...batch }),
    log: () => undefined,
    debounceMs: () => 0,
  });
  const gitSaver = await git.openSaver();
  const saveMs = { ours: [] as number[], git: [] as number[] };
  let saveBlock = 0;
  for (let i = 0; i < p.saves; i++) {
    const rel = p.editor.saveEdit(i);
    for (const tool of alternatingOrder(['ours', 'git'] as const, i)) {
      if (tool === 'ours') {
        const b = await withLoopMonitor(async () => {
          queue.add(rel, path.join(p.ws, rel), 'save');
          await queue.flush();
        });
        saveMs.ours.push(b.ms);
        saveBlock = Math.max(saveBlock, b.maxBlockMs);
      } else {
        saveMs.git.push(await gitSaver.save(rel));
      }
    }
  }
  queue.dispose();
  const stat = (v: number[]) => ({ p50: percentile(v, 50), p99: percentile(v, 99), max: Math.max(...v) });
  const onSave = { saves: p.saves, ours: { ...stat(saveMs.ours), maxBlockMs: saveBlock }, git: stat(saveMs.git) };
  blocks.push({
    op: `on-save snapshot (worst of ${p.saves})`,
    ms: onSave.ours.max,
    maxBlockMs: saveBlock,
    blocksOver20: 0,
  });
  p.log(
    `editor path: on-save p50/p99 ours ${onSave.ours.p50.toFixed(1)}/${onSave.ours.p99.toFixed(1)} ms, git ${onSave.git.p50.toFixed(1)}/${onSave.git.p99.toFixed(1)} ms`,
  );

  // Both stores now hold the same final state: a full snapshot each, then restores of it.
  await scheduledSnapshot(repo, snapshotter, p.ws);
  await git.snapshot({ measureRss: false });
  const latest = (await workspaceSnapshots(repo, workspaceIdFor(fs.realpathSync(p.ws)))).at(-1)!;
  const restoreDir = path.join(p.dir, 'restore');
  const target = (tool: string, what: string, rep: number) => path.join(restoreDir, `${tool}-${what}-${rep}`);
  await compare(
    'restoreOne',
    'restore one file (preview + write)',
    Math.max(3, p.pairs),
    async (rep) => restoreAsEditor(repo, latest, target('ours', 'one', rep), [p.restoreOneFile]),
    async (rep) => {
      const t = await git.checkoutOne(p.restoreOneFile, target('git', 'one', rep));
      checkSame(t.file, path.join(p.ws, p.restoreOneFile));
      return t.ms;
    },
  );
  checkSame(path.join(target('ours', 'one', 0), p.restoreOneFile), path.join(p.ws, p.restoreOneFile));
  await compare(
    'restoreAll',
    'restore everything (preview + write)',
    p.pairs,
    async (rep) => restoreAsEditor(repo, latest, target('ours', 'all', rep), []),
    async (rep) => (await git.restoreAll(target('git', 'all', rep))).ms,
  );
  checkSame(path.join(target('ours', 'all', 0), p.restoreOneFile), path.join(p.ws, p.restoreOneFile));
  fs.rmSync(restoreDir, { recursive: true, force: true });

  blocks.push(...(await maintenanceBlocks(repo, latest, scratch, p.log)));
  await repo.close();
  return { rows, onSave, blocks };
}

/** Verify, prune, search (paths and content) and export, ours only: time and longest event-loop block. */
export async function maintenanceBlocks(
  repo: Repository,
  latest: SnapshotRecord,
  scratch: string,
  log: (line: string) => void,
): Promise<BlockRow[]> {
  const out: BlockRow[] = [];
  const run = async (op: string, work: () => Promise<string | undefined>): Promise<void> => {
    settleDisk();
    log(`in process: ${op}`);
    const b = await withLoopMonitor(work);
    out.push({ op, ms: b.ms, maxBlockMs: b.maxBlockMs, blocksOver20: b.blocksOver20, detail: b.value });
  };
  const all = await repo.listSnapshots();
  await run('verify', async () => {
    const r = await verifyRepository(repo);
    return JSON.stringify(r).slice(0, 200);
  });
  await run(
    `search paths (*.json, ${all.length} snapshots)`,
    async () => `${(await findPaths(repo, all, '**/*.json')).length} matches`,
  );
  await run(`search content (no match: every content read, ${all.length} snapshots)`, async () => {
    const r = await grepContent(repo, all, 'zq-bench-no-such-text');
    return `${r.contentsRead} contents read`;
  });
  const archive = path.join(scratch, `export-${Date.now()}.tar.gz`);
  await run('export (tar.gz of the latest snapshot)', async () => {
    const r = await exportArchive(repo, { snapshot: latest, file: archive });
    return `${fs.statSync(archive).size} bytes (${Object.keys(r).join(',')})`;
  });
  fs.rmSync(archive, { force: true });
  await run('prune (nothing forgotten: mark, repack small packs)', async () => JSON.stringify(await prune(repo)));
  return out;
}

/**
 * The same blocks at the 200,000-file step (no git beside it): first full snapshot, no change, the start-up
 * scan, restore everything, then verify, prune, search and export.
 */
export async function blocksAtScale(ws: string, dir: string, log: (line: string) => void): Promise<BlockRow[]> {
  const store = path.join(dir, 'store');
  const scratch = path.join(dir, 'scratch');
  fs.mkdirSync(scratch, { recursive: true });
  const repo = await Repository.open(store, { create: true });
  const snapshotter = folderSnapshotter(repo, ws);
  const out: BlockRow[] = [await idleBaseline()];
  const step = async (op: string, work: () => Promise<unknown>): Promise<void> => {
    settleDisk();
    log(`in process at scale: ${op}`);
    const b = await withLoopMonitor(work);
    out.push({ op, ms: b.ms, maxBlockMs: b.maxBlockMs, blocksOver20: b.blocksOver20 });
  };
  try {
    await step('first full snapshot', () => snapshotter.snapshot({ trigger: 'manual' }));
    await step('full snapshot, nothing changed', () => scheduledSnapshot(repo, snapshotter, ws));
    await step('start-up scan', () => startupScan(store, ws));
    const latest = (await workspaceSnapshots(repo, workspaceIdFor(fs.realpathSync(ws)))).at(-1)!;
    const target = path.join(dir, 'restore');
    await step('restore everything (preview + write)', () => restoreAsEditor(repo, latest, target, []));
    fs.rmSync(target, { recursive: true, force: true });
    out.push(...(await maintenanceBlocks(repo, latest, scratch, log)));
  } finally {
    await repo.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
