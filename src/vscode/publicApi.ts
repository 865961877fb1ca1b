// The door for other extensions (#15), AI agents among them: instead of keeping a shadow git repository of
// their own, they take checkpoints in the user's backup store through this versioned API (the `v1` property
// of what `activate` returns). Checkpoints are ordinary snapshots (trigger `api`), so they show in the views,
// follow retention, are deduplicated with every other snapshot and are restored like them: undoable.
// Versioning: `v1` never changes incompatibly; a later shape is added beside it as `v2`.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { diffTrees } from '../core/query/diff';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import type { BackupService } from './backupService';
import type { Logger } from './logger';
import type { Prompter } from './prompter';
import { lastUndo, runRestore } from './restoreFlow';

export interface Checkpoint {
  id: string;
  /** ISO 8601. */
  time: string;
  label?: string;
  /** `api` for checkpoints; `save`, `manual`, `schedule`... for the user's own snapshots. */
  trigger: string;
  /** Files in the workspace at that moment. */
  files: number;
  /** False when nothing had changed since the latest snapshot: `id` is that snapshot's (it got the label). */
  created?: boolean;
}

export interface CheckpointChange {
  path: string;
  kind: 'added' | 'modified' | 'deleted';
}

export interface CheckpointOptions {
  /** The workspace folder (default: the first). */
  folder?: vscode.Uri;
  label?: string;
  /** Only these files or folders (workspace-relative or absolute): the fast path a save takes. Default: all. */
  paths?: string[];
}

export interface RestoreCheckpointOptions {
  folder?: vscode.Uri;
  /** Only these workspace-relative paths (default: the whole checkpoint, files created since removed). */
  paths?: string[];
  /** Show the same preview the UI shows and let the user confirm (default false: restore at once). */
  showPreview?: boolean;
}

export interface RestoreCheckpointResult {
  restored: number;
  deleted: number;
  /** A snapshot of the state before, so the restore can be undone ("Backup: Undo Last Restore" too). */
  undoId?: string;
}

export interface ProjectBackupApiV1 {
  readonly version: 1;
  checkpoint(options?: CheckpointOptions): Promise<Checkpoint>;
  /** Newest first. */
  list(options?: { folder?: vscode.Uri; limit?: number }): Promise<Checkpoint[]>;
  /** Files that differ from checkpoint `from` to checkpoint `to`. */
  diff(from: string, to: string, options?: { folder?: vscode.Uri }): Promise<CheckpointChange[]>;
  /** Undefined when the user declined the preview, or nothing differed. */
  restore(id: string, options?: RestoreCheckpointOptions): Promise<RestoreCheckpointResult | undefined>;
}

function toCheckpoint(s: SnapshotRecord, created?: boolean): Checkpoint {
  const c: Checkpoint = { id: s.id, time: s.time, trigger: s.trigger, files: s.stats.files };
  if (s.label) c.label = s.label;
  if (created !== undefined) c.created = created;
  return c;
}

export function createApiV1(
  service: BackupService,
  log: Logger,
  state: vscode.Memento,
  prompter: () => Prompter,
): ProjectBackupApiV1 {
  const folderOf = (uri: vscode.Uri | undefined): vscode.WorkspaceFolder => {
    const folders = service.folders();
    const folder = uri
      ? (folders.find((f) => f.uri.toString() === uri.toString()) ?? vscode.workspace.getWorkspaceFolder(uri))
      : folders[0];
    if (!folder || !folders.includes(folder))
      throw new Error(
        uri ? `${uri.toString()} is not a workspace folder this extension backs up.` : 'No workspace folder is open.',
      );
    return folder;
  };
  const find = async (folder: vscode.WorkspaceFolder, id: string): Promise<SnapshotRecord> => {
    const found = (await service.snapshots(folder)).find((s) => s.id === id || (id.length >= 8 && s.id.startsWith(id)));
    if (!found) throw new Error(`No checkpoint ${id} in ${folder.name}.`);
    return found;
  };
  return {
    version: 1,
    async checkpoint(options = {}) {
      const folder = folderOf(options.folder);
      const paths = options.paths?.map((p) => (path.isAbsolute(p) ? p : path.join(folder.uri.fsPath, p)));
      const result = await service.snapshotFolder(folder, {
        trigger: 'api',
        label: options.label,
        ...(paths ? { paths } : {}),
      });
      return toCheckpoint(result.snapshot, result.created);
    },
    async list(options = {}) {
      const all = await service.snapshots(folderOf(options.folder), true);
      return all
        .slice(-(options.limit ?? all.length))
        .reverse()
        .map((s) => toCheckpoint(s));
    },
    async diff(from, to, options = {}) {
      const folder = folderOf(options.folder);
      const [a, b] = [await find(folder, from), await find(folder, to)];
      const changes = await diffTrees(await service.repository(folder), a.tree, b.tree);
      return changes.filter((c) => (c.after ?? c.before)?.type !== 'dir').map((c) => ({ path: c.path, kind: c.kind }));
    },
    async restore(id, options = {}) {
      const folder = folderOf(options.folder);
      const snapshot = await find(folder, id);
      const asker = prompter();
      // Without a preview the caller has decided; the restore is still undoable.
      // Every other question still goes to the real prompter (its methods found through the prototype).
      const decided: Prompter = options.showPreview
        ? asker
        : Object.assign(Object.create(asker) as Prompter, { confirmRestore: async () => true });
      const result = await runRestore(
        { service, prompter: decided, log, state },
        {
          folder,
          snapshot,
          paths: options.paths ?? [],
          deleteExtra: true,
          title: `Restore checkpoint ${snapshot.label ?? snapshot.id.slice(0, 8)}`,
        },
      );
      if (!result) return undefined;
      const undo = lastUndo(state);
      return {
        restored: result.restored,
        deleted: result.deleted,
        ...(undo?.undoSnapshot ? { undoId: undo.undoSnapshot } : {}),
      };
    },
  };
}
