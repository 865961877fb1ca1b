// "Backup: Search History": by file name across every snapshot (deleted files included) and by text inside
// every stored version of text files; a result opens that version, or its diff with the current file.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { formatTime, plural } from '../../core/format';
import { findPaths, grepContent } from '../../core/query/search';
import { Commands } from '../commandIds';
import { VersionNode } from '../views/nodes';
import type { CommandContext, CommandSpec } from './shared';
import { guarded, pickFolder } from './shared';

interface ResultItem extends vscode.QuickPickItem {
  node?: VersionNode;
}

export function searchHistory(ctx: CommandContext): Promise<void> {
  return guarded(ctx, 'Search History', async () => {
    const folder = await pickFolder(ctx, 'Search the history of which folder?');
    if (!folder) return;
    const text = (
      await ctx.prompter.askText(
        'Search the backup history: a file name or glob (*.env, src/**/util.ts), or text inside files',
        'name, glob or text',
      )
    )?.trim();
    if (!text) return;
    const repo = await ctx.service.repository(folder);
    const snapshots = await ctx.service.snapshots(folder);
    const store = ctx.service.storePathFor(folder);
    const glob = /[*?[\]{}]/.test(text) ? text : `**/*${text}*`;
    const { names, grep } = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Searching the backup history' },
      async () => {
        const onProblem = (path: string, reason: string) => ctx.log.warn(`Search: ${path}: ${reason}`);
        return {
          names: await findPaths(repo, snapshots, glob, { onProblem }),
          grep: await grepContent(repo, snapshots, text, { ignoreCase: true, maxResults: 500, onProblem }),
        };
      },
    );
    const items: ResultItem[] = [];
    if (names.length) items.push({ label: `File names (${names.length})`, kind: vscode.QuickPickItemKind.Separator });
    for (const match of names) {
      const newest = match.snapshots[0];
      const exists = fs.existsSync(vscode.Uri.joinPath(folder.uri, match.path).fsPath);
      items.push({
        label: `$(file) ${match.path}`,
        description: `${plural(match.snapshots.length, 'snapshot')}, newest ${formatTime(newest.time)}${exists ? '' : ' · deleted since'}`,
        node: new VersionNode(folder, store, newest, match.path, match.entry, undefined, undefined, false),
      });
    }
    if (grep.matches.length)
      items.push({
        label: `Text (${grep.matches.length}${grep.truncated ? '+' : ''})`,
        kind: vscode.QuickPickItemKind.Separator,
      });
    for (const match of grep.matches) {
      const newest = match.snapshots[0];
      items.push({
        label: `$(search) ${match.path}:${match.line}`,
        description: match.text.trim(),
        // A match in a file deleted since says so, as the name matches do.
        detail: `${plural(match.snapshots.length, 'snapshot')}, newest ${formatTime(newest.time)}${fs.existsSync(vscode.Uri.joinPath(folder.uri, match.path).fsPath) ? '' : ' · in a file deleted since'}`,
        node: new VersionNode(folder, store, newest, match.path, undefined, undefined, undefined, false),
      });
    }
    ctx.log.info(
      `Search "${text}" in ${folder.name}: ${plural(names.length, 'file name')}, ${plural(grep.matches.length, 'text match', 'text matches')} (${plural(grep.contentsRead, 'distinct content')} read).`,
    );
    if (items.length === 0) {
      void vscode.window.showInformationMessage(`Nothing in the backup history of ${folder.name} matches "${text}".`);
      return;
    }
    const picked = (await ctx.prompter.pick(
      items,
      `Results for "${text}": pick one to compare it with the current file (or open it, when the file is gone)`,
    )) as ResultItem | undefined;
    if (!picked?.node) return;
    const exists = fs.existsSync(vscode.Uri.joinPath(folder.uri, picked.node.relPath).fsPath);
    await vscode.commands.executeCommand(exists ? Commands.compareWithCurrent : Commands.openVersion, picked.node);
  });
}

export const commands: CommandSpec[] = [{ id: Commands.searchHistory, run: (ctx) => searchHistory(ctx) }];
