// The "Snapshots" view: the timeline (core/query/timeline.ts) of each folder: days, and under each its work
// sessions and its labelled, pinned and notable snapshots; a session expands to its snapshots, a snapshot to
// what changed in it (added / modified / deleted, deleted files restorable) and "All files" to browse its
// whole tree. A filter (by trigger, label, or a path: only the snapshots that changed it) narrows it.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural } from '../../core/format';
import { listTree } from '../../core/query/browse';
import { diffTrees } from '../../core/query/diff';
import { buildTimeline } from '../../core/query/timeline';
import type { DayItem, SessionRow } from '../../core/query/timeline';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import { Limiter } from '../../core/limiter';
import type { BackupService } from '../backupService';
import { ContextKeys, Views } from '../commandIds';
import { folderShown, snapshotsViewRows } from './lostStore';
import { Disposable } from '../lifecycle';
import type { Logger } from '../logger';
import type { Node } from './nodes';
import {
  BrowseNode,
  DayNode,
  FolderNode,
  FolderVersionNode,
  MessageNode,
  SessionNode,
  SnapshotNode,
  VersionNode,
  toTreeItem,
} from './nodes';
import type { SnapshotFilter } from './snapshotFilter';
import { describeFilter, filterSnapshots } from './snapshotFilter';

const MAX_CHANGES_SHOWN = 500;

export { dayLabel } from '../../core/query/timeline';

export class SnapshotsView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this.register(new vscode.EventEmitter<Node | undefined | void>());
  readonly onDidChangeTreeData = this.changed.event;
  private reloadNext = true;
  private filter: SnapshotFilter | undefined;
  /** Files a session changed (its first snapshot's parent against its last), by the two trees: diffs are not redone on refresh. */
  private readonly sessionFiles = new Map<string, number>();
  private readonly diffs = new Limiter(4);
  /** The tree view showing this provider: its description names the filter. */
  private readonly view: vscode.TreeView<Node>;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
  ) {
    super();
    this.view = this.register(
      vscode.window.createTreeView(Views.snapshots, { treeDataProvider: this, showCollapseAll: true }),
    );
    this.register(service.onDidChange(() => this.refresh(true)));
  }

  refresh(reload = false): void {
    this.reloadNext ||= reload;
    this.changed.fire();
  }

  /** Narrows the view (undefined: everything again); the view's title says what it shows. */
  async setFilter(filter: SnapshotFilter | undefined): Promise<void> {
    this.filter = filter;
    this.view.description = filter ? describeFilter(filter) : undefined;
    await vscode.commands.executeCommand('setContext', ContextKeys.filtered, filter !== undefined);
    this.refresh();
  }

  currentFilter(): SnapshotFilter | undefined {
    return this.filter;
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
      for (const folder of folders)
        if (await folderShown(this.service, folder, this.takeReload())) withSnapshots.push(new FolderNode(folder));
      return withSnapshots.length ? folders.map((f) => new FolderNode(f)) : [];
    }
    switch (node.kind) {
      case 'folder':
        return this.days(node.folder);
      case 'day':
        return this.dayItems(node.folder, node.items);
      case 'session':
        return [...node.session.snapshots].reverse().map((s) => new SnapshotNode(node.folder, node.store, s));
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
    return this.timeline(folder, snapshots);
  }

  /** The days of the timeline, of the snapshots the filter lets through. */
  private async timeline(folder: vscode.WorkspaceFolder, snapshots: SnapshotRecord[]): Promise<Node[]> {
    if (!this.filter || snapshots.length === 0)
      return buildTimeline(snapshots, new Date()).map(
        (d) => new DayNode(folder, d.label, d.items, d.count, d.expanded),
      );
    const shown = await filterSnapshots(await this.service.repository(folder), folder, snapshots, this.filter);
    // Never an empty view while filtering: it would show the welcome ("no snapshots yet").
    if (shown.length === 0) return [new MessageNode(`No snapshot ${describeFilter(this.filter)}.`, 'filter')];
    const days = buildTimeline(shown, new Date());
    return days.map((d) => new DayNode(folder, d.label, d.items, d.count, d.expanded));
  }

  /** A day's rows: each session with the files it changed (diffed once per session, a few at a time). */
  private async dayItems(folder: vscode.WorkspaceFolder, items: DayItem[]): Promise<Node[]> {
    const store = this.service.storePathFor(folder);
    const repo = await this.service.repository(folder);
    return Promise.all(
      items.map(async (item) => {
        if (item.kind === 'snapshot') return new SnapshotNode(folder, store, item.snapshot);
        const files = await this.diffs.run(() => this.filesOf(repo, item)).catch(() => undefined);
        return new SessionNode(folder, store, item, files);
      }),
    );
  }

  private async filesOf(
    repo: Awaited<ReturnType<BackupService['repository']>>,
    session: SessionRow,
  ): Promise<number | undefined> {
    const first = session.snapshots[0];
    const last = session.snapshots[session.snapshots.length - 1];
    const parent = first.parent ? await repo.loadSnapshot(first.parent).catch(() => undefined) : undefined;
    const key = `${parent?.tree ?? '-'}:${last.tree}`;
    const known = this.sessionFiles.get(key);
    if (known !== undefined) return known;
    const files = (await diffTrees(repo, parent?.tree, last.tree)).filter(
      (c) => (c.after ?? c.before)?.type !== 'dir',
    ).length;
    if (this.sessionFiles.size > 500) this.sessionFiles.clear();
    this.sessionFiles.set(key, files);
    return files;
  }

  /** The welcome content says so when the store holds other workspaces (a project to restore here, perhaps). */
  private async noteOtherWorkspaces(folder: vscode.WorkspaceFolder): Promise<void> {
    const all = await (await this.service.repository(folder)).listSnapshots({ onDamaged: () => undefined });
    const id = this.service.workspaceId(folder);
    await vscode.commands.executeCommand(
      'setContext',
      ContextKeys.otherWorkspaces,
      all.some((s) => s.workspace.id !== id),
    );
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
    const nodes: Node[] = changes
      .slice(0, MAX_CHANGES_SHOWN)
      .map((c) =>
        c.kind === 'deleted' && parent
          ? new VersionNode(node.folder, node.store, parent, c.path, c.before, 'deleted', s)
          : new VersionNode(node.folder, node.store, s, c.path, c.after, c.kind),
      );
    if (changes.length > MAX_CHANGES_SHOWN)
      nodes.push(
        new MessageNode(`…and ${plural(changes.length - MAX_CHANGES_SHOWN, 'more change')} (browse All files)`),
      );
    if (changes.length === 0) nodes.push(new MessageNode('No file changes (only folders)'));
    return [...nodes, browse];
  }

  private async browse(
    folder: vscode.WorkspaceFolder,
    store: string,
    snapshot: SnapshotRecord,
    relPath: string,
  ): Promise<Node[]> {
    const repo = await this.service.repository(folder);
    const entries = await listTree(repo, snapshot, relPath);
    const dirs = entries
      .filter((e) => e.entry.type === 'dir')
      .map((e) => new FolderVersionNode(folder, store, snapshot, e.path));
    const files = entries
      .filter((e) => e.entry.type !== 'dir')
      .map((e) => new VersionNode(folder, store, snapshot, e.path, e.entry));
    return [...dirs, ...files];
  }

  getParent(): undefined {
    return undefined;
  }
}

export function relativeTo(folder: vscode.WorkspaceFolder, uri: vscode.Uri): string {
  return path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
}
