// Every restore from the editor goes through here: plan, show what will change and ask once, snapshot the
// current state (unsaved editor content included) so it can be undone, restore, then remember how to undo.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatTime, plural, shortId } from '../core/format';
import { summarizeProblems } from '../core/problemSummary';
import { applyRestore, planRestore } from '../core/restore/restoreJob';
import type { RestoreJobPlan } from '../core/restore/restoreJob';
import type { PlannedChange, RestorePlan, RestoreResult } from '../core/restore/restorer';
import type { Repository } from '../core/repository/repository';
import { entryAt } from '../core/query/browse';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { restoreLabel } from '../core/query/notable';
import { shortTime } from '../core/query/timeline';
import type { BackupService } from './backupService';
import { bringBackBeforeRestore } from './bringBackFlow';
import { ContextKeys } from './commandIds';
import { isInside } from './configuration';
import type { Logger } from './logger';
import type { Prompter } from './prompter';

export interface RestoreContext {
  service: BackupService;
  prompter: Prompter;
  log: Logger;
  state: vscode.Memento;
}

export interface RestoreRequest {
  folder: vscode.WorkspaceFolder;
  snapshot: SnapshotRecord;
  /** Workspace-relative paths; the whole snapshot when empty. */
  paths: string[];
  /** Where to restore; the workspace folder when absent. */
  target?: vscode.Uri;
  /** Remove what the snapshot does not have inside the restored folders (whole-snapshot and folder restores). */
  deleteExtra: boolean;
  /** Paths the snapshot lacks are deleted (undo). */
  missingAsDelete?: boolean;
  title: string;
  /**
   * The user has already said yes (a one-click "Restore Them" on a notification that named what): no
   * preview is asked. The undo snapshot is taken all the same.
   */
  confirmed?: boolean;
  /** What the restore brings back, for the automatic label of the undo point ("48 files"; default: from `paths`). */
  what?: string;
}

export interface UndoRecord {
  folder: string;
  store: string;
  undoSnapshot: string;
  paths: string[];
  /** Set when the restore changed more than UNDO_PATHS paths: `paths` are then the restored folders, put back whole (with delete). */
  deleteExtra?: boolean;
  time: string;
}

/** Changed paths an undo record lists one by one; a bigger restore is undone folder by folder (see UndoRecord). */
const UNDO_PATHS = 10_000;

const UNDO_KEY = 'projectBackup.lastRestore';

export function lastUndo(state: vscode.Memento): UndoRecord | undefined {
  return state.get<UndoRecord>(UNDO_KEY);
}

/** A document's path relative to the folder, with forward slashes (the snapshot's spelling). */
function relOf(folder: vscode.WorkspaceFolder, doc: vscode.TextDocument): string {
  return path.relative(folder.uri.fsPath, doc.uri.fsPath).split(path.sep).join('/');
}

export async function setUndo(state: vscode.Memento, record: UndoRecord | undefined): Promise<void> {
  await state.update(UNDO_KEY, record);
  await vscode.commands.executeCommand('setContext', ContextKeys.canUndoRestore, record !== undefined);
}

/** "src/lib", "3 paths", "everything": what a restore of `paths` brings back, in a label. */
function whatOf(paths: readonly string[]): string {
  if (paths.length === 0) return 'everything';
  if (paths.length === 1) return paths[0];
  return plural(paths.length, 'path');
}

/** A restore planned once and not yet shown: `finishRestore` asks, then applies exactly this plan. */
export interface PreparedRestore {
  request: RestoreRequest;
  repo: Repository;
  /** The plan as the job decided it (what Compare lists); `shown` adds the files only an editor holds unsaved. */
  plan: RestoreJobPlan;
  shown: RestorePlan;
  target: vscode.Uri;
  overWorkspace: boolean;
  intoWorkspace: boolean;
  /** The missing-store question is asked when the restore is confirmed, not when it is planned (Go to Time). */
  bringBackLater: boolean;
  label: string;
  dirty: vscode.TextDocument[];
  unsavedOnly: number;
  changedPaths: string[];
  tooMany: boolean;
}

/** Runs a restore; resolves to the result, or undefined when the user cancelled or nothing needed doing. */
export async function runRestore(ctx: RestoreContext, request: RestoreRequest): Promise<RestoreResult | undefined> {
  const prepared = await prepareRestore(ctx, request);
  return prepared && finishRestore(ctx, prepared);
}

/**
 * Plans a restore once (the job decides every change; nothing is written and no lock is taken); undefined
 * when the user declined to bring a missing store back. `bringBackLater` leaves that question to
 * `finishRestore` (a front that shows the plan before anyone has asked to restore).
 */
