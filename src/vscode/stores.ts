// The stores the editor has open: one open Repository per store path, opened on first use (a local one
// created, a known one that has gone missing never), with its passphrase asked through the keychain; which
// store each folder reads (its own, or a destination being browsed); and a watcher on each local store's
// snapshots, so snapshots made by other windows or the CLI show up.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError } from '../core/errors';
import type { OpenOptions, Repository } from '../core/repository/repository';
import { isRemoteLocation } from '../core/storage/locate';
import type { RemoteOptions } from '../core/storage/remote';
import { SECTION, isInside } from './configuration';
import type { FolderStatuses } from './folderStatus';
import type { Keychain } from './keychain';
import type { KnownStores } from './knownStores';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import { knownStoreMissing, missingStoreError, openWithPassphrase, storeExists, storeProblemOf } from './storeAccess';
import type { WorkspaceSettings } from './workspaceSettings';

export interface StoreDependencies {
  settings: WorkspaceSettings;
  statuses: FolderStatuses;
  log: Logger;
  /** Passphrases and destination credentials (tests of the engine room run without). */
  keychain?: Keychain;
  /** The local stores opened before: one that has gone missing is not created again. */
  knownStores?: KnownStores;
  /** How to log in to a remote store (credentials from the keychain; replication.ts). */
  remoteOptions?: (location: string) => Promise<RemoteOptions>;
}

export class Stores extends Disposable {
  private readonly repos = new Map<string, Promise<Repository>>();
  /** Stores in `repos` that have finished opening. */
  private readonly opened = new Set<string>();
  /** Each folder's configured store path, as of the last configuration change. */
  private readonly localPaths = new Map<string, { folder: vscode.WorkspaceFolder; storePath: string }>();
  /** Folders pointed at a destination instead of their local store ("Browse and Restore from a Destination"). */
  private readonly overrides = new Map<string, string>();
  private readonly storeWatchers = new Map<string, fs.FSWatcher>();
  private readonly warnedStores = new Set<string>();
  private readonly forgotten = this.register(new vscode.EventEmitter<string>());
  /** An open store was dropped (its snapshotters must be rebuilt). */
  readonly onDidForget = this.forgotten.event;
  private readonly settled = this.register(new vscode.EventEmitter<{ storePath: string; opened: boolean }>());
  /** A store finished opening, or failed to. */
  readonly onDidSettle = this.settled.event;
  readonly knownStores: KnownStores | undefined;

  constructor(private readonly deps: StoreDependencies) {
    super();
    this.knownStores = deps.knownStores;
    this.register({ dispose: () => this.closeWatchers() });
  }

  /** The folder's configured store as of the last configuration change: where its snapshots are written. */
  localPath(folder: vscode.WorkspaceFolder): string {
    const key = folder.uri.fsPath;
    let entry = this.localPaths.get(key);
    if (!entry) this.localPaths.set(key, (entry = { folder, storePath: this.deps.settings.localStorePath(folder) }));
    return entry.storePath;
  }

  /** The configuration changed: each folder's store path is read again (stores reopen lazily). */
  refreshPaths(): void {
    for (const entry of this.localPaths.values()) entry.storePath = this.deps.settings.localStorePath(entry.folder);
  }

  /**
   * The store a folder's snapshots are read from: its configured store, or the destination being browsed.
   * Writers (snapshots, retention, verify records, replication, the scheduler) use `localStorePath`.
   */
  storePathFor(folder: vscode.WorkspaceFolder): string {
    return this.overrides.get(folder.uri.toString()) ?? this.deps.settings.localStorePath(folder);
  }

  /** The destination a folder is pointed at instead of its local store, if any. */
  browsing(folder: vscode.WorkspaceFolder): string | undefined {
    return this.overrides.get(folder.uri.toString());
  }

  /**
   * Points a folder's views at another store (a destination, when the local store is lost) or, with
   * undefined, back at its configured store. Read only: snapshots (on save, scheduled, before a restore)
   * still go to the configured store, and retention, verify records and replication never touch it.
   */
  useStore(folder: vscode.WorkspaceFolder, location: string | undefined): void {
    const previous = this.overrides.get(folder.uri.toString());
    if (location) this.overrides.set(folder.uri.toString(), location);
    else this.overrides.delete(folder.uri.toString());
    if (previous && previous !== location) this.forgetStore(previous);
    this.localPath(folder);
    this.deps.statuses.noteStoreSwitched(folder);
  }

  /** Drops an open store so the next use reopens it (after unlocking, or a new passphrase); a remote one is disconnected. */
  forgetStore(storePath: string): void {
    const open = this.repos.get(storePath);
    this.repos.delete(storePath);
    this.opened.delete(storePath);
    void open?.then((repo) => repo.close()).catch(() => undefined);
    this.forgotten.fire(storePath);
  }

  /** Whether the folder's store exists or existed (known, or remote): reading it then never creates one. */
  async storeMade(folder: vscode.WorkspaceFolder): Promise<boolean> {
    const store = this.storePathFor(folder);
    return isRemoteLocation(store) || this.knownStores?.has(store) === true || (await storeExists(store));
  }

  /**
   * The store a folder's snapshots are shown and restored from (a browsed destination, read only, or the
   * local store). Errors are one clear sentence.
   */
  repository(folder: vscode.WorkspaceFolder): Promise<Repository> {
    return this.open(this.storePathFor(folder), folder);
  }

