// The "Snapshots" view: snapshots grouped by day (per folder in a multi-root workspace); each expands to
// what changed in it (added / modified / deleted, deleted files restorable) and "All files" to browse its
// whole tree.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../../core/format';
import { listTree } from '../../core/query/browse';
import { diffTrees } from '../../core/query/diff';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import type { BackupService } from '../backupService';
import { ContextKeys } from '../commandIds';
import { folderShown, snapshotsViewRows } from '../lostStore';
import { Disposable } from '../lifecycle';
import type { Logger } from '../logger';
import type { Node } from './nodes';
import { BrowseNode, DayNode, FolderNode, FolderVersionNode, MessageNode, SnapshotNode, VersionNode, toTreeItem } from './nodes';

const MAX_CHANGES_SHOWN = 500;

export function dayLabel(time: Date, now: Date): string {
  const day = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const diff = Math.round((day(now) - day(time)) / 86_400_000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return time.toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'short', year: time.getFullYear() === now.getFullYear() ? undefined : 'numeric' });
}

export class SnapshotsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this.register(new vscode.EventEmitter<Node | undefined | void>());
  readonly onDidChangeTreeData = this.changed.event;
  private reloadNext = true;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
  ) {
    super();
    this.register(service.onDidChange(() => this.refresh(true)));
  }

  refresh(reload = false): void {
    this.reloadNext ||= reload;
    this.changed.fire();
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    try {
      return await this.children(node);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`Snapshots view: ${message}`);
      return [new MessageNode(message, 'error')];
    }
  }

  private async children(node?: Node): Promise<Node[]> {
    if (!node) {
      const folders = this.service.folders();
      if (folders.length === 1) return this.days(folders[0]);
      // An empty list shows the welcome content (with its "take the first snapshot" button).
      const withSnapshots: Node[] = [];
      for (const folder of folders) if (await folderShown(this.service, folder, this.takeReload())) withSnapshots.push(new FolderNode(folder));
      return withSnapshots.length ? folders.map((f) => new FolderNode(f)) : [];
    }
    switch (node.kind) {
      case 'folder':
        return this.days(node.folder);
      case 'day':
        return [...node.snapshots].reverse().map((s) => new SnapshotNode(node.folder, this.service.storePathFor(node.folder), s));
      case 'snapshot':
        return this.changes(node);
      case 'browse':
        return this.browse(node.folder, node.store, node.snapshot, '');
      case 'folderVersion':
        return this.browse(node.folder, node.store, node.snapshot, node.relPath);
      default:
        return [];
    }
  }

  private takeReload(): boolean {
    const reload = this.reloadNext;
    this.reloadNext = false;
    return reload;
  }

  private async days(folder: vscode.WorkspaceFolder): Promise<Node[]> {
    let snapshots: SnapshotRecord[];
    try {
      snapshots = await this.service.snapshots(folder, this.takeReload());
    } catch (error) {
      // A missing or locked store is a state with a way out, not an error and never an empty history.
      const rows = snapshotsViewRows(this.service, folder, error);
      if (rows) return rows;
      throw error;
    }
    if (snapshots.length === 0) await this.noteOtherWorkspaces(folder);
    const now = new Date();
    const groups = new Map<string, SnapshotRecord[]>();
    for (const s of snapshots) {
      const label = dayLabel(new Date(s.time), now);
      let list = groups.get(label);
      if (!list) groups.set(label, (list = []));
      list.push(s);
    }
    const days = [...groups].map(([label, list]) => ({ label, list, newest: list[list.length - 1].time }));
    days.sort((a, b) => (a.newest < b.newest ? 1 : -1));
    return days.map((d, i) => new DayNode(folder, d.label, d.list, i === 0));
  }

  /** The welcome content says so when the store holds other workspaces (a project to restore here, perhaps). */
  private async noteOtherWorkspaces(folder: vscode.WorkspaceFolder): Promise<void> {
    const all = await (await this.service.repository(folder)).listSnapshots({ onDamaged: () => undefined });
    const id = this.service.workspaceId(folder);
    await vscode.commands.executeCommand('setContext', ContextKeys.otherWorkspaces, all.some((s) => s.workspace.id !== id));
  }

  private async changes(node: SnapshotNode): Promise<Node[]> {
    const repo = await this.service.repository(node.folder);
    const s = node.snapshot;
    const browse = new BrowseNode(node.folder, node.store, s);
    if (!s.parent) return [browse, new MessageNode(`First snapshot: ${plural(s.stats.files, 'file')}`)];
    let parent: SnapshotRecord | undefined;
    try {
      parent = await repo.loadSnapshot(s.parent);
    } catch {
      // The parent was deleted: compare with nothing, so everything shows as the snapshot's content.
    }
    const changes = (await diffTrees(repo, parent?.tree, s.tree)).filter((c) => (c.after ?? c.before)?.type !== 'dir');
    const nodes: Node[] = changes.slice(0, MAX_CHANGES_SHOWN).map((c) =>
      c.kind === 'deleted' && parent
        ? new VersionNode(node.folder, node.store, parent, c.path, c.before, 'deleted', s)
        : new VersionNode(node.folder, node.store, s, c.path, c.after, c.kind),
    );
    if (changes.length > MAX_CHANGES_SHOWN) nodes.push(new MessageNode(`…and ${plural(changes.length - MAX_CHANGES_SHOWN, 'more change')} (browse All files)`));
    if (changes.length === 0) nodes.push(new MessageNode('No file changes (only folders)'));
    return [...nodes, browse];
  }

  private async browse(folder: vscode.WorkspaceFolder, store: string, snapshot: SnapshotRecord, relPath: string): Promise<Node[]> {
    const repo = await this.service.repository(folder);
    const entries = await listTree(repo, snapshot, relPath);
    const dirs = entries.filter((e) => e.entry.type === 'dir').map((e) => new FolderVersionNode(folder, store, snapshot, e.path));
    const files = entries.filter((e) => e.entry.type !== 'dir').map((e) => new VersionNode(folder, store, snapshot, e.path, e.entry));
    return [...dirs, ...files];
  }

  getParent(): undefined {
    return undefined;
  }
}

export function relativeTo(folder: vscode.WorkspaceFolder, uri: vscode.Uri): string {
  return path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
}
