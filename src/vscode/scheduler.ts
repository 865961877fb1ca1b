// Automatic full snapshots: every N minutes, daily at a time, a start-up scan, and a reminder when a
// workspace has gone too long without a backup. Invariants: never two scheduled runs of one workspace at
// once, in this window (a running set) or across windows and machines (a claim file in the store); a run
// skipped because another is going is logged, not an error.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { plural } from '../core/format';
import type { Trigger } from '../core/repository/snapshotRecord';
import { catchUpDue, nextRun, reminderDue } from '../core/schedule/schedule';
import { Lock } from '../core/storage/lock';
import type { BackupService } from './backupService';
import { Commands } from './commandIds';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';

/**
 * The start-up scan runs this soon after activation (the window's own start-up comes first; the scan yields
 * to the event loop, so it never blocks the host), and once more at SETTLE_MS: VS Code's file watcher takes
 * a few seconds to start, and a change made in that blind window would otherwise wait for the next full
 * snapshot. Both are full scans with the stat cache: a few milliseconds per thousand unchanged files, and
 * nothing is written when nothing changed. A folder never backed up gets its first snapshot (catch-up) only
 * at SETTLE_MS, so a user who opens a folder to look, or to restore a project into, acts first.
 */
const STARTUP_DELAY_MS = 500;
const SETTLE_MS = 15_000;
const REMINDER_CHECK_MS = 30 * 60_000;
/** setTimeout's limit; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

async function isEmptyFolder(dir: string): Promise<boolean> {
  try {
    return (await fs.promises.readdir(dir)).length === 0;
  } catch {
    return true;
  }
}

export type RunOutcome = 'done' | 'skipped-here' | 'skipped-elsewhere' | 'failed';

export class Scheduler extends Disposable {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
    private readonly state: vscode.Memento,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
    const early = setTimeout(() => void this.startupScan(false), STARTUP_DELAY_MS);
    const startup = setTimeout(() => void this.startup(), SETTLE_MS);
    const reminders = setInterval(() => void this.remind(), REMINDER_CHECK_MS);
    this.register({ dispose: () => (clearTimeout(early), clearTimeout(startup), clearInterval(reminders)) });
    this.register(
      vscode.workspace.onDidChangeConfiguration(
        (e) => e.affectsConfiguration('projectBackup.schedule') && this.armAll(),
      ),
    );
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.armAll()));
    this.register({ dispose: () => this.timers.forEach((t) => clearTimeout(t)) });
  }

  private key(folder: vscode.WorkspaceFolder): string {
    return `projectBackup.lastScheduled:${folder.uri.toString()}`;
  }

  private async startup(): Promise<void> {
    await this.startupScan(true);
    this.armAll();
    await this.remind();
  }

  /**
   * What changed while the editor was closed (edits, a `git pull` in a terminal) is snapshotted now, with
   * trigger `startup`: a folder with snapshots is scanned (`scanOnStartup`); with `firstSnapshots`, one
   * without gets its first snapshot as the catch-up rule says, never while it is empty (a folder opened to
   * restore a project into must not become a workspace of its own).
   */
  async startupScan(firstSnapshots: boolean): Promise<void> {
    for (const folder of this.service.folders()) {
      const settings = this.service.settings(folder);
      try {
        // No store yet: no snapshots, and looking must not create one.
        const snapshots = (await this.service.storeMade(folder)) ? await this.service.snapshots(folder) : [];
        const last = snapshots.length ? new Date(snapshots[snapshots.length - 1].time) : undefined;
        const due = last
          ? settings.scanOnStartup || catchUpDue(this.now(), last, settings.schedule.catchUpAfterHours)
          : firstSnapshots &&
            catchUpDue(this.now(), undefined, settings.schedule.catchUpAfterHours) &&
            !(await isEmptyFolder(folder.uri.fsPath));
        if (due) await this.run(folder, 'startup');
      } catch (error) {
        this.log.error(
          `Start-up scan of ${folder.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  armAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const folder of this.service.folders()) this.arm(folder);
  }

  private arm(folder: vscode.WorkspaceFolder): void {
    const lastMs = this.state.get<number>(this.key(folder));
    const next = nextRun(this.now(), this.service.settings(folder).schedule, lastMs ? new Date(lastMs) : undefined);
    if (!next) return;
    const wait = Math.min(Math.max(0, next.getTime() - this.now().getTime()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.timers.delete(folder.uri.toString());
      if (next.getTime() > this.now().getTime() + 1000) return this.arm(folder); // woke early (long wait re-armed)
      void this.run(folder, 'schedule').finally(() => this.arm(folder));
    }, wait);
    this.timers.set(folder.uri.toString(), timer);
  }

  /** One scheduled (or catch-up) full snapshot of a folder, unless one is already going here or elsewhere. */
  async run(folder: vscode.WorkspaceFolder, trigger: Trigger): Promise<RunOutcome> {
    const id = folder.uri.toString();
    if (this.running.has(id)) {
      this.log.info(`${folder.name}: scheduled snapshot skipped: one is already running in this window.`);
      return 'skipped-here';
    }
    this.running.add(id);
    try {
      const repo = await this.service.localRepository(folder);
      // Claims are plain files even in an encrypted store: name them by a keyed hash, and no path in the purpose.
      const name = repo.codec.encrypted
        ? repo.codec.id(Buffer.from(this.service.workspaceId(folder))).slice(0, 32)
        : this.service.workspaceId(folder);
      const purpose = repo.codec.encrypted ? 'a scheduled snapshot' : `the scheduled snapshot of ${folder.uri.fsPath}`;
      const claim = await Lock.tryClaim(repo.backend, `schedule-${name}`, purpose, {
        onStale: (info) =>
          this.log.info(`Took over a stale scheduled-snapshot claim of pid ${info.pid} on ${info.host}.`),
      });
      if (!claim) {
        this.log.info(`${folder.name}: scheduled snapshot skipped: another window or process is taking it.`);
        return 'skipped-elsewhere';
      }
      try {
        await this.service.snapshotFolder(folder, { trigger });
        await this.state.update(this.key(folder), this.now().getTime());
        return 'done';
      } finally {
        await claim.release();
      }
    } catch (error) {
      this.log.error(
        `${folder.name}: scheduled snapshot failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return 'failed';
    } finally {
      this.running.delete(id);
    }
  }

  private async remind(): Promise<void> {
    for (const folder of this.service.folders()) {
      const hours = this.service.settings(folder).reminderAfterHours;
      const key = `projectBackup.lastReminder:${folder.uri.toString()}`;
      const last = this.service.status(folder).lastSnapshot;
      const lastReminder = this.state.get<number>(key);
      if (!reminderDue(this.now(), last, lastReminder ? new Date(lastReminder) : undefined, hours)) continue;
      await this.state.update(key, this.now().getTime());
      const ago = last
        ? `for ${plural(Math.floor((this.now().getTime() - last.getTime()) / 3_600_000), 'hour')}`
        : 'yet';
      void vscode.window
        .showWarningMessage(`${folder.name} has had no successful backup ${ago}.`, 'Snapshot Now')
        .then((choice) => {
          if (choice) void vscode.commands.executeCommand(Commands.snapshotWorkspace, folder.uri);
        });
    }
  }
}
