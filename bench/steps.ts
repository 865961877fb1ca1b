// The measured steps that repeat or fan out per tool, kept out of run.ts: first snapshots and restores of
// everything repeated in alternating order (their time depends on the disk's state: what the previous tool
// left to write back), and the per-tool small-files step (time and peak RSS of every operation).

import * as fs from 'fs';
import { dirSize, settleDisk } from './measure';
import type { MeasureKey, MeasureValue, ToolResult } from './report';
import { alternatingOrder, median } from './stats';
import { toolLabels, type Tool, type ToolName } from './tool';
import { listFiles } from './workspace';

/** What a step needs from the run: the results, how to record a figure, and how to run a step that may fail. */
export interface StepEnv {
  results: Partial<Record<ToolName, ToolResult>>;
  record: (tool: ToolName, key: MeasureKey, value: MeasureValue) => void;
  attempt: <T>(tool: ToolName, what: string, keys: MeasureKey[], fn: () => Promise<T>) => Promise<T | undefined>;
  failures: string[];
  log: (line: string) => void;
}

/**
 * `pairs` repetitions, the tools' order alternating, each into a fresh store (made by `throwaway`, removed
 * after); the last repetition uses the run's own tools, whose stores the rest of the run goes on with.
 * Records the median and every sample; the table's ratios are then taken pair by pair.
 */
export async function fairFirstSnapshots(
  env: StepEnv,
  tools: Map<ToolName, Tool>,
  pairs: number,
  throwaway: (name: ToolName, rep: number) => Tool,
): Promise<void> {
  const { results, record, attempt, log } = env;
  // First snapshots depend on the disk's state (what the previous tool left to write back): `pairs`
  // repetitions, the tools' order alternating, each into a fresh store; the last repetition's store is
  // the one the run goes on with. The table gives medians and the ratios pair by pair.
  const firstRuns = new Map<ToolName, { ms: number[]; rss: number[] }>();
  const firstFailed = new Set<ToolName>();
  for (let rep = 0; rep < pairs; rep++) {
    const last = rep === pairs - 1;
    for (const name of alternatingOrder([...tools.keys()], rep)) {
      if (firstFailed.has(name)) continue;
      const tool = last ? tools.get(name)! : throwaway(name, rep);
      const keys: MeasureKey[] = ['firstSnapshotMs', 'firstSnapshotPeakRssBytes'];
      if (!last && !(await attempt(name, `init (first snapshot #${rep + 1})`, keys, () => tool.init()))) {
        firstFailed.add(name);
        continue;
      }
      log(`${toolLabels[name]}: first snapshot (#${rep + 1} of ${pairs})`);
      settleDisk();
      const t = await attempt(name, `first snapshot #${rep + 1}`, keys, () => tool.snapshot({ measureRss: true }));
      if (!last)
        for (const d of [...tool.storeDirs(), ...tool.cacheDirs()]) fs.rmSync(d, { recursive: true, force: true });
      if (!t) {
        firstFailed.add(name);
        continue;
      }
      const runs = firstRuns.get(name) ?? { ms: [], rss: [] };
      runs.ms.push(t.ms);
      if (t.peakRssBytes !== undefined) runs.rss.push(t.peakRssBytes);
      firstRuns.set(name, runs);
      if (last) {
        results[name]!.details.storeBytesAfterFirst = tool.storeDirs().reduce((sum, d) => sum + dirSize(d), 0);
        if (t.detail) results[name]!.details.firstSnapshotOutput = t.detail;
      }
      log(`${toolLabels[name]}: first snapshot ${(t.ms / 1000).toFixed(2)} s`);
    }
  }
  for (const [name, runs] of firstRuns) {
    if (firstFailed.has(name)) continue;
    record(name, 'firstSnapshotMs', { value: median(runs.ms), samples: runs.ms });
    record(
      name,
      'firstSnapshotPeakRssBytes',
      runs.rss.length === runs.ms.length
        ? { value: median(runs.rss), samples: runs.rss }
        : { skipped: 'RSS not measurable' },
    );
  }
}

/** Restores of everything: `pairs` repetitions in alternating order, each into a fresh folder, checked, then removed. */
export async function fairRestoreAll(
  env: StepEnv,
  tools: Map<ToolName, Tool>,
  pairs: number,
  targetOf: (name: ToolName, rep: number) => string,
  check: (root: string) => string | undefined,
): Promise<void> {
  const { failures, record, attempt, log } = env;
  // Restores depend on the disk's state too: `pairs` repetitions in alternating order, each into a fresh folder.
  const restoreRuns = new Map<ToolName, { ms: number[]; rss: number[] }>();
  const restoreFailed = new Set<ToolName>();
  for (let rep = 0; rep < pairs; rep++) {
    for (const name of alternatingOrder([...tools.keys()], rep)) {
      if (restoreFailed.has(name)) continue;
      const tool = tools.get(name)!;
      const target = targetOf(name, rep);
      log(`${toolLabels[name]}: restore all (#${rep + 1} of ${pairs})`);
      settleDisk();
      const t = await attempt(name, `restore all #${rep + 1}`, ['restoreAllMs', 'restoreAllPeakRssBytes'], () =>
        tool.restoreAll(target, { measureRss: true }),
      );
      const problem = t ? check(t.root) : undefined;
      fs.rmSync(target, { recursive: true, force: true });
      if (!t) {
        restoreFailed.add(name);
        continue;
      }
      if (problem) {
        const text = `restore all produced a wrong tree at ${t.root}: ${problem}`;
        failures.push(`${toolLabels[name]}: ${text}`);
        log(`${toolLabels[name]}: ${text}`);
        record(name, 'restoreAllMs', { error: text });
        restoreFailed.add(name);
        continue;
      }
      const runs = restoreRuns.get(name) ?? { ms: [], rss: [] };
      runs.ms.push(t.ms);
      if (t.peakRssBytes !== undefined) runs.rss.push(t.peakRssBytes);
      restoreRuns.set(name, runs);
    }
  }
  for (const [name, runs] of restoreRuns) {
    if (restoreFailed.has(name)) continue;
    record(name, 'restoreAllMs', { value: median(runs.ms), samples: runs.ms });
    record(
      name,
      'restoreAllPeakRssBytes',
      runs.rss.length === runs.ms.length
        ? { value: median(runs.rss), samples: runs.rss }
        : { skipped: 'RSS not measurable' },
    );
  }
}

