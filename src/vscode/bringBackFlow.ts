// Bringing a lost local store back from a destination that holds a copy (the copy replicated in reverse:
// core/replicate/bringBack.ts), so backups go on with the whole history under the same store id. The command
// (commands/bringBackStore.ts), a restore into the workspace while the store is missing (restoreFlow.ts) and
// the views' missing-store rows all come here.

import * as vscode from 'vscode';
import { BackupError } from '../core/errors';
import { formatBytes, plural } from '../core/format';
import { destinationKey } from '../core/health/gather';
import type { BringBackPlan } from '../core/replicate/bringBack';
import type { ReplicationResult } from '../core/replicate/replicate';
import { bringBack, planBringBack } from '../core/replicate/bringBack';
import type { Repository } from '../core/repository/repository';
import type { BackupService } from './backupService';
import { SECTION, resolveStorePath, storePathLevel } from './configuration';
import type { DestinationSetting } from './configuration';
import type { Logger } from './logger';
import type { Prompter } from './prompter';
import type { Replicator } from './replication';
import { destinationsOf } from './replication';
import { knownStoreMissing, missingStoreError } from './storeAccess';

/** What bringing a store back needs; a restore has the first three, a command all of them. */
export interface BringBackContext {
  service: BackupService;
  prompter: Prompter;
  log: Logger;
  replicator?: Replicator;
  /** Backup Health, redrawn once the store is back. */
  healthView?: { refresh(): Promise<unknown> };
}

/**
 * Called by a restore into the workspace before it takes its undo snapshot: when the folder's store is
 * missing, offers to bring it back first (into its folder, or into another one). Resolves true when the
 * store is there (now), false when the user declined (nothing was changed).
 */
export async function bringBackBeforeRestore(ctx: BringBackContext, folder: vscode.WorkspaceFolder): Promise<boolean> {
  if (!(await knownStoreMissing(ctx.service.localStorePath(folder), ctx.service.knownStores))) return true;
  const store = ctx.service.localStorePath(folder);
  const from =
    ctx.service.browsing(folder) ??
    (await pickCopy(ctx, folder, `The backup store at ${store} is missing: bring it back from which destination?`));
  if (!from) return false;
  const choices = [
    {
      label: '$(cloud-download) Bring the store back, then restore',
      description: `from ${from}`,
      detail: `Copies its whole history to ${store}: this restore can be undone, backups go on with the full history, and ${from} keeps receiving copies.`,
      into: 'same' as const,
    },
    {
      label: '$(folder) Bring it back into another folder, then restore...',
      description: `from ${from}`,
      detail: `For when ${store} is on a drive that is gone for good: the store setting moves to the folder you choose.`,
      into: 'other' as const,
    },
  ];
  const picked = await ctx.prompter.pick(
    choices,
    `The backup store at ${store} is missing; the restore needs it for its undo snapshot.`,
  );
  if (!picked) return false;
  let target: string | undefined;
  if (picked.into === 'other') {
    target = (
      await ctx.prompter.pickTargetFolder('Choose an empty folder for the backup store', 'Bring the Store Back Here')
    )?.fsPath;
    if (!target) return false;
  }
  await bringBackFrom(ctx, folder, from, { confirm: false, target });
  return true;
}

/** The destination to bring the store back from: the one being browsed, the only one, or the user's pick. */
export async function pickCopy(
  ctx: BringBackContext,
  folder: vscode.WorkspaceFolder,
  question: string,
): Promise<string | undefined> {
  const browsing = ctx.service.browsing(folder);
  const destinations = destinationsOf(ctx.service, folder);
  if (destinations.length === 0 && !browsing) throw missingStoreError(ctx.service.localStorePath(folder));
  const locations = [...new Set([...(browsing ? [browsing] : []), ...destinations.map((d) => d.location)])];
  if (locations.length === 1) return locations[0];
  const picked = await ctx.prompter.pick(
    locations.map((location) => ({
      label: location,
      description:
        location === browsing
          ? 'being browsed'
          : destinations.find((d) => d.location === location)?.offsite
            ? 'offsite'
            : 'onsite',
    })),
    question,
  );
  return picked?.label;
}

