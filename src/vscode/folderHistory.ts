// Reading a folder's history: its workspace id, its snapshots (and those of the workspaces it continues),
// and the rules a query applies to its files. Reading notes in the folder's status whether it could be read.

import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import { workspaceSnapshots } from '../core/query/lineage';
import type { Repository } from '../core/repository/repository';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { Rules } from '../core/scan/rules';
import { workspaceIdFor } from '../core/workspace/workspace';
import { isRemoteLocation } from '../core/storage/locate';
import type { FolderStatuses } from './folderStatus';
import type { Logger } from './logger';
import type { Stores } from './stores';
import type { WorkspaceSettings } from './workspaceSettings';

export class FolderHistory {
  private readonly workspaceIds = new Map<string, string>();

  constructor(
    private readonly settings: WorkspaceSettings,
    private readonly stores: Stores,
    private readonly statuses: FolderStatuses,
    private readonly log: Logger,
  ) {}

  workspaceId(folder: vscode.WorkspaceFolder): string {
    const key = folder.uri.fsPath;
    let id = this.workspaceIds.get(key);
    if (!id) {
      let real = folder.uri.fsPath;
      try {
        real = fs.realpathSync(real);
      } catch {
        // A folder that is gone still has history: fall back to its path.
      }
      this.workspaceIds.set(key, (id = workspaceIdFor(real)));
    }
    return id;
  }

  /** The folder's snapshots, oldest first. `reload` re-reads labels and pins changed elsewhere. */
  async snapshots(folder: vscode.WorkspaceFolder, reload = false): Promise<SnapshotRecord[]> {
    let mine: SnapshotRecord[];
    try {
      const repo = await this.stores.repository(folder);
      // Its own snapshots and those of the workspaces it continues (a moved or renamed project).
      mine = await workspaceSnapshots(repo, this.workspaceId(folder), {
        reload,
        onDamaged: (key, error) => this.log.warn(`${key}: ${error.message}`),
      });
    } catch (error) {
      this.statuses.noteLoaded(folder, error instanceof Error ? error.message : String(error));
      throw error;
    }
    const latest = mine[mine.length - 1];
    this.statuses.noteLoaded(folder, undefined);
    if (latest) this.statuses.noteSuccess(folder, new Date(latest.time), false);
    return mine;
  }

  /** Reads every folder's history once, in the background, so the status bar knows what to say. */
  async loadStatuses(): Promise<void> {
    await Promise.all(
      this.settings.folders().map(async (folder) => {
        // A store that was never made is not made just to say so (one that went missing is an error to show).
        if (!(await this.stores.storeMade(folder))) return this.statuses.noteLoaded(folder, undefined);
        await this.snapshots(folder).catch(() => undefined);
      }),
    );
  }

  rules(folder: vscode.WorkspaceFolder, repo: Repository): Rules {
    const settings = this.settings.settings(folder);
    return new Rules({
      excludes: settings.exclude,
      gitignore: settings.useGitignore,
      excludeAbsolute: isRemoteLocation(repo.location) ? [] : [repo.location],
    });
  }
}
