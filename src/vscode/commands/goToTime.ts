// "Backup: Go to Time...": a moment, typed ("yesterday 17:00", "2 hours ago", "10:30") or picked from the
// notable moments and work sessions, then the workspace as of then: compare it with now (the files that
// differ, each opening a diff), browse its files, restore everything or one folder. Every restore is the
// ordinary one (restoreFlow.ts): previewed, with an undo snapshot first; restoring everything applies the
// plan the menu was drawn from.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatTime, plural, shortId } from '../../core/format';
import { listTree } from '../../core/query/browse';
import { parseMoment, snapshotAt } from '../../core/query/moment';
import { buildTimeline, shortTime, snapshotRowText, triggerPhrase } from '../../core/query/timeline';
import type { SnapshotRecord } from '../../core/repository/snapshotRecord';
import type { PlannedChange } from '../../core/restore/restorer';
import { finishRestore, prepareRestore, runRestore } from '../restoreFlow';
import { toSnapshotUri } from '../snapshotUri';
import { SnapshotNode } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder, uriArg } from './shared';

type MomentItem = vscode.QuickPickItem & { snapshot?: SnapshotRecord };
type Action = vscode.QuickPickItem & { action: 'compare' | 'browse' | 'restoreAll' | 'restoreFolder' };

/** At most this many moments are offered to pick from (notable ones and the ends of sessions, newest first). */
const MOMENTS_OFFERED = 60;

export function goToTime(ctx: CommandContext, arg?: unknown): Promise<void> {
  return guarded(ctx, 'Go to Time', async () => {
    let folder: vscode.WorkspaceFolder | undefined;
    let snapshot: SnapshotRecord | undefined;
    if (arg instanceof SnapshotNode) ({ folder, snapshot } = arg);
    else {
      folder = await pickFolder(ctx, 'Go to a time in which folder?', uriArg(arg));
      if (!folder) return;
      snapshot = await pickMoment(ctx, folder);
    }
    if (!snapshot) return;
    await asOf(ctx, folder, snapshot);
  });
}

/** The snapshot for a moment typed or picked; undefined when cancelled or when nothing was backed up by then. */
async function pickMoment(ctx: CommandContext, folder: vscode.WorkspaceFolder): Promise<SnapshotRecord | undefined> {
  const snapshots = await ctx.service.snapshots(folder, true);
  if (snapshots.length === 0) {
    void vscode.window.showInformationMessage(`${folder.name} has no snapshots yet.`);
    return undefined;
  }
  const now = new Date();
  const items: MomentItem[] = [];
  for (const day of buildTimeline(snapshots, now)) {
    items.push({ label: day.label, kind: vscode.QuickPickItemKind.Separator });
    for (const item of day.items) {
      const s = item.kind === 'session' ? item.snapshots[item.snapshots.length - 1] : item.snapshot;
      const text = snapshotRowText(s);
      items.push(
        item.kind === 'session'
          ? {
              label: `$(layers) ${shortTime(s.time, now)}`,
              description: `end of a work session of ${plural(item.snapshots.length, 'snapshot')}`,
              snapshot: s,
            }
          : {
              label: `$(${s.label ? 'bookmark' : 'circle-outline'}) ${text.label}`,
              description: text.description,
              snapshot: s,
            },
      );
    }
    if (items.length > MOMENTS_OFFERED) break;
  }
  const fromText = (text: string): MomentItem | undefined => {
    const moment = parseMoment(text, new Date());
    if (!moment) return undefined;
    const s = snapshotAt(snapshots, moment);
    if (!s)
      return {
        label: `$(clock) ${formatTime(moment.toISOString())}`,
        description: 'nothing was backed up by then',
        detail: `The first snapshot is from ${formatTime(snapshots[0].time)}.`,
      };
    return {
      label: `$(clock) ${formatTime(moment.toISOString())}`,
      description: `as snapshot ${shortId(s.id)} of ${shortTime(s.time, new Date())} shows it (${triggerPhrase(s.trigger)})`,
      snapshot: s,
    };
  };
  const chosen = await ctx.prompter.pickOrType(
    items,
    'Type a time ("yesterday 17:00", "2 hours ago", "10:30", "2024-05-01 09:00") or pick a moment',
    fromText,
  );
  return chosen?.snapshot;
}

