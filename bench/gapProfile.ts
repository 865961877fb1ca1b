// Opt-in (BENCH_GAP_PROFILE=1): a CPU profile beside each in-process operation the loop monitor watches, and
// for every gap over 20 ms the stacks the profiler sampled inside it, so each block the table reports can be
// explained from a profile, not guessed. Costs a little time itself: figures of such a run are not quoted.

import * as inspector from 'node:inspector';
import * as path from 'node:path';

const SAMPLING_US = 250;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function gapProfilingOn(): boolean {
  return process.env.BENCH_GAP_PROFILE === '1';
}

/** Wall clock in the profiler's unit (microseconds, same origin as its timestamps on this platform). */
export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export class GapProfiler {
  private readonly session = new inspector.Session();

  private post<T>(method: string, params?: object): Promise<T> {
    return new Promise((resolve, reject) =>
      this.session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result as T))),
    );
  }

  async start(): Promise<void> {
    this.session.connect();
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await this.post('Profiler.start');
  }

  /** Ends the session (and any profile still running): safe to call twice. */
  dispose(): void {
    try {
      this.session.disconnect();
    } catch {
      // Already disconnected.
    }
  }

  /** Stops, and returns for each gap (start and end in `nowMicros`) its most sampled stacks, innermost first. */
  async stop(gaps: Array<[number, number]>): Promise<string[]> {
    const { profile } = await this.post<{ profile: Profile }>('Profiler.stop');
    this.dispose();
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const stackOf = (id: number): string => {
      const frames: string[] = [];
      for (let at: number | undefined = id; at !== undefined && frames.length < 7; at = parent.get(at)) {
        const cf = byId.get(at)?.callFrame;
        if (cf) frames.push(`${cf.functionName || '(anonymous)'} ${path.basename(cf.url)}:${cf.lineNumber + 1}`);
      }
      return frames.join(' < ');
    };
    let t = profile.startTime;
    const samples = profile.samples.map((id, i) => {
      t += profile.timeDeltas[i];
      return { t, id };
    });
    const lines: string[] = [];
    for (const [from, to] of gaps) {
      const counts = new Map<string, number>();
      let n = 0;
      for (const s of samples)
        if (s.t >= from && s.t <= to) {
          n++;
          const key = stackOf(s.id);
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      lines.push(`gap ${((to - from) / 1000).toFixed(1)} ms, ${n} samples:`);
      for (const [stack, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5)) lines.push(`  ${c}  ${stack}`);
    }
    return lines;
  }
}
