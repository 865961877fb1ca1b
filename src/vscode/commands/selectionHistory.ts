// "Show History for Selection" and "Restore Selection from This Version" (#15): the versions of the active
// file in which the selected lines were different (followed through edits above them: core/query/
// regionHistory.ts), newest first; picking one opens its diff with the current file at that region, or
// puts that version's lines in place of the selection (an ordinary editor edit: Ctrl+Z takes it back, and
// nothing is saved until the user saves).

import * as vscode from 'vscode';
import { formatTime, plural } from '../../core/format';
import { regionHistory } from '../../core/query/regionHistory';
import type { RegionVersion } from '../../core/query/regionHistory';
import { toSnapshotUri } from '../snapshotUri';
import { describeTrigger } from '../views/nodes';
import { Commands } from '../commandIds';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, relPath } from './shared';
import { openDiff } from './versionContent';

interface RegionItem extends vscode.QuickPickItem {
  version: RegionVersion;
}

/** The selection's lines, whole: a selection ending at column 0 of a line does not take that line. */
function selectedLines(editor: vscode.TextEditor): { start: number; end: number } {
  const s = editor.selection;
  const end = s.end.character === 0 && s.end.line > s.start.line ? s.end.line : s.end.line + 1;
  return { start: s.start.line, end };
}

async function pickRegionVersion(
  ctx: CommandContext,
  purpose: string,
): Promise<
  | {
      editor: vscode.TextEditor;
      folder: vscode.WorkspaceFolder;
      rel: string;
      version: RegionVersion;
      lines: { start: number; end: number };
    }
  | undefined
> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    void vscode.window.showInformationMessage('Select lines in a file of the workspace first.');
    return undefined;
  }
  const folder = ctx.service
    .folders()
    .find((f) => f.uri.toString() === vscode.workspace.getWorkspaceFolder(editor.document.uri)?.uri.toString());
  if (!folder) {
    void vscode.window.showInformationMessage(
      `${editor.document.uri.fsPath} is not in a workspace folder that is backed up.`,
    );
    return undefined;
  }
  const rel = relPath(folder, editor.document.uri);
  const lines = selectedLines(editor);
  const repo = await ctx.service.repository(folder);
  const snapshots = await ctx.service.snapshots(folder);
  const versions = await regionHistory(repo, snapshots, rel, editor.document.getText(), lines.start, lines.end);
  const where = `lines ${lines.start + 1}-${lines.end} of ${rel}`;
  if (versions.length === 0) {
    void vscode.window.showInformationMessage(`No earlier version of ${where} differs from what the editor shows.`);
    return undefined;
  }
  // Each row shows the first line that differs from the selection now: what that version had instead.
  const now = new Set(
    editor.document
      .getText(new vscode.Range(lines.start, 0, lines.end, 0))
      .split(/\r?\n/)
      .map((l) => l.trim()),
  );
  const telling = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l && !now.has(l)) ??
    text
      .split('\n')
      .find((l) => l.trim())
      ?.trim() ??
    '(empty)';
  const items: RegionItem[] = versions.map((version) => ({
    label: `${formatTime(version.snapshot.time)}${version.snapshot.label ? ` · ${version.snapshot.label}` : ''}`,
    description: `${describeTrigger(version.snapshot)} · lines ${version.start + 1}-${version.end}${version.path !== rel ? ` · was ${version.path}` : ''}`,
    detail: telling(version.text).slice(0, 120),
    version,
  }));
  const picked = await ctx.prompter.pick(
    items,
    `${purpose}: ${plural(versions.length, 'earlier version')} of ${where}, newest first`,
  );
  return picked && { editor, folder, rel, version: picked.version, lines };
}

export function showSelectionHistory(ctx: CommandContext): Promise<void> {
  return guarded(ctx, 'Show History for Selection', async () => {
    const chosen = await pickRegionVersion(ctx, 'History of the selection');
    if (!chosen) return;
    const { editor, folder, rel, version, lines } = chosen;
    const left = toSnapshotUri({
      store: ctx.service.storePathFor(folder),
      snapshot: version.snapshot.id,
      path: version.path,
    });
    const name = rel.split('/').pop();
    await openDiff(
      left,
      editor.document.uri,
      `${name} lines ${version.start + 1}-${version.end} (${formatTime(version.snapshot.time)}) ↔ current`,
      new vscode.Range(lines.start, 0, Math.max(lines.start, lines.end - 1), 0),
    );
  });
}

export function restoreSelection(ctx: CommandContext): Promise<void> {
  return guarded(ctx, 'Restore Selection from This Version', async () => {
    const chosen = await pickRegionVersion(ctx, 'Restore the selection from');
    if (!chosen) return;
    const { editor, version, lines } = chosen;
    const doc = editor.document;
    const endLine = Math.min(lines.end, doc.lineCount);
    const range = new vscode.Range(lines.start, 0, endLine, 0);
    const eol = doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
    const atEnd = endLine >= doc.lineCount;
    const text = version.text === '' ? '' : `${version.text.split('\n').join(eol)}${atEnd ? '' : eol}`;
    const whole = atEnd
      ? new vscode.Range(lines.start, 0, doc.lineCount - 1, doc.lineAt(doc.lineCount - 1).text.length)
      : range;
    await editor.edit((edit) => edit.replace(whole, text));
    ctx.log.info(
      `Restored lines ${lines.start + 1}-${lines.end} of ${doc.uri.fsPath} from snapshot ${version.snapshot.id.slice(0, 8)} (in the editor, not saved).`,
    );
  });
}

export const commands: CommandSpec[] = [
  { id: Commands.showSelectionHistory, run: (ctx) => showSelectionHistory(ctx) },
  { id: Commands.restoreSelection, run: (ctx) => restoreSelection(ctx) },
];
