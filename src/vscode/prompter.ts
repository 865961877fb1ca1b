// Every question the extension asks the user goes through this interface: the real one shows VS Code's
// quick picks and dialogs; integration tests answer through a scripted one (exported from activate).

import * as vscode from 'vscode';
import { plural } from '../core/format';
import type { PlannedChange, RestorePlan } from '../core/restore/restorer';

export interface Prompter {
  /**
   * Shows what a restore will change and asks once; `plan` lists the first changes and counts them all
   * (RestorePlan); `note` replaces the default line on undo.
   */
  confirmRestore(title: string, plan: RestorePlan, note?: string): Promise<boolean>;
  /** A yes/no question with one action button; true when the action was chosen. */
  confirm(message: string, action: string): Promise<boolean>;
  /** An offer that does not interrupt (a notification, not a modal dialog); true when the action was chosen. */
  offer(message: string, action: string): Promise<boolean>;
  /** An optional text (label); undefined when cancelled, '' when left empty. */
  askText(prompt: string, placeHolder: string, value?: string): Promise<string | undefined>;
  pickFolder(folders: readonly vscode.WorkspaceFolder[], purpose: string): Promise<vscode.WorkspaceFolder | undefined>;
  /** Any folder on disk (Restore to..., a destination); `openLabel` names what choosing it does. */
  pickTargetFolder(title: string, openLabel: string): Promise<vscode.Uri | undefined>;
  pick<T extends vscode.QuickPickItem>(items: readonly T[], placeHolder: string): Promise<T | undefined>;
  /**
   * A notification that does not interrupt (a toast with buttons); resolves with the button clicked, or
   * undefined when it was dismissed or ignored. Callers must not wait on it before going on.
   */
  notify(message: string, actions: readonly string[], severity?: 'info' | 'warning'): Promise<string | undefined>;
  /** A list with check boxes, all checked at first; the checked items on Enter, undefined on Esc. */
  pickMany<T extends vscode.QuickPickItem>(
    items: readonly T[],
    title: string,
    placeHolder: string,
  ): Promise<T[] | undefined>;
  /**
   * A pick that also takes typed text: `fromText` turns what is typed into an item shown at the top (or
   * undefined while it means nothing). Resolves with the item chosen.
   */
  pickOrType<T extends vscode.QuickPickItem>(
    items: readonly T[],
    placeHolder: string,
    fromText: (text: string) => T | undefined,
  ): Promise<T | undefined>;
  /** Where to save a file (archives); undefined when cancelled. */
  pickSaveFile(defaultUri: vscode.Uri, title: string): Promise<vscode.Uri | undefined>;
  /** A secret (passphrase, password), typed hidden; undefined when cancelled. Never logged. */
  askSecret(prompt: string, placeHolder: string): Promise<string | undefined>;
}

const ICONS: Record<PlannedChange['action'], string> = {
  create: '$(diff-added)',
  overwrite: '$(diff-modified)',
  delete: '$(diff-removed)',
};
const WORDS: Record<PlannedChange['action'], string> = { create: 'create', overwrite: 'overwrite', delete: 'delete' };

export class WindowPrompter implements Prompter {
  async confirmRestore(title: string, plan: RestorePlan, note?: string): Promise<boolean> {
    // Files, not folders (RestorePlan.counts): "80 to create" for 46 files reads like a miscount.
    const { counts, changes, total } = plan;
    const summary = `${plural(counts.overwrite, 'file')} to overwrite, ${counts.create} to create, ${counts.delete} to delete`;
    // The undo note goes in the first row's detail, which wraps; in the placeholder it was cut off at
    // "Enter restores (a snapshot of the current state is ...", hiding that the restore can be undone.
    const confirmItem: vscode.QuickPickItem = {
      label: '$(check) Restore',
      description: summary,
      detail: note ?? 'A snapshot of the current state is taken first: Undo Last Restore puts it back.',
      alwaysShow: true,
    };
    const items: vscode.QuickPickItem[] = [
      confirmItem,
      { label: 'Changes', kind: vscode.QuickPickItemKind.Separator },
      ...changes.slice(0, 1000).map((c) => ({
        label: `${ICONS[c.action]} ${c.path}${c.type === 'dir' ? '/' : ''}`,
        description: WORDS[c.action],
      })),
    ];
    const shown = Math.min(changes.length, 1000);
    if (total > shown) items.push({ label: `…and ${total - shown} more` });
    const picked = await vscode.window.showQuickPick(items, {
      title,
      placeHolder: 'Enter restores (undoable), Esc cancels',
      ignoreFocusOut: true,
    });
    return picked !== undefined && picked !== items[1];
  }

