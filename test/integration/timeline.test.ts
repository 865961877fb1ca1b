// The Snapshots view as a timeline in the real editor (#14): saves of a work session are one row that says
// how many snapshots and files, labelled snapshots stand on their own, rows without a change are hidden,
// the filter shows only the snapshots that changed a path, and Go to Time restores a folder as it was at a
// typed moment, undoably, and restores everything from the plan its menu was drawn from.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import type { Node } from '../../src/vscode/views/nodes';
import { ScriptedPrompter, api, children, read, snapshotRows, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

if (workspaceMode() === 'single-folder') {
  describe('the timeline (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;

    const item = (node: Node) => a.snapshotsView.getTreeItem(node) as vscode.TreeItem;
    const text = (node: Node) => {
      const it = item(node);
      return `${typeof it.label === 'string' ? it.label : (it.label?.label ?? '')} | ${String(it.description ?? '')}`;
    };
    const today = async () => {
      const [day] = await children(a.snapshotsView);
      assert.equal(day.kind, 'day', text(day));
      return day;
    };
    const snap = async (rel: string, content: string, label?: string) => {
      write(folder, rel, content);
      return (await a.service.snapshotFolder(folder, { trigger: 'save', paths: [rel], ...(label ? { label } : {}) }))
        .snapshot;
    };

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
      await a.flush();
    });

    after(async () => {
      await a.snapshotsView.setFilter(undefined);
    });

    it('a work session is one row ("N snapshots · N files"), labelled snapshots stand on their own, empty rows are hidden', async () => {
      const labelled = await snap('timeline/start.md', 'start\n', 'timeline start');
      const saves = [];
      for (let i = 0; i < 4; i++) saves.push(await snap(`timeline/note-${i % 2}.md`, `version ${i}\n`));
      // A snapshot that changes no file (only an empty folder): no "0 changes" row.
      fs.mkdirSync(path.join(folder.uri.fsPath, 'timeline', 'empty-folder'), { recursive: true });
      const empty = (await a.service.snapshotFolder(folder, { trigger: 'external', paths: ['timeline/empty-folder'] }))
        .snapshot;
      assert.equal(empty.stats.filesNew + empty.stats.filesChanged + empty.stats.filesDeleted, 0);

      const rows = await children(a.snapshotsView, await today());
      const [top] = rows;
      assert.equal(top.kind, 'session', `the newest row is the session: ${rows.map(text).join(' / ')}`);
      assert.ok(top.kind === 'session');
      assert.deepEqual(
        top.session.snapshots.map((s) => s.id),
        saves.map((s) => s.id),
        'the session holds the four saves, oldest first, and not the empty one',
      );
      assert.match(text(top), /^\d\d:\d\d(–\d\d:\d\d)? \| 4 snapshots · 2 files$/);
      assert.match(
        String(item(top).tooltip),
        /^Work session .*: 4 snapshots \(4 on save\); 2 files changed from its start to its end\.$/,
      );
      const inside = await children(a.snapshotsView, top);
      assert.deepEqual(
        inside.map((n) => (n.kind === 'snapshot' ? n.snapshot.id : n.kind)),
        [...saves].reverse().map((s) => s.id),
        'newest first',
      );
      assert.ok(
        rows.some((n) => n.kind === 'snapshot' && n.snapshot.id === labelled.id && /timeline start/.test(text(n))),
        'the labelled snapshot is a row of its own',
      );
      assert.ok(
        !(await snapshotRows(a.snapshotsView, await today())).some(
          (n) => n.kind === 'snapshot' && n.snapshot.id === empty.id,
        ),
        'the empty snapshot is hidden',
      );
    });

    it('the filter shows only the snapshots that changed a path, says so, and clears', async () => {
      const file = vscode.Uri.joinPath(folder.uri, 'timeline', 'note-1.md');
      await vscode.commands.executeCommand('backup.filterSnapshots', file);
      assert.deepEqual(a.snapshotsView.currentFilter(), { path: 'timeline/note-1.md' });
      const rows = await snapshotRows(a.snapshotsView, await today());
      const expected = (await a.service.snapshots(folder, true))
        .filter((s) => s.paths?.includes('timeline/note-1.md'))
        .map((s) => s.id)
        .reverse();
      assert.deepEqual(
        rows.map((n) => (n.kind === 'snapshot' ? n.snapshot.id : n.kind)),
        expected,
      );
      assert.equal(expected.length, 2);

      await a.snapshotsView.setFilter({ path: 'no/such/file.txt' });
      const none = await children(a.snapshotsView);
      assert.deepEqual(
        none.map((n) => (n.kind === 'message' ? n.text : n.kind)),
        ['No snapshot that changed no/such/file.txt.'],
      );

      prompter.picker = (items) => items.find((i) => /Show all snapshots/.test(i.label));
      await vscode.commands.executeCommand('backup.filterSnapshots');
      prompter.picker = undefined;
      assert.equal(a.snapshotsView.currentFilter(), undefined);
      assert.equal((await children(a.snapshotsView))[0].kind, 'day');
    });

    it('Go to Time restores a folder as it was at a typed moment; Undo Last Restore brings the newer state back', async () => {
      const then = await snap('timeline/lib/a.js', 'a as it was\n');
      write(folder, 'timeline/lib/b.js', 'b as it was\n');
      const moment = (await a.service.snapshotFolder(folder, { trigger: 'save', paths: ['timeline/lib/b.js'] }))
        .snapshot;
      assert.ok(then.time < moment.time);
      // Later: a.js rewritten, b.js deleted, c.js added; and a file outside the folder changes too.
      await snap('timeline/lib/a.js', 'a rewritten\n');
      fs.rmSync(path.join(folder.uri.fsPath, 'timeline', 'lib', 'b.js'));
      await snap('timeline/lib/c.js', 'c is new\n');
      await a.service.snapshotFolder(folder, { trigger: 'save', paths: ['timeline/lib/b.js'] });
      await snap('timeline/start.md', 'changed outside the folder\n');

      prompter.typed = [new Date(Date.parse(moment.time)).toISOString()];
      const asked = prompter.asked.length;
      prompter.picker = (items) =>
        items.find((i) => /Restore a folder as it was/.test(i.label)) ??
        items.find((i) => i.label === '$(folder) timeline/lib');
      try {
        await vscode.commands.executeCommand('backup.goToTime');
      } finally {
        prompter.picker = undefined;
      }
      assert.match(prompter.asked.slice(asked).join(' / '), /Type a time/);
      assert.equal(read(folder, 'timeline/lib/a.js'), 'a as it was\n');
      assert.equal(read(folder, 'timeline/lib/b.js'), 'b as it was\n');
      assert.equal(read(folder, 'timeline/lib/c.js'), undefined, 'the folder is exactly as it was: c.js did not exist');
      assert.equal(read(folder, 'timeline/start.md'), 'changed outside the folder\n', 'only the folder was restored');
      const preview = prompter.previews[prompter.previews.length - 1];
      assert.deepEqual(
        preview
          .filter((c) => c.type !== 'dir')
          .map((c) => `${c.action} ${c.path}`)
          .sort(),
        ['create timeline/lib/b.js', 'delete timeline/lib/c.js', 'overwrite timeline/lib/a.js'],
      );
      // The undo point (a new snapshot, or the newest one when it already held this state) is labelled: the
      // moment before the restore is one click away.
      const undoPoint = (await a.service.snapshots(folder, true)).filter(
        (s) => s.autoLabel && /^before restoring timeline\/lib\/ from /.test(s.label ?? ''),
      );
      assert.equal(undoPoint.length, 1, 'one undo point, labelled automatically');

      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.equal(read(folder, 'timeline/lib/a.js'), 'a rewritten\n');
      assert.equal(read(folder, 'timeline/lib/b.js'), undefined);
      assert.equal(read(folder, 'timeline/lib/c.js'), 'c is new\n');
      await a.flush();
    });

    it('Go to Time: Restore everything applies the plan its menu counted, asking first; Undo brings the newer state back (#13)', async () => {
      write(folder, 'timeline/all.js', 'all as it was\n');
      await a.flush();
      const moment = (await a.service.snapshotFolder(folder, { trigger: 'manual' })).snapshot;
      await snap('timeline/all.js', 'all rewritten\n');
      prompter.typed = [new Date(Date.parse(moment.time)).toISOString()];
      let counted: string | undefined;
      prompter.picker = (items) => {
        const all = items.find((i) => /Restore everything as it was/.test(i.label));
        counted ??= all?.description;
        return all;
      };
      const previews = prompter.previews.length;
      try {
        await vscode.commands.executeCommand('backup.goToTime');
      } finally {
        prompter.picker = undefined;
      }
      assert.equal(counted, '1 file change; undoable');
      assert.equal(prompter.previews.length, previews + 1, 'it asked once before restoring');
      assert.deepEqual(
        prompter.previews[previews].filter((c) => c.type !== 'dir').map((c) => `${c.action} ${c.path}`),
        ['overwrite timeline/all.js'],
      );
      assert.equal(read(folder, 'timeline/all.js'), 'all as it was\n');
      await vscode.commands.executeCommand('backup.undoLastRestore');
      assert.equal(read(folder, 'timeline/all.js'), 'all rewritten\n');
      await a.flush();
    });
  });
}
