// Whether full snapshots of a folder take its `.git`: the setting, and for a `.git` over
// LARGE_GIT_FOLDER_BYTES the user's answer, asked once per folder and kept; until answered a large one is
// left out, so nobody's disk fills before they say so.

import * as vscode from 'vscode';
import { formatBytes } from '../core/format';
import { LARGE_GIT_FOLDER_BYTES, gitFolderSize } from '../core/snapshot/gitFolder';
import { nodeFs } from '../core/storage/fsPort';
import { SECTION } from './configuration';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { WorkspaceSettings } from './workspaceSettings';

export class GitFolderChoice extends Disposable {
  private readonly asked = new Set<string>();
  private readonly decided = this.register(new vscode.EventEmitter<vscode.WorkspaceFolder>());
  /** The answer for a folder changed: its snapshotter must be rebuilt. */
  readonly onDidDecide = this.decided.event;

  constructor(
    private readonly settings: WorkspaceSettings,
    private readonly log: Logger,
    /** Where answers asked once are kept (global state); tests of the engine room run without. */
    private readonly decisions: vscode.Memento | undefined,
  ) {
    super();
  }

  /** Whether full snapshots of this folder take its `.git`; `ask`: ask about a large one (once per folder). */
  async includesGit(folder: vscode.WorkspaceFolder, ask = false): Promise<boolean> {
    if (!this.settings.settings(folder).includeGitFolder) return false;
    const key = decisionKey(folder);
    const decided = this.decisions?.get<boolean>(key);
    if (decided !== undefined) return decided;
    const size = await gitFolderSize(nodeFs, folder.uri.fsPath);
    if (!size || size.bytes < LARGE_GIT_FOLDER_BYTES) return true;
    if (ask && !this.asked.has(key)) {
      this.asked.add(key);
      this.log.info(
        `${folder.name}: .git is ${formatBytes(size.bytes)}; it is left out of snapshots until you say whether to include it.`,
      );
      void vscode.window
        .showWarningMessage(
          `The git repository of ${folder.name} is ${formatBytes(size.bytes)}. Include it in full snapshots, so a restored project comes back with its whole history? The store grows by about that much.`,
          'Include .git',
          'Leave It Out',
        )
        .then(async (choice) => {
          if (!choice) return;
          await this.decisions?.update(key, choice === 'Include .git');
          this.decided.fire(folder);
          this.log.info(
            `${folder.name}: .git ${choice === 'Include .git' ? 'is included in' : 'is left out of'} full snapshots from now on.`,
          );
        });
    }
    return false;
  }

  /** "Back up the git history": the setting on where it is set, and a large `.git` included. */
  async include(folder: vscode.WorkspaceFolder): Promise<void> {
    const config = vscode.workspace.getConfiguration(SECTION, folder.uri);
    if (!config.get<boolean>('includeGitFolder', true)) {
      const inspected = config.inspect<boolean>('includeGitFolder');
      const target =
        inspected?.workspaceFolderValue !== undefined
          ? vscode.ConfigurationTarget.WorkspaceFolder
          : inspected?.workspaceValue !== undefined
            ? vscode.ConfigurationTarget.Workspace
            : vscode.ConfigurationTarget.Global;
      await config.update('includeGitFolder', true, target);
    }
    await this.decisions?.update(decisionKey(folder), true);
    this.settings.clear();
    this.decided.fire(folder);
  }
}

function decisionKey(folder: vscode.WorkspaceFolder): string {
  return `projectBackup.largeGit:${folder.uri.toString()}`;
}
