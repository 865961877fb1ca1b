// Commands of the views and the window: refresh, Backup Health, the log and the settings.

import * as vscode from 'vscode';
import { Commands, Views } from '../commandIds';
import type { CommandSpec } from './shared';

export const commands: CommandSpec[] = [
  {
    id: Commands.refresh,
    run: (ctx) => {
      ctx.snapshotsView.refresh(true);
      ctx.service.fireChanged();
    },
  },
  {
    id: Commands.showHealth,
    run: async (ctx) => {
      await vscode.commands.executeCommand(`${Views.health}.focus`);
      await ctx.healthView.refresh();
    },
  },
  { id: Commands.refreshHealth, run: (ctx) => ctx.healthView.refresh() },
  { id: Commands.showLog, run: (ctx) => ctx.showLog() },
  {
    id: Commands.openSettings,
    run: () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:project-backup.project-backup'),
  },
];
