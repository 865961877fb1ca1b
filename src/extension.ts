// Activation: wire the pieces and hand every disposable to VS Code. No scan and no store access happen
// here; the store opens on the first snapshot or when a view is shown.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupService } from './vscode/backupService';
import { Commands, ContextKeys, SCHEME, Views } from './vscode/commandIds';
import { deleteSnapshot, labelSnapshot, pinSnapshot } from './vscode/commands/annotateSnapshot';
import { compareWithSelected, selectForCompare } from './vscode/commands/compareSelection';
import { compareWithCurrent } from './vscode/commands/compareWithCurrent';
import { compareWithPrevious } from './vscode/commands/compareWithPrevious';
import { copyPath } from './vscode/commands/copyPath';
import { openVersion } from './vscode/commands/openVersion';
import { restoreFile, restoreFileTo } from './vscode/commands/restoreFile';
import { restoreFolder, restoreSnapshot } from './vscode/commands/restoreSnapshot';
import { showFileHistory } from './vscode/commands/showFileHistory';
import { snapshotWorkspace } from './vscode/commands/snapshotWorkspace';
import { undoLastRestore } from './vscode/commands/undoLastRestore';
import { verifyBackups } from './vscode/commands/verifyBackups';
import { exportArchiveCommand } from './vscode/commands/exportArchive';
import { searchHistory } from './vscode/commands/searchHistory';
import { addDestination, removeDestination, replicateNow, setDestinationCredentials, useDestination, useLocalStore } from './vscode/commands/destinations';
import { encryptStore, forgetPassphrase, unlockStore } from './vscode/commands/encryption';
import { recreateStore } from './vscode/commands/missingStore';
import { openStore, restoreProject } from './vscode/commands/restoreProject';
import { guarded, resolveSnapshot } from './vscode/commands/shared';
import { SnapshotFolders } from './vscode/snapshotFolders';
import { restoreSelection, showSelectionHistory } from './vscode/commands/selectionHistory';
import { createApiV1 } from './vscode/publicApi';
import type { ProjectBackupApiV1 } from './vscode/publicApi';
import { bringBackStore } from './vscode/commands/bringBackStore';
import { markOffsite } from './vscode/commands/markOffsite';
import { copyProber } from './vscode/lostStore';
import { filterSnapshots } from './vscode/commands/filterSnapshots';
import { goToTime } from './vscode/commands/goToTime';
import { Keychain } from './vscode/keychain';
import { offerContinuedHistory } from './vscode/lineageOffer';
import { KnownStores } from './vscode/knownStores';
import { NotableMoments } from './vscode/notableMoments';
import { Maintenance } from './vscode/maintenance';
import { Replicator } from './vscode/replication';
import { HealthView } from './vscode/views/healthView';
import { Scheduler } from './vscode/scheduler';
import type { CommandContext } from './vscode/commands/shared';
import { ChannelLogger } from './vscode/logger';
import type { Prompter } from './vscode/prompter';
import { WindowPrompter } from './vscode/prompter';
import { SnapshotContentProvider } from './vscode/providers/snapshotContentProvider';
import { lastUndo } from './vscode/restoreFlow';
import { StatusBar } from './vscode/statusBar';
import { FileHistoryView } from './vscode/views/fileHistoryView';
import { SnapshotsView } from './vscode/views/snapshotsView';

/**
 * What activate returns. `v1` is the documented, versioned API for other extensions (vscode/publicApi.ts,
 * README "API for other extensions"); the rest is for this extension's own integration tests and may change.
 */
export interface ProjectBackupApi {
  v1: ProjectBackupApiV1;
  activationMs: number;
  service: BackupService;
  snapshotsView: SnapshotsView;
  historyView: FileHistoryView;
  maintenance: Maintenance;
  scheduler: Scheduler;
  healthView: HealthView;
  replicator: Replicator;
  keychain: Keychain;
  statusBar: StatusBar;
  snapshotFolders: SnapshotFolders;
  /** Mass deletions and rewrites outside the editor, and automatic labels of notable moments. */
  moments: NotableMoments;
  log: ChannelLogger;
  /** Replaces how the extension asks questions (integration tests answer through this). */
  setPrompter(prompter: Prompter): void;
  /** Resolves when queued on-save and external-change snapshots are done. */
  flush(): Promise<void>;
}

