// Tree nodes shared by the Snapshots and File History views. Each node knows what it stands for (which
// folder, snapshot and path), so commands can act on it whichever view it came from.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatTime, plural, shortId } from '../../core/format';
import type { ChangeKind } from '../../core/query/diff';
import type { DayItem, SessionRow } from '../../core/query/timeline';
import {
  changedFiles,
  sessionRowText,
  sessionSummary,
  snapshotRowText,
  triggerPhrase,
  triggerUnlessSaid,
} from '../../core/query/timeline';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import type { TreeEntry } from '../../core/repository/tree';
import { Commands } from '../commandIds';
import { toSnapshotUri } from '../snapshotUri';

export type Node =
  FolderNode | DayNode | SessionNode | SnapshotNode | BrowseNode | FolderVersionNode | VersionNode | MessageNode;

export class FolderNode {
  readonly kind = 'folder';
  constructor(readonly folder: vscode.WorkspaceFolder) {}
}

/** One day of the timeline: its sessions and notable snapshots (core/query/timeline.ts). */
export class DayNode {
  readonly kind = 'day';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly label: string,
    readonly items: DayItem[],
    /** Snapshots in the day's rows. */
    readonly count: number,
    readonly expanded: boolean,
  ) {}
}

/** A work session: a burst of snapshots with short gaps, summarised in one row; expands to its snapshots. */
export class SessionNode {
  readonly kind = 'session';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly store: string,
    readonly session: SessionRow,
    /** Files the session changed from its start to its end, when known. */
    readonly files: number | undefined,
  ) {}
}

export class SnapshotNode {
  readonly kind = 'snapshot';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly store: string,
    readonly snapshot: SnapshotRecord,
  ) {}
}

/** "All files" under a snapshot, and every folder below it. */
export class BrowseNode {
  readonly kind = 'browse';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly store: string,
    readonly snapshot: SnapshotRecord,
  ) {}
}

export class FolderVersionNode {
  readonly kind = 'folderVersion';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly store: string,
    readonly snapshot: SnapshotRecord,
    readonly relPath: string,
  ) {}
}

/**
 * One version of one file. For a deletion, `snapshot` is the last snapshot that still has the file (so
 * Open, Compare and Restore bring back what was lost) and `deletedIn` the one where it went.
 */
export class VersionNode {
  readonly kind = 'version';
  constructor(
    readonly folder: vscode.WorkspaceFolder,
    readonly store: string,
    readonly snapshot: SnapshotRecord,
    readonly relPath: string,
    readonly entry: TreeEntry | undefined,
    readonly change?: ChangeKind,
    readonly deletedIn?: SnapshotRecord,
    readonly showPath = true,
  ) {}

  get uri(): vscode.Uri {
    return toSnapshotUri({ store: this.store, snapshot: this.snapshot.id, path: this.relPath });
  }
}

export class MessageNode {
  readonly kind = 'message';
  constructor(
    readonly text: string,
    readonly icon = 'info',
    /** A message that offers a way out: what a click runs, and more words beside or over it. */
    readonly extra: { command?: vscode.Command; description?: string; tooltip?: string } = {},
  ) {}
}

export function describeTrigger(s: SnapshotRecord): string {
  return triggerPhrase(s.trigger);
}

