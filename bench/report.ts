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
  | 'first100kMs'
  | 'noChange100kMs'
  | 'peakRss100kFirstBytes'
  | 'peakRss100kNoChangeBytes';

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
    { key: 'first100kMs', label: `first snapshot (${k(p.smallFiles)} small files)`, unit: 'ms' },
    { key: 'noChange100kMs', label: `no-change snapshot (${k(p.smallFiles)})`, unit: 'ms' },
    { key: 'peakRss100kFirstBytes', label: `peak RSS, first snapshot (${k(p.smallFiles)})`, unit: 'bytes' },
    { key: 'peakRss100kNoChangeBytes', label: `peak RSS, no-change (${k(p.smallFiles)})`, unit: 'bytes' },
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

export const targets: TargetDef[] = [
  { key: 'firstSnapshotMs', text: '<= 0.5x git', peer: 'git', factor: 0.5, strict: false },
  { key: 'noChangeMs', text: '<= git', peer: 'git', factor: 1, strict: false },
  { key: 'editRoundsMs', text: '<= 0.5x git', peer: 'git', factor: 0.5, strict: false },
  // MB here is 10^6 bytes, the stricter reading of "2 MB".
  { key: 'bigEditGrowthBytes', text: '< 2 MB', below: 2_000_000, strict: true },
  { key: 'restoreAllMs', text: '<= 0.5x restic', peer: 'restic', factor: 0.5, strict: false },
  { key: 'storeBytesAfterEdits', text: '<= git', peer: 'git', factor: 1, strict: false },
  { key: 'onSaveP99Ms', text: '< 15 ms', below: 15, strict: true },
  { key: 'noChange100kMs', text: '<= git', peer: 'git', factor: 1, strict: false },
  { key: 'peakRss100kFirstBytes', text: '< 200 MB', below: 200_000_000, strict: true },
  { key: 'peakRss100kNoChangeBytes', text: '< 200 MB', below: 200_000_000, strict: true },
];

export interface TargetResult {
  key: MeasureKey;
  target: string;
  verdict: 'PASS' | 'MISS' | 'n/a';
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
    return { key: t.key, target: t.text, verdict: ok ? 'PASS' : 'MISS' };
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
