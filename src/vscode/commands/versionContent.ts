// Opening versions in editors: decides whether a version can be shown as text (no broken diff for binary
// or huge files) and opens the diff editor with a title people can read.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatBytes, formatTime } from '../../core/format';
import { entryAt, readWholeFile } from '../../core/query/browse';
import { Commands } from '../commandIds';
import type { VersionNode } from '../views/nodes';
import type { CommandContext } from './shared';

/** Above this, a diff is more noise than help and slow to compute. */
const MAX_DIFF_BYTES = 5 * 1024 * 1024;

export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 8000).includes(0);
}

/** Whether a version can be shown as text; otherwise offers Restore / Restore to... and returns false. */
export async function ensureTextual(ctx: CommandContext, node: VersionNode): Promise<boolean> {
  const repo = await ctx.service.repository(node.folder);
  const entry = node.entry ?? (await entryAt(repo, node.snapshot.tree, node.relPath));
  if (!entry || entry.type === 'dir') {
    void vscode.window.showWarningMessage(`${node.relPath} is not a file in snapshot ${node.snapshot.id.slice(0, 8)}.`);
    return false;
  }
  let reason: string | undefined;
  if (entry.type === 'file' && entry.size > MAX_DIFF_BYTES) reason = `is large (${formatBytes(entry.size)})`;
  else if (entry.type === 'file' && looksBinary(await readWholeFile(repo, node.snapshot, node.relPath)))
    reason = 'is a binary file';
  if (!reason) return true;
  const choice = await vscode.window.showInformationMessage(
    `${path.posix.basename(node.relPath)} ${reason}, so it has no text diff. Restore this version?`,
    'Restore',
    'Restore to...',
  );
  if (choice === 'Restore') await vscode.commands.executeCommand(Commands.restoreFile, node);
  if (choice === 'Restore to...') await vscode.commands.executeCommand(Commands.restoreFileTo, node);
  return false;
}

export function versionTitle(node: VersionNode): string {
  return `${path.posix.basename(node.relPath)} (${formatTime(node.snapshot.time)})`;
}

/** The version on the left, read-only; the right side, when it is the live file, is editable (a block can be taken across). `selection`: where to show on the right. */
export async function openDiff(
  left: vscode.Uri,
  right: vscode.Uri,
  title: string,
  selection?: vscode.Range,
): Promise<void> {
  await vscode.commands.executeCommand('vscode.diff', left, right, title, {
    preview: true,
    ...(selection ? { selection } : {}),
  });
}
