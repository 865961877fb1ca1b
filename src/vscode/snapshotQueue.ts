// Taking snapshots: one snapshotter per workspace folder, snapshots of one folder one at a time, and the
// on-save and external-change queue (core/snapshot/saveQueue.ts) fed by the editor's saves and a file
// watcher per folder. Invariants: the editor never waits on a snapshot (saves only queue paths); a
// background failure is logged and shown once (failures.ts), never thrown into VS Code.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError, isBackupError } from '../core/errors';
import { formatBytes, plural, shortId } from '../core/format';
import { annotatedText } from '../core/snapshot/annotate';
import { SaveQueue } from '../core/snapshot/saveQueue';
import { Snapshotter } from '../core/snapshot/snapshotter';
import type { SnapshotRequest, SnapshotResult } from '../core/snapshot/snapshotter';
import type { Trigger } from '../core/repository/snapshotRecord';
import { nodeFs } from '../core/storage/fsPort';
import { isInside } from './configuration';
import { reportFailure } from './failures';
import type { FolderStatuses } from './folderStatus';
import type { GitFolderChoice } from './gitChoice';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import { OwnChanges } from './ownChanges';
import { missingStoreError } from './storeAccess';
import type { Stores } from './stores';
import type { WorkspaceSettings } from './workspaceSettings';

interface FolderQueue {
  folder: vscode.WorkspaceFolder;
  snapshotter?: Snapshotter;
  /** The on-save and external-change queue (core/snapshot/saveQueue.ts). */
  saves: SaveQueue;
  chain: Promise<unknown>;
}

export class SnapshotQueue extends Disposable {
  private readonly queues = new Map<string, FolderQueue>();
  private readonly ownWrites = new OwnChanges();
  private folderWatchers: vscode.Disposable[] = [];

