// The "Backup Health" view: the 3-2-1 assessment of each workspace folder (copies, distinct media,
// offsite, freshness, encryption) and, for each gap, the one click that closes it. The same reports feed
// the status bar tooltip. Invariants: the view only reads (nothing is written to a store to draw it); a
// report that cannot be made (a locked encrypted store, an unreadable store) says why and how to fix it.

import * as vscode from 'vscode';
import { formatTime, plural } from '../../core/format';
import type { CopyProbe } from '../../core/health/copies';
import { gatherHealth } from '../../core/health/gather';
import type { CopyStatus, DestinationInput, FixId, Gap, HealthInput, HealthReport } from '../../core/health/health';
import { localGitHistory } from '../../core/snapshot/gitFolder';
import { healthSummary } from '../../core/health/health';
import { nodeFs } from '../../core/storage/fsPort';
import type { BackupService } from '../backupService';
import { Commands, Views } from '../commandIds';
import { Disposable } from '../lifecycle';
import type { Logger } from '../logger';
import { destinationName, healthRowItem, missingStoreRows, problemSummary } from './lostStore';
import type { HealthRow } from './lostStore';
import { ago } from '../timeAgo';
import { storeProblemOf } from '../storeAccess';
import type { StoreProblem } from '../storeAccess';

export type FolderHealth =
  | { folder: vscode.WorkspaceFolder; report: HealthReport; error?: undefined }
  | {
      folder: vscode.WorkspaceFolder;
      report?: undefined;
      error: string;
      locked: boolean;
      problem?: StoreProblem;
      copies?: CopyProbe[];
    };

export type HealthNode =
  | { kind: 'folder'; health: FolderHealth }
  | { kind: 'summary'; health: FolderHealth }
  | { kind: 'section'; health: FolderHealth & { report: HealthReport }; section: 'copies' | 'status' | 'gaps' }
  | { kind: 'copy'; copy: CopyStatus }
  | { kind: 'fact'; label: string; description: string; icon: string; tooltip?: string; good: boolean }
  | { kind: 'gap'; folder: vscode.WorkspaceFolder; gap: Gap }
  | HealthRow;

/** The command and arguments that close each kind of gap. */
export function fixCommand(fix: FixId, folder: vscode.WorkspaceFolder): { command: string; arguments: unknown[] } {
  switch (fix) {
    case 'snapshotNow':
      return { command: Commands.snapshotWorkspace, arguments: [folder.uri] };
    case 'addDestination':
      return { command: Commands.addDestination, arguments: [folder.uri, { offsite: false }] };
    case 'addOffsiteDestination':
      return { command: Commands.addDestination, arguments: [folder.uri, { offsite: true }] };
    case 'replicateNow':
      return { command: Commands.replicateNow, arguments: [folder.uri] };
    case 'verifyNow':
      return { command: Commands.verifyBackups, arguments: [folder.uri] };
    case 'encryptStore':
      return { command: Commands.encryptStore, arguments: [folder.uri] };
    case 'includeGit':
      return { command: Commands.includeGitFolder, arguments: [folder.uri] };
  }
}

const KIND_LABEL: Record<CopyStatus['kind'], string> = {
  workspace: 'Workspace',
  store: 'Local store',
  destination: 'Destination',
};

