// "Backup: Open Snapshot as Folder": a snapshot written out read-only and added to the workspace
// (snapshotFolders.ts).

import { Commands } from '../commandIds';
import type { CommandSpec } from './shared';
import { guarded, resolveSnapshot } from './shared';

export const commands: CommandSpec[] = [
  {
    id: Commands.openSnapshotAsFolder,
    run: (ctx, arg) =>
      guarded(ctx, 'Open Snapshot as Folder', async () => {
        const node = await resolveSnapshot(ctx, arg, 'Open which snapshot as a folder?');
        if (!node) return;
        await ctx.snapshotFolders.open(await ctx.service.repository(node.folder), node.snapshot, node.folder.name);
      }),
  },
];
