// "Undo Last Restore": puts every path the last restore changed back to its pre-restore snapshot, deleting
// what the restore created. The undo itself is a restore, so it can be undone too.

import * as vscode from 'vscode';
import { shortId } from '../../core/format';
import { lastUndo, runRestore, setUndo } from '../restoreFlow';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded } from './shared';

export function undoLastRestore(ctx: CommandContext): Promise<void> {
  return guarded(ctx, 'Undo Last Restore', async () => {
    const record = lastUndo(ctx.state);
    const folder = record && ctx.service.folders().find((f) => f.uri.toString() === record.folder);
    if (!record || !folder) {
      void vscode.window.showInformationMessage('There is no restore to undo in this workspace.');
      await setUndo(ctx.state, undefined);
      return;
    }
    const repo = await ctx.service.repository(folder);
    const snapshot = await repo.loadSnapshot(record.undoSnapshot);
    const result = await runRestore(ctx, {
      folder,
      snapshot,
      paths: record.paths,
      deleteExtra: record.deleteExtra === true,
      missingAsDelete: true,
      title: `Undo the restore (back to snapshot ${shortId(snapshot.id)})`,
    });
    if (result) ctx.log.info(`Undid the restore of ${record.time}.`);
  });
}

export const commands: CommandSpec[] = [{ id: Commands.undoLastRestore, run: (ctx) => undoLastRestore(ctx) }];