export function activate(context: vscode.ExtensionContext): ProjectBackupApi {
  const started = performance.now();
  const log = new ChannelLogger();
  const snapshotFolders = new SnapshotFolders(path.join(context.globalStorageUri.fsPath, 'opened-snapshots'), log);
  const service = new BackupService(log, (uri) => snapshotFolders.owns(uri));
  const snapshotsView = new SnapshotsView(service, log);
  const historyView = new FileHistoryView(service, log);
  const maintenance = new Maintenance(service, log, context.globalState);
  const scheduler = new Scheduler(service, log, context.globalState);
  let prompter: Prompter = new WindowPrompter();
  const keychain = new Keychain(context.secrets, context.globalState, () => prompter);
  service.keychain = keychain;
  service.knownStores = new KnownStores(context.globalState);
  service.decisions = context.globalState;
  const replicator = new Replicator(service, keychain, log, () => prompter);
  service.remoteOptions = (location) => replicator.remoteOptions(location, true);
  const healthView = new HealthView(service, log, (folder) => replicator.healthInputs(folder), copyProber(service, replicator));
  context.subscriptions.push(
    replicator.onDidChange(() => !replicator.busy && healthView.refreshSoon()),
    maintenance.onDidVerify(() => healthView.refreshSoon()),
  );
  const statusBar = new StatusBar(service, healthView, replicator);
  context.subscriptions.push(scheduler);
  context.subscriptions.push(snapshotFolders);
  context.subscriptions.push(log, service, snapshotsView, historyView, statusBar, maintenance, replicator, healthView);

  const ctx: CommandContext = { service, prompter, log, state: context.workspaceState, snapshotsView, historyView, healthView, keychain, replicator };
  const moments = new NotableMoments(service, log, ctx);
  context.subscriptions.push(moments);
  const snapshotsTree = vscode.window.createTreeView(Views.snapshots, { treeDataProvider: snapshotsView, showCollapseAll: true });
  const historyTree = vscode.window.createTreeView(Views.fileHistory, { treeDataProvider: historyView });
  const healthTree = vscode.window.createTreeView(Views.health, { treeDataProvider: healthView });
  context.subscriptions.push(healthTree);
  historyView.view = historyTree;
  snapshotsView.view = snapshotsTree;
  const provider = new SnapshotContentProvider((store) => {
    const folder = service.folders().find((f) => service.storePathFor(f) === store);
    if (folder) return service.repository(folder);
    const writer = service.folders().find((f) => service.localStorePath(f) === store);
    return writer ? service.localRepository(writer) : undefined;
  }, log, (store) => service.openWithPassphrase(store, {}));
  context.subscriptions.push(snapshotsTree, historyTree, vscode.workspace.registerTextDocumentContentProvider(SCHEME, provider));

  const register = (id: string, handler: (...args: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, handler));
  register(Commands.snapshotWorkspace, (arg) => snapshotWorkspace(ctx, arg));
  register(Commands.showFileHistory, (arg) => showFileHistory(ctx, arg));
  register(Commands.openVersion, (arg) => openVersion(ctx, arg));
  register(Commands.compareWithCurrent, (arg) => compareWithCurrent(ctx, arg));
  register(Commands.compareWithPrevious, (arg) => compareWithPrevious(ctx, arg));
  register(Commands.selectForCompare, (arg) => selectForCompare(ctx, arg));
  register(Commands.compareWithSelected, (arg) => compareWithSelected(ctx, arg));
  register(Commands.restoreFile, (arg) => restoreFile(ctx, arg));
  register(Commands.restoreFileTo, (arg) => restoreFileTo(ctx, arg));
  register(Commands.restoreSnapshot, (arg) => restoreSnapshot(ctx, arg));
  register(Commands.restoreFolder, (arg) => restoreFolder(ctx, arg));
  register(Commands.undoLastRestore, () => undoLastRestore(ctx));
  register(Commands.copyPath, (arg) => copyPath(ctx, arg));
  register(Commands.labelSnapshot, (arg) => labelSnapshot(ctx, arg));
  register(Commands.pinSnapshot, (arg) => pinSnapshot(ctx, arg, true));
  register(Commands.unpinSnapshot, (arg) => pinSnapshot(ctx, arg, false));
  register(Commands.deleteSnapshot, (arg) => deleteSnapshot(ctx, arg));
  register(Commands.refresh, () => {
    snapshotsView.refresh(true);
    service.fireChanged();
  });
  register(Commands.verifyBackups, (arg) => verifyBackups(ctx, maintenance, arg));
  register(Commands.showHealth, async () => {
    await vscode.commands.executeCommand(`${Views.health}.focus`);
    await healthView.refresh();
  });
  register(Commands.refreshHealth, () => healthView.refresh());
  register(Commands.addDestination, (arg, presets) => addDestination(ctx, arg, presets as { offsite?: boolean } | undefined));
  register(Commands.removeDestination, (arg) => removeDestination(ctx, arg));
  register(Commands.replicateNow, (arg) => replicateNow(ctx, arg));
  register(Commands.setDestinationCredentials, (arg) => setDestinationCredentials(ctx, arg));
  register(Commands.useDestination, (arg, location) => useDestination(ctx, arg, location));
  register(Commands.useLocalStore, (arg) => useLocalStore(ctx, arg));
  register(Commands.encryptStore, (arg) => encryptStore(ctx, arg));
  register(Commands.unlockStore, (arg) => unlockStore(ctx, arg));
  register(Commands.forgetPassphrase, (arg) => forgetPassphrase(ctx, arg));
  register(Commands.recreateStore, (arg) => recreateStore(ctx, arg));
  register(Commands.includeGitFolder, (arg) =>
    guarded(ctx, 'Back up the git history', async () => {
      const folder = service.folders().find((f) => arg instanceof vscode.Uri && f.uri.toString() === arg.toString()) ?? (await prompter.pickFolder(service.folders(), 'Back up the git history of which folder?'));
      if (!folder) return;
      const result = await service.includeGitFolder(folder);
      healthView.refreshSoon();
      void vscode.window.showInformationMessage(`The git history of ${folder.name} is backed up from now on (snapshot ${result.snapshot.id.slice(0, 8)}).`);
    }),
  );
  register(Commands.showSelectionHistory, () => showSelectionHistory(ctx));
  register(Commands.restoreSelection, () => restoreSelection(ctx));
  register(Commands.openSnapshotAsFolder, (arg) =>
    guarded(ctx, 'Open Snapshot as Folder', async () => {
      const node = await resolveSnapshot(ctx, arg, 'Open which snapshot as a folder?');
      if (!node) return;
      await snapshotFolders.open(await service.repository(node.folder), node.snapshot, node.folder.name);
    }),
  );
  register(Commands.restoreProject, () => guarded(ctx, 'Restore a Project', () => restoreProject(ctx)));
  register(Commands.openStore, (arg) => guarded(ctx, 'Open a Store', () => openStore(ctx, typeof arg === 'string' ? arg : undefined)));
  register(Commands.bringBackStore, (arg, location) => bringBackStore(ctx, arg, location));
  register(Commands.markOffsite, (arg) => markOffsite(ctx, arg, true));
  register(Commands.markOnsite, (arg) => markOffsite(ctx, arg, false));
  register(Commands.searchHistory, () => searchHistory(ctx));
  register(Commands.goToTime, (arg) => goToTime(ctx, arg));
  register(Commands.filterSnapshots, (arg) => filterSnapshots(ctx, arg));
  register(Commands.clearSnapshotFilter, () => snapshotsView.setFilter(undefined));
  register(Commands.exportFullArchive, (arg) => exportArchiveCommand(ctx, 'full', arg));
  register(Commands.exportDifferentialArchive, (arg) => exportArchiveCommand(ctx, 'differential', arg));
  register(Commands.exportIncrementalArchive, (arg) => exportArchiveCommand(ctx, 'incremental', arg));
  register(Commands.showLog, () => log.show());
  register(Commands.openSettings, () => vscode.commands.executeCommand('workbench.action.openSettings', '@ext:project-backup.project-backup'));

  void vscode.commands.executeCommand('setContext', ContextKeys.canUndoRestore, lastUndo(context.workspaceState) !== undefined);
  // The store opens after activation returns: until it has been read, the status bar says "loading".
  setImmediate(() => void service.loadStatuses());
  setImmediate(() => void snapshotFolders.sweep());
  // A folder without backups that is very likely a moved or renamed workspace is offered its history, once.
  const offerTimer = setTimeout(() => {
    for (const folder of service.folders()) {
      offerContinuedHistory(service, prompter, log, context.globalState, folder).catch((error) => log.warn(`${folder.name}: could not look for an earlier history: ${error instanceof Error ? error.message : String(error)}`));
    }
  }, 2_000);
  context.subscriptions.push({ dispose: () => clearTimeout(offerTimer) });
  const activationMs = performance.now() - started;
  log.info(`Activated in ${activationMs.toFixed(1)} ms for ${service.folders().map((f) => f.name).join(', ') || 'no folder'}.`);
  return {
    v1: createApiV1(service, log, context.workspaceState, () => prompter),
    activationMs,
    service,
    snapshotsView,
    historyView,
    maintenance,
    scheduler,
    healthView,
    replicator,
    keychain,
    statusBar,
    snapshotFolders,
    moments,
    log,
    setPrompter: (next) => {
      prompter = next;
      ctx.prompter = next;
    },
    flush: () => service.flushAll(),
  };
}

export function deactivate(): void {
  // Every snapshot is durable when it resolves; queued paths are picked up by the next full snapshot.
}
