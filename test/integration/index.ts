// Entry point of the integration suite inside the real VS Code extension host. Same contract as
// @vscode/test-electron's `extensionTestsPath`: export run(), resolve when every test passed, reject
// otherwise. Launchers: scripts/vscode/runIntegration.js (code-server + chromium, where desktop VS Code cannot be downloaded) and
// scripts/vscode/runDesktop.js (desktop VS Code, where it can be downloaded).
//
// Inside the extension host console.* cannot be reassigned and reaches the launcher unformatted, one
// argument at a time, so every reporter line is formatted here with util.format and prefixed with
// OUTPUT_TAG; the launcher prints the tagged lines (without the tag) and ignores the workbench's own log.
// The last line is `integration: N passed, N failed, N skipped`, like the unit suite's reporter.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import Mocha from 'mocha';

/** Prefix of every line the suite prints; scripts/vscode/runIntegration.js looks for it. */
export const OUTPUT_TAG = '[pb-integration] ';

/** Prints a line into the suite's output (tests use it for figures worth recording). */
export function emit(...args: unknown[]): void {
  // PB_TEST_PLAIN=1: the desktop runner, whose output goes straight to the terminal.
  const tag = process.env.PB_TEST_PLAIN === '1' ? '' : OUTPUT_TAG;
  for (const line of util.format(...args).split('\n')) console.log(`${tag}${line}`);
}

function findTestFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.js') && !name.split(path.sep).includes('fixtures'))
    .map((name) => path.join(dir, name))
    .sort();
}

export function run(): Promise<void> {
  const label = process.env.PB_TEST_LABEL || 'integration';
  Mocha.reporters.Base.consoleLog = emit;
  // Generous: on a loaded machine the extension host answers slowly, and a passing test ends far sooner.
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec' });
  if (process.env.PB_TEST_GREP) mocha.grep(process.env.PB_TEST_GREP);
  for (const file of findTestFiles(__dirname)) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const s = runner.stats ?? { passes: 0, failures, pending: 0 };
        emit(`${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
        if (failures > 0) reject(new Error(`${failures} integration test${failures === 1 ? '' : 's'} failed`));
        else resolve();
      });
    } catch (error) {
      // A test file that throws while loading.
      emit('The integration suite could not load: %s', error instanceof Error ? error.stack : error);
      emit(`${label}: 0 passed, 1 failed, 0 skipped`);
      reject(error);
    }
  });
}
