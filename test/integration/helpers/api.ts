// The extension's API as the tests use it, a scripted Prompter that answers the questions a human would,
// and small waits for things that happen in the background (watchers, debounced saves).

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../../src/extension';
import type { PlannedChange, RestorePlan } from '../../../src/core/restore/restorer';
import type { Prompter } from '../../../src/vscode/prompter';
import type { Node } from '../../../src/vscode/views/nodes';
import { EXTENSION_ID } from './environment';

export async function api(): Promise<ProjectBackupApi> {
  const extension = vscode.extensions.getExtension<ProjectBackupApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed`);
  return extension.activate();
}

/** Answers in order; records what was asked, so a test can assert the preview a user would have seen. */
export class ScriptedPrompter implements Prompter {
  readonly asked: string[] = [];
  readonly previews: PlannedChange[][] = [];
  confirmRestoreAnswer = true;
  confirmAnswer = true;
  texts: Array<string | undefined> = [];
  target: vscode.Uri | undefined;

  async confirmRestore(title: string, plan: RestorePlan): Promise<boolean> {
    this.asked.push(title);
    this.previews.push([...plan.changes]);
    return this.confirmRestoreAnswer;
  }
  async confirm(message: string): Promise<boolean> {
    this.asked.push(message);
    return this.confirmAnswer;
  }
  offerAnswer = true;
  async offer(message: string): Promise<boolean> {
    this.asked.push(message);
    return this.offerAnswer;
  }
  async askText(prompt: string): Promise<string | undefined> {
    this.asked.push(prompt);
    return this.texts.length ? this.texts.shift() : '';
  }
  async pickFolder(
    folders: readonly vscode.WorkspaceFolder[],
    purpose: string,
  ): Promise<vscode.WorkspaceFolder | undefined> {
    this.asked.push(purpose);
    return folders[0];
  }
  /** The button label of each folder dialog shown, in order. */
  readonly openLabels: string[] = [];
  async pickTargetFolder(title: string, openLabel: string): Promise<vscode.Uri | undefined> {
    this.asked.push(title);
    this.openLabels.push(openLabel);
    return this.target;
  }
  /** Answers for `pick`: a function choosing among the items (the first item when absent). */
  picker: ((items: readonly vscode.QuickPickItem[]) => vscode.QuickPickItem | undefined) | undefined;
  saveTo: vscode.Uri | undefined;

  async pick<T extends vscode.QuickPickItem>(items: readonly T[], placeHolder: string): Promise<T | undefined> {
    this.asked.push(placeHolder);
    return (this.picker ? this.picker(items) : items[0]) as T | undefined;
  }
  async pickSaveFile(_defaultUri: vscode.Uri, title: string): Promise<vscode.Uri | undefined> {
    this.asked.push(title);
    return this.saveTo;
  }
  /** Every notification shown through `notify`, with its buttons, in order. */
  readonly notifications: Array<{ message: string; actions: readonly string[] }> = [];
  /** Which button each notification gets (none, as a user who does not click, when absent). */
  notifyAnswer: ((message: string, actions: readonly string[]) => string | undefined) | undefined;
  async notify(message: string, actions: readonly string[]): Promise<string | undefined> {
    this.notifications.push({ message, actions });
    return this.notifyAnswer?.(message, actions);
  }
  /** Answers for `pickMany`: the items kept checked (all of them when absent). */
  pickManyAnswer: (<T extends vscode.QuickPickItem>(items: readonly T[]) => T[] | undefined) | undefined;
  async pickMany<T extends vscode.QuickPickItem>(items: readonly T[], title: string): Promise<T[] | undefined> {
    this.asked.push(title);
    return this.pickManyAnswer ? this.pickManyAnswer(items) : [...items];
  }
  /** Answers for `pickOrType`, in order: text to type (turned into an item as the real pick does), or a chooser. */
  typed: Array<string | ((items: readonly vscode.QuickPickItem[]) => vscode.QuickPickItem | undefined)> = [];
  async pickOrType<T extends vscode.QuickPickItem>(
    items: readonly T[],
    placeHolder: string,
    fromText: (text: string) => T | undefined,
  ): Promise<T | undefined> {
    this.asked.push(placeHolder);
    const answer = this.typed.shift();
    if (answer === undefined) return items[0];
    return typeof answer === 'string' ? fromText(answer) : (answer(items) as T | undefined);
  }
  /** Answers for `askSecret`, in order; undefined (cancel) when they run out. */
  secrets: Array<string | undefined> = [];
  async askSecret(prompt: string): Promise<string | undefined> {
    this.asked.push(prompt);
    return this.secrets.shift();
  }
}

/**
 * Polls `probe` until it returns a value (watchers, debounced saves, background work). The limit is generous,
 * since a loaded machine delays all of these and the wait ends as soon as the value is there.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Types `text` at the top of `doc` in `editor`, unsaved, and resolves once the document holds it. First waits
 * until the document shows what the disk holds: a file the previous test rewrote on disk is reloaded into an
 * open document a moment later (later still on a loaded machine), and an edit made before that reload is
 * refused (`edit` resolves false) or replaced by it, which left the document clean under load.
 */
export async function typeUnsaved(editor: vscode.TextEditor, text: string): Promise<void> {
  const doc = editor.document;
  const disk = fs.readFileSync(doc.uri.fsPath, 'utf8');
  await until(`${path.basename(doc.uri.fsPath)} to show what the disk holds`, () =>
    doc.isDirty || doc.getText() === disk ? true : undefined,
  );
  const before = doc.getText();
  await until(`the unsaved edit of ${path.basename(doc.uri.fsPath)} to land`, async () => {
    if (doc.isDirty && doc.getText() === text + before) return true;
    if (doc.getText() !== before)
      throw new Error(`${doc.uri.fsPath} changed under the test: ${doc.getText().slice(0, 80)}`);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), text));
    return doc.isDirty && doc.getText() === text + before ? true : undefined;
  });
}

/**
 * Saves a document and resolves once the extension has seen the save and finished the snapshots it queued.
 * `doc.save()` can resolve before the save event reaches the extension host's listeners (seen on a loaded
 * machine), so waiting for the event first is what makes the flush cover this save. Listeners run in the
 * order they were added, and the extension's was added at activation, so when ours runs, it has queued it.
 */
export async function saveAndFlush(a: ProjectBackupApi, doc: vscode.TextDocument): Promise<void> {
  let seen = false;
  const subscription = vscode.workspace.onDidSaveTextDocument((saved) => {
    if (saved.uri.toString() === doc.uri.toString()) seen = true;
  });
  try {
    let saved = await doc.save();
    // Seen once on a loaded machine: save() answered false for a dirty document right after an earlier save
    // of the same file had finished. VS Code refuses a save while one of the same file is in flight; ask
    // again, as a user pressing Ctrl+S twice would.
    if (!saved && doc.isDirty) saved = await doc.save();
    assert.equal(saved, true, `${doc.uri.fsPath} was not saved (dirty: ${doc.isDirty})`);
    await until(`the save event of ${doc.uri.fsPath}`, () => seen);
  } finally {
    subscription.dispose();
  }
  await a.flush();
}

export function write(folder: vscode.WorkspaceFolder, rel: string, content: string): string {
  const abs = path.join(folder.uri.fsPath, ...rel.split('/'));
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  return abs;
}

export function read(folder: vscode.WorkspaceFolder, rel: string): string | undefined {
  try {
    return fs.readFileSync(path.join(folder.uri.fsPath, ...rel.split('/')), 'utf8');
  } catch {
    return undefined;
  }
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The children of a node of one of the extension's tree views (the roots when `node` is absent). */
export async function children(provider: vscode.TreeDataProvider<Node>, node?: Node): Promise<Node[]> {
  return ((await provider.getChildren(node)) ?? []) as Node[];
}

/**
 * The snapshot rows under a day of the Snapshots view, newest first, with the work sessions opened (#14: a
 * day holds sessions and notable snapshots; a session expands to its snapshots).
 */
export async function snapshotRows(provider: vscode.TreeDataProvider<Node>, day: Node): Promise<Node[]> {
  const rows: Node[] = [];
  for (const node of await children(provider, day)) {
    if (node.kind === 'session') rows.push(...(await children(provider, node)));
    else rows.push(node);
  }
  const time = (n: Node) => (n.kind === 'snapshot' ? n.snapshot.time : '');
  return rows.sort((x, y) => (time(x) < time(y) ? 1 : time(x) > time(y) ? -1 : 0));
}

/** A workspace state of its own for a test (what asks once remembers here, not in the window's state). */
export class MemoryMemento implements vscode.Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.values.has(key) ? this.values.get(key) : fallback) as T | undefined;
  }
  async update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
  }
}
