// Snapshot Workspace asks for its optional label at once, even while the extension host is busy with a full
// scan (a start-up or scheduled snapshot of a large workspace). In a fresh window on a 705-file repository
// the box took more than 3 s to appear, and the e2e tests that waited for it failed on a loaded machine.
// Measured here from the command to the box, with a no-change full snapshot of 3,000 files running in the
// same extension host.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Repository } from '../../src/core/repository/repository';
import { Snapshotter } from '../../src/core/snapshot/snapshotter';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api } from './helpers/api';
import { workspaceMode } from './helpers/environment';
import { emit } from './index';

class TimedPrompter extends ScriptedPrompter {
  askedAt: number | undefined;
  /** When the event loop next turned after the box was asked: when its message to the window could go out. */
  sentAt: Promise<number> | undefined;
  override async askText(prompt: string): Promise<string | undefined> {
    this.askedAt = performance.now();
    this.sentAt = new Promise((resolve) => setImmediate(() => resolve(performance.now())));
    await super.askText(prompt);
    return undefined; // Esc: this test is about the box, not the snapshot
  }
}

if (workspaceMode() === 'single-folder') {
  describe('Snapshot Workspace: the label box', () => {
    let a: ProjectBackupApi;
    let scratch: string;

    before(async () => {
      a = await api();
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-prompt-'));
    });
    after(() => {
      a.setPrompter(new ScriptedPrompter());
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    it('appears at once while a full snapshot of 3,000 files runs in the extension host', async () => {
      const ws = path.join(scratch, 'ws');
      for (let d = 0; d < 300; d++) {
        fs.mkdirSync(path.join(ws, `d${d}`), { recursive: true });
        for (let f = 0; f < 10; f++) fs.writeFileSync(path.join(ws, `d${d}`, `f${f}.txt`), `${d}/${f}\n`);
      }
      const repo = await Repository.open(path.join(scratch, 'store'), { create: true });
      await new Snapshotter(repo, { workspace: ws, git: false }).snapshot();

      const prompter = new TimedPrompter();
      a.setPrompter(prompter);
      let backgroundDoneAt: number | undefined;
      const started = performance.now();
      const background = new Snapshotter(repo, { workspace: ws, git: false }).snapshot().then((r) => {
        backgroundDoneAt = performance.now();
        return r;
      });
      await vscode.commands.executeCommand('backup.snapshotWorkspace');
      const sentAt = await prompter.sentAt;
      const result = await background;

      assert.deepEqual(prompter.asked, ['Label for this snapshot (optional)']);
      assert.ok(prompter.askedAt !== undefined && sentAt !== undefined);
      assert.equal(result.created, false, 'the background snapshot found nothing changed');
      // The command does not wait for the scan: the box is asked, and can reach the window, while it runs.
      assert.ok(
        backgroundDoneAt === undefined || sentAt <= backgroundDoneAt,
        'the label box waited for the background scan to end',
      );
      emit(
        `      command -> label box: asked after ${(prompter.askedAt - started).toFixed(1)} ms, sendable after ${(sentAt - started).toFixed(1)} ms; ` +
          `the background no-change snapshot of 3,000 files took ${((backgroundDoneAt ?? performance.now()) - started).toFixed(1)} ms`,
      );
    });
  });
}
