// The status bar item: when the workspace was last backed up, a spinner while a snapshot runs, and a
// warning colour when a snapshot failed or none succeeded for too long. Clicking opens the Backups view.

import * as vscode from 'vscode';
import { formatTime } from '../../core/format';
import type { BackupService } from '../backupService';
import { Commands, Views } from '../commandIds';
import { healthSummary } from '../../core/health/health';
import type { Replicator } from '../replication';
import type { HealthView } from './healthView';
import { Disposable } from '../lifecycle';
import { STATUS_BAR_COMMANDS, statusBarLine, statusBarText } from './lostStore';
import { ago } from '../timeAgo';

export class StatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(
    private readonly service: BackupService,
    private readonly health?: HealthView,
    private readonly replicator?: Replicator,
  ) {
    super();
    this.item = this.register(
      vscode.window.createStatusBarItem('projectBackup.status', vscode.StatusBarAlignment.Left, 10),
    );
    this.item.name = 'Project Backup';
    this.item.command = `${Views.snapshots}.focus`;
    this.register(service.onDidChangeStatus(() => this.update()));
    if (health) this.register(health.onDidUpdate(() => this.update()));
    if (replicator) this.register(replicator.onDidChange(() => this.update()));
    const timer = setInterval(() => this.update(), 30_000);
    this.register({ dispose: () => clearInterval(timer) });
    this.update();
  }

  /** The item's text (tests read what a user sees). */
  text(): string {
    return this.item.text;
  }

  /** The tooltip as text (tests read what a user would see on hover). */
  tooltipText(): string {
    const tooltip = this.item.tooltip;
    return typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
  }

  update(): void {
    const folders = this.service.folders();
    if (folders.length === 0) {
      this.item.hide();
      return;
    }
    const now = new Date();
    const statuses = folders.map((f) => this.service.status(f));
    const busy = statuses.some((s) => s.busy);
    const failed = statuses.filter((s) => s.lastError);
    const times = statuses.map((s) => s.lastSnapshot).filter((t): t is Date => t !== undefined);
    const oldest = statuses.some((s) => !s.lastSnapshot)
      ? undefined
      : new Date(Math.min(...times.map((t) => t.getTime())));
    const newest = times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
    const warnHours = this.service.settings().warnAfterHours;
    const stale = warnHours > 0 && (!oldest || now.getTime() - oldest.getTime() > warnHours * 3_600_000);
    // A missing or locked store is said as such, never "Not backed up yet" (lostStore.ts).
    const problem = statusBarText(statuses.map((s) => s.store));

    const loading = statuses.some((s) => !s.loaded);
    const unreadable = statuses.filter((s) => s.loadError);
    if (busy) this.item.text = '$(sync~spin) Backing up…';
    else if (problem) this.item.text = problem;
    else if (this.replicator?.busy) this.item.text = '$(sync~spin) Replicating…';
    else if (failed.length) this.item.text = '$(warning) Backup failed';
    else if (unreadable.length) this.item.text = '$(warning) Backups unavailable';
    else if (newest) this.item.text = `$(history) Backed up ${ago(newest, now)}`;
    // Until the store has been read, "not backed up" could be a lie about a well-backed-up workspace.
    else if (loading) this.item.text = '$(loading~spin) Loading backups…';
    else this.item.text = '$(history) Not backed up yet';
    const missing = statuses.some((s) => s.store === 'missing');
    const warn =
      !busy && (problem !== undefined || (!loading && (failed.length > 0 || unreadable.length > 0 || stale)));
    this.item.backgroundColor = warn
      ? new vscode.ThemeColor(
          failed.length || missing ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground',
        )
      : undefined;

    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown('**Project Backup**\n\n');
    for (const s of statuses) {
      if (s.store) {
        md.appendMarkdown(statusBarLine(s.folder, s.store, this.service.localStorePath(s.folder)));
        continue;
      }
      const when = s.lastSnapshot
        ? `${formatTime(s.lastSnapshot.toISOString())} (${ago(s.lastSnapshot, now)})`
        : s.loaded
          ? 'no snapshot yet'
          : 'loading…';
      md.appendMarkdown(
        `- ${s.folder.name}: ${s.busy ? 'backing up… ' : ''}last snapshot ${when}${s.lastError ? ` · **failed:** ${s.lastError.replace(/[*_`]/g, '')}` : ''}\n`,
      );
      if (s.loadError && !s.lastError)
        md.appendMarkdown(`  - **cannot read the backups:** ${s.loadError.replace(/[*_`[\]]/g, '')}\n`);
      const browsing = this.service.browsing(s.folder);
      if (browsing) md.appendMarkdown(`  - browsing the destination ${browsing.replace(/[*_`[\]]/g, '')}\n`);
      const health = this.health?.cached(s.folder);
      if (health?.report) {
        md.appendMarkdown(`  - ${healthSummary(health.report)}${health.report.encrypted ? ' · encrypted' : ''}\n`);
        for (const gap of health.report.gaps.slice(0, 3))
          md.appendMarkdown(`  - $(warning) ${gap.message.replace(/[*_`[\]]/g, '')}\n`);
      } else if (health?.error) {
        md.appendMarkdown(`  - health unknown: ${health.error.replace(/[*_`[\]]/g, '')}\n`);
      }
    }
    if (this.replicator?.busy) md.appendMarkdown('\nReplicating to the destinations…\n');
    md.appendMarkdown(`\nClick to open the Backups view · [Backup Health](command:${Commands.showHealth})`);
    md.isTrusted = { enabledCommands: [Commands.showHealth, ...STATUS_BAR_COMMANDS] };
    this.item.tooltip = md;
    this.item.show();
  }
}