export class HealthView extends Disposable implements vscode.TreeDataProvider<HealthNode> {
  private readonly emitter = this.register(new vscode.EventEmitter<HealthNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly updated = this.register(new vscode.EventEmitter<void>());
  /** New reports are in (the status bar tooltip listens). */
  readonly onDidUpdate = this.updated.event;
  private reports = new Map<string, FolderHealth>();
  private pending: Promise<FolderHealth[]> | undefined;
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly service: BackupService,
    private readonly log: Logger,
    /** The destinations configured for a folder, with what this window knows of their last attempt. */
    private readonly destinations: (folder: vscode.WorkspaceFolder) => DestinationInput[],
    /** What each destination holds, asked only while the folder's store is missing (lostStore.ts). */
    private readonly probe?: (folder: vscode.WorkspaceFolder) => Promise<CopyProbe[]>,
  ) {
    super();
    this.register(vscode.window.createTreeView(Views.health, { treeDataProvider: this }));
    this.register(service.onDidChange(() => this.refreshSoon()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('projectBackup') && this.refreshSoon()),
    );
    this.register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  /** Recomputes after a short quiet period (snapshots on save come in bursts). */
  refreshSoon(delayMs = 400): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), delayMs);
  }

  /** Recomputes every folder's report now; resolves with them (tests and the status bar use this). */
  refresh(): Promise<FolderHealth[]> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const generation = ++this.generation;
    const run = this.compute().then((list) => {
      // Refreshes can overlap (a slow remote store): an older one finishing last must not win.
      if (generation !== this.generation) return this.pending ?? list;
      this.reports = new Map(list.map((h) => [h.folder.uri.toString(), h]));
      this.emitter.fire(undefined);
      this.updated.fire();
      return list;
    });
    this.pending = run;
    return run;
  }

  /** The latest reports, computing them the first time. */
  async current(): Promise<FolderHealth[]> {
    if (this.reports.size === 0) return this.pending ?? this.refresh();
    return [...this.reports.values()];
  }

  /** The report last computed for a folder, without waiting. */
  cached(folder: vscode.WorkspaceFolder): FolderHealth | undefined {
    return this.reports.get(folder.uri.toString());
  }

  private async compute(): Promise<FolderHealth[]> {
    return Promise.all(this.service.folders().map((folder) => this.assess(folder)));
  }

  private async assess(folder: vscode.WorkspaceFolder): Promise<FolderHealth> {
    try {
      const repo = await this.service.localRepository(folder);
      const settings = this.service.settings(folder);
      const report = await gatherHealth(repo, nodeFs, {
        workspace: folder.uri.fsPath,
        workspaceId: this.service.workspaceId(folder),
        destinations: this.destinations(folder),
        onlyGiven: true,
        staleAfterHours: settings.warnAfterHours,
        verifyEveryDays: settings.verifySchedule === 'daily' ? 2 : settings.verifySchedule === 'weekly' ? 8 : 30,
        git: await this.gitHistory(folder),
      });
      return { folder, report };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn(`Backup health of ${folder.name}: ${message}`);
      const problem = storeProblemOf(error);
      const copies = problem === 'missing' ? await this.probe?.(folder) : undefined;
      return { folder, error: message, locked: problem === 'locked', problem, copies };
    }
  }

  /** The git facts for the "history only on this machine" gap: asked of git only when full snapshots leave `.git` out. */
  private async gitHistory(folder: vscode.WorkspaceFolder): Promise<HealthInput['git']> {
    if (await this.service.includesGit(folder)) return undefined;
    const local = await localGitHistory(folder.uri.fsPath);
    return local && { ...local, included: false };
  }

  // ---- tree --------------------------------------------------------------------------------------

  async getChildren(node?: HealthNode): Promise<HealthNode[]> {
    if (!node) {
      const all = await this.current();
      if (all.length === 1) return this.folderChildren(all[0]);
      return all.map((health) => ({ kind: 'folder', health }));
    }
    if (node.kind === 'folder') return this.folderChildren(node.health);
    if (node.kind === 'summary' && allWell(node.health))
      return sectionsOf(node.health as FolderHealth & { report: HealthReport }, ['copies', 'status']);
    if (node.kind !== 'section') return [];
    const { report, folder } = node.health;
    if (node.section === 'copies') return report.locations.map((copy) => ({ kind: 'copy', copy }));
    if (node.section === 'gaps') return report.gaps.map((gap) => ({ kind: 'gap', folder, gap }));
    return statusFacts(report);
  }

  private folderChildren(health: FolderHealth): HealthNode[] {
    if (!health.report && health.problem)
      return [
        problemSummary(health.folder, health.problem, health.copies, health.error),
        ...missingStoreRows(health.folder, health.copies ?? []),
      ];
    if (!health.report) return [{ kind: 'summary', health }];
    // All well: one line, the copies and status folded under it (#14); gaps open the view up.
    if (allWell(health)) return [{ kind: 'summary', health }];
    const withReport = health as FolderHealth & { report: HealthReport };
    const nodes: HealthNode[] = [{ kind: 'summary', health }];
    if (health.report.gaps.length) nodes.push({ kind: 'section', health: withReport, section: 'gaps' });
    nodes.push(
      { kind: 'section', health: withReport, section: 'copies' },
      { kind: 'section', health: withReport, section: 'status' },
    );
    return nodes;
  }

  getTreeItem(node: HealthNode): vscode.TreeItem {
    switch (node.kind) {
      case 'folder': {
        const item = new vscode.TreeItem(node.health.folder.name, vscode.TreeItemCollapsibleState.Expanded);
        item.description = node.health.report
          ? healthSummary(node.health.report)
          : node.health.problem === 'missing'
            ? 'store missing'
            : node.health.problem === 'locked'
              ? 'store locked'
              : 'unavailable';
        item.iconPath = new vscode.ThemeIcon('root-folder');
        return item;
      }
      case 'summary':
        return summaryItem(node.health);
      case 'section': {
        const r = node.health.report;
        const titles = { gaps: `Gaps (${r.gaps.length})`, copies: `Copies (${r.copies} of 3)`, status: 'Status' };
        // The gaps are what to act on; copies and status are details, folded until asked for (#14).
        const item = new vscode.TreeItem(
          titles[node.section],
          node.section === 'gaps'
            ? vscode.TreeItemCollapsibleState.Expanded
            : vscode.TreeItemCollapsibleState.Collapsed,
        );
        item.id = `${node.health.folder.uri.toString()}#${node.section}`;
        item.contextValue = `healthSection-${node.section}`;
        return item;
      }
      case 'copy':
        return copyItem(node.copy);
      case 'fact': {
        const item = new vscode.TreeItem(node.label);
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = new vscode.ThemeIcon(
          node.icon,
          new vscode.ThemeColor(node.good ? 'testing.iconPassed' : 'problemsWarningIcon.foreground'),
        );
        return item;
      }
      case 'row':
        return healthRowItem(node);
      case 'gap': {
        const item = new vscode.TreeItem(node.gap.title);
        item.description = node.gap.fixLabel;
        item.tooltip = `${node.gap.message}\nClick to ${node.gap.fixLabel.toLowerCase()}.`;
        item.accessibilityInformation = {
          label: `${node.gap.title}. ${node.gap.message} Fix: ${node.gap.fixLabel}.`,
          role: 'treeitem',
        };
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.contextValue = 'healthGap';
        item.command = { title: node.gap.fixLabel, ...fixCommand(node.gap.fix, node.folder) };
        return item;
      }
    }
  }
}

