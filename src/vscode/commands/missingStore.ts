// "Backup: Start a New Store Where the Missing One Was": the one way past a known store that has gone
// missing (see knownStores.ts). Asks first, since the new store starts empty; then snapshots into it.

import * as vscode from 'vscode';
import { storeExists } from '../storeAccess';
import type { CommandContext } from './shared';
import { guarded, pickFolder, uriArg } from './shared';

export function recreateStore(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Start a new store', async () => {
    const folder = await pickFolder(ctx, 'Start a new store for which folder?', uriArg(arg));
    if (!folder) return;
    const store = ctx.service.localStorePath(folder);
    if (await storeExists(store)) {
      void vscode.window.showInformationMessage(`The backup store at ${store} is there; there is nothing to start again.`);
      return;
    }
    const confirmed = await ctx.prompter.confirm(
      `Start a new, empty store at ${store}? The snapshots of the missing store are not in it. If the missing store is on a drive that is not connected, connect it instead.`,
      'Start New Store',
    );
    if (!confirmed) return;
    await ctx.service.knownStores?.forget(store);
    ctx.service.forgetStore(store);
    ctx.log.info(`A new store was started at ${store}, in place of the missing one.`);
    const result = await ctx.service.snapshotFolder(folder, { trigger: 'manual', label: 'first snapshot in the new store' });
    ctx.service.fireChanged(folder);
    void ctx.healthView.refresh();
    void vscode.window.showInformationMessage(`New store started at ${store}: snapshot ${result.snapshot.id.slice(0, 8)} holds ${folder.name} as it is now.`);
  });
}
