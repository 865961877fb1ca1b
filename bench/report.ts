// Result records, the targets Project Backup is held to, and the printed table. A cell is either a
// measured number, the failure that prevented it, or the reason it does not apply: never an estimate.

import type { ToolName } from './tool';
import { toolLabels } from './tool';

export type MeasureKey =
  | 'firstSnapshotMs'
  | 'noChangeMs'
  | 'editRoundsMs'
  | 'bigEditMs'
  | 'bigEditGrowthBytes'
  | 'restoreAllMs'
  | 'restoreOneMs'
  | 'storeBytesAfterEdits'
  | 'firstSnapshotPeakRssBytes'
  | 'onSaveP50Ms'
  | 'onSaveP99Ms'
  | 'firstSmallMs'
  | 'noChangeSmallMs'
  | 'restoreSmallMs'
  | 'verifySmallMs'
  | 'peakRssSmallFirstBytes'
  | 'peakRssSmallNoChangeBytes'
  | 'peakRssSmallRestoreBytes'
  | 'peakRssSmallVerifyBytes';

/** Exactly one of value, error or skipped is set. */
export interface MeasureValue {
  value?: number;
  /** The failing command and its stderr (or the exception's message). */
  error?: string;
  /** Why this figure does not exist for this tool (not installed, not applicable, skipped by a flag). */
  skipped?: string;
}

export interface ToolResult {
  name: ToolName;
  label: string;
  available: boolean;
  unavailableReason?: string;
  method?: string;
  measures: Partial<Record<MeasureKey, MeasureValue>>;
  details: Record<string, unknown>;
}

export interface MeasureDef {
  key: MeasureKey;
  label: string;
  unit: 'ms' | 'bytes';
}

export function measureDefs(p: { files: number; rounds: number; bigMiB: number; smallFiles: number; saves: number }): MeasureDef[] {
  const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : `${n}`);
  return [
    { key: 'firstSnapshotMs', label: `first snapshot (${k(p.files)} files)`, unit: 'ms' },
    { key: 'noChangeMs', label: 'snapshot, nothing changed', unit: 'ms' },
    { key: 'editRoundsMs', label: `${p.rounds} rounds of 1% edits, summed`, unit: 'ms' },
    { key: 'bigEditMs', label: `4 KiB edit in ${p.bigMiB} MiB file: snapshot`, unit: 'ms' },
    { key: 'bigEditGrowthBytes', label: '4 KiB edit: store growth', unit: 'bytes' },
    { key: 'restoreAllMs', label: 'restore all', unit: 'ms' },
    { key: 'restoreOneMs', label: 'restore one file', unit: 'ms' },
    { key: 'storeBytesAfterEdits', label: 'store size after edit rounds', unit: 'bytes' },
    { key: 'firstSnapshotPeakRssBytes', label: `peak RSS, first snapshot (${k(p.files)})`, unit: 'bytes' },
    { key: 'onSaveP50Ms', label: `on-save snapshot p50 (${p.saves} saves)`, unit: 'ms' },
    { key: 'onSaveP99Ms', label: `on-save snapshot p99 (${p.saves} saves)`, unit: 'ms' },
    { key: 'firstSmallMs', label: `first snapshot (${k(p.smallFiles)} small files)`, unit: 'ms' },
    { key: 'noChangeSmallMs', label: `no-change snapshot (${k(p.smallFiles)})`, unit: 'ms' },
    { key: 'restoreSmallMs', label: `restore all (${k(p.smallFiles)})`, unit: 'ms' },
    { key: 'verifySmallMs', label: `verify / check (${k(p.smallFiles)})`, unit: 'ms' },
    { key: 'peakRssSmallFirstBytes', label: `peak RSS, first snapshot (${k(p.smallFiles)})`, unit: 'bytes' },
    { key: 'peakRssSmallNoChangeBytes', label: `peak RSS, no-change (${k(p.smallFiles)})`, unit: 'bytes' },
    { key: 'peakRssSmallRestoreBytes', label: `peak RSS, restore all (${k(p.smallFiles)})`, unit: 'bytes' },
    { key: 'peakRssSmallVerifyBytes', label: `peak RSS, verify (${k(p.smallFiles)})`, unit: 'bytes' },
  ];
}

export interface TargetDef {
  key: MeasureKey;
  text: string;
  /** Against a peer's figure (ours <= factor * peer) or an absolute bound. */
  peer?: ToolName;
  factor?: number;
  below?: number;
  /** Strict '<' for "under"; '<=' for "at most". */
  strict: boolean;
}

/** Peak resident memory every operation stays under at 200,000 files: 150 MB (10^6 bytes). */
export const PEAK_RSS_TARGET = 150_000_000;

export const targets: TargetDef[] = [
  { key: 'firstSnapshotMs', text: '<= 0.5x git', peer: 'git', factor: 0.5, strict: false },
  { key: 'noChangeMs', text: '<= git', peer: 'git', factor: 1, strict: false },
  { key: 'editRoundsMs', text: '<= 0.5x git', peer: 'git', factor: 0.5, strict: false },
  // MB here is 10^6 bytes, the stricter reading of "2 MB".
  { key: 'bigEditGrowthBytes', text: '< 2 MB', below: 2_000_000, strict: true },
  { key: 'restoreAllMs', text: '<= 0.5x restic', peer: 'restic', factor: 0.5, strict: false },
  { key: 'storeBytesAfterEdits', text: '<= git', peer: 'git', factor: 1, strict: false },
  { key: 'onSaveP99Ms', text: '< 15 ms', below: 15, strict: true },
  { key: 'noChangeSmallMs', text: '<= git', peer: 'git', factor: 1, strict: false },
  // The editor runs these inside the extension host, shared with every other extension (#11.14, #16).
  { key: 'peakRssSmallFirstBytes', text: '< 150 MB', below: PEAK_RSS_TARGET, strict: true },
  { key: 'peakRssSmallNoChangeBytes', text: '< 150 MB', below: PEAK_RSS_TARGET, strict: true },
  { key: 'peakRssSmallRestoreBytes', text: '< 150 MB', below: PEAK_RSS_TARGET, strict: true },
  { key: 'peakRssSmallVerifyBytes', text: '< 150 MB', below: PEAK_RSS_TARGET, strict: true },
];

