// Store locks: many writers (editor windows, the CLI, scheduled jobs) share a store; prune needs it alone.
// Shared locks for snapshot and restore, an exclusive lock for prune. Invariant: a lock whose owner is gone
// (dead pid on this host, or not refreshed within STALE_MS) never blocks anyone: it is removed and logged.

import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { BackupError, isBackupError } from '../errors';
import type { Backend } from './backend';

export interface LockInfo {
  host: string;
  pid: number;
  time: string;
  exclusive: boolean;
  purpose: string;
}

export const REFRESH_MS = 60_000;
export const STALE_MS = 5 * 60_000;

export interface LockOptions {
  exclusive: boolean;
  purpose: string;
  /** How long to wait for a conflicting lock to go away. */
  waitMs?: number;
  now?: () => number;
  onStale?: (info: LockInfo, key: string) => void;
  /** Told once, in one sentence, when a conflicting lock makes us wait: whose it is and how long we wait. */
  onWait?: (message: string) => void;
}

/**
 * A holder refreshes its lock every REFRESH_MS; one not refreshed for twice that is not a live backup
 * (a pid reused by an unrelated process, a hung one): waiting for it is bounded by this, not by `waitMs`.
 */
export const UNREFRESHED_WAIT_MS = 30_000;

function holderOf(info: LockInfo): string {
  return `${info.purpose} (pid ${info.pid} on ${info.host} since ${info.time})`;
}

function unrefreshed(info: LockInfo, now: number): boolean {
  return now - Date.parse(info.time) > 2 * REFRESH_MS;
}

