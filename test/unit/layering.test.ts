// The layering rules of eslint.config.mjs (#13) do what docs/architecture.md says: core never imports
// `vscode` or a front, the editor layer never imports the CLI, the CLI never imports the editor. Checked by
// linting small texts as if they were files in each layer, and the repository itself is clean.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/fixtures';

type Linter = { lintText(code: string, options: { filePath: string }): Promise<Array<{ messages: Array<{ ruleId: string | null; message: string }> }>> };

async function eslint(): Promise<Linter> {
  // eslint is ESM-first; load it the way Node loads it for the CLI.
  const { ESLint } = (await import('eslint')) as unknown as { ESLint: new (options: { cwd: string }) => Linter };
  return new ESLint({ cwd: REPO_ROOT });
}

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await (await eslint()).lintText(code, { filePath: path.join(REPO_ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering rules (#13)', function () {
  this.timeout(120_000);

  it('core importing vscode, the CLI or the editor layer is an error', async () => {
    assert.match((await restricted('src/core/query/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).join(), /core is pure Node/);
    assert.match((await restricted('src/core/query/x.ts', "import { run } from '../../cli/context';\nexport const a = run;\n")).join(), /core never imports the CLI/);
    assert.match((await restricted('src/core/query/x.ts', "import { BackupService } from '../../vscode/backupService';\nexport const a = BackupService;\n")).join(), /core never imports the editor layer/);
  });

  it('the editor layer importing the CLI, or the CLI importing the editor layer, is an error', async () => {
    assert.match((await restricted('src/vscode/commands/x.ts', "import { run } from '../../cli/context';\nexport const a = run;\n")).join(), /editor layer never imports the CLI/);
    assert.match((await restricted('src/cli/x.ts', "import { BackupService } from '../vscode/backupService';\nexport const a = BackupService;\n")).join(), /CLI never imports the editor layer/);
  });

  it('imports along the layers are fine', async () => {
    assert.deepEqual(await restricted('src/vscode/commands/x.ts', "import { plural } from '../../core/format';\nexport const a = plural;\n"), []);
    assert.deepEqual(await restricted('src/cli/x.ts', "import { plural } from '../core/format';\nexport const a = plural;\n"), []);
  });
});
