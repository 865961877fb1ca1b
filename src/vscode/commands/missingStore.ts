// "Backup: Start a New Store Where the Missing One Was": the one way past a known store that has gone
// missing (see knownStores.ts). Asks first, since the new store starts empty; then snapshots into it.

import * as vscode from 'vscode';
import { plural } from '../../core/format';
import { Commands } from '../commandIds';
import { destinationsOf } from '../replication';
import { storeExists } from '../storeAccess';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder, uriArg } from './shared';

export function recreateStore(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Start a new store', async () => {
    const folder = await pickFolder(ctx, 'Start a new store for which folder?', uriArg(arg));
    if (!folder) return;
    const store = ctx.service.localStorePath(folder);
    if (await storeExists(store)) {
      void vscode.window.showInformationMessage(
        `The backup store at ${store} is there; there is nothing to start again.`,
      );
      return;
    }
    const copies = destinationsOf(ctx.service, folder);
    if (copies.length > 0) {
      // Destinations hold the missing store's history, and refuse a new store (it has another id).
      const how = await ctx.prompter.pick(
        [
          {
            label: '$(cloud-download) Bring the missing store back from a destination',
            detail: `${plural(copies.length, 'destination holds', 'destinations hold')} its history; they keep receiving copies of it.`,
            back: true,
          },
          {
            label: '$(add) Start a new, empty store anyway',
            detail: 'Its destinations hold the old store and refuse the new one: it needs destinations of its own.',
            back: false,
          },
        ],
        'Destinations hold copies of the missing store.',
      );
      if (!how) return;
      if (how.back) {
        await vscode.commands.executeCommand(Commands.bringBackStore, folder.uri);
        return;
      }
    }
    const confirmed = await ctx.prompter.confirm(
      `Start a new, empty store at ${store}? The snapshots of the missing store are not in it. If the missing store is on a drive that is not connected, connect it instead.`,
      'Start New Store',
    );
    if (!confirmed) return;
    await ctx.service.knownStores?.forget(store);
    ctx.service.forgetStore(store);
    ctx.log.info(`A new store was started at ${store}, in place of the missing one.`);
    const result = await ctx.service.snapshotFolder(folder, {
      trigger: 'manual',
      label: 'first snapshot in the new store',
    });
    ctx.service.fireChanged(folder);
    void ctx.healthView.refresh();
    void vscode.window.showInformationMessage(
      `New store started at ${store}: snapshot ${result.snapshot.id.slice(0, 8)} holds ${folder.name} as it is now.`,
    );
  });
}

export const commands: CommandSpec[] = [{ id: Commands.recreateStore, run: (ctx, arg) => recreateStore(ctx, arg) }];
