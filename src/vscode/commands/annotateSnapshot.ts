// Label, Pin, Unpin and Delete on snapshots. Pinned and labelled snapshots are what retention keeps.

import * as vscode from 'vscode';
import { formatTime, shortId } from '../../core/format';
import { applyTag, planTag } from '../../core/snapshot/tagJob';
import { BackupError } from '../../core/errors';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveSnapshot } from './shared';

/** A browsed destination is read only: its history is changed only by commands run against it on purpose. */
function refuseWhileBrowsing(ctx: CommandContext, folder: vscode.WorkspaceFolder): void {
  const browsing = ctx.service.browsing(folder);
  if (browsing) {
    throw new BackupError(
      'USAGE',
      `Snapshots of ${browsing} are shown read only; run "Backup: Use the Local Store Again" to change labels, pins or snapshots.`,
    );
  }
}

export function labelSnapshot(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Label', async () => {
    const node = await resolveSnapshot(ctx, arg, 'Label which snapshot?');
    if (!node) return;
    refuseWhileBrowsing(ctx, node.folder);
    const label = await ctx.prompter.askText(
      `Label for snapshot ${shortId(node.snapshot.id)} (empty removes it)`,
      'e.g. before the big refactor',
      node.snapshot.label,
    );
    if (label === undefined) return;
    await applyTag(await planTag(await ctx.service.repository(node.folder), node.snapshot, { label }));
    ctx.service.fireChanged(node.folder);
  });
}

export function pinSnapshot(ctx: CommandContext, arg: unknown, pinned: boolean): Promise<void> {
  return guarded(ctx, pinned ? 'Pin' : 'Unpin', async () => {
    const node = await resolveSnapshot(ctx, arg, pinned ? 'Pin which snapshot?' : 'Unpin which snapshot?');
    if (!node) return;
    refuseWhileBrowsing(ctx, node.folder);
    await applyTag(await planTag(await ctx.service.repository(node.folder), node.snapshot, { pinned }));
    ctx.service.fireChanged(node.folder);
  });
}

export function deleteSnapshot(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Delete Snapshot', async () => {
    const node = await resolveSnapshot(ctx, arg, 'Delete which snapshot?');
    if (!node) return;
    refuseWhileBrowsing(ctx, node.folder);
    // Planned first: a pinned snapshot is refused before the user is asked.
    const plan = await planTag(await ctx.service.repository(node.folder), node.snapshot, { remove: true });
    const ok = await ctx.prompter.confirm(
      `Delete snapshot ${shortId(node.snapshot.id)} of ${formatTime(node.snapshot.time)}? Versions that exist only in it can no longer be restored.`,
      'Delete',
    );
    if (!ok) return;
    await applyTag(plan);
    ctx.log.info(`Deleted snapshot ${shortId(node.snapshot.id)}.`);
    ctx.service.fireChanged(node.folder);
    void vscode.window.showInformationMessage(`Snapshot ${shortId(node.snapshot.id)} deleted.`);
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.labelSnapshot, run: (ctx, arg) => labelSnapshot(ctx, arg) },
  { id: Commands.pinSnapshot, run: (ctx, arg) => pinSnapshot(ctx, arg, true) },
  { id: Commands.unpinSnapshot, run: (ctx, arg) => pinSnapshot(ctx, arg, false) },
  { id: Commands.deleteSnapshot, run: (ctx, arg) => deleteSnapshot(ctx, arg) },
];
