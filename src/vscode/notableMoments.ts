// Notable moments as they happen in the editor: every snapshot this window records goes through the burst
// tracker (core/query/notable.ts). A burst of files deleted or emptied outside the editor gets one
// notification at once, "48 files were deleted outside the editor. Restore Them / Show", and a burst of
// rewrites one that compares with the moment before; git moving HEAD (a branch switch, a pull) labels the
// snapshot before it. Invariants: nothing is restored without a click; the restore is the ordinary one
// (restoreFlow.ts), so it takes an undo snapshot first and Undo Last Restore reverses it; a failure here is
// logged, never thrown into VS Code.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { plural, shortId } from '../core/format';
import { BurstTracker, burstLabel, burstSentence, gitMoveLabel, movedHead } from '../core/query/notable';
import type { Burst } from '../core/query/notable';
import { entryAt } from '../core/query/browse';
import { countChanges } from '../core/query/diff';
import { shortTime } from '../core/query/timeline';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import { findEntry } from '../core/repository/tree';
import { setAutoLabel } from '../core/snapshot/annotate';
import { subtreeTotals } from '../core/snapshot/totals';
import { lastHeadMove } from '../core/workspace/gitInfo';
import { nodeFs } from '../core/storage/fsPort';
import type { BackupService, Recorded } from './backupService';
import { reportFailure } from './failures';
import { Disposable } from './lifecycle';
import type { Logger } from './logger';
import type { RestoreContext } from './restoreFlow';
import { runRestore } from './restoreFlow';
import { toSnapshotUri } from './snapshotUri';

export const RESTORE_THEM = 'Restore Them';
export const SHOW = 'Show';
export const COMPARE = 'Compare with Before';

/** What a notification led to (the integration tests wait for these). */
export interface MomentEvent {
  folder: vscode.WorkspaceFolder;
  kind: 'burst' | 'restored' | 'labelled';
  burst?: Burst;
  label?: string;
}

