// The editor's engine room, as one object the commands, views and tests talk to. It is a thin facade (kept
// because ~200 call sites and the integration tests say `service.x`): each call goes to the part that owns
// it; createBackupService builds the parts, each with its dependencies, and the facade only tells them all
// when the configuration changes.
//   workspaceSettings.ts  the folders and their settings (cached until the configuration changes)
//   folderStatus.ts       per-folder status and the events the views and the status bar listen to
//   stores.ts             the open stores, passphrases, known stores, browsing a destination
//   folderHistory.ts      reading a folder's snapshots
//   snapshotQueue.ts      taking snapshots: the on-save queue, the file watchers, one snapshot at a time
//   gitChoice.ts          whether full snapshots take `.git`

import * as vscode from 'vscode';
import type { OpenOptions, Repository } from '../core/repository/repository';
import type { SnapshotRecord, Trigger } from '../core/repository/snapshotRecord';
import type { Rules } from '../core/scan/rules';
import type { SnapshotRequest, SnapshotResult } from '../core/snapshot/snapshotter';
import type { RemoteOptions } from '../core/storage/remote';
import type { BackupSettings } from './configuration';
import { SECTION } from './configuration';
import { FolderHistory } from './folderHistory';
import type { FolderStatus } from './folderStatus';
import { FolderStatuses } from './folderStatus';
import { GitFolderChoice } from './gitChoice';
import type { Keychain } from './keychain';
import type { KnownStores } from './knownStores';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import { SnapshotQueue } from './snapshotQueue';
import { Stores } from './stores';
import { WorkspaceSettings } from './workspaceSettings';

export type { FolderStatus, Recorded } from './folderStatus';

/** What the engine room is built from; all but the logger are optional (tests of the engine room run without). */
export interface BackupServiceOptions {
  log: Logger;
  /** Folders that are never backed up (snapshots opened as folders: snapshotFolders.ts). */
  ignoreFolder?: (uri: vscode.Uri) => boolean;
  /** Passphrases and destination credentials. */
  keychain?: Keychain;
  /** The local stores opened before: one that has gone missing is not created again. */
  knownStores?: KnownStores;
  /** How to log in to a remote store (credentials from the keychain). */
  remoteOptions?: (location: string) => Promise<RemoteOptions>;
  /** Where answers asked once are kept (global state). */
  decisions?: vscode.Memento;
}

/** The parts of the engine room, each built with what it needs (see createBackupService). */
export interface EngineRoom {
  settings: WorkspaceSettings;
  statuses: FolderStatuses;
  stores: Stores;
  history: FolderHistory;
  git: GitFolderChoice;
  saves: SnapshotQueue;
}

/** Builds the engine room's parts, each with its dependencies, and the facade over them. */
export function createBackupService(options: BackupServiceOptions): BackupService {
  const { log } = options;
  const settings = new WorkspaceSettings(options.ignoreFolder);
  const statuses = new FolderStatuses(log);
  const stores = new Stores({
    settings,
    statuses,
    log,
    keychain: options.keychain,
    knownStores: options.knownStores,
    remoteOptions: options.remoteOptions,
  });
  const history = new FolderHistory(settings, stores, statuses, log);
  const git = new GitFolderChoice(settings, log, options.decisions);
  const saves = new SnapshotQueue(settings, stores, statuses, git, log);
  return new BackupService({ settings, statuses, stores, history, git, saves });
}

export class BackupService extends Disposable {
  private readonly config: WorkspaceSettings;
  private readonly statuses: FolderStatuses;
  private readonly stores: Stores;
  private readonly history: FolderHistory;
  private readonly git: GitFolderChoice;
  private readonly saves: SnapshotQueue;

  /** A snapshot was made, labelled, pinned or deleted (here, in another window, or by the CLI). */
  readonly onDidChange: vscode.Event<vscode.WorkspaceFolder | undefined>;
  readonly onDidChangeStatus: vscode.Event<void>;
  /** A new snapshot of this folder was recorded by this window. */
  readonly onDidSnapshot: FolderStatuses['onDidSnapshot'];
  /** The same, with the snapshot's result (its changes and the snapshot before it). */
  readonly onDidRecord: FolderStatuses['onDidRecord'];
  /** The local stores opened before (undefined in tests of the engine room). */
  readonly knownStores: KnownStores | undefined;

