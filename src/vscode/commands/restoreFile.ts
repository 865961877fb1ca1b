// "Restore" a file version (also a deleted file) over the workspace, and "Restore to..." a version, a
// folder or a whole snapshot into any folder, for recovering next to the current work.

import * as path from 'node:path';
import { shortId } from '../../core/format';
import { runRestore } from '../restoreFlow';
import { FolderVersionNode, SnapshotNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveVersion } from './shared';

export function restoreFile(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Restore', async () => {
    const node = await resolveVersion(ctx, arg, 'Restore');
    if (!node) return;
    await runRestore(ctx, {
      folder: node.folder,
      snapshot: node.snapshot,
      paths: [node.relPath],
      deleteExtra: false,
      title: `Restore ${path.posix.basename(node.relPath)} from snapshot ${shortId(node.snapshot.id)}`,
    });
  });
}

export function restoreFileTo(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Restore to...', async () => {
    let request;
    if (arg instanceof SnapshotNode) {
      request = {
        folder: arg.folder,
        snapshot: arg.snapshot,
        paths: [],
        title: `Restore snapshot ${shortId(arg.snapshot.id)}`,
      };
    } else if (arg instanceof FolderVersionNode) {
      request = {
        folder: arg.folder,
        snapshot: arg.snapshot,
        paths: [arg.relPath],
        title: `Restore ${arg.relPath}/ from snapshot ${shortId(arg.snapshot.id)}`,
      };
    } else {
      const node = await resolveVersion(ctx, arg, 'Restore to...');
      if (!node) return;
      request = {
        folder: node.folder,
        snapshot: node.snapshot,
        paths: [node.relPath],
        title: `Restore ${path.posix.basename(node.relPath)} from snapshot ${shortId(node.snapshot.id)}`,
      };
    }
    const target = await ctx.prompter.pickTargetFolder(`${request.title} to...`, 'Restore Here');
    if (!target) return;
    await runRestore(ctx, { ...request, target, deleteExtra: false });
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.restoreFile, run: (ctx, arg) => restoreFile(ctx, arg) },
  { id: Commands.restoreFileTo, run: (ctx, arg) => restoreFileTo(ctx, arg) },
];
