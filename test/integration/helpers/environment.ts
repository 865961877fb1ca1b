// What the launcher set up for the integration suite: the workspace it opened and the per-run store.

import * as vscode from 'vscode';

/** publisher.name from package.json. */
export const EXTENSION_ID = 'project-backup.project-backup';

export type WorkspaceMode = 'single-folder' | 'multi-root';

/** `--multi-root` opens a .code-workspace with two folders (workspace, library); otherwise one folder. */
export function workspaceMode(): WorkspaceMode {
  return vscode.workspace.workspaceFile !== undefined && (vscode.workspace.workspaceFolders?.length ?? 0) > 1
    ? 'multi-root'
    : 'single-folder';
}

/** Every open workspace folder; fails the test when none is open. */
export function workspaceFolders(): readonly vscode.WorkspaceFolder[] {
  const folders = vscode.workspace.workspaceFolders;
  if (!folders || folders.length === 0) throw new Error('the launcher opened no workspace folder');
  return folders;
}

/**
 * The store the launcher configured (`projectBackup.storePath`, an absolute per-run temp folder). The launchers
 * write it into the user settings and, for code-server, where every window is remote and the setting is
 * machine-scoped, into the remote (Machine) settings too. Fails when only the default is visible.
 */
export function configuredStorePath(): string {
  const info = vscode.workspace.getConfiguration('projectBackup').inspect<string>('storePath');
  const value = info?.workspaceFolderValue ?? info?.workspaceValue ?? info?.globalValue;
  if (!value) throw new Error('projectBackup.storePath is not set in the test settings (only its default is visible)');
  return value;
}
