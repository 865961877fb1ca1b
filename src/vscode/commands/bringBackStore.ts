// "Backup: Bring the Store Back from a Destination...": a lost local store comes back from a destination that
// holds a copy (the copy replicated in reverse: core/replicate/bringBack.ts), so backups go on with the whole
// history under the same store id and the destination keeps receiving (a new empty store would have another
// id, which every destination refuses). A restore into the workspace while the store is missing offers the
// same first (its undo snapshot needs the store), as do the views' missing-store rows.

import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder, uriArg } from './shared';
import { bringBackFrom, pickCopy } from '../bringBackFlow';

export function bringBackStore(ctx: CommandContext, arg?: unknown, location?: unknown): Promise<void> {
  return guarded(ctx, 'Bring the store back', async () => {
    const folder = await pickFolder(ctx, 'Bring back the backup store of which folder?', uriArg(arg));
    if (!folder) return;
    const from =
      typeof location === 'string'
        ? location
        : await pickCopy(ctx, folder, 'Bring the store back from which destination?');
    if (!from) return;
    await bringBackFrom(ctx, folder, from, { confirm: true });
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.bringBackStore, run: (ctx, arg, location) => bringBackStore(ctx, arg, location) },
];
