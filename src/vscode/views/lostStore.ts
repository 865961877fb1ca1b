// What the views say while a folder's store is missing (a store known to have existed, whose folder is empty
// or gone) or locked (an encrypted store whose passphrase prompt was dismissed): never an empty history ("No
// snapshots yet", "Not backed up yet"), but the state and the way out: bring the store back from a
// destination that holds a copy, browse and restore from one, unlock. The Snapshots view, Backup Health and
// the status bar each ask here, so the decision is made in one place.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../../core/format';
import type { CopyProbe } from '../../core/health/copies';
import { probeCopy } from '../../core/health/copies';
import { nodeFs } from '../../core/storage/fsPort';
import { isRemoteLocation } from '../../core/storage/locate';
import type { BackupService } from '../backupService';
import { Commands } from '../commandIds';
import type { Replicator } from '../replication';
import { destinationsOf } from '../replication';
import type { StoreProblem } from '../storeAccess';
import { storeProblemOf } from '../storeAccess';
import type { Node } from './nodes';
import { MessageNode } from './nodes';

/** A destination's name in a row: the host of a server, the last folder of a path. */
export function destinationName(location: string): string {
  if (isRemoteLocation(location)) {
    try {
      return new URL(location).hostname || location;
    } catch {
      return location;
    }
  }
  return path.basename(location) || location;
}

// ---- the Snapshots view ------------------------------------------------------------------------------

/**
 * The rows the Snapshots view shows for a folder whose snapshots could not be listed because its store is
 * missing or locked; undefined for any other failure (the view shows that as an error).
 */
export function snapshotsViewRows(
  service: BackupService,
  folder: vscode.WorkspaceFolder,
  error: unknown,
): Node[] | undefined {
  const problem = storeProblemOf(error);
  if (!problem) return undefined;
  const store = service.localStorePath(folder);
  const tooltip = error instanceof Error ? error.message : String(error);
  if (problem === 'locked') {
    return [
      new MessageNode('The backup store is encrypted and locked', 'lock', { description: store, tooltip }),
      new MessageNode('Unlock Encrypted Store', 'unlock', {
        command: { title: 'Unlock', command: Commands.unlockStore, arguments: [folder.uri] },
        description: 'its snapshots show here once unlocked; saves made meanwhile are kept and backed up then',
      }),
    ];
  }
  const rows: Node[] = [new MessageNode('The backup store is missing', 'error', { description: store, tooltip })];
  const destinations = destinationsOf(service, folder);
  for (const d of destinations) {
    const name = destinationName(d.location);
    rows.push(
      new MessageNode(`Bring the store back from ${name}`, 'cloud-download', {
        command: {
          title: 'Bring the Store Back',
          command: Commands.bringBackStore,
          arguments: [folder.uri, d.location],
        },
        description: 'its whole history, then backups go on',
        tooltip: `Copies the store from ${d.location} back to ${store}, every snapshot under the same id: backups go on with the full history, and ${d.location} keeps receiving copies.`,
      }),
      new MessageNode(`Browse and restore from ${name}`, 'eye', {
        command: { title: 'Browse and Restore', command: Commands.useDestination, arguments: [folder.uri, d.location] },
        description: d.location,
      }),
    );
  }
  if (destinations.length === 0)
    rows.push(new MessageNode('No destination holds a copy: connect the drive the store is on', 'plug', { tooltip }));
  rows.push(
    new MessageNode('Start a new, empty store', 'add', {
      command: { title: 'Start a New Store', command: Commands.recreateStore, arguments: [folder.uri] },
      description: 'without the missing history',
    }),
  );
  return rows;
}

/** Whether a folder gets its own row in a multi-root Snapshots view: it has snapshots, or its store needs the user. */
export async function folderShown(
  service: BackupService,
  folder: vscode.WorkspaceFolder,
  reload: boolean,
): Promise<boolean> {
  try {
    return (await service.snapshots(folder, reload)).length > 0;
  } catch (error) {
    if (storeProblemOf(error)) return true;
    throw error;
  }
}

// ---- Backup Health -----------------------------------------------------------------------------------

/** A row of Backup Health that is not part of a 3-2-1 report: a state, a copy found elsewhere, a way out. */
export interface HealthRow {
  kind: 'row';
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  color?: string;
  command?: vscode.Command;
  contextValue?: string;
}

/** The summary line of a folder whose store is missing or locked. */
export function problemSummary(
  folder: vscode.WorkspaceFolder,
  problem: StoreProblem,
  copies: readonly CopyProbe[] | undefined,
  error: string,
): HealthRow {
  if (problem === 'locked') {
    const command = { title: 'Unlock', command: Commands.unlockStore, arguments: [folder.uri] };
    return {
      kind: 'row',
      label: 'Store locked: enter its passphrase',
      description: 'Unlock',
      tooltip: error,
      icon: 'lock',
      color: 'problemsErrorIcon.foreground',
      command,
      contextValue: 'healthSummary',
    };
  }
  const holding = (copies ?? []).filter((c) => c.holdsStore);
  return {
    kind: 'row',
    label: 'Local store missing',
    description: holding.length
      ? `${plural(holding.length, 'destination holds', 'destinations hold')} a copy`
      : 'no destination holds a copy',
    tooltip: error,
    icon: 'error',
    color: 'problemsErrorIcon.foreground',
    contextValue: 'healthSummary',
  };
}

