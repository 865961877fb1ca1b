// The folders the editor backs up and their settings, read once and kept until the configuration changes,
// and where each folder's store is (the user's setting only, in an untrusted workspace).

import * as vscode from 'vscode';
import type { BackupSettings } from './configuration';
import { SECTION, readSettings, resolveStorePath } from './configuration';

export class WorkspaceSettings {
  private readonly cache = new Map<string, BackupSettings>();

  constructor(
    /** Folders that are never backed up (snapshots opened as folders: snapshotFolders.ts). */
    private readonly ignoreFolder: (uri: vscode.Uri) => boolean = () => false,
  ) {}

  folders(): readonly vscode.WorkspaceFolder[] {
    return (vscode.workspace.workspaceFolders ?? []).filter(
      (f) => f.uri.scheme === 'file' && !this.ignoreFolder(f.uri),
    );
  }

  settings(folder?: vscode.WorkspaceFolder): BackupSettings {
    const key = folder?.uri.toString() ?? '';
    let settings = this.cache.get(key);
    if (!settings) this.cache.set(key, (settings = readSettings(folder?.uri)));
    return settings;
  }

  /** Forgets what was read (the configuration changed). */
  clear(): void {
    this.cache.clear();
  }

  /** The folder's configured store: where snapshots are written, even while a destination is browsed. */
  localStorePath(folder: vscode.WorkspaceFolder): string {
    const raw = vscode.workspace.isTrusted ? this.settings(folder).storePath : readUserStorePath();
    return resolveStorePath(raw, folder.uri.fsPath);
  }

  /** The user's store without a folder (a window with none); undefined when it is spelled per folder. */
  defaultStorePath(): string | undefined {
    const raw = readUserStorePath();
    return /\$\{workspaceFolder/.test(raw) ? undefined : resolveStorePath(raw, undefined);
  }
}

/** The store path from user settings only (untrusted workspaces must not choose where we write). */
function readUserStorePath(): string {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<string>('storePath');
  return inspected?.globalValue ?? inspected?.defaultValue ?? '~/.project-backup/store';
}