const rssValue = (t: { peakRssBytes?: number }): MeasureValue =>
  t.peakRssBytes !== undefined ? { value: t.peakRssBytes } : { skipped: 'RSS not measurable' };

/** One tool's small-files step: first snapshot, no change, restore all (file count checked), verify. */
export async function smallFilesStep(
  env: StepEnv,
  name: ToolName,
  tool: Tool,
  p: { smallFiles: number; smallCount: number; target: string },
): Promise<void> {
  const { results, record, attempt, failures, log } = env;
  const { smallFiles, smallCount, target } = p;
  const phaseBKeys: MeasureKey[] = [
    'firstSmallMs',
    'noChangeSmallMs',
    'restoreSmallMs',
    'verifySmallMs',
    'peakRssSmallFirstBytes',
    'peakRssSmallNoChangeBytes',
    'peakRssSmallRestoreBytes',
    'peakRssSmallVerifyBytes',
  ];
  const init = await attempt(name, `init (${smallFiles} files)`, phaseBKeys, () => tool.init());
  if (!init) return;
  log(`${toolLabels[name]}: first snapshot of ${smallFiles} files`);
  settleDisk();
  const first = await attempt(
    name,
    `first snapshot (${smallFiles} files)`,
    ['firstSmallMs', 'peakRssSmallFirstBytes'],
    () => tool.snapshot({ measureRss: true }),
  );
  if (first) {
    record(name, 'firstSmallMs', { value: first.ms });
    record(name, 'peakRssSmallFirstBytes', rssValue(first));
    if (first.detail) results[name]!.details.firstSmallOutput = first.detail;
  }
  log(`${toolLabels[name]}: no-change snapshot of ${smallFiles} files`);
  settleDisk();
  const again = await attempt(
    name,
    `no-change snapshot (${smallFiles} files)`,
    ['noChangeSmallMs', 'peakRssSmallNoChangeBytes'],
    () => tool.snapshot({ measureRss: true }),
  );
  if (again) {
    record(name, 'noChangeSmallMs', { value: again.ms });
    record(name, 'peakRssSmallNoChangeBytes', rssValue(again));
    if (again.detail) results[name]!.details.noChangeSmallOutput = again.detail;
  }
  results[name]!.details.storeBytesSmall = tool.storeDirs().reduce((s, d) => s + dirSize(d), 0);
  log(`${toolLabels[name]}: restore all of ${smallFiles} files`);
  settleDisk();
  const restored = first
    ? await attempt(name, `restore all (${smallFiles} files)`, ['restoreSmallMs', 'peakRssSmallRestoreBytes'], () =>
        tool.restoreAll(target, { measureRss: true }),
      )
    : undefined;
  if (restored) {
    // Counted, not compared byte by byte: the mixed step checks contents; here a short restore must not pass.
    const count = fs.existsSync(restored.root) ? listFiles(restored.root).length : 0;
    if (count !== smallCount) {
      const text = `restore all (${smallFiles} files) produced ${count} files, the workspace has ${smallCount}`;
      failures.push(`${toolLabels[name]}: ${text}`);
      log(`${toolLabels[name]}: ${text}`);
      record(name, 'restoreSmallMs', { error: text });
      record(name, 'peakRssSmallRestoreBytes', { error: text });
    } else {
      record(name, 'restoreSmallMs', { value: restored.ms });
      record(name, 'peakRssSmallRestoreBytes', rssValue(restored));
    }
  } else if (!first) {
    for (const key of ['restoreSmallMs', 'peakRssSmallRestoreBytes'] as const)
      record(name, key, { error: 'not measured: the first snapshot of this tool failed' });
  }
  fs.rmSync(target, { recursive: true, force: true });
  if (!tool.verify) {
    for (const key of ['verifySmallMs', 'peakRssSmallVerifyBytes'] as const) record(name, key, { skipped: 'n/a' });
  } else {
    log(`${toolLabels[name]}: verify of ${smallFiles} files`);
    settleDisk();
    const checked = await attempt(
      name,
      `verify (${smallFiles} files)`,
      ['verifySmallMs', 'peakRssSmallVerifyBytes'],
      () => tool.verify!({ measureRss: true }),
    );
    if (checked) {
      record(name, 'verifySmallMs', { value: checked.ms });
      record(name, 'peakRssSmallVerifyBytes', rssValue(checked));
    }
  }
}
