// "History follows the project, not the path" in the editor (#12): when a folder without backups opens and
// it is very likely a workspace the store knows that has moved or been renamed (the same git repository, or
// most files the same as that workspace's latest snapshot), offer once to continue that history here. If the
// user accepts, one lineage record in the store (core/query/lineage.ts) makes the views, File History and
// `latest` include the old snapshots, and new snapshots continue the same line.

import * as vscode from 'vscode';
import { formatTime, plural } from '../core/format';
import { continueHistory, findLikelyPredecessor } from '../core/query/lineage';
import { nodeFs } from '../core/storage/fsPort';
import type { BackupService } from './backupService';
import type { Logger } from './logger';
import type { Prompter } from './prompter';

const ASKED = 'projectBackup.lineageAsked:';

export type OfferOutcome = 'continued' | 'declined' | 'none' | 'asked-before';

/**
 * Offers once per folder (the answer is kept in `state`). Only for a folder whose store exists and has no
 * snapshot of it; reads only until the user accepts.
 */
export async function offerContinuedHistory(
  service: BackupService,
  prompter: Prompter,
  log: Logger,
  state: vscode.Memento,
  folder: vscode.WorkspaceFolder,
): Promise<OfferOutcome> {
  const key = `${ASKED}${folder.uri.toString()}`;
  if (state.get<boolean>(key)) return 'asked-before';
  if (!(await service.storeMade(folder))) return 'none';
  const repo = await service.localRepository(folder);
  const found = await findLikelyPredecessor(repo, folder.uri.fsPath, nodeFs, { git: vscode.workspace.isTrusted });
  if (!found) return 'none';
  const { workspace, reason } = found;
  await state.update(key, true);
  const question = `Continue the backup history of ${workspace.name} here? ${reason} It has ${plural(workspace.snapshots, 'snapshot')}, the last on ${formatTime(workspace.lastTime)}; they will show for ${folder.name}, and new snapshots continue them.`;
  if (!(await prompter.offer(question, 'Continue Its History'))) {
    log.info(`${folder.name}: the history of ${workspace.lastPath} was offered and declined.`);
    return 'declined';
  }
  const linked = await continueHistory(repo, workspace.id, folder.uri.fsPath);
  log.info(
    `${folder.name}: continues the history of ${workspace.lastPath} (${plural(workspace.snapshots, 'snapshot')})${linked.created ? '' : ', as another window had said'}.`,
  );
  service.fireChanged(folder);
  return 'continued';
}
