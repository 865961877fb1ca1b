// The API for other extensions (#15), driven as an agent extension would drive it: take a checkpoint with a
// label, edit files, take another, list them, diff the two, restore the first (undoable), and a checkpoint
// of given paths only. Checkpoints are snapshots with trigger "api" that the views show too.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, read, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('the API for other extensions, v1 (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
    });

    it('checkpoint, list, diff and an undoable restore, as an agent extension uses them (#15)', async () => {
      const v1 = a.v1;
      assert.equal(v1.version, 1);
      write(folder, 'agent/plan.md', 'step 1\n');
      const before = await v1.checkpoint({ label: 'before the agent edits' });
      assert.equal(before.trigger, 'api');
      assert.equal(before.label, 'before the agent edits');
      assert.ok(before.created);

      // The agent edits, adds and deletes files.
      write(folder, 'agent/plan.md', 'step 1\nstep 2\n');
      write(folder, 'agent/new-module.ts', 'export const x = 1;\n');
      const deleted = read(folder, 'README.md');
      fs.rmSync(path.join(folder.uri.fsPath, 'README.md'));
      const after = await v1.checkpoint({ label: 'after the agent edits' });

      const listed = await v1.list({ limit: 2 });
      assert.deepEqual(
        listed.map((c) => c.id),
        [after.id, before.id],
        'newest first',
      );
      const diff = await v1.diff(before.id, after.id);
      assert.deepEqual(diff.map((c) => `${c.kind} ${c.path}`).sort(), [
        'added agent/new-module.ts',
        'deleted README.md',
        'modified agent/plan.md',
      ]);

      // Restore the first checkpoint without a preview: exactly its files come back, and it can be undone.
      const asked = prompter.previews.length;
      const restored = await v1.restore(before.id);
      assert.ok(restored && restored.undoId, 'restored, with an undo snapshot');
      assert.equal(prompter.previews.length, asked, 'no preview was shown');
      assert.equal(read(folder, 'agent/plan.md'), 'step 1\n');
      assert.equal(read(folder, 'README.md'), deleted);
      assert.equal(read(folder, 'agent/new-module.ts'), undefined);
      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.equal(
        read(folder, 'agent/new-module.ts'),
        'export const x = 1;\n',
        "the undo brings the agent's state back",
      );

      // With showPreview the user sees the same preview as in the UI, and a "no" restores nothing.
      prompter.confirmRestoreAnswer = false;
      const shown = prompter.previews.length;
      try {
        assert.equal(await v1.restore(before.id, { showPreview: true }), undefined);
        assert.equal(prompter.previews.length, shown + 1, 'the preview was shown');
        assert.equal(read(folder, 'agent/new-module.ts'), 'export const x = 1;\n');
      } finally {
        prompter.confirmRestoreAnswer = true;
      }
    });

    it('a checkpoint of given paths is the fast incremental path, and names them (#15)', async () => {
      write(folder, 'agent/only-this.txt', `${Date.now()}\n`);
      const c = await a.v1.checkpoint({ label: 'one file', paths: ['agent/only-this.txt'] });
      const record = (await a.service.snapshots(folder, true)).find((s) => s.id === c.id);
      assert.deepEqual(record?.paths, ['agent/only-this.txt']);
    });
  });
}