export async function prepareRestore(
  ctx: RestoreContext,
  request: RestoreRequest,
  options: { bringBackLater?: boolean } = {},
): Promise<PreparedRestore | undefined> {
  const { service } = ctx;
  const { folder, snapshot } = request;
  const target = request.target ?? folder.uri;
  const overWorkspace = isInside(target.fsPath, folder.uri.fsPath) && isInside(folder.uri.fsPath, target.fsPath);
  // Restoring into a folder inside the workspace also changes the workspace: make that undoable too.
  const intoWorkspace = isInside(target.fsPath, folder.uri.fsPath);
  // The undo snapshot needs the local store: a missing one is brought back from a destination first.
  const bringBackLater = options.bringBackLater === true && intoWorkspace;
  if (intoWorkspace && !bringBackLater && !(await bringBackBeforeRestore(ctx, folder))) return undefined;
  const repo = await service.repository(folder);
  // Files with unsaved changes that the restore would replace, and the paths it changes (for the undo
  // record): picked from the preview as each change is decided, never a list of every change (a restore
  // of 200,000 files must not hold one in the extension host).
  const dirtyDocs = overWorkspace
    ? vscode.workspace.textDocuments.filter(
        (d) => d.isDirty && d.uri.scheme === 'file' && isInside(d.uri.fsPath, folder.uri.fsPath),
      )
    : [];
  const dirtyByRel = new Map(dirtyDocs.map((d) => [relOf(folder, d), d]));
  const dirtySet = new Set<vscode.TextDocument>();
  const planned = new Set<string>();
  const changedPaths: string[] = [];
  let tooMany = false;
  const remember = (rel: string) => {
    if (changedPaths.length < UNDO_PATHS) changedPaths.push(rel);
    else tooMany = true;
  };
  // The plan is decided once: what the user confirms is what is applied. Restoring into the workspace first
  // takes an undo snapshot (the job takes it, under its lock, before the first write).
  const label = restoreLabel(request.what ?? whatOf(request.paths), shortTime(snapshot.time, new Date()));
  const plan = await planRestore(repo, snapshot, {
    target: target.fsPath,
    paths: request.paths,
    deleteExtra: request.deleteExtra,
    missingAsDelete: request.missingAsDelete,
    rules: service.rules(folder, repo),
    undo: intoWorkspace
      ? { workspace: folder.uri.fsPath, autoLabel: label, evenIfUnchanged: dirtyDocs.length > 0 }
      : undefined,
    onChange: (c) => {
      const doc = dirtyByRel.get(c.path);
      if (doc) {
        planned.add(c.path);
        if (c.action !== 'create') dirtySet.add(doc);
      }
      remember(c.path);
    },
  });
  // The plan compares with the disk; an editor may hold unsaved text over a file the disk already has as the
  // snapshot does. Restoring must still put that version in the editor (the unsaved text goes into the undo
  // snapshot first), so such files join the plan as overwrites of what the editor shows.
  const inScope = (rel: string) =>
    request.paths.length === 0 || request.paths.some((p) => rel === p || rel.startsWith(`${p}/`));
  const unsavedOnly: PlannedChange[] = [];
  for (const [rel, doc] of dirtyByRel) {
    if (planned.has(rel) || !inScope(rel)) continue;
    if ((await entryAt(repo, snapshot.tree, rel))?.type !== 'file') continue;
    unsavedOnly.push({ path: rel, action: 'overwrite', type: 'file' });
    dirtySet.add(doc);
    remember(rel);
  }
  const shown: RestorePlan = {
    ...plan,
    changes: [...plan.changes, ...unsavedOnly],
    counts: { ...plan.counts, overwrite: plan.counts.overwrite + unsavedOnly.length },
    total: plan.total + unsavedOnly.length,
  };
  return {
    request,
    repo,
    plan,
    shown,
    target,
    overWorkspace,
    intoWorkspace,
    bringBackLater,
    label,
    dirty: [...dirtySet],
    unsavedOnly: unsavedOnly.length,
    changedPaths,
    tooMany,
  };
}

