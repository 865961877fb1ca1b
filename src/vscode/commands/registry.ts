// Every command of the extension, registered in one place: each command file exports its ids and handlers
// as `commands: CommandSpec[]`, listed here once (test/unit/commandRegistry.test.ts checks that each
// command package.json contributes is registered exactly once).

import * as vscode from 'vscode';
import { commands as annotateSnapshot } from './annotateSnapshot';
import { commands as bringBackStore } from './bringBackStore';
import { commands as compareSelection } from './compareSelection';
import { commands as compareWithCurrent } from './compareWithCurrent';
import { commands as compareWithPrevious } from './compareWithPrevious';
import { commands as copyPath } from './copyPath';
import { commands as destinations } from './destinations';
import { commands as encryption } from './encryption';
import { commands as exportArchive } from './exportArchive';
import { commands as filterSnapshots } from './filterSnapshots';
import { commands as general } from './general';
import { commands as goToTime } from './goToTime';
import { commands as includeGitFolder } from './includeGitFolder';
import { commands as markOffsite } from './markOffsite';
import { commands as missingStore } from './missingStore';
import { commands as openSnapshotAsFolder } from './openSnapshotAsFolder';
import { commands as openVersion } from './openVersion';
import { commands as restoreFile } from './restoreFile';
import { commands as restoreProject } from './restoreProject';
import { commands as restoreSnapshot } from './restoreSnapshot';
import { commands as searchHistory } from './searchHistory';
import { commands as selectionHistory } from './selectionHistory';
import { commands as showFileHistory } from './showFileHistory';
import { commands as snapshotWorkspace } from './snapshotWorkspace';
import { commands as undoLastRestore } from './undoLastRestore';
import { commands as verifyBackups } from './verifyBackups';
import type { CommandContext, CommandSpec } from './shared';

export const ALL_COMMANDS: readonly CommandSpec[] = [
  ...annotateSnapshot,
  ...bringBackStore,
  ...compareSelection,
  ...compareWithCurrent,
  ...compareWithPrevious,
  ...copyPath,
  ...destinations,
  ...encryption,
  ...exportArchive,
  ...filterSnapshots,
  ...general,
  ...goToTime,
  ...includeGitFolder,
  ...markOffsite,
  ...missingStore,
  ...openSnapshotAsFolder,
  ...openVersion,
  ...restoreFile,
  ...restoreProject,
  ...restoreSnapshot,
  ...searchHistory,
  ...selectionHistory,
  ...showFileHistory,
  ...snapshotWorkspace,
  ...undoLastRestore,
  ...verifyBackups,
];

/** Registers every command with the context it runs with; dispose the result to unregister them. */
export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  const seen = new Set<string>();
  return ALL_COMMANDS.map((spec) => {
    if (seen.has(spec.id)) throw new Error(`The command ${spec.id} is declared twice.`);
    seen.add(spec.id);
    return vscode.commands.registerCommand(spec.id, (...args: unknown[]) => spec.run(ctx, ...args));
  });
}
