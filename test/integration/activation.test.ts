// The extension inside the real extension host: present, activates, contributes its commands.

import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID } from './helpers/environment';

describe('extension activation', () => {
  it('is present in the extension host', () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    assert.equal(extension.packageJSON.name, 'project-backup');
  });

  it('activates without errors', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it('registers backup.snapshotWorkspace', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('backup.snapshotWorkspace'), 'backup.snapshotWorkspace is not registered');
  });
});