export interface TargetResult {
  key: MeasureKey;
  target: string;
  verdict: 'MET' | 'MISS' | 'n/a';
  why?: string;
}

export function evaluateTargets(tools: Partial<Record<ToolName, ToolResult>>): TargetResult[] {
  return targets.map((t) => {
    const ours = tools.ours?.measures[t.key];
    if (ours?.value === undefined) return { key: t.key, target: t.text, verdict: 'n/a', why: `ours: ${cellReason(tools.ours, t.key)}` };
    let bound: number;
    if (t.peer) {
      const peer = tools[t.peer]?.measures[t.key];
      if (peer?.value === undefined) return { key: t.key, target: t.text, verdict: 'n/a', why: `${t.peer}: ${cellReason(tools[t.peer], t.key)}` };
      bound = (t.factor ?? 1) * peer.value;
    } else {
      bound = t.below!;
    }
    const ok = t.strict ? ours.value < bound : ours.value <= bound;
    return { key: t.key, target: t.text, verdict: ok ? 'MET' : 'MISS' };
  });
}

function cellReason(tool: ToolResult | undefined, key: MeasureKey): string {
  if (!tool) return 'not run';
  if (!tool.available) return tool.unavailableReason ?? 'not available';
  const m = tool.measures[key];
  if (!m) return 'not measured';
  if (m.error !== undefined) return 'FAILED';
  return m.skipped ?? 'not measured';
}

/**
 * The memory step in a few lines: each operation's peak RSS for us (in MB, as the target is stated) and for
 * each peer that has the figure, with MET or MISS against the target.
 */
export function renderMemory(tools: Partial<Record<ToolName, ToolResult>>, order: ToolName[], smallFiles: number): string {
  const ops: Array<[MeasureKey, string]> = [
    ['peakRssSmallFirstBytes', 'first snapshot'],
    ['peakRssSmallNoChangeBytes', 'no-change snapshot'],
    ['peakRssSmallRestoreBytes', 'restore all'],
    ['peakRssSmallVerifyBytes', 'verify'],
  ];
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const lines = [`Peak RSS at ${smallFiles.toLocaleString('en-US')} small files (target: every operation under ${mb(PEAK_RSS_TARGET)}):`];
  for (const [key, what] of ops) {
    const ours = tools.ours?.measures[key];
    const verdict = ours?.value === undefined ? `n/a (${cellReason(tools.ours, key)})` : ours.value < PEAK_RSS_TARGET ? 'MET' : 'MISS';
    const peers = order
      .filter((name) => name !== 'ours' && tools[name]?.measures[key]?.value !== undefined)
      .map((name) => `${toolLabels[name]} ${mb(tools[name]!.measures[key]!.value!)}`);
    const oursText = ours?.value !== undefined ? mb(ours.value) : '-';
    lines.push(`  ${what.padEnd(19)} ours ${oursText.padStart(9)}  ${verdict.padEnd(4)}${peers.length ? `  (${peers.join(', ')})` : ''}`);
  }
  return lines.join('\n');
}

export function formatValue(value: number, unit: 'ms' | 'bytes'): string {
  if (unit === 'ms') {
    if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
    return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
  }
  if (value >= 1 << 30) return `${(value / (1 << 30)).toFixed(2)} GiB`;
  if (value >= 1 << 20) return `${(value / (1 << 20)).toFixed(1)} MiB`;
  if (value >= 1 << 10) return `${(value / (1 << 10)).toFixed(1)} KiB`;
  return `${value} B`;
}

function cell(tool: ToolResult | undefined, def: MeasureDef): string {
  if (!tool) return '-';
  if (!tool.available) return tool.unavailableReason ?? 'n/a';
  const m = tool.measures[def.key];
  if (!m) return '-';
  if (m.value !== undefined) return formatValue(m.value, def.unit);
  if (m.error !== undefined) return 'FAILED';
  return m.skipped ?? '-';
}

function ratio(tools: Partial<Record<ToolName, ToolResult>>, peer: ToolName, key: MeasureKey): string {
  const a = tools.ours?.measures[key]?.value;
  const b = tools[peer]?.measures[key]?.value;
  if (a === undefined || b === undefined || b === 0) return '-';
  return `${(a / b).toFixed(2)}x`;
}

export function renderTable(defs: MeasureDef[], tools: Partial<Record<ToolName, ToolResult>>, order: ToolName[], verdicts: TargetResult[]): string {
  const header = ['measure', ...order.map((t) => toolLabels[t]), 'ours/git', 'ours/restic', 'target', 'ours'];
  const rows = defs.map((def) => {
    const verdict = verdicts.find((v) => v.key === def.key);
    return [
      def.label,
      ...order.map((t) => cell(tools[t], def)),
      ratio(tools, 'git', def.key),
      ratio(tools, 'restic', def.key),
      verdict?.target ?? '',
      verdict ? (verdict.verdict === 'n/a' ? `n/a (${verdict.why})` : verdict.verdict) : '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