  async confirm(message: string, action: string): Promise<boolean> {
    return (await vscode.window.showWarningMessage(message, { modal: true }, action)) === action;
  }

  async offer(message: string, action: string): Promise<boolean> {
    return (await vscode.window.showInformationMessage(message, action, 'Not Now')) === action;
  }

  askText(prompt: string, placeHolder: string, value?: string): Promise<string | undefined> {
    return Promise.resolve(vscode.window.showInputBox({ prompt, placeHolder, value }));
  }

  async pickFolder(
    folders: readonly vscode.WorkspaceFolder[],
    purpose: string,
  ): Promise<vscode.WorkspaceFolder | undefined> {
    if (folders.length <= 1) return folders[0];
    return vscode.window.showWorkspaceFolderPick({ placeHolder: purpose });
  }

  async pickTargetFolder(title: string, openLabel: string): Promise<vscode.Uri | undefined> {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel,
      title,
    });
    return picked?.[0];
  }

  pick<T extends vscode.QuickPickItem>(items: readonly T[], placeHolder: string): Promise<T | undefined> {
    return Promise.resolve(
      vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true }),
    );
  }

  async notify(
    message: string,
    actions: readonly string[],
    severity: 'info' | 'warning' = 'warning',
  ): Promise<string | undefined> {
    const show = severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    return show(message, ...actions);
  }

  async pickMany<T extends vscode.QuickPickItem>(
    items: readonly T[],
    title: string,
    placeHolder: string,
  ): Promise<T[] | undefined> {
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ ...item, picked: true })),
      { title, placeHolder, canPickMany: true, ignoreFocusOut: true, matchOnDescription: true },
    );
    // showQuickPick hands back copies: map them to the caller's items.
    return (
      picked &&
      picked
        .map((p) => items[items.findIndex((item) => item.label === p.label && item.description === p.description)])
        .filter((item): item is T => item !== undefined)
    );
  }

  pickOrType<T extends vscode.QuickPickItem>(
    items: readonly T[],
    placeHolder: string,
    fromText: (text: string) => T | undefined,
  ): Promise<T | undefined> {
    return new Promise((resolve) => {
      const pick = vscode.window.createQuickPick<T>();
      pick.placeholder = placeHolder;
      pick.matchOnDescription = true;
      pick.items = items;
      let typed: T | undefined;
      let done = false;
      pick.onDidChangeValue((text) => {
        typed = fromText(text);
        pick.items = typed ? [{ ...typed, alwaysShow: true }, ...items] : items;
      });
      pick.onDidAccept(() => {
        const chosen = pick.selectedItems[0] ?? pick.activeItems[0];
        done = true;
        resolve(chosen === undefined ? typed : chosen === pick.items[0] && typed ? typed : chosen);
        pick.hide();
      });
      pick.onDidHide(() => {
        if (!done) resolve(undefined);
        pick.dispose();
      });
      pick.show();
    });
  }

  async pickSaveFile(defaultUri: vscode.Uri, title: string): Promise<vscode.Uri | undefined> {
    return vscode.window.showSaveDialog({
      defaultUri,
      title,
      saveLabel: 'Export',
      filters: { 'Zip archive': ['zip'], 'Gzipped tar archive': ['tar.gz', 'tgz'] },
    });
  }

  askSecret(prompt: string, placeHolder: string): Promise<string | undefined> {
    // ignoreFocusOut: looking up a passphrase in a password manager must not cancel the prompt.
    return Promise.resolve(vscode.window.showInputBox({ prompt, placeHolder, password: true, ignoreFocusOut: true }));
  }
}
