// History follows the project, not the path (#12): a project backed up at one path, then moved, opens
// without backups at its new path; the editor offers once to continue its history, and after the user
// accepts, the old snapshots are this folder's (views, File History) and the next snapshot continues them.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { Repository } from '../../src/core/repository/repository';
import { Snapshotter } from '../../src/core/snapshot/snapshotter';
import { offerContinuedHistory } from '../../src/vscode/lineageOffer';
import { MemoryMemento, ScriptedPrompter, api } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('a moved project keeps its history (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
    });

    it('a moved project is offered its history once; accepted, the old snapshots are its own and the next snapshot continues them (#12)', async () => {
      const store = a.service.localStorePath(workspaceFolders()[0]);
      const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-moved-'));
      const before = path.join(root, 'thesis');
      fs.mkdirSync(path.join(before, 'chapters'), { recursive: true });
      for (let i = 1; i <= 6; i++)
        fs.writeFileSync(
          path.join(before, 'chapters', `chapter-${i}.md`),
          `# Chapter ${i}\n${'text '.repeat(40 * i)}\n`,
        );
      const repo = await Repository.open(store, { create: true });
      let oldIds: string[];
      try {
        const snapshotter = new Snapshotter(repo, { workspace: before, git: false });
        const first = await snapshotter.snapshot({ trigger: 'cli' });
        fs.appendFileSync(path.join(before, 'chapters', 'chapter-1.md'), 'more\n');
        const second = await snapshotter.snapshot({ trigger: 'cli' });
        oldIds = [first.snapshot.id, second.snapshot.id];
      } finally {
        await repo.close();
      }
      // The project moves (a renamed folder, a new disk layout): its old path is gone.
      const after = path.join(root, 'thesis-final');
      fs.renameSync(before, after);
      const folder: vscode.WorkspaceFolder = { uri: vscode.Uri.file(after), name: 'thesis-final', index: 97 };
      assert.deepEqual(await a.service.snapshots(folder, true), [], 'no history of its own yet');

      const state = new MemoryMemento();
      const asked = prompter.asked.length;
      assert.equal(await offerContinuedHistory(a.service, prompter, a.log, state, folder), 'continued');
      const question = prompter.asked.slice(asked).join(' | ');
      assert.match(question, /^Continue the backup history of thesis here\? .*no longer exists/);
      assert.match(question, /It has 2 snapshots/);

      const history = await a.service.snapshots(folder, true);
      assert.deepEqual(
        history.map((s) => s.id),
        oldIds,
        'the old snapshots are its history',
      );
      fs.appendFileSync(path.join(after, 'chapters', 'chapter-2.md'), 'written after the move\n');
      const next = await a.service.snapshotFolder(folder, { trigger: 'manual' });
      assert.equal(next.snapshot.parent, oldIds[1], 'the next snapshot continues the same line');
      assert.equal((await a.service.snapshots(folder, true)).length, 3);

      // Once: the question is not asked again.
      assert.equal(await offerContinuedHistory(a.service, prompter, a.log, state, folder), 'asked-before');
    });
  });
}
