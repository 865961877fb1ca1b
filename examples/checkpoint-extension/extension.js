// A small extension that uses Project Backup's API (v1) the way an agent extension would: a checkpoint
// before it changes files, and a roll back (undoable, with the same preview as Project Backup's own UI).
'use strict';

const vscode = require('vscode');

/** Project Backup's API, version 1 (see its README, "API for other extensions"). */
async function backupApi() {
  const extension = vscode.extensions.getExtension('project-backup.project-backup');
  if (!extension) throw new Error('Project Backup is not installed.');
  const exported = await extension.activate();
  if (!exported || !exported.v1 || exported.v1.version !== 1) throw new Error('This Project Backup has no API v1.');
  return exported.v1;
}

let last;

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('checkpointExample.checkpoint', async () => {
      const api = await backupApi();
      last = await api.checkpoint({ label: 'before the example changes files' });
      vscode.window.showInformationMessage(
        `Checkpoint ${last.id.slice(0, 8)} (${last.files} files)${last.created ? '' : ': nothing had changed'}.`,
      );
      return last;
    }),
    vscode.commands.registerCommand('checkpointExample.rollBack', async () => {
      const api = await backupApi();
      const target = last ?? (await api.list({ limit: 1 }))[0];
      if (!target) return vscode.window.showInformationMessage('No checkpoint yet.');
      const changes = (await api.list({ limit: 1 }))[0];
      const diff = changes && changes.id !== target.id ? await api.diff(target.id, changes.id) : [];
      const result = await api.restore(target.id, { showPreview: true });
      if (result)
        vscode.window.showInformationMessage(
          `Rolled back ${result.restored + result.deleted} changes (${diff.length} files differed in the latest snapshot); Backup: Undo Last Restore puts them back.`,
        );
      return result;
    }),
  );
}

module.exports = { activate, deactivate() {} };