/** No gap to show: the view stays one line. */
function allWell(health: FolderHealth): boolean {
  return health.report !== undefined && health.report.gaps.length === 0;
}

function sectionsOf(
  health: FolderHealth & { report: HealthReport },
  sections: Array<'copies' | 'status'>,
): HealthNode[] {
  return sections.map((section) => ({ kind: 'section', health, section }));
}

function summaryItem(health: FolderHealth): vscode.TreeItem {
  if (!health.report) {
    const item = new vscode.TreeItem(health.locked ? 'Store locked: enter its passphrase' : 'The store cannot be read');
    item.description = health.locked ? 'Unlock' : '';
    item.tooltip = health.error;
    item.iconPath = new vscode.ThemeIcon(
      health.locked ? 'lock' : 'error',
      new vscode.ThemeColor('problemsErrorIcon.foreground'),
    );
    if (health.locked)
      item.command = { title: 'Unlock', command: Commands.unlockStore, arguments: [health.folder.uri] };
    item.contextValue = 'healthSummary';
    return item;
  }
  const r = health.report;
  const item = new vscode.TreeItem(
    r.meets321 ? '3-2-1 rule met' : '3-2-1 rule not met',
    allWell(health) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
  );
  item.description = `${r.copies} of 3 copies · ${r.media} of 2 media · ${r.offsite ? 'offsite' : 'no offsite'}`;
  item.tooltip = new vscode.MarkdownString(
    'The 3-2-1 rule: **3** copies of your data, on **2** different media, **1** of them offsite.\n\n' +
      `This workspace: ${plural(r.copies, 'copy', 'copies')}, ${plural(r.media, 'medium', 'media')}, ${r.offsite ? 'one offsite' : 'none offsite'}.`,
  );
  item.iconPath = new vscode.ThemeIcon(
    r.meets321 ? 'pass-filled' : 'shield',
    new vscode.ThemeColor(r.meets321 ? 'testing.iconPassed' : 'problemsWarningIcon.foreground'),
  );
  item.contextValue = 'healthSummary';
  return item;
}

