// The editor's engine room: one open store per store path, one snapshotter per workspace folder, the
// on-save and external-change queue, and the events the views and the status bar listen to.
// Invariants: the editor never waits on a snapshot (saves only queue paths); snapshots of one folder run
// one at a time; a failure is logged and surfaced once, never thrown into VS Code.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError, isBackupError } from '../core/errors';
import { formatBytes, plural, shortId } from '../core/format';
import { Repository } from '../core/repository/repository';
import type { OpenOptions } from '../core/repository/repository';
import { nodeFs } from '../core/storage/fsPort';
import { isRemoteLocation } from '../core/storage/locate';
import type { RemoteOptions } from '../core/storage/remote';
import type { SnapshotRecord, Trigger } from '../core/repository/snapshotRecord';
import { workspaceSnapshots } from '../core/query/lineage';
import { Rules } from '../core/scan/rules';
import { annotatedText } from '../core/snapshot/annotate';
import { SaveQueue } from '../core/snapshot/saveQueue';
import { Snapshotter } from '../core/snapshot/snapshotter';
import type { SnapshotRequest, SnapshotResult } from '../core/snapshot/snapshotter';
import { LARGE_GIT_FOLDER_BYTES, gitFolderSize } from '../core/snapshot/gitFolder';
import { workspaceIdFor } from '../core/workspace/workspace';
import type { BackupSettings } from './configuration';
import { SECTION, isInside, readSettings, resolveStorePath } from './configuration';
import { Disposable } from './lifecycle';
import type { Keychain } from './keychain';
import type { KnownStores } from './knownStores';
import { knownStoreMissing, missingStoreError, openWithPassphrase, storeExists, storeFixes, storeProblemOf } from './storeAccess';
import type { StoreProblem } from './storeAccess';
import type { Logger } from './logger';
import { OwnChanges } from './ownChanges';

export interface FolderStatus {
  folder: vscode.WorkspaceFolder;
  lastSnapshot?: Date;
  lastError?: string;
  busy: boolean;
  /** The folder's history has been read once (until then the views and the status bar say "loading", never "not backed up"). */
  loaded: boolean;
  /** Why the history could not be read (a missing or locked store): one sentence. */
  loadError?: string;
  /** The folder's store could not be opened because it is missing or locked (the views explain it). */
  store?: StoreProblem;
}

interface FolderState {
  folder: vscode.WorkspaceFolder;
  storePath: string;
  snapshotter?: Snapshotter;
  /** The on-save and external-change queue (core/snapshot/saveQueue.ts). */
  saves: SaveQueue;
  chain: Promise<unknown>;
  status: FolderStatus;
  workspaceId?: string;
}


/** A snapshot this window recorded, with what it changed: what notableMoments.ts reads. */
export interface Recorded {
  folder: vscode.WorkspaceFolder;
  result: SnapshotResult;
}

export class BackupService extends Disposable {
  private readonly repos = new Map<string, Promise<Repository>>();
  /** Stores in `repos` that have finished opening. */
  private readonly opened = new Set<string>();
  private readonly states = new Map<string, FolderState>();
  private readonly storeWatchers = new Map<string, fs.FSWatcher>();
  private readonly ownWrites = new OwnChanges();
  private settingsCache = new Map<string, BackupSettings>();
  private warnedStores = new Set<string>();
  private errorShown = false;

  private readonly changed = this.register(new vscode.EventEmitter<vscode.WorkspaceFolder | undefined>());
  /** A snapshot was made, labelled, pinned or deleted (here, in another window, or by the CLI). */
  readonly onDidChange = this.changed.event;
  private readonly statusChanged = this.register(new vscode.EventEmitter<void>());
  readonly onDidChangeStatus = this.statusChanged.event;
  private readonly snapshotted = this.register(new vscode.EventEmitter<vscode.WorkspaceFolder>());
  /** A new snapshot of this folder was recorded by this window. */
  readonly onDidSnapshot = this.snapshotted.event;
  private readonly recorded = this.register(new vscode.EventEmitter<Recorded>());
  /** The same, with the snapshot's result (its changes and the snapshot before it). */
  readonly onDidRecord = this.recorded.event;

