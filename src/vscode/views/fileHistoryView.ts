// The "File History" view: the distinct versions of the file in the active editor, newest first, following
// the active editor. A deletion shows as its own entry, restorable like any other version.

import * as vscode from 'vscode';
import { historyFollowingRenames } from '../../core/query/renames';
import type { BackupService } from '../backupService';
import { SCHEME, Views } from '../commandIds';
import { fromSnapshotUri } from '../snapshotUri';
import { Disposable } from '../lifecycle';
import type { Logger } from '../logger';
import type { Node } from './nodes';
import { MessageNode, VersionNode, toTreeItem } from './nodes';
import { relativeTo } from './snapshotsView';

export class FileHistoryView extends Disposable implements vscode.TreeDataProvider<Node> {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeTreeData = this.changed.event;
  private target: vscode.Uri | undefined;
  /** The tree view showing this provider: its description names the file. */
  private readonly view: vscode.TreeView<Node>;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
  ) {
    super();
    this.view = this.register(vscode.window.createTreeView(Views.fileHistory, { treeDataProvider: this }));
    this.register(vscode.window.onDidChangeActiveTextEditor((editor) => this.follow(editor?.document.uri)));
    this.register(service.onDidChange(() => this.changed.fire()));
    this.follow(vscode.window.activeTextEditor?.document.uri);
  }

  /** Shows the history of `uri` (a workspace file, or a version of one). */
  follow(uri: vscode.Uri | undefined): void {
    if (!uri) return; // keep showing the last file when focus moves to a panel or the view itself
    let fileUri = uri;
    if (uri.scheme === SCHEME) {
      const folder = this.service.folders().find((f) => this.service.storePathFor(f) === fromSnapshotUri(uri).store);
      if (!folder) return;
      fileUri = vscode.Uri.joinPath(folder.uri, fromSnapshotUri(uri).path);
    }
    if (fileUri.scheme !== 'file' || !vscode.workspace.getWorkspaceFolder(fileUri)) return;
    if (this.target?.toString() === fileUri.toString()) return;
    this.target = fileUri;
    this.view.description = vscode.workspace.asRelativePath(fileUri, false);
    this.changed.fire();
  }

  get current(): vscode.Uri | undefined {
    return this.target;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    return toTreeItem(node);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (node || !this.target) return [];
    const folder = vscode.workspace.getWorkspaceFolder(this.target);
    if (!folder) return [];
    try {
      const repo = await this.service.repository(folder);
      const rel = relativeTo(folder, this.target);
      const snapshots = await this.service.snapshots(folder);
      // Across renames and moves: a version from before one carries its old path, which the row shows.
      const versions = await historyFollowingRenames(repo, snapshots, rel);
      if (versions.length === 0) return [new MessageNode(`${rel} is in no snapshot yet`)];
      const store = this.service.storePathFor(folder);
      return versions.map((v, i) => {
        if (v.entry)
          return new VersionNode(folder, store, v.snapshot, v.path, v.entry, undefined, undefined, v.path !== rel);
        // A deletion: point at the version before it, so Restore brings the file back.
        const before = versions[i + 1];
        return new VersionNode(
          folder,
          store,
          before?.snapshot ?? v.snapshot,
          before?.path ?? v.path,
          before?.entry,
          'deleted',
          v.snapshot,
          (before?.path ?? v.path) !== rel,
        );
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.error(`File History: ${message}`);
      return [new MessageNode(message, 'error')];
    }
  }
}
