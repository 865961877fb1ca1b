// Settings, read in one typed place and handed to core as plain options. Also resolves the store path's
// variables and says what is wrong with a setting in one sentence.

import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_EXCLUDES } from '../core/scan/rules';
import { redactLocation } from '../core/storage/remote';

export const SECTION = 'projectBackup';

export interface BackupSettings {
  storePath: string;
  snapshotOnSave: boolean;
  saveDebounceMs: number;
  watchExternalChanges: boolean;
  exclude: string[];
  useGitignore: boolean;
  /** Full snapshots take `.git` whole (core Rules.includeGit). */
  includeGitFolder: boolean;
  maxFileSizeMB: number;
  warnAfterHours: number;
  retention: {
    enabled: boolean;
    keepAllWithinHours: number;
    keepHourly: number;
    keepDaily: number;
    keepWeekly: number;
    keepMonthly: number;
    maxSizeMB: number;
  };
  verifySchedule: 'off' | 'daily' | 'weekly';
  schedule: { everyMinutes: number; dailyAt: string; catchUpAfterHours: number };
  /** At start-up, snapshot what changed while the editor was closed (a full scan with the stat cache). */
  scanOnStartup: boolean;
  reminderAfterHours: number;
  mirrorFolder: string;
  destinations: DestinationSetting[];
  replication: { afterSnapshot: boolean; delaySeconds: number; everyHours: number };
}

export interface DestinationSetting {
  location: string;
  offsite?: boolean;
  /** The store this destination holds a copy of; absent: the store of whichever folder uses the setting. */
  store?: string;
}

function destinationsFrom(value: unknown): DestinationSetting[] {
  if (!Array.isArray(value)) return [];
  const out: DestinationSetting[] = [];
  for (const entry of value) {
    // A bare string is accepted too: hand-edited settings often are.
    const location = typeof entry === 'string' ? entry : typeof entry?.location === 'string' ? entry.location : '';
    if (!location.trim()) continue;
    // A password typed into a URL never reaches a log or a record: credentials belong in the keychain.
    out.push({
      location: redactLocation(location.trim()),
      offsite: typeof entry?.offsite === 'boolean' ? entry.offsite : undefined,
      store: typeof entry?.store === 'string' && entry.store.trim() ? entry.store.trim() : undefined,
    });
  }
  return out;
}

export function readSettings(scope?: vscode.ConfigurationScope): BackupSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const number = (key: string, fallback: number) => {
    const value = c.get<number>(key, fallback);
    return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  const exclude = c.get<unknown>('exclude');
  return {
    storePath: c.get<string>('storePath', '~/.project-backup/store') || '~/.project-backup/store',
    snapshotOnSave: c.get<boolean>('snapshotOnSave', true),
    saveDebounceMs: number('saveDebounceMs', 1500),
    watchExternalChanges: c.get<boolean>('watchExternalChanges', true),
    exclude: Array.isArray(exclude) ? exclude.filter((e): e is string => typeof e === 'string') : [...DEFAULT_EXCLUDES],
    useGitignore: c.get<boolean>('useGitignore', false),
    includeGitFolder: c.get<boolean>('includeGitFolder', true),
    maxFileSizeMB: number('maxFileSizeMB', 50),
    warnAfterHours: number('warnAfterHours', 24),
    retention: {
      enabled: c.get<boolean>('retention.enabled', true),
      keepAllWithinHours: number('retention.keepAllWithinHours', 24),
      keepHourly: number('retention.keepHourly', 168),
      keepDaily: number('retention.keepDaily', 30),
      keepWeekly: number('retention.keepWeekly', 52),
      keepMonthly: number('retention.keepMonthly', 0),
      maxSizeMB: number('retention.maxSizeMB', 0),
    },
    verifySchedule:
      (['off', 'daily', 'weekly'] as const).find((v) => v === c.get<string>('verifySchedule')) ?? 'weekly',
    schedule: {
      everyMinutes: number('schedule.everyMinutes', 0),
      dailyAt: c.get<string>('schedule.dailyAt', '') ?? '',
      catchUpAfterHours: number('schedule.catchUpAfterHours', 24),
    },
    scanOnStartup: c.get<boolean>('scanOnStartup', true),
    reminderAfterHours: number('reminderAfterHours', 72),
    // Untrusted workspaces must not choose where we write: only the user's own value counts there.
    mirrorFolder:
      (vscode.workspace.isTrusted
        ? c.get<string>('mirrorFolder', '')
        : c.inspect<string>('mirrorFolder')?.globalValue) ?? '',
    // Same for destinations: a workspace must not be able to send the user's backups to its own server.
    destinations: destinationsFrom(
      vscode.workspace.isTrusted ? c.get<unknown>('destinations') : c.inspect<unknown>('destinations')?.globalValue,
    ),
    replication: {
      afterSnapshot: c.get<boolean>('replication.afterSnapshot', true),
      delaySeconds: number('replication.delaySeconds', 60),
      everyHours: number('replication.everyHours', 24),
    },
  };
}

/** Expands `~`, `${userHome}`, `${workspaceFolder}` and `${workspaceFolderBasename}` in a store path. */
export function resolveStorePath(raw: string, folder: string | undefined): string {
  let value = raw.trim();
  const home = os.homedir();
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) value = home + value.slice(1);
  value = value.replace(/\$\{userHome\}/g, home);
  if (folder) {
    value = value
      .replace(/\$\{workspaceFolder\}/g, folder)
      .replace(/\$\{workspaceFolderBasename\}/g, path.basename(folder));
  }
  return path.resolve(value);
}

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Where to change a folder's store path so the new value wins: where it is set now (a folder's own value
 * over the workspace's over the user's); only the user's in an untrusted workspace.
 */
export function storePathLevel(folder: vscode.WorkspaceFolder): vscode.ConfigurationTarget {
  const info = vscode.workspace.getConfiguration(SECTION, folder.uri).inspect<string>('storePath');
  if (!vscode.workspace.isTrusted) return vscode.ConfigurationTarget.Global;
  if (info?.workspaceFolderValue !== undefined) return vscode.ConfigurationTarget.WorkspaceFolder;
  if (info?.workspaceValue !== undefined) return vscode.ConfigurationTarget.Workspace;
  return vscode.ConfigurationTarget.Global;
}
