// "Backup: Restore a Project from Backups..." and "Backup: Open a Store...": the day the project folder is
// gone. From any window (no folder, an empty one, another project) list every workspace the known stores and
// the configured destinations hold, pick one, pick a snapshot, restore it into its old path when that is free
// (else a folder the user chooses), and offer to open it. Four actions from the palette in the usual case:
// the command, the workspace, the snapshot (newest first: Enter), the preview (Enter).
// Invariant: it only writes into a missing or empty folder, so there is nothing to undo and nothing to lose.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { BackupError } from '../../core/errors';
import { formatBytes, formatTime, plural, shortId } from '../../core/format';
import { summarizeProblems } from '../../core/problemSummary';
import { summarize } from '../../core/query/workspaces';
import type { WorkspaceSummary } from '../../core/query/workspaces';
import type { Repository } from '../../core/repository/repository';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import { applyRestore, planRestore } from '../../core/restore/restoreJob';
import { KEPT_CHANGES } from '../../core/restore/restorer';
import type { PlannedChange, RestoreResult } from '../../core/restore/restorer';
import { isRemoteLocation } from '../../core/storage/locate';
import { ago } from '../timeAgo';
import { storeExists } from '../storeAccess';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded } from './shared';
import { describeTrigger } from '../views/nodes';

/** One store to look in, and how it is named to the user. */
export interface StoreSource {
  location: string;
  label: string;
}

interface WorkspaceItem extends vscode.QuickPickItem {
  summary: WorkspaceSummary;
  source: StoreSource;
  repo: Repository;
  records: SnapshotRecord[];
}

interface SnapshotItem extends vscode.QuickPickItem {
  snapshot: SnapshotRecord;
}

export interface RestoredProject {
  target: string;
  workspace: WorkspaceSummary;
  snapshot: SnapshotRecord;
  result: RestoreResult;
}

/** The stores this editor knows: each folder's store, the user's default store, every store it has opened, and every destination. */
export function knownSources(ctx: CommandContext): StoreSource[] {
  const { service } = ctx;
  const sources = new Map<string, StoreSource>();
  const add = (location: string, label: string) => {
    if (location && !sources.has(location)) sources.set(location, { location, label });
  };
  for (const folder of service.folders()) add(service.localStorePath(folder), 'local store');
  const fallback = service.defaultStorePath();
  if (fallback) add(fallback, 'local store');
  for (const location of service.knownStores?.all() ?? []) add(location, 'local store');
  for (const destination of service.settings().destinations)
    add(destination.location, `destination${destination.offsite ? ' (offsite)' : ''}`);
  return [...sources.values()];
}

