// Activation, and the editor's one composition root: every service is built here with all it needs passed
// to its constructor (nothing is assigned afterwards), every command is registered through
// vscode/commands/registry.ts, and every disposable is handed to VS Code. No scan and no store access happen
// here; the store opens on the first snapshot or when a view is shown.

import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackupService } from './vscode/backupService';
import { createBackupService } from './vscode/backupService';
import { ContextKeys, SCHEME } from './vscode/commandIds';
import { registerCommands } from './vscode/commands/registry';
import type { CommandContext } from './vscode/commands/shared';
import { Keychain } from './vscode/keychain';
import { KnownStores } from './vscode/knownStores';
import { offerContinuedHistory } from './vscode/lineageOffer';
import { ChannelLogger } from './vscode/logger';
import { Maintenance } from './vscode/maintenance';
import { NotableMoments } from './vscode/notableMoments';
import type { Prompter } from './vscode/prompter';
import { WindowPrompter } from './vscode/prompter';
import { SnapshotContentProvider } from './vscode/providers/snapshotContentProvider';
import { createApiV1 } from './vscode/publicApi';
import type { ProjectBackupApiV1 } from './vscode/publicApi';
import { remoteLogin } from './vscode/remoteLogin';
import { Replicator } from './vscode/replication';
import { lastUndo } from './vscode/restoreFlow';
import { Scheduler } from './vscode/scheduler';
import { SnapshotFolders } from './vscode/snapshotFolders';
import { FileHistoryView } from './vscode/views/fileHistoryView';
import { HealthView } from './vscode/views/healthView';
import { copyProber } from './vscode/views/lostStore';
import { SnapshotsView } from './vscode/views/snapshotsView';
import { StatusBar } from './vscode/views/statusBar';

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
  const { globalState, workspaceState } = context;
  const own = <T extends vscode.Disposable>(disposable: T): T => (context.subscriptions.push(disposable), disposable);

  // How the extension asks questions: read at each question, so the tests can answer instead (setPrompter).
  let prompter: Prompter = new WindowPrompter();
  const currentPrompter = () => prompter;

  const log = own(new ChannelLogger());
  const snapshotFolders = own(new SnapshotFolders(path.join(context.globalStorageUri.fsPath, 'opened-snapshots'), log));
  const keychain = new Keychain(context.secrets, globalState, currentPrompter);
  const login = remoteLogin(keychain, currentPrompter);
  const service = own(
    createBackupService({
      log,
      ignoreFolder: (uri) => snapshotFolders.owns(uri),
      keychain,
      knownStores: new KnownStores(globalState),
      remoteOptions: (location) => login(location, true),
      decisions: globalState,
    }),
  );
  const replicator = own(new Replicator(service, log, login));
  const maintenance = own(new Maintenance(service, log, globalState));
  const scheduler = own(new Scheduler(service, log, globalState));
  const snapshotsView = own(new SnapshotsView(service, log));
  const historyView = own(new FileHistoryView(service, log));
  const healthView = own(
    new HealthView(service, log, (folder) => replicator.healthInputs(folder), copyProber(service, replicator)),
  );
  own(replicator.onDidChange(() => !replicator.busy && healthView.refreshSoon()));
  own(maintenance.onDidVerify(() => healthView.refreshSoon()));
  const statusBar = own(new StatusBar(service, healthView, replicator));

  const ctx: CommandContext = {
    service,
    get prompter() {
      return prompter;
    },
    log,
    showLog: () => log.show(),
    state: workspaceState,
    snapshotsView,
    historyView,
    healthView,
    keychain,
    replicator,
    maintenance,
    snapshotFolders,
  };
  const moments = own(new NotableMoments(service, log, ctx));
  const provider = new SnapshotContentProvider(
    (store) => {
      const folder = service.folders().find((f) => service.storePathFor(f) === store);
      if (folder) return service.repository(folder);
      const writer = service.folders().find((f) => service.localStorePath(f) === store);
      return writer ? service.localRepository(writer) : undefined;
    },
    log,
    (store) => service.openWithPassphrase(store, {}),
  );
  own(vscode.workspace.registerTextDocumentContentProvider(SCHEME, provider));
  for (const registration of registerCommands(ctx)) own(registration);

  void vscode.commands.executeCommand('setContext', ContextKeys.canUndoRestore, lastUndo(workspaceState) !== undefined);
  // The store opens after activation returns: until it has been read, the status bar says "loading".
  setImmediate(() => void service.loadStatuses());
  setImmediate(() => void snapshotFolders.sweep());
  // A folder without backups that is very likely a moved or renamed workspace is offered its history, once.
  const offerTimer = setTimeout(() => {
    for (const folder of service.folders()) {
      offerContinuedHistory(service, prompter, log, globalState, folder).catch((error) =>
        log.warn(
          `${folder.name}: could not look for an earlier history: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  }, 2_000);
  own({ dispose: () => clearTimeout(offerTimer) });
  const activationMs = performance.now() - started;
  log.info(
    `Activated in ${activationMs.toFixed(1)} ms for ${
      service
        .folders()
        .map((f) => f.name)
        .join(', ') || 'no folder'
    }.`,
  );
  return {
    v1: createApiV1(service, log, workspaceState, currentPrompter),
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
    },
    flush: () => service.flushAll(),
  };
}

export function deactivate(): void {
  // Every snapshot is durable when it resolves; queued paths are picked up by the next full snapshot.
}
