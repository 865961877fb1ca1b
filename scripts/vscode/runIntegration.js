#!/usr/bin/env node
// Runs the compiled integration suite (out/test/integration/index.js) inside the real VS Code extension
// host: code-server serves VS Code 1.99.3, Debian's chromium opens it through playwright-core with the
// repository as the extension under development and the suite as its tests, on a fresh temp copy of
// test/integration/fixtures/workspace.
//
//   node esbuild.js && npx tsc -p . --outDir out     (build first: dist/extension.js and out/test/**)
//   node scripts/vscode/runIntegration.js [--multi-root] [--grep <text>] [--timeout <s>] [--keep] [--verbose]
//
//   --multi-root  open a .code-workspace with two folders (fixtures/workspace + fixtures/library)
//   --grep        run only the tests whose full title contains <text> (mocha grep)
//   --timeout     give up after <s> seconds (default 900: generous for a loaded machine; a passing run ends far sooner)
//   --keep        keep the run folder (server, browser profile, workspace, store, logs); kept anyway on failure
//   --verbose     also print the workbench's own log lines
//
// Prints the suite's output, then the closing line `integration: N passed, N failed, N skipped`, and
// exits with the suite's code (0 when every test passed).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { usageOf, ensureHost, codeServerVersions, HostError, REPO_ROOT } = require('./ensureHost');
const { makeRunDir, startCodeServer, remoteUri } = require('./codeServer');
const { launchBrowser } = require('./browser');
const { prepareWorkspace } = require('./workspace');

const TAG = '[pb-integration]'; // test/integration/index.ts OUTPUT_TAG, without its trailing space (blank lines lose it)
const SUMMARY = /^(\w[\w-]*): (\d+) passed, (\d+) failed, (\d+) skipped$/;
const SUITE_INDEX = path.join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');
const EXTENSION_MAIN = path.join(REPO_ROOT, 'dist', 'extension.js');

function parseArgs(argv) {
  const options = { multiRoot: false, grep: undefined, timeout: 900, keep: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--multi-root') options.multiRoot = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--grep') options.grep = argv[++i];
    else if (arg === '--timeout') options.timeout = Number(argv[++i]);
    else if (arg === '--help' || arg === '-h') {
      console.log(usageOf(__filename));
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  if (!(options.timeout > 0)) throw new Error('--timeout needs a number of seconds');
  return options;
}

function checkBuilt() {
  const missing = [EXTENSION_MAIN, SUITE_INDEX].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    throw new HostError(
      `${missing.map((f) => path.relative(REPO_ROOT, f)).join(' and ')} missing: build first with\n` +
        '  node esbuild.js && npx tsc -p . --outDir out',
    );
  }
}

/** Runs the suite once; resolves to { code, summary, runDir }. */
async function runIntegration(options) {
  const started = Date.now();
  ensureHost();
  checkBuilt();
  const label = options.multiRoot ? 'integration (multi-root)' : 'integration';
  const runDir = makeRunDir('it');
  const store = path.join(runDir, 'store');
  fs.mkdirSync(store);
  const workspace = prepareWorkspace(runDir, { multiRoot: options.multiRoot });
  const workbenchLog = path.join(runDir, 'workbench.log');
  const logStream = fs.createWriteStream(workbenchLog);

  let server;
  let browser;
  let summary;
  let code = 1;
  const lines = [];
  const onLine = (line) => {
    const at = line.indexOf(TAG);
    if (at < 0) {
      if (options.verbose) console.log(`  | ${line}`);
      return;
    }
    const text = line.slice(at + TAG.length).replace(/^ /, '');
    const match = SUMMARY.exec(text.trim());
    if (match) summary = { passed: +match[2], failed: +match[3], skipped: +match[4] };
    else console.log(text);
    lines.push(text);
  };
  // The suite's lines come through the automation log (codeAutomationLog); the page console repeats them
  // with styling, so it only goes to the log file (and to the terminal with --verbose).
  const onLog = (source, message, fromAutomation) => {
    logStream.write(`${source} ${message}\n`);
    for (const line of String(message).split('\n')) {
      if (fromAutomation) onLine(line);
    }
  };

  try {
    const v = codeServerVersions();
    console.log(
      `Integration suite in VS Code ${v.vscode} (code-server ${v.codeServer}), workspace ${workspace.description}`,
    );
    server = await startCodeServer({
      runDir,
      // The suite's tests run in one window and expect the store to change only when they act: the start-up
      // scan and first-snapshot catch-up would write into it at moments of their own. They are tested by
      // calling the scheduler (test/integration/startupScan.test.ts) and, as a user meets them, in e2e.
      settings: {
        'projectBackup.storePath': store,
        'projectBackup.scanOnStartup': false,
        'projectBackup.schedule.catchUpAfterHours': 0,
      },
      env: {
        PB_TEST_LABEL: 'integration',
        ...(options.grep ? { PB_TEST_GREP: options.grep } : {}),
      },
    });
    browser = await launchBrowser(runDir);
    const page = browser.pages()[0] || (await browser.newPage());
    let finish;
    const finished = new Promise((resolve) => (finish = resolve));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const message = Array.isArray(args) ? args.map(String).join(' ') : String(args);
      onLog(`[automation:${type}]`, message, true);
    });
    await page.exposeFunction('codeAutomationExit', (exitCode) => finish({ code: Number(exitCode) || 0 }));
    page.on('console', (msg) => onLog(`[console:${msg.type()}]`, msg.text()));
    page.on('pageerror', (error) => onLog('[pageerror]', error.stack || String(error)));
    page.on('crash', () => finish({ code: 1, reason: 'the browser page crashed' }));
    browser.on('close', () => finish({ code: 1, reason: 'the browser closed' }));
    server.exited.then((e) => finish({ code: 1, reason: `code-server exited (${e.code ?? e.signal})` }));
    const timer = setTimeout(
      () => finish({ code: 1, reason: `timed out after ${options.timeout} s` }),
      options.timeout * 1000,
    );

    const payload = [
      ['extensionDevelopmentPath', remoteUri(server.port, REPO_ROOT)],
      ['extensionTestsPath', remoteUri(server.port, SUITE_INDEX)],
      ['skipWelcome', 'true'],
    ];
    const url = `${server.url}/?${workspace.openQuery}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    const result = await finished;
    clearTimeout(timer);
    code = result.code;
    if (result.reason) console.error(`${label}: ${result.reason}`);
    if (!summary) {
      console.error(
        `${label}: the suite reported no result${lines.length === 0 && !result.reason ? ' (it printed nothing: did it load?)' : ''}; workbench log: ${workbenchLog}`,
      );
      code = code || 1;
    }
  } catch (error) {
    console.error(`${label}: ${error instanceof HostError ? error.message : error.stack || error}`);
    code = 1;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
    await new Promise((resolve) => logStream.end(resolve));
  }

  if (code !== 0 || options.keep) console.log(`${label}: run folder kept at ${runDir}`);
  else fs.rmSync(runDir, { recursive: true, force: true });
  const s = summary || { passed: 0, failed: 1, skipped: 0 };
  if (code !== 0 && s.failed === 0) s.failed = 1; // the run failed outside any test (load error, timeout)
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`integration: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  return { code, summary: s, runDir };
}

module.exports = { runIntegration };

if (require.main === module) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`runIntegration: ${error.message}`);
    process.exit(2);
  }
  runIntegration(options).then(
    ({ code }) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
