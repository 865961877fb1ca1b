// Background upkeep of the stores this window uses: retention (forget, then prune) at most once an hour
// after snapshots, and the scheduled light verify. Invariants: nothing here runs on the save path or
// blocks the editor; each task runs at most once at a time per store, across windows too (the timestamps
// live in global state and are claimed before the work starts); failures are logged, damage is shown.

import * as vscode from 'vscode';
import { formatBytes, plural } from '../core/format';
import { mirror } from '../core/export/mirror';
import { summarizeProblems } from '../core/problemSummary';
import type { VerifyReport } from '../core/check/verify';
import { applyVerify, planVerify } from '../core/check/verifyJob';
import type { VerifyOutcome } from '../core/check/verifyJob';
import type { Repository } from '../core/repository/repository';
import type { ForgetReport } from '../core/retention/forget';
import { applyForget, planForget } from '../core/retention/retentionJobs';
import type { RetentionPolicy } from '../core/retention/policy';
import type { BackupService } from './backupService';
import type { BackupSettings } from './configuration';
import { resolveStorePath } from './configuration';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

const HOUR = 3_600_000;
const RETENTION_EVERY = HOUR;
const PRUNE_EVERY = 24 * HOUR;
const VERIFY_CHECK_EVERY = 6 * HOUR;
const FIRST_VERIFY_AFTER = 2 * 60_000;
const MIRROR_DEBOUNCE_MS = 3_000;

export function policyFrom(settings: BackupSettings['retention']): RetentionPolicy {
  return {
    keepWithin: settings.keepAllWithinHours * HOUR,
    keepHourly: settings.keepHourly,
    keepDaily: settings.keepDaily,
    keepWeekly: settings.keepWeekly,
    keepMonthly: settings.keepMonthly,
  };
}