function seconds(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} s`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isStale(info: LockInfo, now: number, host = os.hostname()): boolean {
  const age = now - Date.parse(info.time);
  if (!(age < STALE_MS)) return true;
  return info.host === host && !pidAlive(info.pid);
}

/**
 * Who removes a stale lock leaves this marker in its place (`locks/interrupted-<random>`): the holder may
 * have been a writer killed between saving packs and the index that names them, and those packs are
 * garbage only it could have named. The next snapshot sees the marker in the lock listing it does anyway
 * and clears them (retention/leftovers.ts), so a killed snapshot costs nothing until someone runs prune.
 * `certain`: the holder's death is proven (a dead pid on this host); a lock that merely went unrefreshed
 * may belong to a writer that is suspended, not dead, so only prune (which the user runs) acts on that.
 */
export const INTERRUPTED_PREFIX = 'locks/interrupted-';

export interface InterruptedMarker {
  interrupted: LockInfo;
  certain: boolean;
}

export function parseInterrupted(data: Buffer): InterruptedMarker | undefined {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as InterruptedMarker;
    if (
      parsed &&
      typeof parsed.certain === 'boolean' &&
      parsed.interrupted &&
      typeof parsed.interrupted.pid === 'number'
    )
      return parsed;
  } catch {
    // unreadable: treated as uncertain
  }
  return undefined;
}

async function markInterrupted(backend: Backend, info: LockInfo): Promise<void> {
  const marker: InterruptedMarker = { interrupted: info, certain: info.host === os.hostname() && !pidAlive(info.pid) };
  await backend
    .save(`${INTERRUPTED_PREFIX}${randomBytes(8).toString('hex')}`, Buffer.from(JSON.stringify(marker)), {
      durable: false,
    })
    .catch(() => undefined);
}

function parseLock(data: Buffer): LockInfo | undefined {
  try {
    const parsed = JSON.parse(data.toString('utf8')) as LockInfo;
    if (typeof parsed.host === 'string' && typeof parsed.pid === 'number' && typeof parsed.time === 'string')
      return parsed;
  } catch {
    // A half-written lock from a crashed writer is as good as stale.
  }
  return undefined;
}

export class Lock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;

  /** Interrupted-writer markers seen in the lock listing when this lock was taken (see INTERRUPTED_PREFIX). */
  interrupted = 0;

  private constructor(
    private readonly backend: Backend,
    readonly key: string,
    private info: LockInfo,
  ) {}

  static async acquire(backend: Backend, options: LockOptions): Promise<Lock> {
    const now = options.now ?? Date.now;
    const deadline = now() + (options.waitMs ?? 30_000);
    const key = `locks/${randomBytes(16).toString('hex')}`;
    const info: LockInfo = {
      host: os.hostname(),
      pid: process.pid,
      time: new Date(now()).toISOString(),
      exclusive: options.exclusive,
      purpose: options.purpose,
    };
    const started = now();
    let told = false;
    let delay = 20;
    for (;;) {
      // Write ours first, then look: two writers racing both see each other and one backs off, never neither.
      await backend.save(key, Buffer.from(JSON.stringify(info)), { durable: false });
      const seen = { interrupted: 0 };
      const conflict = await Lock.findConflict(backend, key, options, seen);
      if (!conflict) {
        const lock = new Lock(backend, key, info);
        lock.interrupted = seen.interrupted;
        // A writer killed between writing its lock file and renaming it into place left its temp file here.
        await backend.sweepDeadTemps?.('locks').catch(() => undefined);
        lock.startRefresh();
        return lock;
      }
      await backend.remove(key);
      const quiet = unrefreshed(conflict, now());
      const limit = quiet ? Math.min(deadline, started + UNREFRESHED_WAIT_MS) : deadline;
      if (now() >= limit) {
        const expires = new Date(Date.parse(conflict.time) + STALE_MS).toISOString();
        throw new BackupError(
          'REPO_LOCKED',
          quiet
            ? `The store at ${backend.location} is locked by ${holderOf(conflict)}, but that lock has not been refreshed since, so its process may have ended and its pid been reused; it expires at ${expires}, try again then.`
            : `The store at ${backend.location} is locked by ${holderOf(conflict)}; try again when it finishes.`,
          { ...conflict, expires },
        );
      }
      if (!told) {
        told = true;
        options.onWait?.(
          `Waiting for the store at ${backend.location}: it is locked by ${holderOf(conflict)}; giving up after ${seconds(limit - started)}.`,
        );
      }
      // Jitter: waiters that started together must not retry in lockstep (prune would starve behind saves).
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
      delay = Math.min(delay * 2, 500);
    }
  }

  private static async findConflict(
    backend: Backend,
    ownKey: string,
    options: LockOptions,
    seen: { interrupted: number },
  ): Promise<LockInfo | undefined> {
    const now = (options.now ?? Date.now)();
    for (const key of await backend.list('locks')) {
      if (key === ownKey) continue;
      if (key.startsWith(INTERRUPTED_PREFIX)) {
        seen.interrupted++;
        continue;
      }
      let data: Buffer;
      try {
        data = await backend.load(key);
      } catch (error) {
        if (isBackupError(error, 'OBJECT_MISSING')) continue; // released meanwhile
        throw error;
      }
      const info = parseLock(data);
      if (!info || isStale(info, now)) {
        if (info) {
          await markInterrupted(backend, info);
          seen.interrupted++;
        }
        await backend.remove(key);
        if (info) options.onStale?.(info, key);
        continue;
      }
      if (options.exclusive || info.exclusive) return info;
    }
    return undefined;
  }

  /**
   * A named claim held by one process at a time across windows and machines sharing the store (e.g. "the
   * scheduled snapshot of this workspace"): undefined when a live holder has it; a stale one is taken over.
   */
  static async tryClaim(
    backend: Backend,
    name: string,
    purpose: string,
    options: { now?: () => number; onStale?: (info: LockInfo, key: string) => void } = {},
  ): Promise<Lock | undefined> {
    const now = options.now ?? Date.now;
    const key = `locks/claim-${name}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const info: LockInfo = {
        host: os.hostname(),
        pid: process.pid,
        time: new Date(now()).toISOString(),
        exclusive: false,
        purpose,
      };
      const mine = Buffer.from(JSON.stringify(info));
      const stored = await backend.createOnce(key, mine);
      if (stored === mine) {
        const lock = new Lock(backend, key, info);
        lock.startRefresh();
        return lock;
      }
      const holder = parseLock(stored);
      if (holder && !isStale(holder, now())) return undefined;
      await backend.remove(key);
      if (holder) options.onStale?.(holder, key);
    }
    return undefined;
  }

  private startRefresh(): void {
    this.timer = setInterval(() => {
      this.info = { ...this.info, time: new Date().toISOString() };
      this.backend.save(this.key, Buffer.from(JSON.stringify(this.info)), { durable: false }).catch(() => undefined);
    }, REFRESH_MS);
    this.timer.unref();
  }

  /** Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    await this.backend.remove(this.key);
  }
}