  constructor(parts: EngineRoom) {
    super();
    this.config = parts.settings;
    this.statuses = this.register(parts.statuses);
    this.stores = this.register(parts.stores);
    this.history = parts.history;
    this.git = this.register(parts.git);
    this.saves = this.register(parts.saves);
    this.onDidChange = this.statuses.onDidChange;
    this.onDidChangeStatus = this.statuses.onDidChangeStatus;
    this.onDidSnapshot = this.statuses.onDidSnapshot;
    this.onDidRecord = this.statuses.onDidRecord;
    this.knownStores = this.stores.knownStores;
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        this.config.clear();
        // Rebuild snapshotters with the new rules; stores are reopened lazily if their path changed.
        this.stores.refreshPaths();
        this.saves.reconfigure();
        this.statuses.fireChanged(undefined);
      }),
    );
  }

  // ---- folders and settings (workspaceSettings.ts) ----------------------------------------------------

  folders(): readonly vscode.WorkspaceFolder[] {
    return this.config.folders();
  }
  settings(folder?: vscode.WorkspaceFolder): BackupSettings {
    return this.config.settings(folder);
  }
  /** The folder's configured store: where snapshots are written, even while a destination is browsed. */
  localStorePath(folder: vscode.WorkspaceFolder): string {
    return this.config.localStorePath(folder);
  }
  /** The user's store without a folder (a window with none); undefined when it is spelled per folder. */
  defaultStorePath(): string | undefined {
    return this.config.defaultStorePath();
  }

  // ---- stores (stores.ts) ------------------------------------------------------------------------------

  /** The store a folder's snapshots are read from: its configured store, or the destination being browsed. */
  storePathFor(folder: vscode.WorkspaceFolder): string {
    return this.stores.storePathFor(folder);
  }
  browsing(folder: vscode.WorkspaceFolder): string | undefined {
    return this.stores.browsing(folder);
  }
  useStore(folder: vscode.WorkspaceFolder, location: string | undefined): void {
    this.stores.useStore(folder, location);
  }
  forgetStore(storePath: string): void {
    this.stores.forgetStore(storePath);
  }
  repository(folder: vscode.WorkspaceFolder): Promise<Repository> {
    return this.stores.repository(folder);
  }
  localRepository(folder: vscode.WorkspaceFolder): Promise<Repository> {
    return this.stores.localRepository(folder);
  }
  openWithPassphrase(location: string, options: OpenOptions): Promise<Repository> {
    return this.stores.openWithPassphrase(location, options);
  }
  storeMade(folder: vscode.WorkspaceFolder): Promise<boolean> {
    return this.stores.storeMade(folder);
  }

  // ---- status (folderStatus.ts) and history (folderHistory.ts) -----------------------------------------

  status(folder: vscode.WorkspaceFolder): FolderStatus {
    return this.statuses.status(folder);
  }
  fireChanged(folder?: vscode.WorkspaceFolder): void {
    this.statuses.fireChanged(folder);
  }
  workspaceId(folder: vscode.WorkspaceFolder): string {
    return this.history.workspaceId(folder);
  }
  snapshots(folder: vscode.WorkspaceFolder, reload = false): Promise<SnapshotRecord[]> {
    return this.history.snapshots(folder, reload);
  }
  loadStatuses(): Promise<void> {
    return this.history.loadStatuses();
  }
  rules(folder: vscode.WorkspaceFolder, repo: Repository): Rules {
    return this.history.rules(folder, repo);
  }

  // ---- taking snapshots (snapshotQueue.ts, gitChoice.ts) -----------------------------------------------

  snapshotFolder(folder: vscode.WorkspaceFolder, request: SnapshotRequest): Promise<SnapshotResult> {
    return this.saves.snapshotFolder(folder, request);
  }
  queue(folder: vscode.WorkspaceFolder, absPath: string, trigger: Trigger): void {
    this.saves.queue(folder, absPath, trigger);
  }
  flushFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    return this.saves.flushFolder(folder);
  }
  flushAll(): Promise<void> {
    return this.saves.flushAll();
  }
  noteOwnWrites(paths: readonly string[]): void {
    this.saves.noteOwnWrites(paths);
  }
  isOwnChange(folder: vscode.WorkspaceFolder, rel: string, deleted: boolean): boolean {
    return this.saves.isOwnChange(folder, rel, deleted);
  }
  includesGit(folder: vscode.WorkspaceFolder, ask = false): Promise<boolean> {
    return this.git.includesGit(folder, ask);
  }
  includeGitFolder(folder: vscode.WorkspaceFolder): Promise<SnapshotResult> {
    return this.saves.includeGitFolder(folder);
  }
}
