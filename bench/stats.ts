// Summaries of repeated measurements: the median, and the ratio of two tools taken pair by pair (each pair
// measured back to back, in alternating order), so a disk that slows down over the run, or a first run that
// pays for another tool's writeback, does not decide the ratio. Pure functions; test/unit/benchStats.test.ts.

/** The median (mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface PairedRatio {
  /** Median of the per-pair ratios a[i] / b[i]. */
  median: number;
  /** Smallest and largest per-pair ratio: how far one pair can be from another on this machine. */
  min: number;
  max: number;
  /** Every per-pair ratio, in measuring order. */
  ratios: number[];
}

/**
 * Ratios of `a` to `b` pair by pair (a[i] and b[i] were measured in the same repetition). Pairs where
 * either side is missing (undefined, NaN) or `b` is 0 are left out; undefined when no pair is left.
 */
export function pairedRatio(
  a: ReadonlyArray<number | undefined>,
  b: ReadonlyArray<number | undefined>,
): PairedRatio | undefined {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !Number.isFinite(x) || !Number.isFinite(y) || y === 0) continue;
    ratios.push(x / y);
  }
  if (ratios.length === 0) return undefined;
  return { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios), ratios };
}

/**
 * The order the tools run in for repetition `rep` (0-based): as given on even repetitions, reversed on odd
 * ones, so with two tools the sequence is A B, B A, A B, ... and with more each tool is first as often as last.
 */
export function alternatingOrder<T>(tools: readonly T[], rep: number): T[] {
  return rep % 2 === 0 ? [...tools] : [...tools].reverse();
}

/** "1.23x (1.10-1.40)": a paired ratio with its spread; "-" when there is none. */
export function formatRatio(r: PairedRatio | undefined): string {
  if (!r) return '-';
  const x = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return r.ratios.length > 1 ? `${x(r.median)}x (${x(r.min)}-${x(r.max)})` : `${x(r.median)}x`;
}
