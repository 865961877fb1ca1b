// Archive export from the real editor: a full archive readable with plain tar, then a differential one
// holding only what changed since the full one, with a list of deletions; then an incremental one holding
// only what changed since the differential; the store records the chain.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ProjectBackupApi } from '../../src/extension';
import { ScriptedPrompter, api, read, write } from './helpers/api';
import { workspaceFolders, workspaceMode } from './helpers/environment';

function extract(archive: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-extract-'));
  execFileSync('tar', ['-xzf', archive, '-C', out]);
  return out;
}

if (workspaceMode() === 'single-folder') {
  describe('archive export (single folder)', function () {
    let a: ProjectBackupApi;
    let prompter: ScriptedPrompter;
    let folder: vscode.WorkspaceFolder;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-archives-'));

    before(async () => {
      a = await api();
      prompter = new ScriptedPrompter();
      a.setPrompter(prompter);
      folder = workspaceFolders()[0];
    });

    it('Export Full Archive writes a .tar.gz that plain tar extracts to the workspace as it is', async () => {
      prompter.saveTo = vscode.Uri.file(path.join(dir, 'full.tar.gz'));
      await vscode.commands.executeCommand('backup.exportFullArchive');
      assert.ok(fs.existsSync(prompter.saveTo.fsPath), 'no archive was written');
      const out = extract(prompter.saveTo.fsPath);
      for (const rel of ['README.md', 'src/index.js', 'src/lib/math.js']) {
        assert.equal(fs.readFileSync(path.join(out, ...rel.split('/')), 'utf8'), read(folder, rel), rel);
      }
    });

    it('Export Differential Archive holds only what changed since the full one, and lists deletions', async () => {
      write(folder, 'src/lib/math.js', '// changed after the full archive\n');
      fs.rmSync(path.join(folder.uri.fsPath, 'styles', 'main.css'));
      prompter.saveTo = vscode.Uri.file(path.join(dir, 'diff.tar.gz'));
      await vscode.commands.executeCommand('backup.exportDifferentialArchive');
      const out = extract(prompter.saveTo.fsPath);
      assert.equal(
        fs.readFileSync(path.join(out, 'src', 'lib', 'math.js'), 'utf8'),
        '// changed after the full archive\n',
      );
      assert.equal(
        fs.existsSync(path.join(out, 'README.md')),
        false,
        'an unchanged file is in the differential archive',
      );
      const deleted = fs.readFileSync(path.join(out, '.project-backup', 'deleted.txt'), 'utf8');
      assert.match(deleted, /^styles\/main\.css$/m);
    });

    it('Export Incremental Archive holds only what changed since the last archive of any kind (the differential)', async () => {
      write(folder, 'src/index.js', '// changed after the differential archive\n');
      prompter.saveTo = vscode.Uri.file(path.join(dir, 'incr.tar.gz'));
      await vscode.commands.executeCommand('backup.exportIncrementalArchive');
      const out = extract(prompter.saveTo.fsPath);
      assert.equal(
        fs.readFileSync(path.join(out, 'src', 'index.js'), 'utf8'),
        '// changed after the differential archive\n',
      );
      // math.js changed before the differential archive: a differential would hold it again, this does not.
      assert.equal(
        fs.existsSync(path.join(out, 'src', 'lib', 'math.js')),
        false,
        'a file already in the differential archive is in the incremental one',
      );
      assert.equal(
        fs.existsSync(path.join(out, 'README.md')),
        false,
        'an unchanged file is in the incremental archive',
      );
    });
  });
}
