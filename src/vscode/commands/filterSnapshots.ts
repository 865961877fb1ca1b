// "Filter Snapshots...": narrow the Snapshots view to the snapshots that changed a file or folder, that
// carry a label, that are notable moments, or that one kind of trigger took; "Clear Filter" shows them all.

import * as vscode from 'vscode';
import { triggerPhrase } from '../../core/query/timeline';
import type { SnapshotFilter } from '../views/snapshotFilter';
import { FILTER_TRIGGERS } from '../views/snapshotFilter';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { fileOf, guarded, relPath } from './shared';

type Choice = vscode.QuickPickItem & { by: 'path' | 'label' | 'notable' | 'trigger' | 'clear' };

export function filterSnapshots(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Filter Snapshots', async () => {
    // Invoked on a file (the Explorer, an editor title): the snapshots that changed it, without asking.
    const file = arg instanceof vscode.Uri ? fileOf(arg) : undefined;
    const fileFolder = file && vscode.workspace.getWorkspaceFolder(file);
    if (file && fileFolder) return ctx.snapshotsView.setFilter({ path: relPath(fileFolder, file) });

    const current = ctx.snapshotsView.currentFilter();
    const choices: Choice[] = [
      { label: '$(file) Changed a file or folder...', description: 'only the snapshots that changed it', by: 'path' },
      { label: '$(tag) Label contains...', by: 'label' },
      { label: '$(bookmark) Notable moments', description: 'labelled or pinned snapshots only', by: 'notable' },
      { label: '$(zap) Taken by...', description: 'on save, external change, before restore, ...', by: 'trigger' },
      ...(current
        ? [{ label: '$(clear-all) Show all snapshots', description: 'clear the filter', by: 'clear' as const }]
        : []),
    ];
    const choice = await ctx.prompter.pick(choices, 'Show only the snapshots that...');
    if (!choice) return;
    let filter: SnapshotFilter | undefined;
    if (choice.by === 'clear') filter = undefined;
    else if (choice.by === 'notable') filter = { notable: true };
    else if (choice.by === 'path') {
      const active = fileOf(undefined);
      const folder = active && vscode.workspace.getWorkspaceFolder(active);
      const typed = await ctx.prompter.askText(
        'Show the snapshots that changed this file or folder (workspace-relative)',
        'e.g. src/lib or package.json',
        active && folder ? relPath(folder, active) : current?.path,
      );
      if (!typed?.trim()) return;
      filter = {
        path: typed
          .trim()
          .replace(/^\.?\/+/, '')
          .replace(/\/+$/, ''),
      };
    } else if (choice.by === 'label') {
      const typed = await ctx.prompter.askText(
        'Show the snapshots whose label contains',
        'e.g. before switching',
        current?.label,
      );
      if (!typed?.trim()) return;
      filter = { label: typed.trim() };
    } else {
      const items = FILTER_TRIGGERS.map((trigger) => ({ label: triggerPhrase(trigger), trigger }));
      const picked = await ctx.prompter.pickMany(items, 'Filter Snapshots', 'Show the snapshots taken...');
      if (!picked?.length || picked.length === items.length) filter = undefined;
      else filter = { triggers: picked.map((p) => p.trigger) };
    }
    await ctx.snapshotsView.setFilter(filter);
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.filterSnapshots, run: (ctx, arg) => filterSnapshots(ctx, arg) },
  { id: Commands.clearSnapshotFilter, run: (ctx) => ctx.snapshotsView.setFilter(undefined) },
];