/** What to do with the workspace as of `snapshot`. */
async function asOf(ctx: CommandContext, folder: vscode.WorkspaceFolder, snapshot: SnapshotRecord): Promise<void> {
  const repo = await ctx.service.repository(folder);
  const when = `${formatTime(snapshot.time)}${snapshot.label ? ` (${snapshot.label})` : ''}`;
  const title = `${folder.name} as of ${when}`;
  // Restoring everything is planned once, here: its changes are what Compare lists, and "Restore everything"
  // applies exactly that plan (asking first, as every restore does).
  const everything = await prepareRestore(
    ctx,
    { folder, snapshot, paths: [], deleteExtra: true, title: `Restore ${title}` },
    { bringBackLater: true },
  );
  if (!everything) return;
  const differ = everything.plan.changes.filter((c) => c.type !== 'dir');
  const actions: Action[] = [
    {
      label: '$(diff) Compare with now',
      description: differ.length ? `${plural(differ.length, 'file')} differ` : 'no file differs',
      action: 'compare',
    },
    {
      label: '$(files) Browse the files as they were',
      description: `${plural(snapshot.stats.files, 'file')}`,
      action: 'browse',
    },
    { label: '$(folder) Restore a folder as it was...', description: 'undoable', action: 'restoreFolder' },
    {
      label: '$(discard) Restore everything as it was',
      description: `${plural(differ.length, 'file')} change; undoable`,
      action: 'restoreAll',
    },
  ];
  const action = await ctx.prompter.pick(actions, `${folder.name} as of ${when}`);
  if (!action) return;
  switch (action.action) {
    case 'compare':
      return compareWithNow(ctx, folder, snapshot, differ, title);
    case 'browse':
      return browse(ctx, folder, snapshot, title);
    case 'restoreAll':
      await finishRestore(ctx, everything);
      return;
    case 'restoreFolder': {
      const dirs = (await listTree(repo, snapshot, '', true)).filter(
        (e) => e.entry.type === 'dir' && e.path !== '.git' && !e.path.startsWith('.git/'),
      );
      const picked = await ctx.prompter.pick(
        dirs.map((d) => ({ label: `$(folder) ${d.path}`, description: differingIn(differ, d.path), rel: d.path })),
        `Restore which folder of ${title}?`,
      );
      if (!picked) return;
      await runRestore(ctx, {
        folder,
        snapshot,
        paths: [picked.rel],
        deleteExtra: true,
        title: `Restore ${picked.rel}/ as of ${when}`,
        what: `${picked.rel}/`,
      });
      return;
    }
  }
}

function differingIn(differ: readonly PlannedChange[], dir: string): string {
  const n = differ.filter((c) => c.path.startsWith(`${dir}/`)).length;
  return n ? `${plural(n, 'file')} differ` : 'as it is now';
}

const SINCE: Record<PlannedChange['action'], string> = {
  overwrite: 'changed since',
  create: 'deleted since',
  delete: 'new since',
};

/** The files that differ, as a list: one opens its diff; the first row opens them all in one view. */
async function compareWithNow(
  ctx: CommandContext,
  folder: vscode.WorkspaceFolder,
  snapshot: SnapshotRecord,
  differ: readonly PlannedChange[],
  title: string,
): Promise<void> {
  if (differ.length === 0) {
    void vscode.window.showInformationMessage(
      `No file of ${folder.name} differs from ${title.replace(`${folder.name} as of `, '')}.`,
    );
    return;
  }
  const store = ctx.service.storePathFor(folder);
  const then = (rel: string) => toSnapshotUri({ store, snapshot: snapshot.id, path: rel });
  const now = (rel: string) => vscode.Uri.joinPath(folder.uri, ...rel.split('/'));
  type Row = vscode.QuickPickItem & { change?: PlannedChange };
  const rows: Row[] = [
    { label: `$(diff-multiple) Open all ${plural(differ.length, 'file')} in one view`, alwaysShow: true },
    ...differ.map((c) => ({
      label: path.posix.basename(c.path),
      description: `${path.posix.dirname(c.path) === '.' ? '' : `${path.posix.dirname(c.path)} · `}${SINCE[c.action]}`,
      change: c,
    })),
  ];
  const picked = await ctx.prompter.pick(rows, `${title} ↔ now: ${plural(differ.length, 'file')} differ`);
  if (!picked) return;
  if (!picked.change) {
    const resources = differ.map((c) => [
      now(c.path),
      c.action === 'delete' ? undefined : then(c.path),
      c.action === 'create' ? undefined : now(c.path),
    ]);
    await vscode.commands.executeCommand('vscode.changes', `${title} ↔ now`, resources);
    return;
  }
  const c = picked.change;
  const name = path.posix.basename(c.path);
  if (c.action === 'overwrite')
    await vscode.commands.executeCommand(
      'vscode.diff',
      then(c.path),
      now(c.path),
      `${name} (${shortTime(snapshot.time, new Date())}) ↔ ${name} (now)`,
    );
  else await vscode.window.showTextDocument(c.action === 'create' ? then(c.path) : now(c.path), { preview: true });
}

/** Every file as it was, to open read only. */
async function browse(
  ctx: CommandContext,
  folder: vscode.WorkspaceFolder,
  snapshot: SnapshotRecord,
  title: string,
): Promise<void> {
  const repo = await ctx.service.repository(folder);
  const store = ctx.service.storePathFor(folder);
  const files = (await listTree(repo, snapshot, '', true)).filter(
    (e) => e.entry.type === 'file' && !e.path.startsWith('.git/'),
  );
  const picked = await ctx.prompter.pick(
    files.map((f) => ({
      label: path.posix.basename(f.path),
      description: path.posix.dirname(f.path) === '.' ? '' : path.posix.dirname(f.path),
      rel: f.path,
    })),
    `${title}: open a file as it was`,
  );
  if (picked)
    await vscode.window.showTextDocument(toSnapshotUri({ store, snapshot: snapshot.id, path: picked.rel }), {
      preview: true,
    });
}

export const commands: CommandSpec[] = [{ id: Commands.goToTime, run: (ctx, arg) => goToTime(ctx, arg) }];
