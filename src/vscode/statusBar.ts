// The status bar item: when the workspace was last backed up, a spinner while a snapshot runs, and a
// warning colour when a snapshot failed or none succeeded for too long. Clicking opens the Backups view.

import * as vscode from 'vscode';
import { formatTime } from '../core/format';
import type { BackupService } from './backupService';
import { Views } from './commandIds';
import { Disposable } from './lifecycle';

export function ago(then: Date, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

export class StatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor(private readonly service: BackupService) {
    super();
    this.item = this.register(vscode.window.createStatusBarItem('projectBackup.status', vscode.StatusBarAlignment.Left, 10));
    this.item.name = 'Project Backup';
    this.item.command = `${Views.snapshots}.focus`;
    this.register(service.onDidChangeStatus(() => this.update()));
    const timer = setInterval(() => this.update(), 30_000);
    this.register({ dispose: () => clearInterval(timer) });
    this.update();
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
    const oldest = statuses.some((s) => !s.lastSnapshot) ? undefined : new Date(Math.min(...times.map((t) => t.getTime())));
    const newest = times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : undefined;
    const warnHours = this.service.settings().warnAfterHours;
    const stale = warnHours > 0 && (!oldest || now.getTime() - oldest.getTime() > warnHours * 3_600_000);

    if (busy) this.item.text = '$(sync~spin) Backing up…';
    else if (failed.length) this.item.text = '$(warning) Backup failed';
    else if (newest) this.item.text = `$(history) Backed up ${ago(newest, now)}`;
    else this.item.text = '$(history) Not backed up yet';
    const warn = !busy && (failed.length > 0 || stale);
    this.item.backgroundColor = warn ? new vscode.ThemeColor(failed.length ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground') : undefined;

    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown('**Project Backup**\n\n');
    for (const s of statuses) {
      const when = s.lastSnapshot ? `${formatTime(s.lastSnapshot.toISOString())} (${ago(s.lastSnapshot, now)})` : 'no snapshot yet';
      md.appendMarkdown(`- ${s.folder.name}: ${s.busy ? 'backing up… ' : ''}last snapshot ${when}${s.lastError ? ` · **failed:** ${s.lastError.replace(/[*_`]/g, '')}` : ''}\n`);
    }
    md.appendMarkdown('\nClick to open the Backups view.');
    this.item.tooltip = md;
    this.item.show();
  }
}
