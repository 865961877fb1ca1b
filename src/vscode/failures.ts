// Every failure the editor shows the user goes through `reportFailure`: one sentence ("<what> failed: <why>")
// and the buttons that help, chosen here from the error's BackupError code (a missing store: bring it back or
// start a new one; a locked one: unlock; a store path that cannot be used: the settings), then what each
// button does. Commands (commands/shared.ts `guarded`), background snapshots (snapshotQueue.ts), replication
// and the notable-moment actions all call it, so a code's sentence and buttons are decided once.

import * as vscode from 'vscode';
import { BackupError } from '../core/errors';
import { Commands } from './commandIds';
import { SECTION } from './configuration';
import type { Logger } from './logger';
import { storeProblemOf } from './storeAccess';

/** Codes whose usual cure is another store path or permissions: the notification offers the settings. */
const SETTINGS_CODES: readonly string[] = ['PERMISSION_DENIED', 'REPO_NOT_FOUND', 'NO_SPACE'];

export interface FailureReport {
  /** The subject of the sentence: "Restore", "Backup", "Replication to /mnt/usb". */
  what: string;
  /** Logs "<what> failed: <why>" with the error (omit when the caller has logged it its own way). */
  log?: Logger;
  /**
   * Which buttons beyond the store fixes: 'command' (Show Log, and the settings for the codes they cure),
   * 'background' (a snapshot nobody asked for just now: Show Log and the settings always), 'log' (Show Log only).
   */
  kind?: 'command' | 'background' | 'log';
}

/** The buttons for a missing or locked store (REPO_NOT_FOUND of a known store; PASSPHRASE_REQUIRED, WRONG_PASSPHRASE). */
function storeFixes(error: unknown): Array<{ title: string; command: string }> {
  const problem = storeProblemOf(error);
  if (problem === 'missing')
    return [
      { title: 'Bring the Store Back', command: Commands.bringBackStore },
      { title: 'Start a New Store', command: Commands.recreateStore },
    ];
  return problem === 'locked' ? [{ title: 'Unlock', command: Commands.unlockStore }] : [];
}

interface Action {
  title: string;
  run: () => Thenable<unknown>;
}

/** The sentence and the buttons for a failure, decided by its BackupError code. Exported for tests. */
export function describeFailure(
  error: unknown,
  kind: FailureReport['kind'] = 'command',
): { message: string; actions: Action[] } {
  const message = error instanceof Error ? error.message : String(error);
  const fixes: Action[] = storeFixes(error).map((f) => ({
    title: f.title,
    run: () => vscode.commands.executeCommand(f.command),
  }));
  const showLog: Action = { title: 'Show Log', run: () => vscode.commands.executeCommand(Commands.showLog) };
  const settings: Action = {
    title: 'Open Settings',
    run: () => vscode.commands.executeCommand('workbench.action.openSettings', SECTION),
  };
  let rest: Action[];
  if (kind === 'background') rest = [showLog, settings];
  else if (kind === 'log') rest = [showLog];
  else rest = error instanceof BackupError && SETTINGS_CODES.includes(error.code) ? [settings, showLog] : [showLog];
  return { message, actions: [...fixes, ...rest] };
}

/**
 * Shows a failure: a cancel is said as the information it is (a background one not at all), anything else
 * as one error notification with its buttons. Resolves when the notification is shown and answered; callers
 * need not wait (a notification with buttons stays until dismissed).
 */
export async function reportFailure(error: unknown, report: FailureReport): Promise<void> {
  if (error instanceof BackupError && error.code === 'CANCELLED') {
    if (report.kind !== 'background') void vscode.window.showInformationMessage(error.message);
    return;
  }
  const { message, actions } = describeFailure(error, report.kind);
  report.log?.error(`${report.what} failed: ${message}`, error);
  const choice = await vscode.window.showErrorMessage(
    `${report.what} failed: ${message}`,
    ...actions.map((a) => a.title),
  );
  await actions.find((a) => a.title === choice)?.run();
}