export function snapshotTooltip(s: SnapshotRecord): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**Snapshot ${shortId(s.id)}** · ${formatTime(s.time)}\n\n`);
  if (s.label)
    md.appendMarkdown(`$(tag) ${escape(s.label)}${s.autoLabel ? ' (labelled automatically; kept 30 days)' : ''}\n\n`);
  const trigger = triggerUnlessSaid(s);
  const files =
    s.parent === undefined
      ? `first snapshot: ${plural(s.stats.files, 'file')}`
      : `${plural(changedFiles(s), 'file')} changed: ${s.stats.filesNew} new, ${s.stats.filesChanged} modified, ${s.stats.filesDeleted} deleted`;
  md.appendMarkdown(`${trigger ? `${trigger} · ` : ''}${files} · ${formatBytes(s.stats.bytesAdded)} added\n\n`);
  md.appendMarkdown(`${plural(s.stats.files, 'file')}, ${formatBytes(s.stats.bytes)} in all`);
  if (s.git?.branch || s.git?.head)
    md.appendMarkdown(
      `\n\n$(git-branch) ${escape(s.git.branch ?? 'detached')}${s.git.head ? ` @ ${s.git.head.slice(0, 8)}` : ''}`,
    );
  if (s.pinned) md.appendMarkdown('\n\n$(pinned) pinned: retention keeps it');
  if (s.skipped?.length) md.appendMarkdown(`\n\n$(warning) ${plural(s.stats.skipped, 'path')} skipped (see the log)`);
  return md;
}

function firstTime(item: DayItem): string {
  return item.kind === 'session' ? item.snapshots[0].time : item.snapshot.time;
}

function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function toTreeItem(node: Node): vscode.TreeItem {
  switch (node.kind) {
    case 'folder': {
      const item = new vscode.TreeItem(node.folder.name, vscode.TreeItemCollapsibleState.Expanded);
      item.iconPath = vscode.ThemeIcon.Folder;
      item.id = `folder:${node.folder.uri.toString()}`;
      item.contextValue = 'workspaceFolder';
      return item;
    }
    case 'day': {
      const item = new vscode.TreeItem(
        node.label,
        node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
      );
      const sessions = node.items.filter((i) => i.kind === 'session').length;
      const alone = node.items.length - sessions;
      item.description = plural(node.count, 'snapshot');
      item.tooltip = `${node.label}: ${plural(node.count, 'snapshot')}${sessions ? ` in ${plural(sessions, 'work session')}${alone ? ` and ${plural(alone, 'snapshot')} on ${alone === 1 ? 'its' : 'their'} own (labelled, pinned or alone)` : ''}` : ''}.`;
      item.accessibilityInformation = { label: `${node.label}, ${item.description}`, role: 'treeitem' };
      item.iconPath = new vscode.ThemeIcon('calendar');
      // By the day's date, not its label: "Today" becomes "Yesterday" at midnight.
      item.id = `day:${node.folder.uri.toString()}:${node.items.length ? new Date(firstTime(node.items[node.items.length - 1])).toDateString() : node.label}`;
      item.contextValue = 'day';
      return item;
    }
    case 'session': {
      const text = sessionRowText(node.session, node.files);
      const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = text.description;
      item.tooltip = sessionSummary(node.session, node.files);
      item.accessibilityInformation = { label: `${text.label}, ${text.description}`, role: 'treeitem' };
      item.iconPath = new vscode.ThemeIcon('layers');
      // By its first snapshot: it keeps its place (and its expansion) while new saves join it.
      item.id = `session:${node.session.snapshots[0].id}`;
      item.contextValue = 'session';
      return item;
    }
    case 'snapshot': {
      const s = node.snapshot;
      const text = snapshotRowText(s);
      const item = new vscode.TreeItem(text.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.description = text.description;
      item.tooltip = snapshotTooltip(s);
      item.iconPath = new vscode.ThemeIcon(
        s.pinned
          ? 'pinned'
          : s.trigger === 'pre-restore'
            ? 'debug-step-back'
            : s.trigger === 'restore'
              ? 'discard'
              : s.autoLabel
                ? 'bookmark'
                : s.label
                  ? 'tag'
                  : 'circle-outline',
      );
      item.id = `snapshot:${s.id}`;
      item.contextValue = s.pinned ? 'snapshot.pinned' : 'snapshot';
      return item;
    }
    case 'browse': {
      const item = new vscode.TreeItem('All files', vscode.TreeItemCollapsibleState.Collapsed);
      item.description = `${plural(node.snapshot.stats.files, 'file')}, ${formatBytes(node.snapshot.stats.bytes)}`;
      item.iconPath = new vscode.ThemeIcon('files');
      item.id = `browse:${node.snapshot.id}`;
      item.contextValue = 'browse';
      return item;
    }
    case 'folderVersion': {
      const item = new vscode.TreeItem(path.posix.basename(node.relPath), vscode.TreeItemCollapsibleState.Collapsed);
      item.resourceUri = vscode.Uri.joinPath(node.folder.uri, node.relPath);
      item.iconPath = vscode.ThemeIcon.Folder;
      item.id = `dir:${node.snapshot.id}:${node.relPath}`;
      item.contextValue = 'folderVersion';
      return item;
    }
    case 'version':
      return versionItem(node);
    case 'message': {
      const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(node.icon);
      item.contextValue = 'message';
      item.command = node.extra.command;
      item.description = node.extra.description;
      item.tooltip = node.extra.tooltip;
      // Read as shown, then the whole sentence (a string tooltip would otherwise replace the label).
      if (node.extra.tooltip)
        item.accessibilityInformation = {
          label: [node.text, node.extra.description, node.extra.tooltip].filter(Boolean).join('. '),
          role: 'treeitem',
        };
      return item;
    }
  }
}

function versionItem(node: VersionNode): vscode.TreeItem {
  const name = path.posix.basename(node.relPath);
  const dir = path.posix.dirname(node.relPath);
  const item = new vscode.TreeItem(
    node.showPath ? name : formatTime(node.deletedIn?.time ?? node.snapshot.time),
    vscode.TreeItemCollapsibleState.None,
  );
  const deleted = node.change === 'deleted';
  if (node.showPath) {
    item.description = dir === '.' ? '' : dir;
    item.resourceUri = vscode.Uri.joinPath(node.folder.uri, node.relPath);
  } else {
    const s = node.deletedIn ?? node.snapshot;
    const size = node.entry?.type === 'file' ? formatBytes(node.entry.size) : (node.entry?.type ?? '');
    item.description = [deleted ? 'deleted' : size, describeTrigger(s), s.label].filter(Boolean).join(' · ');
    item.tooltip = snapshotTooltip(s);
  }
  const icons: Record<ChangeKind, [string, string]> = {
    added: ['diff-added', 'gitDecoration.addedResourceForeground'],
    modified: ['diff-modified', 'gitDecoration.modifiedResourceForeground'],
    deleted: ['diff-removed', 'gitDecoration.deletedResourceForeground'],
  };
  if (node.change) {
    const [icon, color] = icons[node.change];
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
  } else if (!node.showPath) {
    item.iconPath = new vscode.ThemeIcon('history');
  }
  item.id = `version:${node.snapshot.id}:${node.deletedIn?.id ?? ''}:${node.relPath}:${node.showPath}`;
  item.contextValue = deleted ? 'version.deleted' : node.entry?.type === 'symlink' ? 'version.link' : 'version.text';
  // A click shows what matters most where the node is: in File History how this version differs from
  // the file now; in a snapshot's changes what that snapshot changed.
  if (node.entry?.type === 'file') {
    if (!node.showPath && !deleted)
      item.command = { command: Commands.compareWithCurrent, title: 'Compare with Current', arguments: [node] };
    else if (node.change === 'modified')
      item.command = { command: Commands.compareWithPrevious, title: 'Compare with Previous', arguments: [node] };
    else item.command = { command: Commands.openVersion, title: 'Open This Version', arguments: [node] };
  }
  return item;
}
