// "Backup: Back Up the Git History": full snapshots of a folder take its `.git` from now on (gitChoice.ts),
// and one is taken now.

import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { CommandSpec } from './shared';
import { guarded } from './shared';

export const commands: CommandSpec[] = [
  {
    id: Commands.includeGitFolder,
    run: (ctx, arg) =>
      guarded(ctx, 'Back up the git history', async () => {
        const { service } = ctx;
        const folder =
          service.folders().find((f) => arg instanceof vscode.Uri && f.uri.toString() === arg.toString()) ??
          (await ctx.prompter.pickFolder(service.folders(), 'Back up the git history of which folder?'));
        if (!folder) return;
        const result = await service.includeGitFolder(folder);
        ctx.healthView.refreshSoon();
        void vscode.window.showInformationMessage(
          `The git history of ${folder.name} is backed up from now on (snapshot ${result.snapshot.id.slice(0, 8)}).`,
        );
      }),
  },
];