  /** Opens (creating on first use) the store a folder backs up into: never a browsed destination. */
  localRepository(folder: vscode.WorkspaceFolder): Promise<Repository> {
    return this.open(this.localPath(folder), folder);
  }

  /** Opens a store, asking for its passphrase if it is encrypted (see storeAccess.ts). */
  openWithPassphrase(location: string, options: OpenOptions): Promise<Repository> {
    return openWithPassphrase(location, options, {
      keychain: this.deps.keychain,
      log: this.deps.log,
      remoteOptions: this.deps.remoteOptions,
    });
  }

  private async open(storePath: string, folder: vscode.WorkspaceFolder): Promise<Repository> {
    try {
      return await this.openShared(storePath, folder);
    } catch (error) {
      // "Missing" is a verdict about a moment: an open that joined one already under way may have been
      // asked after the drive came back. Believe it only if the store is still not there now.
      if (storeProblemOf(error) !== 'missing' || !(await storeExists(storePath))) throw error;
      this.deps.log.info(`The store at ${storePath} is back; opening it again.`);
      return this.openShared(storePath, folder);
    }
  }

  /** One open per store at a time: callers asking while it is under way share it. */
  private async openShared(storePath: string, folder: vscode.WorkspaceFolder): Promise<Repository> {
    let repo = this.repos.get(storePath);
    // An open store whose folder was deleted (or whose drive went) would list no snapshots, and the views
    // would show an empty history: drop it, so the missing-store check below says what happened.
    if (
      repo &&
      this.opened.has(storePath) &&
      !isRemoteLocation(storePath) &&
      !(await storeExists(storePath)) &&
      this.repos.get(storePath) === repo
    ) {
      this.forgetStore(storePath);
      repo = undefined;
    }
    if (!repo) {
      const opening = (repo = this.openStore(storePath, folder));
      this.repos.set(storePath, opening);
      const current = () => this.repos.get(storePath) === opening;
      opening.then(
        () => {
          if (current()) this.opened.add(storePath);
          this.noteStore(storePath);
        },
        (error: unknown) => {
          if (current()) this.repos.delete(storePath);
          this.noteStore(storePath, error);
        },
      );
    }
    return repo;
  }

  /** A store opened (no error) or failed: the views say whether it is missing or locked; saves kept meanwhile go once it opens. */
  private noteStore(storePath: string, error?: unknown): void {
    const problem = error === undefined ? undefined : storeProblemOf(error);
    for (const folder of this.deps.settings.folders()) this.localPath(folder);
    for (const entry of this.localPaths.values()) {
      if (entry.storePath === storePath) this.deps.statuses.noteStore(entry.folder, problem);
    }
    this.settled.fire({ storePath, opened: error === undefined });
  }

  private async openStore(storePath: string, folder: vscode.WorkspaceFolder): Promise<Repository> {
    const remote = isRemoteLocation(storePath);
    if (await knownStoreMissing(storePath, this.knownStores)) throw missingStoreError(storePath);
    if (!remote) {
      try {
        await fs.promises.mkdir(storePath, { recursive: true });
      } catch (error) {
        throw new BackupError(
          'PERMISSION_DENIED',
          `The backup store folder ${storePath} cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'}); choose another folder in the settings.`,
          { storePath },
        );
      }
    }
    // A remote store (a destination being browsed) is never created from here: only replication makes one.
    const repo = await this.openWithPassphrase(storePath, { create: !remote });
    this.deps.log.info(`Store opened at ${storePath}${repo.codec.encrypted ? ' (encrypted)' : ''}.`);
    if (!remote) await this.knownStores?.remember(storePath);
    if (isInside(storePath, folder.uri.fsPath) && !this.warnedStores.has(storePath)) {
      this.warnedStores.add(storePath);
      void this.warnStoreInside(storePath, folder);
    }
    if (!remote) this.watchStore(storePath);
    return repo;
  }

  private async warnStoreInside(storePath: string, folder: vscode.WorkspaceFolder): Promise<void> {
    this.deps.log.warn(
      `The store ${storePath} is inside the workspace folder ${folder.name}; it is left out of snapshots.`,
    );
    const choice = await vscode.window.showWarningMessage(
      `The backup store is inside the workspace "${folder.name}". It is left out of its own snapshots, but search, git and file watchers will see it, and losing the folder loses the backups too.`,
      'Open Settings',
    );
    if (choice === 'Open Settings')
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.storePath`);
  }

  /** Snapshots made by other windows or the CLI show up here: watch the store's snapshots folder. */
  private watchStore(storePath: string): void {
    if (this.storeWatchers.has(storePath)) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const watcher = fs.watch(path.join(storePath, 'snapshots'), () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => this.deps.statuses.fireChanged(undefined), 300);
      });
      watcher.on('error', () => watcher.close());
      this.storeWatchers.set(storePath, watcher);
    } catch (error) {
      this.deps.log.warn(`Cannot watch ${storePath} for snapshots from other windows: ${(error as Error).message}`);
    }
  }

  private closeWatchers(): void {
    for (const w of this.storeWatchers.values()) w.close();
    this.storeWatchers.clear();
  }
}
