// Activation: wire the pieces and hand every disposable to VS Code. Heavy modules load on first use, so
// activation itself does no scan and no I/O.

import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('backup.snapshotWorkspace', async () => {
      const { snapshotWorkspace } = await import('./vscode/commands/snapshotWorkspace');
      await snapshotWorkspace();
    }),
  );
}

export function deactivate(): void {
  // Nothing to flush: every snapshot is durable when its command resolves.
}
