// "Restore Snapshot" and "Restore Folder": bring the workspace (or one folder of it) back to exactly how it
// was, including removing files created since. A pre-restore snapshot makes it undoable.

import { formatTime, shortId } from '../../core/format';
import { runRestore } from '../restoreFlow';
import { FolderVersionNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveSnapshot } from './shared';

export function restoreSnapshot(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Restore Snapshot', async () => {
    const node = await resolveSnapshot(ctx, arg, 'Restore which snapshot?');
    if (!node) return;
    await runRestore(ctx, {
      folder: node.folder,
      snapshot: node.snapshot,
      paths: [],
      deleteExtra: true,
      title: `Restore snapshot ${shortId(node.snapshot.id)} (${formatTime(node.snapshot.time)})`,
    });
  });
}

export function restoreFolder(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Restore Folder', async () => {
    if (!(arg instanceof FolderVersionNode)) return;
    await runRestore(ctx, {
      folder: arg.folder,
      snapshot: arg.snapshot,
      paths: [arg.relPath],
      deleteExtra: true,
      title: `Restore folder ${arg.relPath}/ from snapshot ${shortId(arg.snapshot.id)}`,
    });
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.restoreSnapshot, run: (ctx, arg) => restoreSnapshot(ctx, arg) },
  { id: Commands.restoreFolder, run: (ctx, arg) => restoreFolder(ctx, arg) },
];
