// "Backup: Show File History": focuses the File History view on a file (explorer, editor title or active editor).

import * as vscode from 'vscode';
import { Commands, Views } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { fileOf, guarded } from './shared';

export function showFileHistory(ctx: CommandContext, arg: unknown): Promise<void> {
  return guarded(ctx, 'Show File History', async () => {
    const file = fileOf(arg);
    if (!file) {
      void vscode.window.showInformationMessage('Open a file of the workspace to see its history.');
      return;
    }
    ctx.historyView.follow(file);
    await vscode.commands.executeCommand(`${Views.fileHistory}.focus`);
  });
}

export const commands: CommandSpec[] = [{ id: Commands.showFileHistory, run: (ctx, arg) => showFileHistory(ctx, arg) }];
