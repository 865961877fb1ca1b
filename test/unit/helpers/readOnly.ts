// Real read-only stores for tests: a read-only bind mount of a folder (root with mount rights), or the CLI run
// as an unprivileged user (root can write through any permission bits, so chmod alone proves nothing).
// Each returns undefined where the machine does not allow it, so the caller can skip rather than pretend.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DIST_CLI } from './fixtures';

export interface ReadOnlyView {
  /** The same folder, read-only. */
  path: string;
  dispose(): void;
}

/** A read-only bind mount of `dir` at a new folder beside it; undefined when mounting is not permitted here. */
export function readOnlyBindMount(dir: string): ReadOnlyView | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const at = `${dir}-ro`;
  fs.mkdirSync(at, { recursive: true });
  const mount = spawnSync('mount', ['--bind', '-o', 'ro', dir, at], { encoding: 'utf8' });
  if (mount.status !== 0) {
    fs.rmdirSync(at);
    return undefined;
  }
  // Older kernels ignore "ro" on the first bind: remount, and check that it really refuses writes.
  spawnSync('mount', ['-o', 'remount,bind,ro', at]);
  try {
    fs.writeFileSync(path.join(at, '.probe'), '');
    fs.unlinkSync(path.join(at, '.probe'));
    spawnSync('umount', [at]);
    fs.rmdirSync(at);
    return undefined;
  } catch {
    // EROFS: as wanted.
  }
  return {
    path: at,
    dispose: () => {
      spawnSync('umount', [at]);
      fs.rmSync(at, { recursive: true, force: true });
    },
  };
}

/** Argv prefix that runs a command as user `nobody`, or undefined when this process cannot switch user. */
export function asNobody(): string[] | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  const prefix = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
  const probe = spawnSync(prefix[0], [...prefix.slice(1), 'id', '-u'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() === '65534' ? prefix : undefined;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs dist/cli.js (optionally behind `prefix`, e.g. asNobody()) without blocking the event loop. */
export function runCli(args: string[], prefix: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const argv = [...prefix, process.execPath, DIST_CLI, ...args];
    const child = spawn(argv[0], argv.slice(1), {
      env: { ...process.env, PROJECT_BACKUP_REPO: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    child.stderr.on('data', (d) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** Makes `dir` and its parents up to the temp root traversable by everyone (mkdtemp makes them 0700). */
export function openToAll(dir: string, mode = 0o755): void {
  for (let d = dir; d !== path.dirname(d) && d.length > 4; d = path.dirname(d)) {
    try {
      const st = fs.statSync(d);
      if ((st.mode & 0o005) !== 0o005) fs.chmodSync(d, (st.mode & 0o7777) | 0o005);
    } catch {
      return;
    }
  }
  fs.chmodSync(dir, mode);
}
