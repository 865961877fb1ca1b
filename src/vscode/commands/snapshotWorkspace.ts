// "Backup: Snapshot Workspace": a full snapshot with an optional label, progress and cancel.

import * as vscode from 'vscode';
import { formatBytes, plural, shortId } from '../../core/format';
import { annotatedText } from '../../core/snapshot/annotate';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder } from './shared';

export function snapshotWorkspace(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Snapshot', async () => {
    const folders = ctx.service.folders();
    let targets = folders;
    if (arg instanceof vscode.Uri) {
      const folder = await pickFolder(ctx, 'Snapshot which folder?', arg);
      targets = folder ? [folder] : [];
    }
    if (targets.length === 0) {
      void vscode.window.showWarningMessage('Open a folder to back it up.');
      return;
    }
    const label = await ctx.prompter.askText('Label for this snapshot (optional)', 'e.g. before the big refactor');
    if (label === undefined) return; // Esc: the user changed their mind
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Backup', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        for (const folder of targets) {
          progress.report({ message: `${folder.name}: scanning…` });
          const result = await ctx.service.snapshotFolder(folder, {
            label: label.trim() || undefined,
            trigger: 'manual',
            signal: controller.signal,
            onProgress: (p) =>
              progress.report({ message: `${folder.name}: ${plural(p.files, 'file')} read, ${formatBytes(p.bytes)}` }),
            onNotice: (message) => progress.report({ message: `${folder.name}: ${message}` }),
          });
          const s = result.snapshot;
          const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
          const where = targets.length > 1 ? ` (${folder.name})` : '';
          void vscode.window.showInformationMessage(
            result.created
              ? `Snapshot ${shortId(s.id)}${where}: ${plural(changed, 'file')} changed, ${formatBytes(s.stats.bytesAdded)} added`
              : `Nothing changed since snapshot ${shortId(s.id)}${where}; no new snapshot was made${annotatedText(result.annotated)}.`,
          );
        }
      },
    );
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.snapshotWorkspace, run: (ctx, arg) => snapshotWorkspace(ctx, arg) },
];
