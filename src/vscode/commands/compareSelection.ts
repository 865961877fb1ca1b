// "Select for Compare" remembers a version; "Compare with Selected" diffs another one against it.

import * as vscode from 'vscode';
import { Commands, ContextKeys } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveVersion } from './shared';
import { ensureTextual, openDiff, versionTitle } from './versionContent';

export function selectForCompare(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Select for Compare', async () => {
    const node = await resolveVersion(ctx, arg, 'Select for Compare');
    if (!node) return;
    ctx.selection = node;
    await vscode.commands.executeCommand('setContext', ContextKeys.hasCompareSelection, true);
    vscode.window.setStatusBarMessage(`Selected ${versionTitle(node)} for compare`, 4000);
  });
}

export function compareWithSelected(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Compare with Selected', async () => {
    const selected = ctx.selection;
    if (!selected) {
      void vscode.window.showInformationMessage('Select a version for compare first.');
      return;
    }
    const node = await resolveVersion(ctx, arg, 'Compare with Selected');
    if (!node || !(await ensureTextual(ctx, selected)) || !(await ensureTextual(ctx, node))) return;
    await openDiff(selected.uri, node.uri, `${versionTitle(selected)} ↔ ${versionTitle(node)}`);
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.selectForCompare, run: (ctx, arg) => selectForCompare(ctx, arg) },
  { id: Commands.compareWithSelected, run: (ctx, arg) => compareWithSelected(ctx, arg) },
];
