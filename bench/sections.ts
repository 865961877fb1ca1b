// The sections of the report beyond the CLI table: the editor's path in process against a git shadow
// repository, the longest event-loop block per operation, CLI cost against the number of snapshots, the
// replay of real commits, activation; and every target of #16 with MET or MISS and the measured figure.

import { IDLE_OP, type BlockRow, type EditorPathFigures } from './editorPath';
import { formatValue, markdownTable, type TargetResult } from './report';
import type { ReplayFigures } from './replay';
import { replayLabels, type ReplayTool } from './replay';
import type { ScalePoint } from './storeScale';
import { formatRatio } from './stats';

/** The longest event-loop block an operation may hold the extension host for (#16). */
export const BLOCK_TARGET_MS = 20;
/** "Does not grow with the number of snapshots": the largest store's no-change run within this of the smallest's. */
export const SCALE_TOLERANCE = 1.25;

export interface Verdict {
  section: string;
  what: string;
  target: string;
  measured: string;
  verdict: 'MET' | 'MISS' | 'n/a';
}

const ms = (v: number): string => formatValue(v, 'ms');
const bytes = (v: number): string => formatValue(v, 'bytes');

export function cliVerdicts(results: TargetResult[], labels: Map<string, string>): Verdict[] {
  return results.map((r) => ({
    section: 'CLI',
    what: labels.get(r.key) ?? r.key,
    target: r.target,
    measured: r.measured ?? r.why ?? '-',
    verdict: r.verdict,
  }));
}

export function renderEditorPath(f: EditorPathFigures, verdicts: Verdict[]): string {
  const rows = f.rows.map((r) => [
    r.label,
    `${ms(r.oursMedianMs)}${r.ours.length > 1 ? ` (med of ${r.ours.length})` : ''}`,
    `${ms(r.gitMedianMs)}${r.git.length > 1 ? ` (med of ${r.git.length})` : ''}`,
    formatRatio(r.ratio),
    ms(r.maxBlockMs),
  ]);
  rows.push([
    `on-save snapshot p50 / p99 (${f.onSave.saves} saves)`,
    `${ms(f.onSave.ours.p50)} / ${ms(f.onSave.ours.p99)}`,
    `${ms(f.onSave.git.p50)} / ${ms(f.onSave.git.p99)}`,
    `${(f.onSave.ours.p50 / f.onSave.git.p50).toFixed(2)}x / ${(f.onSave.ours.p99 / f.onSave.git.p99).toFixed(2)}x`,
    ms(f.onSave.ours.maxBlockMs),
  ]);
  const target = (key: string, factor: number, text: string) => {
    const r = f.rows.find((x) => x.key === key);
    verdicts.push({
      section: 'editor path',
      what: r?.label ?? key,
      target: text,
      measured: r?.ratio ? `${formatRatio(r.ratio)} git` : 'not measured',
      verdict: r?.ratio ? (r.ratio.median <= factor ? 'MET' : 'MISS') : 'n/a',
    });
  };
  target('noChange', 0.5, '<= 0.5x git add -A + commit');
  target('edit', 0.5, '<= 0.5x git add -A + commit');
  verdicts.push({
    section: 'editor path',
    what: 'on-save snapshot p99',
    target: '< 15 ms',
    measured: ms(f.onSave.ours.p99),
    verdict: f.onSave.ours.p99 < 15 ? 'MET' : 'MISS',
  });
  return markdownTable(
    ['editor path, in process', 'ours', 'git shadow repo', 'ours/git (per pair)', 'ours: longest loop block'],
    rows,
  );
}

export function renderBlocks(title: string, blocks: BlockRow[], verdicts: Verdict[], section: string): string {
  // Repetitions of one step are folded into one line: the worst block and the median time are what matter.
  const folded = new Map<string, { ms: number[]; max: number; over: number }>();
  for (const b of blocks) {
    const op = b.op.replace(/ \(#\d+\)$/, '');
    const f = folded.get(op) ?? { ms: [], max: 0, over: 0 };
    f.ms.push(b.ms);
    f.max = Math.max(f.max, b.maxBlockMs);
    f.over += b.blocksOver20;
    folded.set(op, f);
  }
  const rows = [...folded].map(([op, f]) => {
    const verdict = f.max < BLOCK_TARGET_MS ? 'MET' : 'MISS';
    if (op === IDLE_OP) return [op, ms(f.ms[0]), ms(f.max), String(f.over), '-'];
    verdicts.push({
      section,
      what: `longest event-loop block: ${op}`,
      target: `< ${BLOCK_TARGET_MS} ms`,
      measured: ms(f.max),
      verdict,
    });
    const time =
      f.ms.length > 1 ? `${ms(Math.min(...f.ms))}-${ms(Math.max(...f.ms))} (${f.ms.length} runs)` : ms(f.ms[0]);
    return [op, time, ms(f.max), String(f.over), verdict];
  });
  return markdownTable(
    [title, 'time', 'longest block', `blocks > ${BLOCK_TARGET_MS} ms`, `< ${BLOCK_TARGET_MS} ms`],
    rows,
  );
}

export function renderScale(points: ScalePoint[], verdicts: Verdict[]): string {
  const first = points[0];
  const rows = points.map((p) => [
    p.snapshots.toLocaleString('en-US'),
    ms(p.noChangeMs),
    p.samples.map((s) => s.toFixed(0)).join(', '),
    first ? `${(p.noChangeMs / first.noChangeMs).toFixed(2)}x` : '-',
    String(p.storeFiles),
  ]);
  const last = points[points.length - 1];
  if (first && last && last !== first) {
    const r = last.noChangeMs / first.noChangeMs;
    verdicts.push({
      section: 'CLI vs store size',
      what: `no-change CLI snapshot at ${last.snapshots.toLocaleString('en-US')} snapshots vs ${first.snapshots}`,
      target: `does not grow (<= ${SCALE_TOLERANCE}x)`,
      measured: `${r.toFixed(2)}x`,
      verdict: r <= SCALE_TOLERANCE ? 'MET' : 'MISS',
    });
  }
  return markdownTable(
    [
      'snapshots in the store',
      'no-change CLI snapshot (median)',
      'runs (ms)',
      `vs ${first?.snapshots ?? '-'}`,
      'files in the store',
    ],
    rows,
  );
}

export function renderReplay(f: ReplayFigures): string {
  const tools: ReplayTool[] = ['oursCli', 'oursInProcess', 'git'];
  const ratio = (t: ReplayTool) =>
    t === 'oursCli'
      ? formatRatio(f.ratios.oursCliToGit)
      : t === 'oursInProcess'
        ? formatRatio(f.ratios.oursInProcessToGit)
        : '1x';
  const rows = tools.map((t) => {
    const x = f.tools[t];
    const growth =
      t === 'git' ? `${bytes(x.growthBytes)} (${bytes(f.gitGrowthAfterGcBytes)} after gc)` : bytes(x.growthBytes);
    return [replayLabels[t], ms(x.totalMs), ms(x.medianMs), ratio(t), growth];
  });
  return markdownTable(
    [
      `replay of ${f.commits} commits (${f.files.first}-${f.files.last} files)`,
      'total',
      'per commit (median)',
      'vs git (per commit)',
      'store growth',
    ],
    rows,
  );
}

export function renderVerdicts(verdicts: Verdict[]): string {
  return markdownTable(
    ['section', 'target', 'measured', 'verdict'],
    verdicts.map((v) => [v.section, `${v.what}: ${v.target}`, v.measured, v.verdict]),
  );
}