async function isFree(folder: string): Promise<boolean> {
  try {
    return (await fs.promises.readdir(folder)).length === 0;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Opens each source and lists its workspaces; a source that cannot be read is named in `unreadable`. */
async function gather(
  ctx: CommandContext,
  sources: readonly StoreSource[],
): Promise<{ items: WorkspaceItem[]; unreadable: string[] }> {
  const items: WorkspaceItem[] = [];
  const unreadable: string[] = [];
  const now = new Date();
  await Promise.all(
    sources.map(async (source) => {
      try {
        // A local store that is not there is not created by looking for it.
        if (!isRemoteLocation(source.location) && !(await storeExists(source.location))) return;
        const repo = await ctx.service.openWithPassphrase(source.location, { create: false });
        const records = await repo.listSnapshots({
          onDamaged: (key, error) => ctx.log.warn(`${key}: ${error.message}`),
        });
        for (const summary of await summarize(records)) {
          items.push({
            label: `$(${summary.folderExists ? 'folder' : 'folder-library'}) ${summary.name}`,
            description: summary.lastPath,
            detail: [
              `last snapshot ${formatTime(summary.lastTime)} (${ago(new Date(summary.lastTime), now)})`,
              plural(summary.snapshots, 'snapshot'),
              formatBytes(summary.bytes),
              summary.folderExists ? 'folder exists' : 'folder missing',
              `${source.label} ${source.location}`,
            ].join(' · '),
            summary,
            source,
            repo,
            records: records.filter((r) => r.workspace.id === summary.id),
          });
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (error instanceof BackupError && error.code === 'CANCELLED') return;
        ctx.log.warn(`Restore a Project: ${source.location} cannot be read: ${message}`);
        unreadable.push(`${source.location} (${message.replace(/\.$/, '')})`);
      }
    }),
  );
  // Newest first; a project whose folder is gone (the usual reason to be here) before one that still exists.
  items.sort(
    (a, b) =>
      Number(a.summary.folderExists) - Number(b.summary.folderExists) ||
      (a.summary.lastTime < b.summary.lastTime ? 1 : -1),
  );
  return { items, unreadable };
}

function snapshotItems(records: readonly SnapshotRecord[]): SnapshotItem[] {
  return [...records].reverse().map((snapshot, i) => ({
    label: `${formatTime(snapshot.time)}${snapshot.label ? ` · ${snapshot.label}` : ''}`,
    description: `${describeTrigger(snapshot)} · ${plural(snapshot.stats.files, 'file')}${i === 0 ? ' · latest' : ''}`,
    detail: snapshot.git?.branch ? `on branch ${snapshot.git.branch}` : undefined,
    snapshot,
  }));
}

/** Where to restore: the old path when it is free, else an empty folder the user chooses. */
async function chooseTarget(ctx: CommandContext, summary: WorkspaceSummary): Promise<string | undefined> {
  if (!isRemoteLocation(summary.lastPath) && path.isAbsolute(summary.lastPath) && (await isFree(summary.lastPath)))
    return summary.lastPath;
  for (;;) {
    const picked = await ctx.prompter.pickTargetFolder(
      `${summary.lastPath} is not free: choose an empty folder to restore ${summary.name} into`,
      'Restore Here',
    );
    if (!picked) return undefined;
    if (await isFree(picked.fsPath)) return picked.fsPath;
    void vscode.window.showWarningMessage(
      `${picked.fsPath} is not empty: choose an empty or new folder (restoring into a folder you work in is "Restore Snapshot", which can be undone).`,
    );
  }
}

/**
 * The whole flow; resolves to what was restored, or undefined when the user stopped or there was nothing.
 * `sources` defaults to every store this editor knows (Open a Store passes the one the user chose).
 */
export async function restoreProject(
  ctx: CommandContext,
  sources: readonly StoreSource[] = knownSources(ctx),
): Promise<RestoredProject | undefined> {
  const { items, unreadable } = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Reading backups…' },
    () => gather(ctx, sources),
  );
  if (items.length === 0) {
    const where = sources.map((s) => s.location).join(', ') || 'no store';
    const note = unreadable.length ? ` Could not read ${unreadable.join('; ')}.` : '';
    const choice = await vscode.window.showInformationMessage(
      `No backups found in ${where}.${note} If your backups are elsewhere (a drive, a share, a copy), open that store.`,
      'Open a Store...',
    );
    if (choice) await vscode.commands.executeCommand('backup.openStore');
    return undefined;
  }
  if (unreadable.length)
    void vscode.window.showWarningMessage(`Could not read ${unreadable.join('; ')}; the list shows the other stores.`);
  const chosen = await ctx.prompter.pick(
    items,
    `Restore which project? ${plural(items.length, 'workspace')} in ${plural(new Set(items.map((i) => i.source.location)).size, 'store')}`,
  );
  if (!chosen) return undefined;
  const picked = await ctx.prompter.pick(
    snapshotItems(chosen.records),
    `${chosen.summary.name}: restore which snapshot? (newest first)`,
  );
  if (!picked) return undefined;
  const target = await chooseTarget(ctx, chosen.summary);
  if (!target) return undefined;

  // The project's own files first; its .git (restored whole, so the repository works) after them. The
  // preview keeps the first of each as they are decided, never a list of every file (#11.14). The plan is
  // decided once: what the preview shows is what is written. Nothing to undo: the folder is empty.
  const inGit = (p: string) => p === '.git' || p.startsWith('.git/');
  const own: PlannedChange[] = [];
  const git: PlannedChange[] = [];
  const plan = await planRestore(chosen.repo, picked.snapshot, {
    target,
    paths: [],
    deleteExtra: false,
    keepChanges: 0,
    onChange: (c) => {
      const list = inGit(c.path) ? git : own;
      if (list.length < KEPT_CHANGES) list.push(c);
    },
  });
  const title = `Restore ${chosen.summary.name} as of ${formatTime(picked.snapshot.time)} into ${target}?`;
  const shown = { ...plan, changes: [...own, ...git].slice(0, KEPT_CHANGES) };
  if (!(await ctx.prompter.confirmRestore(title, shown, 'Enter restores them into the empty folder.')))
    return undefined;

  await fs.promises.mkdir(target, { recursive: true });
  // The restore takes its own lock (core/restore/restoreJob.ts).
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Restoring ${chosen.summary.name}…` },
    () => applyRestore(plan),
  );
  for (const p of result.problems) ctx.log.warn(`Not restored: ${p.path}: ${p.reason}`);
  ctx.log.info(
    `Restored project ${chosen.summary.name} from snapshot ${shortId(picked.snapshot.id)} of ${chosen.source.location} into ${target}: ${plural(result.restored, 'item')}.`,
  );
  const files = plural(picked.snapshot.stats.files, 'file');
  const summary = `Restored ${chosen.summary.name} (${files}, as of ${formatTime(picked.snapshot.time)}) into ${target}.`;
  const problems = result.problems.length
    ? ` ${summarizeProblems(result.problems, { verb: 'restored', fullList: '' }).headline} Every one is listed in the log.`
    : '';
  const open = vscode.workspace.workspaceFolders?.length ? 'Open in New Window' : 'Open Folder';
  void (
    result.problems.length
      ? vscode.window.showWarningMessage(`${summary}${problems}`, open, 'Show Log')
      : vscode.window.showInformationMessage(summary, open)
  ).then((choice) => {
    if (choice === 'Show Log') void vscode.commands.executeCommand('backup.showLog');
    else if (choice)
      void vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(target), {
        forceNewWindow: choice === 'Open in New Window',
      });
  });
  return { target, workspace: chosen.summary, snapshot: picked.snapshot, result };
}

/** "Open a Store...": a folder (an external drive, a NAS share, a copy from elsewhere) or a destination URL. */
export async function openStore(ctx: CommandContext, location?: string): Promise<RestoredProject | undefined> {
  let chosen = location;
  if (!chosen) {
    const kind = await ctx.prompter.pick(
      [
        {
          label: '$(folder) A Folder...',
          description: 'an external drive, a network share, a copy received from elsewhere',
          id: 'folder',
        },
        {
          label: '$(remote) A Destination URL...',
          description: 'sftp://user@host/path or s3://bucket/prefix',
          id: 'url',
        },
      ],
      'Where is the store?',
    );
    if (!kind) return undefined;
    if (kind.id === 'folder')
      chosen = (
        await ctx.prompter.pickTargetFolder(
          'Choose the folder of a backup store (it holds a "config" file)',
          'Open Store',
        )
      )?.fsPath;
    else
      chosen =
        (
          await ctx.prompter.askText('The URL of the store', 'sftp://user@host/path/to/store or s3://bucket/prefix')
        )?.trim() || undefined;
    if (!chosen) return undefined;
  }
  if (!isRemoteLocation(chosen) && !(await storeExists(chosen))) {
    throw new BackupError(
      'REPO_NOT_FOUND',
      `${chosen} holds no backup store (no config file there); choose the folder that contains "config", "data" and "snapshots".`,
      { location: chosen },
    );
  }
  return restoreProject(ctx, [{ location: chosen, label: 'opened store' }]);
}

export const commands: CommandSpec[] = [
  { id: Commands.restoreProject, run: (ctx) => guarded(ctx, 'Restore a Project', () => restoreProject(ctx)) },
  {
    id: Commands.openStore,
    run: (ctx, arg) => guarded(ctx, 'Open a Store', () => openStore(ctx, typeof arg === 'string' ? arg : undefined)),
  },
];