function copyItem(copy: CopyStatus): vscode.TreeItem {
  const item = new vscode.TreeItem(
    copy.kind === 'destination' ? destinationName(copy.location) : KIND_LABEL[copy.kind],
  );
  const tags = [copy.kind === 'destination' ? (copy.offsite ? 'offsite' : 'onsite') : copy.location];
  if (copy.kind === 'destination')
    tags.push(copy.lastUpdate ? `copied ${ago(new Date(copy.lastUpdate), new Date())}` : 'never copied');
  if (copy.note) tags.push(copy.note);
  if (copy.warning) tags.push(copy.warning);
  if (copy.kind === 'destination') tags.push(copy.location);
  item.description = tags.join(' · ');
  item.tooltip = new vscode.MarkdownString(
    `**${KIND_LABEL[copy.kind]}** ${copy.location}\n\n` +
      `- counts as a copy: ${copy.counts ? 'yes' : 'no'}\n- medium: ${copy.medium ?? 'unknown'}\n- offsite: ${copy.offsite ? 'yes' : 'no'}` +
      (copy.lastUpdate ? `\n- last update: ${formatTime(copy.lastUpdate)}` : '') +
      (copy.note ? `\n- ${copy.note}` : '') +
      (copy.warning ? `\n- $(warning) ${copy.warning}` : ''),
  );
  const icon = copy.warning
    ? 'warning'
    : copy.kind === 'workspace'
      ? 'folder-library'
      : copy.kind === 'store'
        ? 'database'
        : copy.offsite
          ? 'cloud'
          : 'server';
  item.iconPath = new vscode.ThemeIcon(
    icon,
    copy.counts && copy.upToDate && !copy.warning
      ? new vscode.ThemeColor('testing.iconPassed')
      : new vscode.ThemeColor('problemsWarningIcon.foreground'),
  );
  // The mark decides which of "Mark as Offsite" and "Mark as Onsite" its context menu offers.
  item.contextValue =
    copy.kind === 'destination' ? `healthDestination.${copy.offsite ? 'offsite' : 'onsite'}` : 'healthCopy';
  return item;
}

function statusFacts(r: HealthReport): HealthNode[] {
  const now = new Date();
  const when = (iso: string | undefined) => (iso ? `${ago(new Date(iso), now)} (${formatTime(iso)})` : 'never');
  return [
    {
      kind: 'fact',
      label: 'Last snapshot',
      description: when(r.lastSnapshot),
      icon: 'history',
      good: r.lastSnapshot !== undefined,
      tooltip: plural(r.snapshotCount, 'snapshot') + ' of this workspace',
    },
    {
      kind: 'fact',
      label: 'Last replication',
      description: when(r.lastReplication),
      icon: 'cloud-upload',
      good: r.lastReplication !== undefined,
    },
    {
      kind: 'fact',
      label: 'Last verify',
      description: r.lastVerify
        ? `${when(r.lastVerify.time)}${r.lastVerify.ok ? ', no damage' : ', damage found'}`
        : 'never',
      icon: 'verified',
      good: r.lastVerify?.ok === true,
    },
    {
      kind: 'fact',
      label: 'Encryption',
      description: r.encrypted ? 'on (AES-256-GCM)' : 'off',
      icon: r.encrypted ? 'lock' : 'unlock',
      good: r.encrypted,
    },
  ];
}