export class NotableMoments extends Disposable {
  private readonly trackers = new Map<string, BurstTracker>();
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Files in a `.git` tree, by its id. */
  private readonly gitFiles = new Map<string, number>();
  private readonly happened = this.register(new vscode.EventEmitter<MomentEvent>());
  /** A burst was reported, its files restored, or a moment labelled. */
  readonly onDidHappen = this.happened.event;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
    private readonly ctx: RestoreContext,
  ) {
    super();
    this.register(service.onDidRecord((recorded) => this.enqueue(recorded)));
  }

  /** Snapshots of one folder are read in the order they were recorded. */
  private enqueue(recorded: Recorded): void {
    const key = recorded.folder.uri.toString();
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() => this.consider(recorded));
    this.chains.set(
      key,
      run.catch((error) =>
        this.log.warn(
          `${recorded.folder.name}: notable moments: ${error instanceof Error ? error.message : String(error)}`,
        ),
      ),
    );
  }

  /** Resolves when every recorded snapshot so far has been considered (tests). */
  async settled(): Promise<void> {
    await Promise.all(this.chains.values());
  }

  private async consider({ folder, result }: Recorded): Promise<void> {
    const before = result.parent;
    const after = result.snapshot;
    if (!before || this.service.browsing(folder) || result.changes.length === 0) return;
    const reflog = movedHead(before, after) ? await lastHeadMove(nodeFs, folder.uri.fsPath) : undefined;
    if (after.trigger !== 'external' && after.trigger !== 'save') {
      // A start-up scan or a scheduled snapshot can still see git's move (a branch switched while closed).
      if (movedHead(before, after)) {
        const counts = countChanges(result.changes);
        const label = gitMoveLabel(before, after, counts.filesNew + counts.filesChanged + counts.filesDeleted, reflog);
        if (label) await this.label(folder, before.id, label);
      }
      return;
    }
    const tracker = this.trackers.get(folder.uri.toString()) ?? new BurstTracker();
    this.trackers.set(folder.uri.toString(), tracker);
    const step = { before, after, changes: result.changes, workspaceFiles: await this.ownFiles(folder, before) };
    const outcome = tracker.add(step, (c) => this.service.isOwnChange(folder, c.path, c.kind === 'deleted'), reflog);
    if (outcome.gitMove) await this.label(folder, outcome.gitMove.before.id, outcome.gitMove.label);
    for (const burst of outcome.bursts) {
      this.log.warn(
        `${folder.name}: ${burstSentence(burst)} (snapshot ${shortId(burst.after.id)}; the state before is snapshot ${shortId(burst.before.id)}).`,
      );
      this.offer(folder, burst);
      this.happened.fire({ folder, kind: 'burst', burst });
      await this.label(folder, burst.before.id, burstLabel(burst));
    }
  }

  /**
   * The workspace's files in a snapshot without its `.git` (full snapshots hold it whole, thousands of
   * objects that would lift the 10% threshold out of reach): counted once per `.git` tree, which saves carry
   * forward unchanged.
   */
  private async ownFiles(folder: vscode.WorkspaceFolder, snapshot: SnapshotRecord): Promise<number> {
    const repo = await this.service.localRepository(folder);
    const git = findEntry(await repo.loadTree(snapshot.tree), '.git');
    if (git?.type !== 'dir') return snapshot.stats.files;
    let files = this.gitFiles.get(git.tree);
    if (files === undefined) {
      if (this.gitFiles.size > 16) this.gitFiles.clear();
      files = (await subtreeTotals(repo, git.tree)).files;
      this.gitFiles.set(git.tree, files);
    }
    return Math.max(0, snapshot.stats.files - files);
  }

  private async label(folder: vscode.WorkspaceFolder, id: string, label: string): Promise<void> {
    const repo = await this.service.localRepository(folder);
    const labelled = await setAutoLabel(repo, id, label);
    if (!labelled) return;
    this.log.info(`${folder.name}: snapshot ${shortId(id)} labelled "${label}".`);
    this.service.fireChanged(folder);
    this.happened.fire({ folder, kind: 'labelled', label });
  }

  /** The notification: shown at once, not awaited (it stays until the user acts or dismisses it). */
  private offer(folder: vscode.WorkspaceFolder, burst: Burst): void {
    const sentence = burstSentence(burst).replace(/ (deleted|emptied|rewritten)/, ' were $1');
    const actions = burst.kind === 'deleted' ? [RESTORE_THEM, SHOW] : [COMPARE, RESTORE_THEM];
    void this.ctx.prompter.notify(`${sentence}.`, actions).then(async (choice) => {
      try {
        if (choice === RESTORE_THEM) await this.restore(folder, burst, burst.restorePaths(), burst.files.length);
        else if (choice === SHOW) await this.show(folder, burst);
        else if (choice === COMPARE) await this.compare(folder, burst);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.log.error(`${folder.name}: ${choice}: ${message}`, error);
        void reportFailure(error, { what: String(choice), kind: 'log' });
      }
    });
  }

  /** Puts back `paths` as they were just before the burst: one click, undoable like every restore. */
  async restore(folder: vscode.WorkspaceFolder, burst: Burst, wanted: string[], files: number): Promise<void> {
    // What the watcher has queued goes first, so the undo point is the state as it is now.
    await this.service.flushFolder(folder);
    // A file made and deleted within the burst is not in the snapshot before it: nothing to bring back.
    const repo = await this.service.localRepository(folder);
    const paths: string[] = [];
    for (const rel of wanted) if (await entryAt(repo, burst.before.tree, rel)) paths.push(rel);
    if (paths.length === 0) return;
    const result = await runRestore(this.ctx, {
      folder,
      snapshot: burst.before,
      paths,
      deleteExtra: false,
      title: `Restore ${plural(files, 'file')} ${burst.kind === 'deleted' ? 'deleted' : 'rewritten'} outside the editor`,
      what: plural(files, 'file'),
      confirmed: true,
    });
    if (result) this.happened.fire({ folder, kind: 'restored', burst });
  }

  /** The list of files, all checked: Enter restores the checked ones, Esc leaves them as they are. */
  private async show(folder: vscode.WorkspaceFolder, burst: Burst): Promise<void> {
    const emptied = new Set(burst.emptied);
    const items = burst.files.map((rel) => ({
      label: path.posix.basename(rel),
      description: `${path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel)}${emptied.has(rel) ? ' · emptied' : ''}`,
      rel,
    }));
    const when = shortTime(burst.after.time, new Date());
    const chosen = await this.ctx.prompter.pickMany(
      items,
      `${burstSentence(burst)} at ${when}`,
      'Enter restores the checked files as they were just before (undoable); Esc leaves them as they are',
    );
    if (chosen?.length)
      await this.restore(
        folder,
        burst,
        chosen.map((c) => c.rel),
        chosen.length,
      );
  }

  /** Every rewritten file against its version just before, in one multi-file diff. */
  private async compare(folder: vscode.WorkspaceFolder, burst: Burst): Promise<void> {
    const store = this.service.localStorePath(folder);
    const resources = burst.files.map((rel) => {
      const now = vscode.Uri.joinPath(folder.uri, ...rel.split('/'));
      return [now, toSnapshotUri({ store, snapshot: burst.before.id, path: rel }), now];
    });
    await vscode.commands.executeCommand('vscode.changes', `${burstSentence(burst)}: before ↔ now`, resources);
  }
}
