#!/usr/bin/env node
// `npm test`: every test. First the gates (bundle, compile and type-check the tests, lint, install the test
// servers and the real VS Code host when missing), then the unit tests in Node (files in parallel) while
// nothing else runs, then the integration suite inside real VS Code (single folder and multi-root), then the
// end-to-end UI tests in a real browser. Later stages still run when an earlier test stage fails, so one run
// shows everything; the exit code is non-zero if anything failed.
//
//   node scripts/test.js [--only <stage>,...] [--skip <stage>,...]
//
// Stages: build, compile, lint, servers, unit, host, integration, integration-multi-root, e2e (and soak, which runs
// only when asked: --only soak, or npm run test:soak). Each stage's time is printed, and a table of them at
// the end; the last line sums the stages' own closing lines: "total: N passed, N failed, N skipped".
//
// Temp folders: the unit tests write thousands of small stores and fsync each write; on a tmpfs that costs
// nothing, and what the tests prove (the order of writes, what a kill or a failed write leaves) does not
// depend on the disk. So the test stages get a private TMPDIR under /dev/shm when it is a writable tmpfs
// (PB_TEST_TMPDIR overrides; set it to a disk folder to run them on a disk), removed at the end.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

const STAGES = [
  { name: 'build', cmd: ['node', 'esbuild.js'], gate: true },
  // tsc type-checks src, test and bench while it compiles the tests: the build needs no second pass.
  {
    name: 'compile',
    cmd: ['npx', 'tsc', '-p', '.', '--outDir', 'out'],
    gate: true,
    before: () => fs.rmSync(path.join(root, 'out'), { recursive: true, force: true }),
  },
  // The layering rules (core never imports vscode or the fronts; the fronts not each other) and the rest of
  // eslint.config.mjs: a failure makes the run red, the tests still run.
  { name: 'lint', cmd: ['npm', 'run', '--silent', 'lint'] },
  { name: 'servers', cmd: ['node', 'scripts/ensureTestServers.js'], gate: true },
  // Test files run in parallel, one more worker than cores: many tests wait on child processes and servers.
  { name: 'unit', cmd: ['npx', 'mocha', '--parallel', '--jobs', String(os.cpus().length + 1)] },
  // The soak run: only the test files whose loops grow under PB_SOAK (they import SOAK from the fixtures).
  {
    name: 'soak',
    cmd: () => [
      'npx',
      'mocha',
      '--no-config',
      '--reporter',
      './test/reporter.js',
      '--reporter-option',
      'label=soak',
      '--timeout',
      '600000',
      '--parallel',
      '--jobs',
      String(os.cpus().length + 1),
      ...soakFiles(),
    ],
    env: { PB_SOAK: '1' },
    optional: true,
  },
  { name: 'host', cmd: ['node', 'scripts/vscode/ensureHost.js'], gate: true },
  { name: 'integration', cmd: ['node', 'scripts/vscode/runIntegration.js'] },
  { name: 'integration-multi-root', cmd: ['node', 'scripts/vscode/runIntegration.js', '--multi-root'] },
  { name: 'e2e', cmd: ['node', 'scripts/vscode/runE2E.js'] },
];

/** Compiled unit test files that use SOAK. */
function soakFiles() {
  const dir = path.join(root, 'out', 'test', 'unit');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js') && /\bSOAK\b/.test(fs.readFileSync(path.join(dir, f), 'utf8')))
    .map((f) => path.join('out', 'test', 'unit', f));
}

function parseArgs(argv) {
  const list = (value) =>
    new Set(
      String(value || '')
        .split(',')
        .filter(Boolean),
    );
  const options = { only: undefined, skip: new Set() };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') options.only = list(argv[++i]);
    else if (argv[i] === '--skip') options.skip = list(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (--only <stages>, --skip <stages>)`);
  }
  const known = new Set(STAGES.map((s) => s.name));
  for (const name of [...(options.only || []), ...options.skip])
    if (!known.has(name)) throw new Error(`no stage named ${name} (${[...known].join(', ')})`);
  return options;
}

/** A private folder on a tmpfs for the tests' temp files, or undefined to use the OS temp dir. */
function testTmpdir() {
  const base = process.env.PB_TEST_TMPDIR || '/dev/shm';
  try {
    fs.accessSync(base, fs.constants.W_OK);
    // Short: Chromium's singleton socket lives a few folders below the VS Code runs' folders, and a UNIX
    // socket's path may not exceed 107 bytes.
    const dir = fs.mkdtempSync(path.join(base, 'pbt-'));
    // A TMPDIR as /tmp is: users made by the tests (the SFTP server's login user) reach their folders in it.
    fs.chmodSync(dir, 0o1777);
    return dir;
  } catch {
    return undefined;
  }
}

function run(stage, env) {
  return new Promise((resolve) => {
    const cmd = typeof stage.cmd === 'function' ? stage.cmd() : stage.cmd;
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...env, ...stage.env },
    });
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

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

(async () => {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`test: ${error.message}`);
    process.exit(2);
  }
  const chosen = STAGES.filter(
    (s) => (options.only ? options.only.has(s.name) : !s.optional) && !options.skip.has(s.name),
  );
  const tmp = testTmpdir();
  const env = { ...process.env, ...(tmp ? { TMPDIR: tmp, PB_VSCODE_RUNS: tmp } : {}) };
  // The tests run system tools from sbin (useradd, mount, sshd); a minimal environment (env -i, cron) leaves it out.
  const parts = (env.PATH || '').split(path.delimiter);
  for (const dir of ['/usr/local/sbin', '/usr/sbin', '/sbin'])
    if (process.platform !== 'win32' && !parts.includes(dir)) parts.push(dir);
  env.PATH = parts.filter(Boolean).join(path.delimiter);
  const started = Date.now();
  const total = { passed: 0, failed: 0, skipped: 0 };
  const failedStages = [];
  const times = [];
  console.log(`Test temp folders: ${tmp ? `${tmp} (tmpfs)` : os.tmpdir()}`);
  try {
    for (const stage of chosen) {
      console.log(
        `\n=== ${stage.name}: ${typeof stage.cmd === 'function' ? `${stage.name} (see scripts/test.js)` : stage.cmd.join(' ')}`,
      );
      const stageStarted = Date.now();
      if (stage.before) stage.before();
      const { code, counts } = await run(stage, env);
      const ms = Date.now() - stageStarted;
      times.push([stage.name, ms, code === 0 ? 'ok' : 'FAILED']);
      console.log(`=== ${stage.name}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} in ${seconds(ms)}`);
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
  } finally {
    // A failed stage's run folders (server and page logs) are worth keeping; a green run leaves nothing.
    if (tmp && failedStages.length === 0) fs.rmSync(tmp, { recursive: true, force: true });
    else if (tmp) console.log(`Test temp folders kept for the failure: ${tmp}`);
  }
  console.log('\nStage times:');
  for (const [name, ms, state] of times) console.log(`  ${name.padEnd(24)} ${seconds(ms).padStart(9)}  ${state}`);
  console.log(`  ${'all'.padEnd(24)} ${seconds(Date.now() - started).padStart(9)}`);
  if (failedStages.length) console.log(`\nFailed: ${failedStages.join(', ')}`);
  console.log(`total: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(failedStages.length ? 1 : 0);
})();