  /** Passphrases and destination credentials; set by activation (tests of the engine room run without). */
  keychain: Keychain | undefined;
  /** The local stores opened before (set by activation): one that has gone missing is not created again. */
  knownStores: KnownStores | undefined;
  /** How to log in to a remote store (set by activation: credentials from the keychain). */
  remoteOptions: ((location: string) => Promise<RemoteOptions>) | undefined;
  /** Where answers asked once are kept (set by activation: global state); tests of the engine room run without. */
  decisions: vscode.Memento | undefined;
  private readonly askedLargeGit = new Set<string>();
  /** Folders pointed at a destination instead of their local store ("Browse and Restore from a Destination"). */
  private readonly overrides = new Map<string, string>();

  constructor(
    private readonly log: Logger,
    /** Folders that are never backed up (snapshots opened as folders: snapshotFolders.ts). */
    private readonly ignoreFolder: (uri: vscode.Uri) => boolean = () => false,
  ) {
    super();
    this.register(vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc)));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) return;
        this.settingsCache.clear();
        // Rebuild snapshotters with the new rules; stores are reopened lazily if their path changed.
        for (const state of this.states.values()) {
          state.snapshotter = undefined;
          state.storePath = this.localStorePath(state.folder);
        }
        this.setupWatchers();
        this.changed.fire(undefined);
      }),
    );
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.setupWatchers()));
    // Deleted in the Explorer (or by another extension's workspace edit): not a deletion outside the editor.
    this.register(vscode.workspace.onWillDeleteFiles((e) => this.noteOwnWrites(e.files.filter((f) => f.scheme === 'file').map((f) => f.fsPath))));
    this.register({ dispose: () => this.disposeWatchers() });
    this.setupWatchers();
  }

  // ---- folders, settings, stores ---------------------------------------------------------------------

  folders(): readonly vscode.WorkspaceFolder[] {
    return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file' && !this.ignoreFolder(f.uri));
  }

  settings(folder?: vscode.WorkspaceFolder): BackupSettings {
    const key = folder?.uri.toString() ?? '';
    let settings = this.settingsCache.get(key);
    if (!settings) this.settingsCache.set(key, (settings = readSettings(folder?.uri)));
    return settings;
  }

  /**
   * The store a folder's snapshots are read from: its configured store, or the destination being browsed.
   * Writers (snapshots, retention, verify records, replication, the scheduler) use `localStorePath`.
   */
  storePathFor(folder: vscode.WorkspaceFolder): string {
    return this.overrides.get(folder.uri.toString()) ?? this.localStorePath(folder);
  }

  /** The folder's configured store: where snapshots are written, even while a destination is browsed. */
  localStorePath(folder: vscode.WorkspaceFolder): string {
    const raw = vscode.workspace.isTrusted ? this.settings(folder).storePath : readUserStorePath();
    return resolveStorePath(raw, folder.uri.fsPath);
  }

  /** The user's store without a folder (a window with none); undefined when it is spelled per folder. */
  defaultStorePath(): string | undefined {
    const raw = readUserStorePath();
    return /\$\{workspaceFolder/.test(raw) ? undefined : resolveStorePath(raw, undefined);
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
    const state = this.state(folder);
    state.status.lastSnapshot = undefined;
    this.changed.fire(undefined);
    this.statusChanged.fire();
  }

  /** Drops an open store so the next use reopens it (after unlocking, or a new passphrase); a remote one is disconnected. */
  forgetStore(storePath: string): void {
    const open = this.repos.get(storePath);
    this.repos.delete(storePath);
    this.opened.delete(storePath);
    void open?.then((repo) => repo.close()).catch(() => undefined);
    for (const state of this.states.values()) if (state.storePath === storePath) state.snapshotter = undefined;
  }

  private state(folder: vscode.WorkspaceFolder): FolderState {
    const key = folder.uri.fsPath;
    let state = this.states.get(key);
    if (!state) {
      const saves = new SaveQueue(folder.uri.fsPath, {
        port: nodeFs,
        snapshot: (batch) => this.snapshotFolder(folder, batch),
        log: (message) => this.log.info(`${folder.name}: ${message}`),
        onError: (error) => void this.reportBackgroundFailure(error),
        debounceMs: () => this.settings(folder).saveDebounceMs,
        // Captured content bypasses the size check of a read from disk: capture nothing the limit refuses.
        captureBelow: Math.round(this.settings(folder).maxFileSizeMB * 1024 * 1024) || undefined,
      });
      state = { folder, storePath: this.localStorePath(folder), saves, chain: Promise.resolve(), status: { folder, busy: false, loaded: false } };
      this.states.set(key, state);
    }
    return state;
  }

  status(folder: vscode.WorkspaceFolder): FolderStatus {
    return this.state(folder).status;
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
    return this.open(this.state(folder).storePath, folder);
  }

  private async open(storePath: string, folder: vscode.WorkspaceFolder): Promise<Repository> {
    let repo = this.repos.get(storePath);
    // An open store whose folder was deleted (or whose drive went) would list no snapshots, and the views
    // would show an empty history: drop it, so the missing-store check below says what happened.
    if (repo && this.opened.has(storePath) && !isRemoteLocation(storePath) && !(await storeExists(storePath)) && this.repos.get(storePath) === repo) {
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
    for (const state of this.states.values()) {
      if (state.storePath !== storePath) continue;
      if (state.status.store !== problem) {
        state.status.store = problem;
        this.statusChanged.fire();
      }
      if (error === undefined && state.saves.kept) void state.saves.flush();
    }
  }

  private async openStore(storePath: string, folder: vscode.WorkspaceFolder): Promise<Repository> {
    const remote = isRemoteLocation(storePath);
    if (await knownStoreMissing(storePath, this.knownStores)) throw missingStoreError(storePath);
    if (!remote) {
      try {
        await fs.promises.mkdir(storePath, { recursive: true });
      } catch (error) {
        throw new BackupError('PERMISSION_DENIED', `The backup store folder ${storePath} cannot be created (${(error as NodeJS.ErrnoException).code ?? 'error'}); choose another folder in the settings.`, { storePath });
      }
    }
    // A remote store (a destination being browsed) is never created from here: only replication makes one.
    const repo = await this.openWithPassphrase(storePath, { create: !remote });
    this.log.info(`Store opened at ${storePath}${repo.codec.encrypted ? ' (encrypted)' : ''}.`);
    if (!remote) await this.knownStores?.remember(storePath);
    if (isInside(storePath, folder.uri.fsPath) && !this.warnedStores.has(storePath)) {
      this.warnedStores.add(storePath);
      void this.warnStoreInside(storePath, folder);
    }
    if (!remote) this.watchStore(storePath);
    return repo;
  }

  /** Opens a store, asking for its passphrase if it is encrypted (see storeAccess.ts). */
  openWithPassphrase(location: string, options: OpenOptions): Promise<Repository> {
    return openWithPassphrase(location, options, { keychain: this.keychain, log: this.log, remoteOptions: this.remoteOptions });
  }

  private async warnStoreInside(storePath: string, folder: vscode.WorkspaceFolder): Promise<void> {
    this.log.warn(`The store ${storePath} is inside the workspace folder ${folder.name}; it is left out of snapshots.`);
    const choice = await vscode.window.showWarningMessage(
      `The backup store is inside the workspace "${folder.name}". It is left out of its own snapshots, but search, git and file watchers will see it, and losing the folder loses the backups too.`,
      'Open Settings',
    );
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.storePath`);
  }

  async snapshotter(folder: vscode.WorkspaceFolder): Promise<Snapshotter> {
    const state = this.state(folder);
    if (!state.snapshotter) {
      const settings = this.settings(folder);
      const repo = await this.localRepository(folder);
      state.snapshotter = new Snapshotter(repo, {
        workspace: folder.uri.fsPath,
        excludes: settings.exclude,
        gitignore: settings.useGitignore,
        includeGit: await this.includesGit(folder, true),
        maxFileSize: Math.round(settings.maxFileSizeMB * 1024 * 1024),
        // A repository's config can run programs (fsmonitor, hooks): only read git in trusted folders.
        git: vscode.workspace.isTrusted,
      });
    }
    return state.snapshotter;
  }

  /**
   * Whether full snapshots of this folder take its `.git`: the setting, and for a `.git` over
   * LARGE_GIT_FOLDER_BYTES the user's answer, asked once per folder (`ask`) and kept in `decisions`; until
   * answered a large one is left out, so nobody's disk fills before they say so.
   */
  async includesGit(folder: vscode.WorkspaceFolder, ask = false): Promise<boolean> {
    if (!this.settings(folder).includeGitFolder) return false;
    const key = `projectBackup.largeGit:${folder.uri.toString()}`;
    const decided = this.decisions?.get<boolean>(key);
    if (decided !== undefined) return decided;
    const size = await gitFolderSize(nodeFs, folder.uri.fsPath);
    if (!size || size.bytes < LARGE_GIT_FOLDER_BYTES) return true;
    if (ask && !this.askedLargeGit.has(key)) {
      this.askedLargeGit.add(key);
      this.log.info(`${folder.name}: .git is ${formatBytes(size.bytes)}; it is left out of snapshots until you say whether to include it.`);
      void vscode.window
        .showWarningMessage(`The git repository of ${folder.name} is ${formatBytes(size.bytes)}. Include it in full snapshots, so a restored project comes back with its whole history? The store grows by about that much.`, 'Include .git', 'Leave It Out')
        .then(async (choice) => {
          if (!choice) return;
          await this.decisions?.update(key, choice === 'Include .git');
          this.state(folder).snapshotter = undefined;
          this.log.info(`${folder.name}: .git ${choice === 'Include .git' ? 'is included in' : 'is left out of'} full snapshots from now on.`);
        });
    }
    return false;
  }

  /** "Back up the git history": full snapshots take `.git` from now on (a large one included), and one is taken now. */
  async includeGitFolder(folder: vscode.WorkspaceFolder): Promise<SnapshotResult> {
    const config = vscode.workspace.getConfiguration(SECTION, folder.uri);
    if (!config.get<boolean>('includeGitFolder', true)) {
      const inspected = config.inspect<boolean>('includeGitFolder');
      const target = inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await config.update('includeGitFolder', true, target);
    }
    await this.decisions?.update(`projectBackup.largeGit:${folder.uri.toString()}`, true);
    this.settingsCache.clear();
    this.state(folder).snapshotter = undefined;
    return this.snapshotFolder(folder, { trigger: 'manual' });
  }

  rules(folder: vscode.WorkspaceFolder, repo: Repository): Rules {
    const settings = this.settings(folder);
    return new Rules({ excludes: settings.exclude, gitignore: settings.useGitignore, excludeAbsolute: isRemoteLocation(repo.location) ? [] : [repo.location] });
  }

  workspaceId(folder: vscode.WorkspaceFolder): string {
    const state = this.state(folder);
    if (!state.workspaceId) {
      let real = folder.uri.fsPath;
      try {
        real = fs.realpathSync(real);
      } catch {
        // A folder that is gone still has history: fall back to its path.
      }
      state.workspaceId = workspaceIdFor(real);
    }
    return state.workspaceId;
  }

  /** The folder's snapshots, oldest first. `reload` re-reads labels and pins changed elsewhere. */
  async snapshots(folder: vscode.WorkspaceFolder, reload = false): Promise<SnapshotRecord[]> {
    let mine: SnapshotRecord[];
    try {
      const repo = await this.repository(folder);
      // Its own snapshots and those of the workspaces it continues (a moved or renamed project).
      mine = await workspaceSnapshots(repo, this.workspaceId(folder), { reload, onDamaged: (key, error) => this.log.warn(`${key}: ${error.message}`) });
    } catch (error) {
      this.noteLoaded(folder, error instanceof Error ? error.message : String(error));
      throw error;
    }
    const latest = mine[mine.length - 1];
    this.noteLoaded(folder, undefined);
    if (latest) this.noteSuccess(folder, new Date(latest.time), false);
    return mine;
  }

  /** Reads every folder's history once, in the background, so the status bar knows what to say. */
  async loadStatuses(): Promise<void> {
    await Promise.all(
      this.folders().map(async (folder) => {
        // A store that was never made is not made just to say so (one that went missing is an error to show).
        if (!(await this.storeMade(folder))) return this.noteLoaded(folder, undefined);
        await this.snapshots(folder).catch(() => undefined);
      }),
    );
  }

  /** Whether the folder's store exists or existed (known, or remote): reading it then never creates one. */
  async storeMade(folder: vscode.WorkspaceFolder): Promise<boolean> {
    const store = this.storePathFor(folder);
    return isRemoteLocation(store) || this.knownStores?.has(store) === true || (await storeExists(store));
  }

  private noteLoaded(folder: vscode.WorkspaceFolder, loadError: string | undefined): void {
    const status = this.state(folder).status;
    if (status.loaded && status.loadError === loadError) return;
    status.loaded = true;
    status.loadError = loadError;
    this.statusChanged.fire();
  }

  // ---- taking snapshots ------------------------------------------------------------------------------

  /** Runs `task` after every earlier snapshot of this folder, so one folder never has two at once. */
  private serialize<T>(folder: vscode.WorkspaceFolder, task: () => Promise<T>): Promise<T> {
    const state = this.state(folder);
    const run = state.chain.then(task, task);
    state.chain = run.catch(() => undefined);
    return run;
  }

  /** A full snapshot (the command, the first snapshot, pre-restore). Throws on failure; the caller reports. */
  snapshotFolder(folder: vscode.WorkspaceFolder, request: SnapshotRequest): Promise<SnapshotResult> {
    return this.serialize(folder, async () => {
      const state = this.state(folder);
      state.status.busy = true;
      this.statusChanged.fire();
      try {
        const snapshotter = await this.snapshotter(folder);
        const onNotice = request.onNotice;
        const result = await snapshotter.snapshot({
          ...request,
          onNotice: (message) => {
            this.log.info(`${folder.name}: ${message}`);
            onNotice?.(message);
          },
        });
        this.logResult(folder, result);
        this.noteSuccess(folder, new Date(result.snapshot.time), result.created || result.annotated !== undefined);
        if (result.created) {
          this.snapshotted.fire(folder);
          this.recorded.fire({ folder, result });
        }
        return result;
      } catch (error) {
        // The open store vanished under us (a drive unplugged): drop it, so the next use goes through the
        // missing-store check instead of writing into whatever is left at its path; say what to do.
        const missing = isBackupError(error, 'REPO_NOT_FOUND') && error.data.missingStore === true;
        if (missing) this.forgetStore(state.storePath);
        const reported = missing ? missingStoreError(state.storePath) : error;
        this.noteFailure(folder, reported);
        throw reported;
      } finally {
        state.status.busy = false;
        this.statusChanged.fire();
      }
    });
  }

  private logResult(folder: vscode.WorkspaceFolder, result: SnapshotResult): void {
    const s = result.snapshot;
    for (const skip of result.skipped) this.log.warn(`${folder.name}: skipped ${skip.path}: ${skip.reason}`);
    if (!result.created) {
      this.log.info(`${folder.name}: nothing changed since snapshot ${shortId(s.id)}; no new snapshot${annotatedText(result.annotated)}.`);
      return;
    }
    const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
    const what = s.paths?.length ? ` (${s.paths.slice(0, 3).join(', ')}${s.paths.length > 3 ? ', …' : ''})` : '';
    this.log.info(`${folder.name}: snapshot ${shortId(s.id)} [${s.trigger}] ${plural(changed, 'file')} changed${what}, ${formatBytes(s.stats.bytesAdded)} added.`);
  }

  private noteSuccess(folder: vscode.WorkspaceFolder, time: Date, fire: boolean): void {
    const status = this.state(folder).status;
    const before = status.lastSnapshot?.getTime();
    if (!status.lastSnapshot || time > status.lastSnapshot) status.lastSnapshot = time;
    const hadError = status.lastError !== undefined;
    status.lastError = undefined;
    this.errorShown = false;
    if (fire) this.changed.fire(folder);
    if (fire || hadError || before !== status.lastSnapshot.getTime()) this.statusChanged.fire();
  }

  private noteFailure(folder: vscode.WorkspaceFolder, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.state(folder).status.lastError = message;
    this.log.error(`${folder.name}: snapshot failed: ${message}`, error);
    this.statusChanged.fire();
  }

  /** Surfaces a background failure once (until a snapshot succeeds again), with the actions that help. */
  private async reportBackgroundFailure(error: unknown): Promise<void> {
    if (this.errorShown || error instanceof BackupError && error.code === 'CANCELLED') return;
    this.errorShown = true;
    const message = error instanceof Error ? error.message : String(error);
    const fixes = storeFixes(error);
    const choice = await vscode.window.showErrorMessage(`Backup failed: ${message}`, ...fixes.map((f) => f.title), 'Show Log', 'Open Settings');
    const fix = fixes.find((f) => f.title === choice);
    if (fix) await vscode.commands.executeCommand(fix.command);
    if (choice === 'Show Log') await vscode.commands.executeCommand('backup.showLog');
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', SECTION);
    // (Callers do not await this: a notification stays until the user acts on it.)
  }

  private onSaved(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return;
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!folder || !this.settings(folder).snapshotOnSave) return;
    this.ownWrites.saved(doc.uri.fsPath);
    this.queue(folder, doc.uri.fsPath, 'save');
  }

  /** Marks a path for the next incremental snapshot of its folder (debounced; a save's content is read now). */
  queue(folder: vscode.WorkspaceFolder, absPath: string, trigger: Trigger): void {
    const rel = path.relative(folder.uri.fsPath, absPath).split(path.sep).join('/');
    if (!rel || !isInside(absPath, folder.uri.fsPath)) return;
    this.state(folder).saves.add(rel, absPath, trigger);
  }

  /** Snapshots what is queued for a folder now. Resolves when that snapshot (if any) is done. */
  async flushFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    const state = this.state(folder);
    await state.saves.flush();
    await state.chain;
  }

  /** Waits for every queued and running snapshot (tests, deactivation). */
  async flushAll(): Promise<void> {
    await Promise.all(this.folders().map((f) => this.flushFolder(f)));
  }

  /** Tells the watcher that we are about to write these files ourselves (restore), so it does not echo them. */
  noteOwnWrites(paths: readonly string[]): void {
    this.ownWrites.wrote(paths);
  }

  /** Whether the editor made this change itself (saved, restored, deleted in the Explorer): see ownChanges.ts. */
  isOwnChange(folder: vscode.WorkspaceFolder, rel: string, deleted: boolean): boolean {
    return this.ownWrites.isOwn(folder.uri.fsPath, path.join(folder.uri.fsPath, ...rel.split('/')), deleted);
  }

  // ---- watchers --------------------------------------------------------------------------------------

  private folderWatchers: vscode.Disposable[] = [];

  private setupWatchers(): void {
    for (const w of this.folderWatchers.splice(0)) w.dispose();
    for (const folder of this.folders()) {
      if (!this.settings(folder).watchExternalChanges) continue;
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
      const onEvent = (uri: vscode.Uri) => this.onExternal(folder, uri);
      watcher.onDidCreate(onEvent);
      watcher.onDidChange(onEvent);
      watcher.onDidDelete(onEvent);
      this.folderWatchers.push(watcher);
    }
  }

  private onExternal(folder: vscode.WorkspaceFolder, uri: vscode.Uri): void {
    if (uri.scheme !== 'file') return;
    const p = uri.fsPath;
    if (this.ownWrites.isEcho(p)) return;
    const state = this.state(folder);
    if (isInside(p, state.storePath)) return;
    // Cheap name checks here; the snapshotter applies the full rules (globs, .gitignore) to what is queued.
    const rel = path.relative(folder.uri.fsPath, p).split(path.sep);
    const exclude = this.settings(folder).exclude;
    if (rel.some((part) => exclude.includes(part))) return;
    this.queue(folder, p, 'external');
  }

  /** Snapshots made by other windows or the CLI show up here: watch the store's snapshots folder. */
  private watchStore(storePath: string): void {
    if (this.storeWatchers.has(storePath)) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      const watcher = fs.watch(path.join(storePath, 'snapshots'), () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => this.changed.fire(undefined), 300);
      });
      watcher.on('error', () => watcher.close());
      this.storeWatchers.set(storePath, watcher);
    } catch (error) {
      this.log.warn(`Cannot watch ${storePath} for snapshots from other windows: ${(error as Error).message}`);
    }
  }

  private disposeWatchers(): void {
    for (const w of this.folderWatchers.splice(0)) w.dispose();
    for (const w of this.storeWatchers.values()) w.close();
    this.storeWatchers.clear();
    for (const state of this.states.values()) state.saves.dispose();
  }

  fireChanged(folder?: vscode.WorkspaceFolder): void {
    this.changed.fire(folder);
  }
}

/** The store path from user settings only (untrusted workspaces must not choose where we write). */
function readUserStorePath(): string {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<string>('storePath');
  return inspected?.globalValue ?? inspected?.defaultValue ?? '~/.project-backup/store';
}
