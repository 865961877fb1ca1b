// "Backup: Export Full / Differential / Incremental Archive": a snapshot as an ordinary .zip or .tar.gz that
// needs no Project Backup to restore. Differential: what changed since the last full archive (plus a list of
// deletions); incremental: since the previous archive of any kind. The store records the chain.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatTime, plural, shortId } from '../../core/format';
import { exportArchive } from '../../core/export/archive';
import { summarizeProblems } from '../../core/problemSummary';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import { SnapshotNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder } from './shared';

export type ArchiveKind = 'full' | 'differential' | 'incremental';

const SINCE: Record<ArchiveKind, 'full' | 'last' | undefined> = {
  full: undefined,
  differential: 'full',
  incremental: 'last',
};

export function exportArchiveCommand(ctx: CommandContext, kind: ArchiveKind, arg?: unknown): Promise<void> {
  return guarded(ctx, `Export ${kind} archive`, async () => {
    const folder =
      arg instanceof SnapshotNode ? arg.folder : await pickFolder(ctx, `Export a ${kind} archive of which folder?`);
    if (!folder) return;
    const given: SnapshotRecord | undefined = arg instanceof SnapshotNode ? arg.snapshot : undefined;
    const stamp = formatTime((given ? new Date(given.time) : new Date()).toISOString()).replace(/[: ]/g, '-');
    const defaultUri = vscode.Uri.file(
      path.join(path.dirname(folder.uri.fsPath), `${folder.name}-${kind}-${stamp}.zip`),
    );
    const target = await ctx.prompter.pickSaveFile(
      defaultUri,
      `Export a ${kind} archive of ${folder.name}${given ? ` (snapshot ${shortId(given.id)})` : ''}`,
    );
    if (!target) return;
    // Without a snapshot chosen, the archive is of the workspace as it is now: snapshot first (no new
    // version when nothing changed), after the dialog so a cancelled export leaves nothing behind.
    const snapshot = given ?? (await ctx.service.snapshotFolder(folder, { trigger: 'manual' })).snapshot;
    const repo = await ctx.service.repository(folder);
    const chosen = snapshot;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Exporting ${kind} archive`, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        let shown = 0;
        return exportArchive(repo, {
          snapshot: chosen,
          file: target.fsPath,
          since: SINCE[kind],
          // The save dialog already asked before replacing a file.
          overwrite: true,
          signal: controller.signal,
          onProgress: (done, total) => {
            const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
            progress.report({
              message: `${formatBytes(done)} of ${formatBytes(total)}`,
              increment: Math.max(0, pct - shown),
            });
            shown = Math.max(shown, pct);
          },
        });
      },
    );
    const deleted = result.deleted.length ? `, ${plural(result.deleted.length, 'deletion')} listed` : '';
    for (const skip of result.skipped)
      ctx.log.warn(`Left out of ${path.basename(result.file)}: ${skip.path}: ${skip.reason}`);
    const skipped = result.skipped.length
      ? `. ${summarizeProblems(result.skipped, { verb: 'exported', fullList: '' }).headline} Every one is listed in the log`
      : '';
    ctx.log.info(
      `Exported a ${result.kind} archive of ${folder.name} (snapshot ${shortId(chosen.id)}) to ${result.file}: ${plural(result.files, 'file')}, ${formatBytes(result.bytes)}${deleted}.`,
    );
    void vscode.window
      .showInformationMessage(
        `Exported ${plural(result.files, 'file')} (${formatBytes(result.bytes)}${deleted}) to ${path.basename(result.file)}${skipped}.`,
        'Reveal',
      )
      .then((choice) => {
        if (!choice) return;
        // In a remote or browser window the OS file manager is not ours to open: show it in the explorer when we can.
        const uri = vscode.Uri.file(result.file);
        const inWorkspace = vscode.workspace.getWorkspaceFolder(uri) !== undefined;
        void vscode.commands
          .executeCommand(inWorkspace || vscode.env.remoteName ? 'revealInExplorer' : 'revealFileInOS', uri)
          .then(undefined, (error: unknown) => ctx.log.warn(`Reveal failed: ${String(error)}`));
      });
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.exportFullArchive, run: (ctx, arg) => exportArchiveCommand(ctx, 'full', arg) },
  { id: Commands.exportDifferentialArchive, run: (ctx, arg) => exportArchiveCommand(ctx, 'differential', arg) },
  { id: Commands.exportIncrementalArchive, run: (ctx, arg) => exportArchiveCommand(ctx, 'incremental', arg) },
];
