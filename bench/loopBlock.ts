// The longest single event-loop block during an in-process operation: a timer ticks every INTERVAL_MS
// beside the work, and the longest gap between two ticks, less the interval, is the longest time the loop
// was held (by the work, or by GC it caused). This is what the extension host would feel: prompts, views
// and every other extension wait that long. Target (#16): under 20 ms.

import { GapProfiler, gapProfilingOn, nowMicros } from './gapProfile';

const INTERVAL_MS = 2;

export interface Blocked<T> {
  value: T;
  ms: number;
  /** Longest gap between two timer ticks, less the interval. */
  maxBlockMs: number;
  /** How many gaps exceeded 20 ms. */
  blocksOver20: number;
  /** With BENCH_GAP_PROFILE=1: the stacks sampled inside each gap over 20 ms. */
  gapStacks?: string[];
}

export async function withLoopMonitor<T>(work: () => Promise<T>): Promise<Blocked<T>> {
  let last = performance.now();
  let maxGap = 0;
  let over = 0;
  const profiler = gapProfilingOn() ? new GapProfiler() : undefined;
  await profiler?.start();
  last = performance.now();
  const gaps: Array<[number, number]> = [];
  let lastMicros = nowMicros();
  const timer = setInterval(() => {
    const now = performance.now();
    const gap = now - last - INTERVAL_MS;
    if (gap > maxGap) maxGap = gap;
    if (gap > 20) over++;
    last = now;
    const micros = nowMicros();
    if (profiler && gap > 20) gaps.push([lastMicros, micros]);
    lastMicros = micros;
  }, INTERVAL_MS);
  const started = performance.now();
  try {
    const value = await work();
    const ended = performance.now();
    // The stretch from the last tick to the end of the work is a block too when the work ended synchronously.
    const tail = ended - last - INTERVAL_MS;
    if (tail > maxGap) maxGap = tail;
    if (tail > 20) over++;
    if (profiler && tail > 20) gaps.push([lastMicros, nowMicros()]);
    clearInterval(timer);
    const gapStacks = await profiler?.stop(gaps);
    for (const line of gapStacks ?? []) process.stderr.write(`[gap profile] ${line}\n`);
    return { value, ms: ended - started, maxBlockMs: Math.max(0, maxGap), blocksOver20: over, gapStacks };
  } finally {
    clearInterval(timer);
    profiler?.dispose();
  }
}
