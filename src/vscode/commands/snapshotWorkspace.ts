// "Backup: Snapshot Workspace": a full snapshot of every workspace folder, with progress and cancel.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError } from '../../core/errors';
import { formatBytes, plural, shortId } from '../../core/format';
import { Repository } from '../../core/repository/repository';
import { Snapshotter } from '../../core/snapshot/snapshotter';

export function defaultStore(): string {
  return path.join(os.homedir(), '.project-backup', 'store');
}

export async function snapshotWorkspace(): Promise<void> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showWarningMessage('Open a folder to back it up.');
    return;
  }
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Backup', cancellable: true },
    async (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      try {
        const repo = await Repository.open(defaultStore(), { create: true });
        for (const folder of folders) {
          const snapshotter = new Snapshotter(repo, { workspace: folder.uri.fsPath, trigger: 'manual' });
          const result = await snapshotter.snapshot({
            signal: controller.signal,
            onProgress: (p) => progress.report({ message: `${folder.name}: ${plural(p.files, 'file')} read` }),
          });
          const s = result.snapshot;
          const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
          void vscode.window.showInformationMessage(
            result.created
              ? `Snapshot ${shortId(s.id)}: ${plural(changed, 'file')} changed, ${formatBytes(s.stats.bytesAdded)} added`
              : `Nothing changed since snapshot ${shortId(s.id)}.`,
          );
        }
      } catch (error) {
        const message = error instanceof BackupError ? error.message : `Snapshot failed: ${String(error)}`;
        void vscode.window.showErrorMessage(message);
      }
    },
  );
}
