// "Compare with Current": the version on the left, the live file on the right.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, resolveVersion } from './shared';
import { ensureTextual, openDiff, versionTitle } from './versionContent';

export function compareWithCurrent(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Compare with Current', async () => {
    const node = await resolveVersion(ctx, arg, 'Compare with Current');
    if (!node || !(await ensureTextual(ctx, node))) return;
    const current = vscode.Uri.joinPath(node.folder.uri, node.relPath);
    if (!fs.existsSync(current.fsPath)) {
      const choice = await vscode.window.showInformationMessage(
        `${node.relPath} no longer exists in the workspace.`,
        'Open This Version',
        'Restore',
      );
      if (choice === 'Open This Version') await vscode.commands.executeCommand(Commands.openVersion, node);
      if (choice === 'Restore') await vscode.commands.executeCommand(Commands.restoreFile, node);
      return;
    }
    const name = current.path.split('/').pop();
    await openDiff(node.uri, current, `${versionTitle(node)} ↔ ${name} (current)`);
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.compareWithCurrent, run: (ctx, arg) => compareWithCurrent(ctx, arg) },
];
