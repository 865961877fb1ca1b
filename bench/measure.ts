// Runs one measured command: wall time, peak resident memory of its process tree, and its output.
// A non-zero exit throws CommandFailed carrying the command's stderr, so no failure is ever swallowed.

import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface CommandSpec {
  cmd: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Send stdout to this file instead of capturing it (e.g. `git show HEAD:path > out`). */
  stdoutFile?: string;
}

export interface CommandResult {
  ms: number;
  /** Peak RSS in bytes of the process and its waited-for descendants; undefined when not measured. */
  peakRssBytes?: number;
  stdout: string;
  stderr: string;
}

export class CommandFailed extends Error {
  constructor(
    readonly spec: CommandSpec,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    super(
      `command failed (${signal ? `signal ${signal}` : `exit ${exitCode}`}): ${describe(spec)}\n` +
        (stderr.trim() === '' ? '(no stderr)' : tail(stderr.trim(), 2000)),
    );
  }
}

export function describe(spec: CommandSpec): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [spec.cmd, ...spec.args].map(quote).join(' ') + (spec.stdoutFile ? ` > ${quote(spec.stdoutFile)}` : '');
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : '...' + text.slice(text.length - max);
}

let gnuTime: boolean | undefined;

/**
 * GNU time reports ru_maxrss from wait4, which the kernel already maximises over the child's waited-for
 * descendants (git's helpers, a shell pipeline), so it needs no polling and misses no short peak.
 */
export function hasGnuTime(): boolean {
  if (gnuTime === undefined) {
    const probe = path.join(os.tmpdir(), `bench-time-probe-${process.pid}`);
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', probe, 'true']);
    gnuTime = r.status === 0 && fs.existsSync(probe) && /^\d+\s*$/.test(fs.readFileSync(probe, 'utf8'));
    fs.rmSync(probe, { force: true });
  }
  return gnuTime;
}

let counter = 0;

export async function runCommand(spec: CommandSpec, options: { measureRss?: boolean } = {}): Promise<CommandResult> {
  const useTime = options.measureRss === true && hasGnuTime();
  const rssFile = useTime ? path.join(os.tmpdir(), `bench-rss-${process.pid}-${++counter}`) : undefined;
  const cmd = useTime ? '/usr/bin/time' : spec.cmd;
  const args = useTime ? ['-f', '%M', '-o', rssFile!, spec.cmd, ...spec.args] : spec.args;
  const outFd = spec.stdoutFile ? fs.openSync(spec.stdoutFile, 'w') : undefined;
  let stdout = '';
  let stderr = '';
  const started = performance.now();
  try {
    const { code, signal, polledPeak } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      polledPeak: number;
    }>((resolve, reject) => {
      const child = spawn(cmd, args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        stdio: ['ignore', outFd ?? 'pipe', 'pipe'],
      });
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19)); // keep the tail only
      });
      let peak = 0;
      const poller =
        options.measureRss === true && !useTime && child.pid !== undefined
          ? setInterval(() => (peak = Math.max(peak, treeRss(child.pid!))), 20)
          : undefined;
      child.on('error', (e) => {
        if (poller) clearInterval(poller);
        reject(e);
      });
      child.on('close', (c, s) => {
        if (poller) clearInterval(poller);
        resolve({ code: c, signal: s, polledPeak: peak });
      });
    });
    const ms = performance.now() - started;
    let peakRssBytes: number | undefined;
    if (rssFile) {
      // When the command fails GNU time writes "Command exited with non-zero status N" first: take the last line.
      const lines = fs.existsSync(rssFile) ? fs.readFileSync(rssFile, 'utf8').trim().split('\n') : [];
      const kb = Number(lines[lines.length - 1]);
      peakRssBytes = Number.isFinite(kb) && kb > 0 ? kb * 1024 : undefined;
    } else if (options.measureRss === true) {
      peakRssBytes = polledPeak > 0 ? polledPeak : undefined;
    }
    if (code !== 0) throw new CommandFailed(spec, code, signal, stderr);
    return { ms, peakRssBytes, stdout, stderr };
  } finally {
    if (outFd !== undefined) fs.closeSync(outFd);
    if (rssFile) fs.rmSync(rssFile, { force: true });
  }
}

/** Fallback without GNU time: VmHWM of the root plus VmRSS of its descendants, polled (may miss short peaks). */
function treeRss(pid: number): number {
  const status = (p: number): string => {
    try {
      return fs.readFileSync(`/proc/${p}/status`, 'utf8');
    } catch {
      return '';
    }
  };
  const field = (text: string, name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  const children = (p: number): number[] => {
    const out: number[] = [];
    try {
      for (const task of fs.readdirSync(`/proc/${p}/task`)) {
        const text = fs.readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').trim();
        if (text) out.push(...text.split(/\s+/).map(Number));
      }
    } catch {
      // The process may have exited between the two reads.
    }
    return out;
  };
  let total = field(status(pid), 'VmHWM');
  const queue = children(pid);
  while (queue.length > 0) {
    const p = queue.shift()!;
    total += field(status(p), 'VmRSS');
    queue.push(...children(p));
  }
  return total;
}

/**
 * Apparent size (sum of st_size) of every file under dir. Apparent rather than allocated size so a store of
 * many small files (git's loose objects, a copy per version) is not charged for filesystem block rounding.
 */
export function dirSize(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += fs.lstatSync(p).size;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return total;
}

/** Allocated size (st_blocks * 512), reported beside the apparent size for the record. */
export function dirAllocated(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else total += fs.lstatSync(p).blocks * 512;
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return total;
}

/**
 * Flushes dirty pages (untimed) before a measured step, so the writeback of one tool's store or restore
 * is not throttling the next tool's measurement on this shared disk.
 */
export function settleDisk(): void {
  spawnSync('sync');
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest-rank: the smallest value with at least p% of samples at or below it (no interpolation flattering it).
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function which(name: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = r.stdout.trim();
  return r.status === 0 && found !== '' ? found : undefined;
}
