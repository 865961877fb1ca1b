// "Open This Version": the version read-only in an editor (syntax colouring and search work on it).

import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveVersion } from './shared';
import { ensureTextual } from './versionContent';

export function openVersion(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Opening the version', async () => {
    const node = await resolveVersion(ctx, arg, 'Open');
    if (!node || !(await ensureTextual(ctx, node))) return;
    await vscode.window.showTextDocument(node.uri, { preview: true });
  });
}

export const commands: CommandSpec[] = [{ id: Commands.openVersion, run: (ctx, arg) => openVersion(ctx, arg) }];
