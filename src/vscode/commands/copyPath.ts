// "Copy Path": the workspace file's absolute path (for a folder node, the folder's).

import * as vscode from 'vscode';
import { FolderVersionNode, VersionNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded } from './shared';

export function copyPath(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Copy Path', async () => {
    if (!(arg instanceof VersionNode) && !(arg instanceof FolderVersionNode)) return;
    await vscode.env.clipboard.writeText(vscode.Uri.joinPath(arg.folder.uri, arg.relPath).fsPath);
  });
}

export const commands: CommandSpec[] = [{ id: Commands.copyPath, run: (ctx, arg) => copyPath(ctx, arg) }];
