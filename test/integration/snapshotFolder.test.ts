// Open Snapshot as Folder (#15) in the real editor: a snapshot becomes a read-only workspace folder whose
// files are the snapshot's, byte for byte; Quick Open's file search (findFiles) finds them; the backup
// service never backs it up; removing it from the workspace deletes it. Run in the multi-root window, which
// is already a workspace of several folders.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { readWholeFile, listTree } from '../../src/core/query/browse';
import { ScriptedPrompter, api, until } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'multi-root') {
  describe('a snapshot opened as a folder (multi-root)', function () {
    let a: ProjectBackupApi;

    before(async () => {
      a = await api();
      a.setPrompter(new ScriptedPrompter());
    });

    it('opens a snapshot as a read-only folder that search finds, is never backed up, and is deleted when removed (#15)', async () => {
      const folder = workspaceFolders()[0];
      const { snapshot } = await a.service.snapshotFolder(folder, { trigger: 'manual', label: 'to open as a folder' });
      const repo = await a.service.repository(folder);
      const before = a.service.folders().length;

      const dir = await a.snapshotFolders.open(repo, snapshot, folder.name);
      const added = workspaceFolders().find((f) => path.resolve(f.uri.fsPath) === dir);
      assert.ok(added, 'it is a workspace folder');
      assert.match(added.name, /@ .* \(read-only\)$/);
      assert.equal(a.service.folders().length, before, 'the backup service leaves it out');

      // Every file of the snapshot, byte for byte, and read-only.
      const files = (await listTree(repo, snapshot, '', true)).filter(
        (e) => e.entry.type === 'file' && !e.path.startsWith('.git/'),
      );
      assert.ok(files.length >= 3);
      for (const f of files) {
        const abs = path.join(dir, ...f.path.split('/'));
        assert.deepEqual(fs.readFileSync(abs), await readWholeFile(repo, snapshot, f.path), f.path);
        assert.equal(fs.statSync(abs).mode & 0o222, 0, `${f.path} is writable`);
      }
      // Quick Open's file search reaches it (a custom-scheme folder would not be searched at all).
      const found = await until('findFiles to list the opened snapshot', async () => {
        const uris = await vscode.workspace.findFiles(new vscode.RelativePattern(added, '**/*'));
        return uris.length >= files.length ? uris : undefined;
      });
      assert.ok(found.every((u) => u.fsPath.startsWith(dir)));

      assert.equal(a.snapshotFolders.close(dir), true);
      await until(
        'the folder to leave the workspace and the disk',
        () => !workspaceFolders().some((f) => path.resolve(f.uri.fsPath) === dir) && !fs.existsSync(dir),
      );
    });
  });
}
