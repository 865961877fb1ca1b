// The launcher's setup as the suite sees it: the fixture workspace and the per-run store setting. When one
// of these fails, the harness is broken, not the extension.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { configuredStorePath, workspaceFolders, workspaceMode } from './helpers/environment';

describe('test environment', () => {
  it('opens a temp copy of the fixture workspace', () => {
    const folders = workspaceFolders();
    if (workspaceMode() === 'multi-root') {
      assert.deepEqual(
        folders.map((f) => f.name),
        ['workspace', 'library'],
      );
      assert.ok(vscode.workspace.workspaceFile?.fsPath.endsWith('.code-workspace'));
    } else {
      assert.equal(folders.length, 1);
    }
    const main = folders[0].uri.fsPath;
    assert.ok(fs.existsSync(path.join(main, 'README.md')), `${main} has no README.md`);
    assert.ok(fs.existsSync(path.join(main, 'src', 'lib', 'math.js')));
    assert.ok(
      !main.startsWith(path.resolve(__dirname, '..', '..', '..')),
      'the workspace must be a copy, not the repo fixture',
    );
  });

  it('points projectBackup.storePath at a per-run folder outside the home folder', () => {
    const store = configuredStorePath();
    assert.ok(path.isAbsolute(store), store);
    assert.ok(!store.startsWith(os.homedir() + path.sep), `${store} is inside ${os.homedir()}`);
  });
});
