// What the views and the status bar know of each folder: its last snapshot, whether one runs or failed,
// whether its history has been read and whether its store is missing or locked, plus the events they listen
// to. Only this class changes a folder's status, and every change fires `onDidChangeStatus`.

import * as vscode from 'vscode';
import type { SnapshotResult } from '../core/snapshot/snapshotter';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { StoreProblem } from './storeAccess';

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

/** A snapshot this window recorded, with what it changed: what notableMoments.ts reads. */
export interface Recorded {
  folder: vscode.WorkspaceFolder;
  result: SnapshotResult;
}

export class FolderStatuses extends Disposable {
  private readonly statuses = new Map<string, FolderStatus>();
  /** A background failure has been shown; the next one is not, until a snapshot succeeds again. */
  private failureShown = false;

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

  constructor(private readonly log: Logger) {
    super();
  }

  status(folder: vscode.WorkspaceFolder): FolderStatus {
    const key = folder.uri.fsPath;
    let status = this.statuses.get(key);
    if (!status) this.statuses.set(key, (status = { folder, busy: false, loaded: false }));
    return status;
  }

  fireChanged(folder?: vscode.WorkspaceFolder): void {
    this.changed.fire(folder);
  }

  fireStatus(): void {
    this.statusChanged.fire();
  }

  /** The folder's history was read (loadError undefined) or could not be. */
  noteLoaded(folder: vscode.WorkspaceFolder, loadError: string | undefined): void {
    const status = this.status(folder);
    if (status.loaded && status.loadError === loadError) return;
    status.loaded = true;
    status.loadError = loadError;
    this.statusChanged.fire();
  }

  noteBusy(folder: vscode.WorkspaceFolder, busy: boolean): void {
    this.status(folder).busy = busy;
    this.statusChanged.fire();
  }

  /** The folder's store opened (undefined) or is missing or locked. */
  noteStore(folder: vscode.WorkspaceFolder, problem: StoreProblem | undefined): void {
    const status = this.status(folder);
    if (status.store === problem) return;
    status.store = problem;
    this.statusChanged.fire();
  }

  /** A snapshot of the folder is known (taken now, or read); `fire` says the folder's history changed. */
  noteSuccess(folder: vscode.WorkspaceFolder, time: Date, fire: boolean): void {
    const status = this.status(folder);
    const before = status.lastSnapshot?.getTime();
    if (!status.lastSnapshot || time > status.lastSnapshot) status.lastSnapshot = time;
    const hadError = status.lastError !== undefined;
    status.lastError = undefined;
    this.failureShown = false;
    if (fire) this.changed.fire(folder);
    if (fire || hadError || before !== status.lastSnapshot.getTime()) this.statusChanged.fire();
  }

  noteFailure(folder: vscode.WorkspaceFolder, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.status(folder).lastError = message;
    this.log.error(`${folder.name}: snapshot failed: ${message}`, error);
    this.statusChanged.fire();
  }

  /** A new snapshot was recorded by this window. */
  noteRecorded(recorded: Recorded): void {
    this.snapshotted.fire(recorded.folder);
    this.recorded.fire(recorded);
  }

  /** The folder is shown another store (or its own again): what it knew of its last snapshot no longer holds. */
  noteStoreSwitched(folder: vscode.WorkspaceFolder): void {
    this.status(folder).lastSnapshot = undefined;
    this.changed.fire(undefined);
    this.statusChanged.fire();
  }

  /** Whether a background failure should be shown now: once, until a snapshot succeeds again. */
  claimFailureNotice(): boolean {
    if (this.failureShown) return false;
    this.failureShown = true;
    return true;
  }
}
