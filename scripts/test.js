#!/usr/bin/env node
// `npm test`: every test, in order: unit tests in plain Node (after making sure the OpenSSH server the SFTP
// tests start is installed), then the integration suite inside real VS Code
// (single folder and multi-root), then the end-to-end UI tests in a real browser. Later stages still run
// when an earlier one fails, so one run shows everything; the exit code is non-zero if anything failed.
// The last line sums the stages' own closing lines: "total: N passed, N failed, N skipped".
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const stages = [
  { name: 'build', cmd: ['npm', 'run', 'build'], gate: true },
  { name: 'compile tests', cmd: ['npm', 'run', 'compile-tests'], gate: true },
  { name: 'test servers (sshd, S3)', cmd: ['node', 'scripts/ensureTestServers.js'], gate: true },
  { name: 'unit', cmd: ['npx', 'mocha'] },
  { name: 'real VS Code host', cmd: ['node', 'scripts/vscode/ensureHost.js'], gate: true },
  { name: 'integration', cmd: ['node', 'scripts/vscode/runIntegration.js'] },
  { name: 'integration (multi-root)', cmd: ['node', 'scripts/vscode/runIntegration.js', '--multi-root'] },
  { name: 'e2e', cmd: ['node', 'scripts/vscode/runE2E.js'] },
];

function run(stage) {
  return new Promise((resolve) => {
    const child = spawn(stage.cmd[0], stage.cmd.slice(1), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let counts;
    let buffer = '';
    child.stdout.on('data', (data) => {
      process.stdout.write(data);
      buffer += data.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        const m = /^(?:[\w-]+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$/.exec(line.trim());
        if (m) counts = { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) };
      }
    });
    child.on('close', (code) => resolve({ code: code ?? 1, counts }));
    child.on('error', (error) => {
      console.error(`${stage.name}: ${error.message}`);
      resolve({ code: 1, counts: undefined });
    });
  });
}

(async () => {
  const total = { passed: 0, failed: 0, skipped: 0 };
  const failedStages = [];
  for (const stage of stages) {
    console.log(`\n=== ${stage.name}: ${stage.cmd.join(' ')}`);
    const { code, counts } = await run(stage);
    if (counts) {
      total.passed += counts.passed;
      total.failed += counts.failed;
      total.skipped += counts.skipped;
    }
    if (code !== 0) {
      failedStages.push(stage.name);
      if (!counts) total.failed += 1; // a stage that died without counting still counts as a failure
      if (stage.gate) break;
    }
  }
  if (failedStages.length) console.log(`\nFailed: ${failedStages.join(', ')}`);
  console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(failedStages.length ? 1 : 0);
})();
