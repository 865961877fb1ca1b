// "Compare with Previous": this version against the version of the same file before it.

import * as vscode from 'vscode';
import { history } from '../../core/query/browse';
import { toSnapshotUri } from '../snapshotUri';
import { VersionNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveVersion } from './shared';
import { ensureTextual, openDiff, versionTitle } from './versionContent';

export function compareWithPrevious(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Compare with Previous', async () => {
    const node = await resolveVersion(ctx, arg, 'Compare with Previous');
    if (!node || !(await ensureTextual(ctx, node))) return;
    const repo = await ctx.service.repository(node.folder);
    const snapshots = await ctx.service.snapshots(node.folder);
    const upTo = snapshots.filter((s) => s.time < node.snapshot.time || s.id === node.snapshot.id);
    const versions = await history(repo, upTo, node.relPath);
    // versions[0] is this one (or an equal one); the first older one with content is "previous".
    const previous = versions.slice(1).find((v) => v.entry && v.snapshot.id !== node.snapshot.id);
    if (!previous) {
      void vscode.window.showInformationMessage(`This is the first version of ${node.relPath}; opening it.`);
      await vscode.window.showTextDocument(node.uri, { preview: true });
      return;
    }
    const prevNode = new VersionNode(node.folder, node.store, previous.snapshot, node.relPath, previous.entry);
    const left = toSnapshotUri({ store: node.store, snapshot: previous.snapshot.id, path: node.relPath });
    await openDiff(left, node.uri, `${versionTitle(prevNode)} ↔ ${versionTitle(node)}`);
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.compareWithPrevious, run: (ctx, arg) => compareWithPrevious(ctx, arg) },
];
