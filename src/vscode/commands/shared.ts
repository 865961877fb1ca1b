// What commands share: the services they act with, and turning "whatever the command was invoked on"
// (a tree node, an explorer file, the active editor, or nothing) into a folder, a snapshot or a version.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatTime, shortId } from '../../core/format';
import { history } from '../../core/query/browse';
import type { BackupService } from '../backupService';
import { SCHEME } from '../commandIds';
import { reportFailure } from '../failures';
import type { Logger } from '../logger';
import type { Prompter } from '../prompter';
import { fromSnapshotUri } from '../snapshotUri';
import type { FileHistoryView } from '../views/fileHistoryView';
import type { HealthView } from '../views/healthView';
import type { Keychain } from '../keychain';
import type { Maintenance } from '../maintenance';
import type { Replicator } from '../replication';
import type { SnapshotFolders } from '../snapshotFolders';
import type { SnapshotsView } from '../views/snapshotsView';
import type { Node } from '../views/nodes';
import { SnapshotNode, VersionNode, describeTrigger } from '../views/nodes';

export interface CommandContext {
  service: BackupService;
  prompter: Prompter;
  log: Logger;
  /** Opens the log (the "Show Log" command and buttons). */
  showLog(): void;
  state: vscode.Memento;
  snapshotsView: SnapshotsView;
  historyView: FileHistoryView;
  healthView: HealthView;
  keychain: Keychain;
  replicator: Replicator;
  maintenance: Maintenance;
  snapshotFolders: SnapshotFolders;
  /** Select for Compare remembers its version here. */
  selection?: VersionNode;
}

/**
 * A command as its file declares it: its id (commandIds.ts, as in package.json) and what it does with the
 * services and the arguments VS Code passes. commands/registry.ts registers every file's list.
 */
export interface CommandSpec {
  id: string;
  run: (ctx: CommandContext, ...args: unknown[]) => unknown;
}

/** Runs a command body, turning any failure into one notification with the actions that help (failures.ts). */
export async function guarded(ctx: CommandContext, what: string, body: () => Promise<unknown>): Promise<void> {
  try {
    await body();
  } catch (error) {
    // Not awaited: a notification with buttons stays until dismissed, and the command must finish now.
    void reportFailure(error, { what, log: ctx.log });
  }
}

/** A command's argument when it is a URI (a folder or file it was invoked on), else undefined. */
export function uriArg(arg: unknown): vscode.Uri | undefined {
  return arg instanceof vscode.Uri ? arg : undefined;
}

export async function pickFolder(
  ctx: CommandContext,
  purpose: string,
  hint?: vscode.Uri,
): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = ctx.service.folders();
  if (hint) {
    const folder = vscode.workspace.getWorkspaceFolder(hint);
    if (folder) return folder;
  }
  if (folders.length === 0) {
    void vscode.window.showWarningMessage('Open a folder to back it up.');
    return undefined;
  }
  return ctx.prompter.pickFolder(folders, purpose);
}

/** The workspace file a command is about: the argument, or the active editor (a version maps to its file). */
export function fileOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === SCHEME ? undefined : arg;
  const uri = vscode.window.activeTextEditor?.document.uri;
  if (!uri) return undefined;
  return uri.scheme === SCHEME ? undefined : uri;
}

export function relPath(folder: vscode.WorkspaceFolder, uri: vscode.Uri): string {
  return path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/');
}

/**
 * A version to act on: the tree node it was invoked on, or (from the palette or an editor) a quick pick
 * over the versions of the active file.
 */
export async function resolveVersion(
  ctx: CommandContext,
  arg: unknown,
  purpose: string,
): Promise<VersionNode | undefined> {
  if (arg instanceof VersionNode) return arg;
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active?.scheme === SCHEME) {
    // A version open in an editor: act on it.
    const ref = fromSnapshotUri(active);
    const folder = ctx.service.folders().find((f) => ctx.service.storePathFor(f) === ref.store);
    if (folder) {
      const repo = await ctx.service.repository(folder);
      const snapshot = await repo.loadSnapshot(ref.snapshot);
      return new VersionNode(folder, ref.store, snapshot, ref.path, undefined, undefined, undefined, false);
    }
  }
  const file = fileOf(arg);
  const folder = file && vscode.workspace.getWorkspaceFolder(file);
  if (!file || !folder) {
    void vscode.window.showInformationMessage(
      'Open a file of the workspace (or pick a version in the Backups view) first.',
    );
    return undefined;
  }
  const repo = await ctx.service.repository(folder);
  const rel = relPath(folder, file);
  const versions = (await history(repo, await ctx.service.snapshots(folder), rel)).filter((v) => v.entry);
  if (versions.length === 0) {
    void vscode.window.showInformationMessage(`${rel} is in no snapshot yet.`);
    return undefined;
  }
  const store = ctx.service.storePathFor(folder);
  const items = versions.map((v) => ({
    label: formatTime(v.snapshot.time),
    description: [
      v.entry?.type === 'file' ? formatBytes(v.entry.size) : v.entry?.type,
      describeTrigger(v.snapshot),
      v.snapshot.label,
    ]
      .filter(Boolean)
      .join(' · '),
    detail: `snapshot ${shortId(v.snapshot.id)}`,
    node: new VersionNode(folder, store, v.snapshot, rel, v.entry, undefined, undefined, false),
  }));
  return (await ctx.prompter.pick(items, `${purpose}: pick a version of ${rel}`))?.node;
}

/** A snapshot to act on: the node, or a quick pick over the folder's snapshots. */
export async function resolveSnapshot(
  ctx: CommandContext,
  arg: unknown,
  purpose: string,
): Promise<SnapshotNode | undefined> {
  if (arg instanceof SnapshotNode) return arg;
  // Two questions, two different lines: the folder first (in a workspace of several), then the snapshot.
  const folder = await pickFolder(ctx, `Which folder? (${purpose.replace(/\?$/, '')})`);
  if (!folder) return undefined;
  const snapshots = await ctx.service.snapshots(folder, true);
  if (snapshots.length === 0) {
    void vscode.window.showInformationMessage(`${folder.name} has no snapshots yet.`);
    return undefined;
  }
  const store = ctx.service.storePathFor(folder);
  const items = [...snapshots].reverse().map((s) => ({
    label: `${formatTime(s.time)}${s.label ? `  ${s.label}` : ''}`,
    description: `${describeTrigger(s)} · ${s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted} changes`,
    detail: `snapshot ${shortId(s.id)}`,
    node: new SnapshotNode(folder, store, s),
  }));
  return (await ctx.prompter.pick(items, purpose))?.node;
}

export function isNode(arg: unknown): arg is Node {
  return typeof arg === 'object' && arg !== null && 'kind' in arg;
}
