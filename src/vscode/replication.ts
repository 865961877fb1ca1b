// Replication from the editor: after a burst of snapshots (debounced) and on a schedule, each folder's
// store is copied to its configured destinations in the background; "Replicate Now" runs it in the
// foreground with progress. Invariants: one replication per (store, destination) at a time in this window
// (the core also claims it across processes); a failure is remembered and shown in Backup Health, never
// thrown into VS Code; background runs never prompt, except to trust a new SFTP host key when interactive.

import * as vscode from 'vscode';
import { formatBytes, plural } from '../core/format';
import type { DestinationInput } from '../core/health/health';
import { destinationKey } from '../core/health/gather';
import type { ReplicationResult } from '../core/replicate/replicate';
import { replicate } from '../core/replicate/replicate';
import { isBackupError } from '../core/errors';
import { loadReplicaRecords } from '../core/records/replicaRecord';
import { isRemoteLocation } from '../core/storage/locate';
import { redactLocation } from '../core/storage/remote';
import type { RemoteOptions } from '../core/storage/remote';
import type { BackupService } from './backupService';
import type { DestinationSetting } from './configuration';
import { resolveStorePath } from './configuration';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { RemoteLogin } from './remoteLogin';

/** How often the schedule looks for destinations that are due (the schedule itself is in hours). */
const CHECK_EVERY_MS = 10 * 60_000;
const FIRST_CHECK_MS = 60_000;

interface Attempt {
  running: boolean;
  /** A copy was asked for while one ran: run once more after it. */
  again?: boolean;
  lastError?: string;
  lastSuccess?: string;
}

export interface Progress {
  report(message: string): void;
  signal?: AbortSignal;
}

/** A folder's destinations from its settings, resolved (variables, `~`) for folders. */
export function destinationsOf(service: BackupService, folder: vscode.WorkspaceFolder): DestinationSetting[] {
  // A destination holds one store: one added for another store (another workspace's, or the store used
  // before "Start an Encrypted Store") is not this folder's, and copying to it would only be refused.
  const store = service.localStorePath(folder);
  return service
    .settings(folder)
    .destinations.filter((d) => !d.store || resolveStorePath(d.store, folder.uri.fsPath) === store)
    .map((d) => ({
      ...d,
      location: isRemoteLocation(d.location) ? d.location : resolveStorePath(d.location, folder.uri.fsPath),
    }));
}

