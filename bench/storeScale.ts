// What one CLI run costs as the store fills up: the time of a no-change `snapshot` with 10, 1,000 and 5,000
// snapshots in the store (10 and 200 with --quick). The snapshots are made cheaply, in process: a tiny
// workspace, one byte changed per snapshot, an incremental snapshot of that one file (the on-save path),
// so the store holds many snapshots, index files and small packs, as months of saves leave it.
// Target (#16): the cost of a run does not grow with the number of snapshots.

import * as fs from 'fs';
import * as path from 'path';
import { Repository } from '../src/core/repository/repository';
import { Snapshotter } from '../src/core/snapshot/snapshotter';
import { runCommand } from './measure';
import { median } from './stats';

export interface ScalePoint {
  snapshots: number;
  /** Median of `runs` timed no-change CLI snapshots (after one untimed run). */
  noChangeMs: number;
  samples: number[];
  /** In-process time to add the snapshots that reached this count (setup, not a measure). */
  fillMs: number;
  storeFiles: number;
}

const FILES = 40;

function countFiles(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

export async function runStoreScale(p: {
  dir: string;
  cliPath: string;
  counts: number[];
  runs: number;
  log: (line: string) => void;
}): Promise<ScalePoint[]> {
  fs.rmSync(p.dir, { recursive: true, force: true });
  const ws = path.join(p.dir, 'ws');
  const store = path.join(p.dir, 'store');
  fs.mkdirSync(path.join(ws, 'src'), { recursive: true });
  for (let i = 0; i < FILES; i++)
    fs.writeFileSync(path.join(ws, 'src', `f${i}.ts`), `export const v${i} = ${i};\n`.repeat(20));
  const repo = await Repository.open(store, { create: true });
  const snapshotter = new Snapshotter(repo, { workspace: ws });
  await snapshotter.snapshot({ trigger: 'manual' });
  let made = 1;
  const points: ScalePoint[] = [];
  try {
    for (const count of [...p.counts].sort((a, b) => a - b)) {
      const started = performance.now();
      while (made < count) {
        const rel = `src/f${made % FILES}.ts`;
        // One byte appended (the file's own line count stays small: it is rewritten every FILES rounds).
        fs.appendFileSync(path.join(ws, rel), String(made % 10));
        const r = await snapshotter.snapshot({ paths: [rel], trigger: 'save' });
        if (!r.created) throw new Error(`no snapshot was made after changing ${rel}`);
        made++;
        if (made % 500 === 0) p.log(`store scale: ${made}/${count} snapshots`);
      }
      const fillMs = performance.now() - started;
      const cli = { cmd: process.execPath, args: [p.cliPath, 'snapshot', ws, '--repo', store, '--json'], cwd: ws };
      // The first run after the in-process saves takes a full snapshot of its own (its parent was incremental).
      await runCommand(cli);
      const samples: number[] = [];
      for (let i = 0; i < p.runs; i++) samples.push((await runCommand(cli)).ms);
      const point = { snapshots: count, noChangeMs: median(samples), samples, fillMs, storeFiles: countFiles(store) };
      points.push(point);
      p.log(
        `store scale: ${count} snapshots: no-change CLI snapshot ${point.noChangeMs.toFixed(1)} ms (median of ${p.runs})`,
      );
    }
  } finally {
    await repo.close();
  }
  fs.rmSync(p.dir, { recursive: true, force: true });
  return points;
}
