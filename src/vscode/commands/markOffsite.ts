// "Mark as Offsite" / "Mark as Onsite" on a destination in Backup Health (or from the palette): changes the
// user's word on where a copy is kept, without removing the destination and adding it again. The mark is in
// the user's settings (which win over the one the store recorded at its last copy), so the health view
// counts it at once and the next copy records it.

import * as vscode from 'vscode';
import { destinationKey } from '../../core/health/gather';
import { SECTION } from '../configuration';
import type { DestinationSetting } from '../configuration';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded } from './shared';

/** The destination a health-view node or an argument names. */
function locationOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const copy = (arg as { copy?: { kind?: string; location?: string } } | undefined)?.copy;
  return copy?.kind === 'destination' ? copy.location : undefined;
}

export function markOffsite(ctx: CommandContext, arg: unknown, offsite: boolean): Promise<void> {
  return guarded(ctx, offsite ? 'Mark as offsite' : 'Mark as onsite', async () => {
    const config = vscode.workspace.getConfiguration(SECTION);
    const value = config.inspect<unknown>('destinations')?.globalValue;
    const mine = Array.isArray(value)
      ? (value as DestinationSetting[]).filter((d) => d && typeof d.location === 'string')
      : [];
    let location = locationOf(arg);
    if (!location) {
      const picked = await ctx.prompter.pick(
        mine
          .filter((d) => (d.offsite ?? false) !== offsite)
          .map((d) => ({ label: d.location, description: d.offsite ? 'offsite' : 'onsite' })),
        offsite
          ? 'Which destination is kept in another place?'
          : 'Which destination is kept in the same place as this computer?',
      );
      if (!picked) return;
      location = picked.label;
    }
    const key = destinationKey(location);
    if (!mine.some((d) => destinationKey(d.location) === key)) {
      void vscode.window.showWarningMessage(
        `${location} is not in your destinations (a workspace setting may list it); change its "offsite" there.`,
      );
      return;
    }
    await config.update(
      'destinations',
      mine.map((d) => (destinationKey(d.location) === key ? { ...d, offsite } : d)),
      vscode.ConfigurationTarget.Global,
    );
    ctx.log.info(`Destination ${location} marked ${offsite ? 'offsite' : 'onsite'}.`);
    await ctx.healthView.refresh();
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.markOffsite, run: (ctx, arg) => markOffsite(ctx, arg, true) },
  { id: Commands.markOnsite, run: (ctx, arg) => markOffsite(ctx, arg, false) },
];