export class Replicator extends Disposable {
  private readonly attempts = new Map<string, Attempt>();
  private readonly runs = new Map<string, Promise<ReplicationResult | undefined>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** A replication started, finished or failed. */
  readonly onDidChange = this.changed.event;
  /** The last background run (tests wait on it). */
  lastRun: Promise<unknown> | undefined;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
    /** How to log in to a destination (remoteLogin.ts). */
    private readonly login: RemoteLogin,
  ) {
    super();
    this.register(service.onDidSnapshot((folder) => this.afterSnapshot(folder)));
    const first = setTimeout(() => void this.runDue(), FIRST_CHECK_MS);
    const every = setInterval(() => void this.runDue(), CHECK_EVERY_MS);
    // Closing the window stops copies under way; what they copied is complete, and the next copy goes on.
    this.register({
      dispose: () => (
        clearTimeout(first),
        clearInterval(every),
        this.timers.forEach((t) => clearTimeout(t)),
        this.stopping.abort()
      ),
    });
  }

  /** A folder's destinations from its settings, resolved (variables, `~`) for folders. */
  destinations(folder: vscode.WorkspaceFolder): DestinationSetting[] {
    return destinationsOf(this.service, folder);
  }

  /** What the health view shows for a folder's destinations: the settings plus this window's last attempts. */
  healthInputs(folder: vscode.WorkspaceFolder): DestinationInput[] {
    const store = this.service.localStorePath(folder);
    return this.destinations(folder).map((d) => {
      const attempt = this.attempts.get(this.key(store, d.location));
      return {
        location: d.location,
        offsite: d.offsite,
        lastError: attempt?.lastError,
        lastReplication: attempt?.lastSuccess,
      };
    });
  }

  /** Whether any replication is running (the status bar shows it). */
  get busy(): boolean {
    return [...this.attempts.values()].some((a) => a.running);
  }

  private key(store: string, destination: string): string {
    return `${store}\u0000${destinationKey(destination)}`;
  }

  private afterSnapshot(folder: vscode.WorkspaceFolder): void {
    const settings = this.service.settings(folder);
    if (!settings.replication.afterSnapshot || this.destinations(folder).length === 0) return;
    const key = folder.uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.lastRun = this.replicateFolder(folder, { interactive: false });
      }, settings.replication.delaySeconds * 1000),
    );
  }

  /** Replicates folders whose destinations have not received a copy within the scheduled interval. */
  async runDue(now = Date.now()): Promise<void> {
    for (const folder of this.service.folders()) {
      const hours = this.service.settings(folder).replication.everyHours;
      if (hours <= 0) continue;
      const store = this.service.localStorePath(folder);
      const destinations = this.destinations(folder);
      if (destinations.length === 0) continue;
      // The store remembers its copies: a reloaded window does not copy again what another just copied.
      let recorded: Map<string, string>;
      try {
        const records = await loadReplicaRecords(await this.service.localRepository(folder));
        recorded = new Map(records.map((r) => [destinationKey(r.destination), r.time]));
      } catch {
        recorded = new Map(); // a store that cannot be opened now fails in the copy, which reports it
      }
      const due = destinations.some((d) => {
        const last = [
          this.attempts.get(this.key(store, d.location))?.lastSuccess,
          recorded.get(destinationKey(d.location)),
        ]
          .filter((t): t is string => !!t)
          .sort()
          .pop();
        return !last || now - Date.parse(last) > hours * 3_600_000;
      });
      if (due) await (this.lastRun = this.replicateFolder(folder, { interactive: false }));
    }
  }

  /** Waits for scheduled and running replications (tests). */
  async flush(): Promise<void> {
    for (const [key, timer] of this.timers) {
      clearTimeout(timer);
      this.timers.delete(key);
      const folder = this.service.folders().find((f) => f.uri.toString() === key);
      if (folder) this.lastRun = this.replicateFolder(folder, { interactive: false });
    }
    await this.lastRun;
    await Promise.all(this.runs.values());
  }

  /**
   * Copies the folder's store to each of its destinations, one after another. Resolves with one outcome per
   * destination; failures are recorded (and logged), not thrown.
   */
  async replicateFolder(
    folder: vscode.WorkspaceFolder,
    options: { interactive: boolean; progress?: Progress; only?: string; fresh?: boolean },
  ): Promise<Array<{ destination: string; result?: ReplicationResult; error?: string }>> {
    const outcomes: Array<{ destination: string; result?: ReplicationResult; error?: string }> = [];
    for (const d of this.destinations(folder)) {
      if (options.only && destinationKey(options.only) !== destinationKey(d.location)) continue;
      if (options.progress?.signal?.aborted) break;
      try {
        const result = await this.replicateOne(folder, d, options);
        outcomes.push({ destination: d.location, result });
      } catch (error) {
        outcomes.push({ destination: d.location, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return outcomes;
  }

  private replicateOne(
    folder: vscode.WorkspaceFolder,
    destination: DestinationSetting,
    options: { interactive: boolean; progress?: Progress; fresh?: boolean },
  ): Promise<ReplicationResult | undefined> {
    const store = this.service.localStorePath(folder);
    const key = this.key(store, destination.location);
    const attempt = this.attempts.get(key) ?? { running: false };
    const running = this.runs.get(key);
    if (running) {
      // The copy under way listed the store before this request: it may miss the newest snapshot, so one
      // more copy follows it. Callers share the running copy's outcome.
      attempt.again = true;
      return running;
    }
    this.attempts.set(key, attempt);
    const shown = redactLocation(destination.location);
    const run = (async () => {
      const startedAt = new Date().toISOString();
      attempt.running = true;
      this.changed.fire();
      try {
        const repo = await this.service.localRepository(folder);
        const remote = isRemoteLocation(destination.location)
          ? await this.remoteOptions(destination.location, options.interactive)
          : undefined;
        const signal = options.progress?.signal
          ? AbortSignal.any([options.progress.signal, this.stopping.signal])
          : this.stopping.signal;
        const copy = () =>
          replicate(repo, destination.location, {
            remote,
            offsite: destination.offsite,
            fresh: options.fresh,
            signal,
            onProgress: (p) =>
              options.progress?.report(
                `${shown}: ${plural(p.objectsDone, 'object')} of ${p.objectsTotal.toLocaleString('en-US')}, ${formatBytes(p.bytesDone)}`,
              ),
          });
        // A copy the user asked for waits for one under way there (another window, the CLI) and then runs:
        // it reports what it copied itself, never another copy's work as "0 objects copied".
        const result = options.interactive
          ? await this.afterOtherCopies(copy, `${store} to ${shown}`, signal, options.progress)
          : await copy();
        attempt.lastError = undefined;
        attempt.lastSuccess = startedAt;
        this.log.info(
          `Replicated ${store} to ${shown}: ${plural(result.objectsCopied, 'object')} copied (${formatBytes(result.bytesCopied)}), ${plural(result.snapshots, 'snapshot')} there.`,
        );
        return result;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (isBackupError(error, 'REPO_LOCKED')) {
          // Another window or process is copying there right now: that copy covers this one.
          this.log.info(`Replication of ${store} to ${shown} skipped: ${message}`);
          return undefined;
        }
        attempt.lastError = message;
        this.log.error(`Replication of ${store} to ${shown} failed: ${message}`);
        throw error;
      } finally {
        attempt.running = false;
        this.runs.delete(key);
        this.changed.fire();
        if (attempt.again) {
          attempt.again = false;
          this.lastRun = this.replicateOne(folder, destination, { interactive: false }).catch(() => undefined);
        }
      }
    })();
    this.runs.set(key, run);
    return run;
  }

  private async afterOtherCopies<T>(
    copy: () => Promise<T>,
    what: string,
    signal: AbortSignal,
    progress?: Progress,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await copy();
      } catch (error) {
        if (!isBackupError(error, 'REPO_LOCKED') || signal.aborted) throw error;
        if (attempt === 0) {
          this.log.info(`Replication of ${what} waits for another copy there (another window or process) to finish.`);
          progress?.report('waiting for another copy there to finish');
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(250 * 2 ** attempt, 5000));
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          signal.addEventListener('abort', done);
        });
      }
    }
  }

  /** How to log in to a destination (remoteLogin.ts). */
  remoteOptions(location: string, interactive: boolean): Promise<RemoteOptions> {
    return this.login(location, interactive);
  }
}