  constructor(
    private readonly settings: WorkspaceSettings,
    private readonly stores: Stores,
    private readonly statuses: FolderStatuses,
    private readonly git: GitFolderChoice,
    private readonly log: Logger,
  ) {
    super();
    this.register(vscode.workspace.onDidSaveTextDocument((doc) => this.onSaved(doc)));
    this.register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.setupWatchers()));
    // Deleted in the Explorer (or by another extension's workspace edit): not a deletion outside the editor.
    this.register(
      vscode.workspace.onWillDeleteFiles((e) =>
        this.noteOwnWrites(e.files.filter((f) => f.scheme === 'file').map((f) => f.fsPath)),
      ),
    );
    this.register(
      stores.onDidForget((storePath) => this.dropSnapshotters((q) => this.stores.localPath(q.folder) === storePath)),
    );
    // Saves kept while a store was missing or locked go once it opens.
    this.register(
      stores.onDidSettle(({ storePath, opened }) => {
        if (!opened) return;
        for (const q of this.queues.values())
          if (this.stores.localPath(q.folder) === storePath && q.saves.kept) void q.saves.flush();
      }),
    );
    this.register(git.onDidDecide((folder) => this.dropSnapshotters((q) => q.folder.uri.fsPath === folder.uri.fsPath)));
    this.register({ dispose: () => this.disposeWatchers() });
    this.setupWatchers();
  }

  /** The configuration changed: snapshotters are rebuilt with the new rules, watchers set up again. */
  reconfigure(): void {
    this.dropSnapshotters(() => true);
    this.setupWatchers();
  }

  private dropSnapshotters(which: (q: FolderQueue) => boolean): void {
    for (const q of this.queues.values()) if (which(q)) q.snapshotter = undefined;
  }

  private queueOf(folder: vscode.WorkspaceFolder): FolderQueue {
    const key = folder.uri.fsPath;
    let q = this.queues.get(key);
    if (!q) {
      const saves = new SaveQueue(folder.uri.fsPath, {
        port: nodeFs,
        snapshot: (batch) => this.snapshotFolder(folder, batch),
        log: (message) => this.log.info(`${folder.name}: ${message}`),
        onError: (error) => this.reportBackgroundFailure(error),
        debounceMs: () => this.settings.settings(folder).saveDebounceMs,
        // Captured content bypasses the size check of a read from disk: capture nothing the limit refuses.
        captureBelow: Math.round(this.settings.settings(folder).maxFileSizeMB * 1024 * 1024) || undefined,
      });
      q = { folder, saves, chain: Promise.resolve() };
      this.queues.set(key, q);
      this.stores.localPath(folder);
    }
    return q;
  }

  private async snapshotter(folder: vscode.WorkspaceFolder): Promise<Snapshotter> {
    const q = this.queueOf(folder);
    if (!q.snapshotter) {
      const settings = this.settings.settings(folder);
      const repo = await this.stores.localRepository(folder);
      q.snapshotter = new Snapshotter(repo, {
        workspace: folder.uri.fsPath,
        excludes: settings.exclude,
        gitignore: settings.useGitignore,
        includeGit: await this.git.includesGit(folder, true),
        maxFileSize: Math.round(settings.maxFileSizeMB * 1024 * 1024),
        // A repository's config can run programs (fsmonitor, hooks): only read git in trusted folders.
        git: vscode.workspace.isTrusted,
      });
    }
    return q.snapshotter;
  }

  /** Runs `task` after every earlier snapshot of this folder, so one folder never has two at once. */
  private serialize<T>(folder: vscode.WorkspaceFolder, task: () => Promise<T>): Promise<T> {
    const q = this.queueOf(folder);
    const run = q.chain.then(task, task);
    q.chain = run.catch(() => undefined);
    return run;
  }

  /** A full snapshot (the command, the first snapshot, pre-restore). Throws on failure; the caller reports. */
  snapshotFolder(folder: vscode.WorkspaceFolder, request: SnapshotRequest): Promise<SnapshotResult> {
    return this.serialize(folder, async () => {
      this.statuses.noteBusy(folder, true);
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
        this.statuses.noteSuccess(
          folder,
          new Date(result.snapshot.time),
          result.created || result.annotated !== undefined,
        );
        if (result.created) this.statuses.noteRecorded({ folder, result });
        return result;
      } catch (error) {
        // The open store vanished under us (a drive unplugged): drop it, so the next use goes through the
        // missing-store check instead of writing into whatever is left at its path; say what to do.
        const storePath = this.stores.localPath(folder);
        const missing = isBackupError(error, 'REPO_NOT_FOUND') && error.data.missingStore === true;
        if (missing) this.stores.forgetStore(storePath);
        const reported = missing ? missingStoreError(storePath) : error;
        this.statuses.noteFailure(folder, reported);
        throw reported;
      } finally {
        this.statuses.noteBusy(folder, false);
      }
    });
  }

  private logResult(folder: vscode.WorkspaceFolder, result: SnapshotResult): void {
    const s = result.snapshot;
    for (const skip of result.skipped) this.log.warn(`${folder.name}: skipped ${skip.path}: ${skip.reason}`);
    if (!result.created) {
      this.log.info(
        `${folder.name}: nothing changed since snapshot ${shortId(s.id)}; no new snapshot${annotatedText(result.annotated)}.`,
      );
      return;
    }
    const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
    const what = s.paths?.length ? ` (${s.paths.slice(0, 3).join(', ')}${s.paths.length > 3 ? ', …' : ''})` : '';
    this.log.info(
      `${folder.name}: snapshot ${shortId(s.id)} [${s.trigger}] ${plural(changed, 'file')} changed${what}, ${formatBytes(s.stats.bytesAdded)} added.`,
    );
  }

  /** "Back up the git history": full snapshots take `.git` from now on (a large one included), and one is taken now. */
  async includeGitFolder(folder: vscode.WorkspaceFolder): Promise<SnapshotResult> {
    await this.git.include(folder);
    return this.snapshotFolder(folder, { trigger: 'manual' });
  }

  /** Surfaces a background failure once (until a snapshot succeeds again), with the actions that help. */
  private reportBackgroundFailure(error: unknown): void {
    if (error instanceof BackupError && error.code === 'CANCELLED') return;
    if (!this.statuses.claimFailureNotice()) return;
    // Not awaited: a notification stays until the user acts on it.
    void reportFailure(error, { what: 'Backup', kind: 'background' });
  }

  private onSaved(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== 'file') return;
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    if (!folder || !this.settings.settings(folder).snapshotOnSave) return;
    this.ownWrites.saved(doc.uri.fsPath);
    this.queue(folder, doc.uri.fsPath, 'save');
  }

  /** Marks a path for the next incremental snapshot of its folder (debounced; a save's content is read now). */
  queue(folder: vscode.WorkspaceFolder, absPath: string, trigger: Trigger): void {
    const rel = path.relative(folder.uri.fsPath, absPath).split(path.sep).join('/');
    if (!rel || !isInside(absPath, folder.uri.fsPath)) return;
    this.queueOf(folder).saves.add(rel, absPath, trigger);
  }

  /** Snapshots what is queued for a folder now. Resolves when that snapshot (if any) is done. */
  async flushFolder(folder: vscode.WorkspaceFolder): Promise<void> {
    const q = this.queueOf(folder);
    await q.saves.flush();
    await q.chain;
  }

  /** Waits for every queued and running snapshot (tests, deactivation). */
  async flushAll(): Promise<void> {
    await Promise.all(this.settings.folders().map((f) => this.flushFolder(f)));
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

  private setupWatchers(): void {
    for (const w of this.folderWatchers.splice(0)) w.dispose();
    for (const folder of this.settings.folders()) {
      if (!this.settings.settings(folder).watchExternalChanges) continue;
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
    this.queueOf(folder);
    if (isInside(p, this.stores.localPath(folder))) return;
    // Cheap name checks here; the snapshotter applies the full rules (globs, .gitignore) to what is queued.
    const rel = path.relative(folder.uri.fsPath, p).split(path.sep);
    const exclude = this.settings.settings(folder).exclude;
    if (rel.some((part) => exclude.includes(part))) return;
    this.queue(folder, p, 'external');
  }

  private disposeWatchers(): void {
    for (const w of this.folderWatchers.splice(0)) w.dispose();
    for (const q of this.queues.values()) q.saves.dispose();
  }
}