export class Maintenance extends Disposable {
  private readonly running = new Set<string>();
  /** The last verify result and the last retention run, for the status view and the tests. */
  lastVerify: VerifyReport | undefined;
  lastRetention: Promise<void> | undefined;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
    private readonly state: vscode.Memento,
  ) {
    super();
    this.register(
      service.onDidSnapshot((folder) => {
        this.lastRetention = this.afterSnapshot(folder);
        this.scheduleMirror(folder);
      }),
    );
    this.register({ dispose: () => this.mirrorTimers.forEach((t) => clearTimeout(t)) });
    const first = setTimeout(() => void this.verifyIfDue(), FIRST_VERIFY_AFTER);
    const every = setInterval(() => void this.verifyIfDue(), VERIFY_CHECK_EVERY);
    this.register({ dispose: () => (clearTimeout(first), clearInterval(every)) });
  }

  /** Claims a periodic task for a store: true when it is due, recording the start so others skip it. */
  private async claim(task: string, store: string, every: number): Promise<boolean> {
    const key = `projectBackup.${task}:${store}`;
    const last = this.state.get<number>(key, 0);
    if (Date.now() - last < every || this.running.has(key)) return false;
    await this.state.update(key, Date.now());
    return true;
  }

  private async afterSnapshot(folder: vscode.WorkspaceFolder): Promise<void> {
    const settings = this.service.settings(folder).retention;
    if (!settings.enabled) return;
    const store = this.service.localStorePath(folder);
    // The settings are part of the key: changed retention settings apply at the next snapshot, not an hour later.
    if (!(await this.claim(`retention:${JSON.stringify(settings)}`, store, RETENTION_EVERY))) return;
    const key = `retention:${store}`;
    this.running.add(key);
    try {
      const repo = await this.service.localRepository(folder);
      // One job: forget, then (when something went, at most once a day) prune; the door takes the locks.
      const plan = await planForget(
        repo,
        {
          policy: policyFrom(settings),
          workspaceId: this.service.workspaceId(folder),
          now: new Date(),
          maxSize: settings.maxSizeMB > 0 ? settings.maxSizeMB * 1_000_000 : undefined,
          prune: true,
        },
        { preview: false },
      );
      const { prune: pruned } = await applyForget(plan, {
        onProgress: (message) => this.log.debug(`prune: ${message}`),
        pruneIf: async (forgot: ForgetReport) => {
          const removed = forgot.removed.length + forgot.removedForSize.length;
          if (removed > 0) {
            this.log.info(
              `${folder.name}: retention removed ${plural(removed, 'snapshot')} (${forgot.removedForSize.length} for the size budget).`,
            );
            this.service.fireChanged(folder);
          }
          return removed > 0 && (await this.claim('prune', store, PRUNE_EVERY));
        },
      });
      if (pruned) {
        this.log.info(
          `Pruned ${store}: ${formatBytes(pruned.bytesFreed)} freed, ${pruned.packsDeleted} packs deleted, ${pruned.packsRewritten} rewritten.`,
        );
      }
    } catch (error) {
      this.log.error(
        `Retention for ${folder.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    } finally {
      this.running.delete(key);
    }
  }

  private readonly mirrorTimers = new Map<string, NodeJS.Timeout>();
  lastMirror: Promise<void> | undefined;

  /** Brings the mirror folder up to date a few seconds after the last of a burst of snapshots. */
  private scheduleMirror(folder: vscode.WorkspaceFolder): void {
    const raw = this.service.settings(folder).mirrorFolder.trim();
    if (!raw) return;
    const key = folder.uri.toString();
    const pending = this.mirrorTimers.get(key);
    if (pending) clearTimeout(pending);
    this.mirrorTimers.set(
      key,
      setTimeout(() => {
        this.mirrorTimers.delete(key);
        this.lastMirror = this.updateMirror(folder, resolveStorePath(raw, folder.uri.fsPath));
      }, MIRROR_DEBOUNCE_MS),
    );
  }

  /** Mirrors the folder's latest snapshot now (also used by tests). */
  async updateMirror(folder: vscode.WorkspaceFolder, target: string): Promise<void> {
    try {
      const repo = await this.service.localRepository(folder);
      // The local store's own latest, even while the views browse a destination.
      const id = this.service.workspaceId(folder);
      const snapshots = (await repo.listSnapshots({ onDamaged: () => undefined })).filter((s) => s.workspace.id === id);
      const latest = snapshots[snapshots.length - 1];
      if (!latest) return;
      const result = await mirror(repo, latest, target);
      this.log.info(
        `Mirror ${target}: ${result.written} written, ${result.deleted} removed, ${result.unchanged} unchanged (snapshot ${latest.id.slice(0, 8)}).`,
      );
      if (result.problems.length)
        this.log.warn(
          `Mirror ${target}: ${summarizeProblems(result.problems, { verb: 'mirrored', fullList: '' }).headline}`,
        );
      for (const p of result.problems) this.log.warn(`Mirror ${target}: ${p.path}: ${p.reason}`);
    } catch (error) {
      this.log.error(
        `Mirror of ${folder.name} to ${target} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private async verifyIfDue(): Promise<void> {
    for (const folder of this.service.folders()) {
      const schedule = this.service.settings(folder).verifySchedule;
      if (schedule === 'off') continue;
      const store = this.service.localStorePath(folder);
      if (!(await this.claim('verify', store, schedule === 'daily' ? 24 * HOUR : 7 * 24 * HOUR))) continue;
      try {
        const repo = await this.service.localRepository(folder);
        this.reportVerify(store, (await this.verify(repo, {})).report, false);
      } catch (error) {
        this.log.error(
          `Scheduled verify of ${store} failed: ${error instanceof Error ? error.message : String(error)}`,
          error,
        );
      }
    }
  }

  /** Verifies through the job, which records the result in the store (Backup Health and `status` show it); failing to record is only logged. */
  async verify(
    repo: Repository,
    request: { readData?: boolean },
    options: Parameters<typeof applyVerify>[1] = {},
  ): Promise<VerifyOutcome> {
    const outcome = await applyVerify(planVerify(repo, request), options);
    if (outcome.recordError)
      this.log.warn(`The verify result could not be recorded in ${repo.location}: ${outcome.recordError}`);
    this.verified.fire();
    return outcome;
  }

  private readonly verified = this.register(new vscode.EventEmitter<void>());
  /** A verify finished (Backup Health listens). */
  readonly onDidVerify = this.verified.event;

  /** Logs a verify result; damage is always shown, a clean result only when the user asked. */
  reportVerify(store: string, report: VerifyReport, asked: boolean): void {
    this.lastVerify = report;
    const summary = `${plural(report.snapshots, 'snapshot')}, ${plural(report.trees, 'tree')}, ${plural(report.blobs, 'blob')} in ${plural(report.packs, 'pack')} (${plural(report.packsRead, 'pack')} re-read)`;
    if (report.ok) {
      this.log.info(`Verified ${store}: ${summary}: no damage.`);
      if (asked) void vscode.window.showInformationMessage(`Backups verified: ${summary}, no damage.`);
      return;
    }
    this.log.error(`Verify of ${store}: ${summary}: ${plural(report.damage.length, 'damaged object')}.`);
    for (const d of report.damage) {
      this.log.error(
        `  ${d.kind} ${d.object}: ${d.reason}; affects ${plural(d.snapshots.length, 'snapshot')}: ${d.files.slice(0, 20).join(', ')}${d.files.length > 20 ? ', …' : ''}`,
      );
    }
    void vscode.window
      .showErrorMessage(
        `Backup verify found ${plural(report.damage.length, 'damaged object')} in ${store}; the other snapshots are intact. See the log for the affected files.`,
        'Show Log',
      )
      .then((choice) => choice && vscode.commands.executeCommand('backup.showLog'));
  }
}
