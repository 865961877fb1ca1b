// Result records, the targets Project Backup is held to, and the printed table. A cell is either a
// measured number, the failure that prevented it, or the reason it does not apply: never an estimate.

import { formatRatio, pairedRatio, type PairedRatio } from './stats';
import type { ToolName } from './tool';
import { toolLabels } from './tool';

export type MeasureKey =
  | 'firstSnapshotMs'
  | 'noChangeMs'
  | 'editRoundsMs'
  | 'bigEditMs'
  | 'bigEditGrowthBytes'
  | 'restoreAllMs'
  | 'restoreAllPeakRssBytes'
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
  /** The figure; for a repeated step, the median of `samples`. */
  value?: number;
  /** Every repetition of a repeated step, in repetition order (the tools alternate order between repetitions). */
  samples?: number[];
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

export function measureDefs(p: {
  files: number;
  rounds: number;
  bigMiB: number;
  smallFiles: number;
  saves: number;
}): MeasureDef[] {
  const k = (n: number): string => (n >= 1000 ? `${n / 1000}k` : `${n}`);
  return [
    { key: 'firstSnapshotMs', label: `first snapshot (${k(p.files)} files)`, unit: 'ms' },
    { key: 'noChangeMs', label: 'snapshot, nothing changed', unit: 'ms' },
    { key: 'editRoundsMs', label: `${p.rounds} rounds of 1% edits, summed`, unit: 'ms' },
    { key: 'bigEditMs', label: `4 KiB edit in ${p.bigMiB} MiB file: snapshot`, unit: 'ms' },
    { key: 'bigEditGrowthBytes', label: '4 KiB edit: store growth', unit: 'bytes' },
    { key: 'restoreAllMs', label: 'restore all', unit: 'ms' },
    { key: 'restoreAllPeakRssBytes', label: 'peak RSS, restore all', unit: 'bytes' },
    { key: 'restoreOneMs', label: 'restore one file', unit: 'ms' },
    { key: 'storeBytesAfterEdits', label: 'store size after edit rounds', unit: 'bytes' },
    { key: 'firstSnapshotPeakRssBytes', label: `peak RSS, first snapshot (${k(p.files)})`, unit: 'bytes' },
    { key: 'onSaveP50Ms', label: `on-save snapshot p50 (${p.saves} saves; ours in process)`, unit: 'ms' },
    { key: 'onSaveP99Ms', label: `on-save snapshot p99 (${p.saves} saves; ours in process)`, unit: 'ms' },
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
  // The targets of #16, ratios taken in the same run (pair by pair where the step is repeated).
  { key: 'firstSnapshotMs', text: '<= 0.5x git', peer: 'git', factor: 0.5, strict: false },
  { key: 'firstSnapshotMs', text: '<= restic', peer: 'restic', factor: 1, strict: false },
  { key: 'noChangeMs', text: '<= 1.5x git', peer: 'git', factor: 1.5, strict: false },
  { key: 'editRoundsMs', text: '<= 1.5x git', peer: 'git', factor: 1.5, strict: false },
  // MB here is 10^6 bytes, the stricter reading of "2 MB".
  { key: 'bigEditGrowthBytes', text: '< 2 MB', below: 2_000_000, strict: true },
  { key: 'restoreAllMs', text: '<= 0.7x restic', peer: 'restic', factor: 0.7, strict: false },
  { key: 'restoreAllPeakRssBytes', text: '<= restic', peer: 'restic', factor: 1, strict: false },
  { key: 'storeBytesAfterEdits', text: '<= 0.95x git', peer: 'git', factor: 0.95, strict: false },
  { key: 'onSaveP99Ms', text: '< 15 ms', below: 15, strict: true },
  { key: 'noChangeSmallMs', text: '<= 1.5x git', peer: 'git', factor: 1.5, strict: false },
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
  /** The measured ratio to the peer (median of the per-pair ratios, with their spread) or the measured value. */
  measured?: string;
  why?: string;
}

/**
 * Ours against a peer: the median of the per-pair ratios when both were repeated the same number of times
 * (measured in alternating order), else the ratio of the two single figures.
 */
export function peerRatio(
  tools: Partial<Record<ToolName, ToolResult>>,
  peer: ToolName,
  key: MeasureKey,
): PairedRatio | undefined {
  const a = tools.ours?.measures[key];
  const b = tools[peer]?.measures[key];
  if (a?.value === undefined || b?.value === undefined || b.value === 0) return undefined;
  if (a.samples && b.samples && a.samples.length === b.samples.length && a.samples.length > 1)
    return pairedRatio(a.samples, b.samples);
  const r = a.value / b.value;
  return { median: r, min: r, max: r, ratios: [r] };
}

export function evaluateTargets(tools: Partial<Record<ToolName, ToolResult>>): TargetResult[] {
  return targets.map((t) => {
    const ours = tools.ours?.measures[t.key];
    if (ours?.value === undefined)
      return { key: t.key, target: t.text, verdict: 'n/a', why: `ours: ${cellReason(tools.ours, t.key)}` };
    const unit = t.key.endsWith('Bytes') ? 'bytes' : 'ms';
    if (t.peer) {
      const r = peerRatio(tools, t.peer, t.key);
      if (!r)
        return { key: t.key, target: t.text, verdict: 'n/a', why: `${t.peer}: ${cellReason(tools[t.peer], t.key)}` };
      const factor = t.factor ?? 1;
      const ok = t.strict ? r.median < factor : r.median <= factor;
      return { key: t.key, target: `${t.text}`, verdict: ok ? 'MET' : 'MISS', measured: `${formatRatio(r)} ${t.peer}` };
    }
    const ok = t.strict ? ours.value < t.below! : ours.value <= t.below!;
    return { key: t.key, target: t.text, verdict: ok ? 'MET' : 'MISS', measured: formatValue(ours.value, unit) };
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

/** The memory step: each operation's peak RSS at the small-files step, ours against the target and the peers. */
export function renderMemory(
  tools: Partial<Record<ToolName, ToolResult>>,
  order: ToolName[],
  smallFiles: number,
): string {
  const ops: Array<[MeasureKey, string]> = [
    ['peakRssSmallFirstBytes', 'first snapshot'],
    ['peakRssSmallNoChangeBytes', 'no-change snapshot'],
    ['peakRssSmallRestoreBytes', 'restore all'],
    ['peakRssSmallVerifyBytes', 'verify'],
  ];
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const rows = ops.map(([key, what]) => {
    const ours = tools.ours?.measures[key];
    const verdict =
      ours?.value === undefined
        ? `n/a (${cellReason(tools.ours, key)})`
        : ours.value < PEAK_RSS_TARGET
          ? 'MET'
          : 'MISS';
    return [
      what,
      ...order.map((name) =>
        tools[name]?.measures[key]?.value !== undefined ? mb(tools[name]!.measures[key]!.value!) : '-',
      ),
      verdict,
    ];
  });
  return markdownTable(
    [
      `peak RSS at ${smallFiles.toLocaleString('en-US')} small files`,
      ...order.map((t) => toolLabels[t]),
      `ours < ${mb(PEAK_RSS_TARGET)}`,
    ],
    rows,
  );
}

/** A markdown table (as the README's), columns padded so it also reads as plain text. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (c ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
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
  if (m.value !== undefined)
    return formatValue(m.value, def.unit) + (m.samples && m.samples.length > 1 ? ` (med of ${m.samples.length})` : '');
  if (m.error !== undefined) return 'FAILED';
  return m.skipped ?? '-';
}

export function renderTable(
  defs: MeasureDef[],
  tools: Partial<Record<ToolName, ToolResult>>,
  order: ToolName[],
  verdicts: TargetResult[],
): string {
  const header = [
    'measure (CLI unless said)',
    ...order.map((t) => toolLabels[t]),
    'ours/git',
    'ours/restic',
    'target',
    'ours',
  ];
  const rows = defs.map((def) => {
    const mine = verdicts.filter((v) => v.key === def.key);
    return [
      def.label,
      ...order.map((t) => cell(tools[t], def)),
      formatRatio(peerRatio(tools, 'git', def.key)),
      formatRatio(peerRatio(tools, 'restic', def.key)),
      mine.map((v) => v.target).join('; '),
      mine.map((v) => (v.verdict === 'n/a' ? `n/a (${v.why})` : v.verdict)).join('; '),
    ];
  });
  return markdownTable(header, rows);
}