/** Says there is nothing to do, or asks (unless already confirmed), then applies the prepared plan and records how to undo it. */
export async function finishRestore(
  ctx: RestoreContext,
  prepared: PreparedRestore,
): Promise<RestoreResult | undefined> {
  const { service, prompter, log } = ctx;
  if (prepared.bringBackLater) {
    // Asked now, as a restore asks before planning; a store brought back is another store: plan on it.
    if (!(await bringBackBeforeRestore(ctx, prepared.request.folder))) return undefined;
    if ((await service.repository(prepared.request.folder)) !== prepared.repo) return runRestore(ctx, prepared.request);
  }
  const { request, repo, plan, shown, target, overWorkspace, label, dirty, changedPaths, tooMany } = prepared;
  const { folder, snapshot } = request;
  if (shown.total === 0) {
    const note = plan.problems.length
      ? ` ${summarizeProblems(plan.problems, { verb: 'restored', fullList: '' }).headline} Every one is listed in the log.`
      : '';
    for (const p of plan.problems) log.warn(`Not restorable: ${p.path}: ${p.reason}`);
    void vscode.window.showInformationMessage(
      `Nothing to restore: ${path.basename(target.fsPath)} already matches snapshot ${shortId(snapshot.id)}.${note}`,
    );
    return undefined;
  }

  const dirtyNote = dirty.length
    ? ` ${plural(dirty.length, 'file')} with unsaved changes (kept in the undo snapshot)`
    : '';
  const where = overWorkspace ? folder.name : target.fsPath;
  if (!request.confirmed && !(await prompter.confirmRestore(`${request.title} into ${where}?${dirtyNote}`, shown)))
    return undefined;

  const result = await applyRestore(plan, {
    // A full snapshot first (cheap with the stat cache), then the unsaved buffers on top of it, so undo
    // brings back exactly what was there, including what was never saved. The undo point is a notable
    // moment: it carries an automatic label (never over a label of the user's; retention keeps it 30 days).
    takeUndo: async () => {
      let taken = (
        await service.snapshotFolder(folder, { trigger: 'pre-restore', ...(dirty.length ? {} : { autoLabel: label }) })
      ).snapshot;
      if (dirty.length) {
        const contents = new Map(dirty.map((d) => [relOf(folder, d), Buffer.from(d.getText(), 'utf8')]));
        taken = (
          await service.snapshotFolder(folder, {
            trigger: 'pre-restore',
            paths: [...contents.keys()],
            contents,
            autoLabel: `unsaved changes ${label}`,
          })
        ).snapshot;
      }
      service.noteOwnWrites(changedPaths.map((rel) => path.join(target.fsPath, ...rel.split('/'))));
      return taken;
    },
  });
  const undo: SnapshotRecord | undefined = result.undo;
  // Editors showing restored files must show the restored content, not keep a stale buffer.
  for (const doc of dirty) await vscode.commands.executeCommand('workbench.action.files.revert', doc.uri);
  if (overWorkspace && result.restored + result.deleted > 0) {
    // The restored state is a moment of its own in the timeline ("restored · 30 files"), recorded now: our
    // writes are not echoed by the watcher, so otherwise the next full scan would take it for its own change.
    // Past UNDO_PATHS changes a full scan (cheap with the stat cache) records it, not a list of every path.
    await service
      .snapshotFolder(folder, { trigger: 'restore', ...(tooMany ? {} : { paths: changedPaths }) })
      .catch((error: unknown) =>
        log.warn(
          `The state after the restore was not snapshotted yet (the next snapshot takes it): ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  }

  for (const p of result.problems) log.warn(`Not restored: ${p.path}: ${p.reason}`);
  log.info(
    `Restored ${plural(result.restored, 'item')}, deleted ${result.deleted} from snapshot ${shortId(snapshot.id)} into ${target.fsPath}${undo ? `; undo snapshot ${shortId(undo.id)}` : ''}.`,
  );
  if (undo) {
    await setUndo(ctx.state, {
      folder: folder.uri.toString(),
      store: repo.location,
      undoSnapshot: undo.id,
      // Past UNDO_PATHS changes the record names the restored folders instead, put back whole (with delete).
      ...(tooMany ? { paths: request.paths, deleteExtra: true } : { paths: changedPaths }),
      time: new Date().toISOString(),
    });
  }
  service.fireChanged(folder);
  // Files, not folders: "Restored 805 changes" for 705 files read like a miscount.
  const files = result.files + prepared.unsavedOnly;
  const summary = `Restored ${plural(files, 'file')} from snapshot ${shortId(snapshot.id)} (${formatTime(snapshot.time)}).`;
  if (result.problems.length) {
    const problems = summarizeProblems(result.problems, {
      verb: 'restored',
      fullList: 'Every one is listed in the log.',
    });
    void vscode.window
      .showWarningMessage(`${summary} ${problems.headline} Every one is listed in the log.`, 'Show Log')
      .then((c) => c && vscode.commands.executeCommand('backup.showLog'));
  } else if (undo) {
    void vscode.window
      .showInformationMessage(summary, 'Undo')
      .then((c) => c && vscode.commands.executeCommand('backup.undoLastRestore'));
  } else {
    void vscode.window
      .showInformationMessage(`${summary} Files are in ${target.fsPath}.`, 'Reveal')
      .then((c) => c && vscode.commands.executeCommand('revealFileInOS', target));
  }
  return result;
}