/** Brings the store back from `from` into its folder (or `target`), then carries on with it. */
export async function bringBackFrom(
  ctx: BringBackContext,
  folder: vscode.WorkspaceFolder,
  from: string,
  options: { confirm: boolean; target?: string },
): Promise<void> {
  const { service } = ctx;
  const local = service.localStorePath(folder);
  const browsing = service.browsing(folder);
  const browsed = browsing !== undefined && destinationKey(browsing) === destinationKey(from);
  // The destination being browsed is open already; another one is opened (asking for its passphrase) and closed.
  const own: Repository | undefined = browsed ? undefined : await service.openWithPassphrase(from, {});
  let plan: BringBackPlan;
  let copied: ReplicationResult;
  try {
    const copy = own ?? (await service.repository(folder));
    plan = await planBringBack(copy, options.target ?? local);
    if (options.confirm) {
      const sure = await ctx.prompter.confirm(
        `Bring the backup store back from ${from}? Its whole history (${plural(plan.snapshots, 'snapshot')}, ${formatBytes(plan.bytes)}) is copied to ${plan.to}; backups then go on with it, and ${from} keeps receiving copies. If the store is on a drive that is only unplugged, connect it instead.`,
        'Bring It Back',
      );
      if (!sure) return;
    }
    copied = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Bringing the backup store back from ${from}`,
        cancellable: true,
      },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return bringBack(copy, plan, {
          signal: controller.signal,
          onProgress: (p) =>
            progress.report({
              message: `${plural(p.objectsDone, 'object')} of ${p.objectsTotal.toLocaleString('en-US')}, ${formatBytes(p.bytesDone)}`,
            }),
        });
      },
    );
  } finally {
    await own?.close().catch(() => undefined);
  }
  if (plan.to !== local) await moveStore(folder, local, plan.to);
  if (service.localStorePath(folder) !== plan.to) {
    throw new BackupError(
      'USAGE',
      `The store is back at ${plan.to}, but ${folder.name} still uses ${service.localStorePath(folder)} (a setting elsewhere wins); set projectBackup.storePath to ${plan.to}.`,
    );
  }
  ctx.log.info(
    `The store is back at ${plan.to} from ${from}: ${plural(copied.objectsCopied, 'object')} copied (${formatBytes(copied.bytesCopied)}), ${plural(copied.snapshots, 'snapshot')}.`,
  );
  service.forgetStore(plan.to);
  if (browsing) service.useStore(folder, undefined);
  await service.localRepository(folder); // opening it snapshots the saves kept while it was missing
  service.fireChanged(folder);
  void ctx.healthView?.refresh();
  // The next copy finds nothing to send, and the store remembers it: Backup Health counts the destination again.
  if (
    ctx.replicator &&
    destinationsOf(service, folder).some((d) => destinationKey(d.location) === destinationKey(from))
  ) {
    void ctx.replicator
      .replicateFolder(folder, { interactive: false, only: from })
      .then(() => ctx.healthView?.refresh());
  }
  void vscode.window.showInformationMessage(
    `The backup store is back at ${plan.to} with ${plural(copied.snapshots, 'snapshot')} (${plural(copied.objectsCopied, 'object')}, ${formatBytes(copied.bytesCopied)} copied from ${from}). Backups go on with the whole history.`,
  );
}

/** Points the folder at the store's new folder, and its destinations with it (a destination holds one store). */
async function moveStore(folder: vscode.WorkspaceFolder, from: string, to: string): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION, folder.uri).update('storePath', to, storePathLevel(folder));
  const config = vscode.workspace.getConfiguration(SECTION);
  const mine = config.inspect<unknown>('destinations')?.globalValue;
  if (!Array.isArray(mine)) return;
  const moved = (mine as DestinationSetting[]).map((d) =>
    d && typeof d.store === 'string' && resolveStorePath(d.store, folder.uri.fsPath) === from ? { ...d, store: to } : d,
  );
  await config.update('destinations', moved, vscode.ConfigurationTarget.Global);
}
