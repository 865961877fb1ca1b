// "Backup: Verify Backups": a full check of the store (every object re-read and re-hashed), with progress
// and cancel; the result goes to a notification and the log.

import * as vscode from 'vscode';
import type { Maintenance } from '../maintenance';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder } from './shared';

export function verifyBackups(ctx: CommandContext, maintenance: Maintenance, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Verify', async () => {
    const folder = await pickFolder(
      ctx,
      'Verify the backups of which folder?',
      arg instanceof vscode.Uri ? arg : undefined,
    );
    if (!folder) return;
    const repo = await ctx.service.repository(folder);
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Verifying backups', cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        // Phases restart their counts and the tree total grows as folders are found: show words, not a bar.
        const { report } = await maintenance.verify(
          repo,
          { readData: true },
          {
            signal: controller.signal,
            onProgress: (done, total, phase) =>
              progress.report({
                message: `${phase}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`,
              }),
          },
        );
        maintenance.reportVerify(repo.location, report, true);
        void ctx.healthView.refresh();
      },
    );
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.verifyBackups, run: (ctx, arg) => verifyBackups(ctx, ctx.maintenance, arg) },
];