/** Under a missing store: each destination, what it holds, and for those holding a copy, the ways back. */
export function missingStoreRows(folder: vscode.WorkspaceFolder, copies: readonly CopyProbe[]): HealthRow[] {
  const rows: HealthRow[] = [];
  for (const copy of copies) {
    const name = destinationName(copy.location);
    if (!copy.holdsStore) {
      rows.push({
        kind: 'row',
        label: name,
        description: copy.error ? `not reachable · ${copy.location}` : `holds no copy · ${copy.location}`,
        tooltip: copy.error,
        icon: 'circle-slash',
        color: 'problemsWarningIcon.foreground',
      });
      continue;
    }
    rows.push(
      {
        kind: 'row',
        label: name,
        description: `holds a copy: ${plural(copy.snapshots ?? 0, 'snapshot')}${copy.encrypted ? ', encrypted' : ''} · ${copy.location}`,
        icon: isRemoteLocation(copy.location) ? 'cloud' : 'server',
        color: 'testing.iconPassed',
      },
      {
        kind: 'row',
        label: `Bring the store back from ${name}`,
        description: 'its whole history; backups go on',
        icon: 'cloud-download',
        command: {
          title: 'Bring the Store Back',
          command: Commands.bringBackStore,
          arguments: [folder.uri, copy.location],
        },
      },
      {
        kind: 'row',
        label: `Browse and restore from ${name}`,
        icon: 'eye',
        command: {
          title: 'Browse and Restore',
          command: Commands.useDestination,
          arguments: [folder.uri, copy.location],
        },
      },
    );
  }
  if (!copies.some((c) => c.holdsStore)) {
    rows.push({
      kind: 'row',
      label: 'Start a new, empty store',
      description: 'without the missing history',
      icon: 'add',
      command: { title: 'Start a New Store', command: Commands.recreateStore, arguments: [folder.uri] },
    });
  }
  return rows;
}

export function healthRowItem(row: HealthRow): vscode.TreeItem {
  const item = new vscode.TreeItem(row.label);
  item.description = row.description;
  item.tooltip = row.tooltip;
  item.iconPath = new vscode.ThemeIcon(row.icon, row.color ? new vscode.ThemeColor(row.color) : undefined);
  item.command = row.command;
  item.contextValue = row.contextValue ?? 'healthRow';
  // Read as shown, then the whole sentence (a string tooltip would otherwise replace the label).
  if (row.tooltip)
    item.accessibilityInformation = {
      label: [row.label, row.description, row.tooltip].filter(Boolean).join('. '),
      role: 'treeitem',
    };
  return item;
}

/** A probe's answer is reused this long: the view redraws often, and asking a server each time is slow. */
const PROBE_TTL_MS = 30_000;

/**
 * What each of a folder's destinations holds, for Backup Health while the folder's store is missing: a
 * folder is read at once, a server asked without prompting (a host key not trusted yet says so).
 */
export function copyProber(
  service: BackupService,
  replicator: Replicator,
): (folder: vscode.WorkspaceFolder) => Promise<CopyProbe[]> {
  const cache = new Map<string, { at: number; probe: Promise<CopyProbe> }>();
  const probe = async (location: string): Promise<CopyProbe> => {
    const remote = isRemoteLocation(location)
      ? { ...(await replicator.remoteOptions(location, false)), timeoutSeconds: 10 }
      : undefined;
    return probeCopy(location, nodeFs, remote);
  };
  return (folder) =>
    Promise.all(
      destinationsOf(service, folder).map((d) => {
        const hit = cache.get(d.location);
        if (hit && Date.now() - hit.at < PROBE_TTL_MS) return hit.probe;
        const fresh = probe(d.location);
        cache.set(d.location, { at: Date.now(), probe: fresh });
        return fresh;
      }),
    );
}

// ---- the status bar ----------------------------------------------------------------------------------

/** The status bar's text when some folder's store is missing or locked (missing wins: it is the worse). */
export function statusBarText(problems: readonly (StoreProblem | undefined)[]): string | undefined {
  if (problems.includes('missing')) return '$(error) Backup store missing';
  if (problems.includes('locked')) return '$(lock) Backups locked';
  return undefined;
}

/** The tooltip line of one folder whose store is missing or locked, with its links. */
export function statusBarLine(folder: vscode.WorkspaceFolder, problem: StoreProblem, store: string): string {
  // The links carry no folder: a command link's arguments arrive as plain JSON, and each command asks for the folder.
  const clean = (text: string) => text.replace(/[*_`[\]]/g, '');
  if (problem === 'locked') {
    return `- ${clean(folder.name)}: **the encrypted store is locked**; saves are kept until it opens · [Unlock](command:${Commands.unlockStore})\n`;
  }
  return `- ${clean(folder.name)}: **the backup store at ${clean(store)} is missing** · [Bring it back from a destination](command:${Commands.bringBackStore}) · [Browse and restore from a destination](command:${Commands.useDestination})\n`;
}

/** Commands the status bar tooltip links to. */
export const STATUS_BAR_COMMANDS: readonly string[] = [
  Commands.unlockStore,
  Commands.bringBackStore,
  Commands.useDestination,
];
