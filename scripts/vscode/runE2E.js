#!/usr/bin/env node
// End-to-end scenarios: playwright drives the real VS Code workbench UI (code-server + Debian's chromium)
// with the extension installed as a user has it, not through the extension host's test API.
//
//   node esbuild.js && npx tsc -p . --outDir out      (build first: dist/extension.js; out/ for scenarios that
//                                                     set the stage with the compiled core, e.g. timeline.e2e.js)
//   node scripts/vscode/runE2E.js [--grep <text>] [--vsix <file> | --from-repo] [--keep]
//
//   --grep       run only the scenarios whose name or title contains <text>
//   --vsix       install this .vsix (code-server --install-extension) instead of linking the repository
//   --from-repo  link the repository even when a project-backup-<version>.vsix sits in the repo root
//   --keep       keep the run folder (server, browser profile, workspaces, store, logs); kept anyway on failure
//
// The extension: a .vsix named project-backup-<version>.vsix in the repo root that is newer than
// dist/extension.js is installed (what users install); otherwise the repository itself is symlinked into
// the server's extensions folder. Scenarios live in test/e2e/*.e2e.js (see test/e2e/scenario.js); each
// gets a fresh copy of the fixture workspace in a new page. Screenshots: test-results/screenshots/ (emptied
// at the start of each run, so it shows this run only). A failure prints the step it failed at, the
// failure screenshot's path, and the tail of the extension's own log (its "Project Backup" output channel).
// PB_E2E_TIMEOUT_SCALE multiplies every limit (see test/e2e/workbench.js).
// Closing line: `e2e: N passed, N failed`; exits non-zero when any scenario failed.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { usageOf, ensureHost, codeServerVersions, HostError, REPO_ROOT } = require('./ensureHost');
const { makeRunDir, startCodeServer, linkExtension, installVsix } = require('./codeServer');
const { launchBrowser } = require('./browser');
const { prepareWorkspace, queryPath } = require('./workspace');

const E2E_DIR = path.join(REPO_ROOT, 'test', 'e2e');
const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'screenshots');
const EXTENSION_MAIN = path.join(REPO_ROOT, 'dist', 'extension.js');
const SCALE = Math.max(1, Number(process.env.PB_E2E_TIMEOUT_SCALE) || 1);
/** A scenario's limit when it names none: generous, since every wait inside ends as soon as its thing shows. */
const SCENARIO_TIMEOUT = 180_000;

function parseArgs(argv) {
  const options = { grep: undefined, vsix: undefined, fromRepo: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--grep') options.grep = argv[++i];
    else if (arg === '--vsix') options.vsix = path.resolve(argv[++i]);
    else if (arg === '--from-repo') options.fromRepo = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usageOf(__filename));
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return options;
}

/** Every scenario in test/e2e/*.e2e.js, in file order. */
function loadScenarios(grep) {
  const scenarios = [];
  for (const file of fs
    .readdirSync(E2E_DIR)
    .filter((f) => f.endsWith('.e2e.js'))
    .sort()) {
    const exported = require(path.join(E2E_DIR, file));
    for (const scenario of Array.isArray(exported) ? exported : [exported]) {
      if (!scenario || typeof scenario.run !== 'function' || !scenario.name)
        throw new Error(`${file}: a scenario needs a name and a run function`);
      scenarios.push({ ...scenario, file });
    }
  }
  const names = new Set();
  for (const s of scenarios) {
    if (names.has(s.name)) throw new Error(`two scenarios are named ${s.name}`);
    names.add(s.name);
  }
  return grep ? scenarios.filter((s) => s.name.includes(grep) || (s.title || '').includes(grep)) : scenarios;
}

/** The .vsix to install, or undefined to link the repository. */
function chooseVsix(options) {
  if (options.vsix) {
    if (!fs.existsSync(options.vsix)) throw new HostError(`--vsix ${options.vsix}: no such file`);
    return options.vsix;
  }
  if (options.fromRepo) return undefined;
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  const candidate = path.join(REPO_ROOT, `${manifest.name}-${manifest.version}.vsix`);
  if (!fs.existsSync(candidate)) return undefined;
  if (fs.existsSync(EXTENSION_MAIN) && fs.statSync(candidate).mtimeMs < fs.statSync(EXTENSION_MAIN).mtimeMs) {
    console.log(
      `(${path.basename(candidate)} is older than dist/extension.js: using the repository instead; pass --vsix to force it)`,
    );
    return undefined;
  }
  return candidate;
}

/**
 * The last lines of the extension's output channel ("Project Backup") written since `since`, from the
 * server's log folder: what the extension itself said when the scenario failed.
 */
function extensionLogTail(dataDir, since, lines = 40) {
  const logs = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/Project Backup\.log$/.test(entry.name) && fs.statSync(full).mtimeMs >= since) logs.push(full);
    }
  };
  try {
    walk(path.join(dataDir, 'logs'));
  } catch {
    // no log folder yet
  }
  if (logs.length === 0) return ['extension log: none written (did the extension activate?)'];
  return logs.flatMap((file) => {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return [
      `extension log (${file}), last ${Math.min(lines, text.length)} lines:`,
      ...text.slice(-lines).map((l) => `  | ${l}`),
    ];
  });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function runE2E(options) {
  const started = Date.now();
  ensureHost();
  const scenarios = loadScenarios(options.grep);
  if (scenarios.length === 0) throw new HostError(`no scenario matches ${options.grep}`);
  const vsix = chooseVsix(options);
  if (!vsix && !fs.existsSync(EXTENSION_MAIN))
    throw new HostError('dist/extension.js missing: build first with  node esbuild.js');

  const runDir = makeRunDir('e2e');
  const storePath = path.join(runDir, 'store');
  fs.mkdirSync(storePath);
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const v = codeServerVersions();
  console.log(
    `e2e scenarios in VS Code ${v.vscode} (code-server ${v.codeServer}), extension from ${vsix ? (vsix.startsWith(REPO_ROOT + path.sep) ? path.relative(REPO_ROOT, vsix) : vsix) : 'the repository (symlinked)'}`,
  );

  let server;
  let browser;
  const results = [];
  try {
    if (vsix) installVsix(runDir, vsix);
    else linkExtension(runDir, REPO_ROOT);
    server = await startCodeServer({ runDir, settings: { 'projectBackup.storePath': storePath } });
    browser = await launchBrowser(runDir);
    const blank = browser.pages()[0];

    for (const scenario of scenarios) {
      const scenarioStarted = Date.now();
      const workspace = prepareWorkspace(runDir, { name: `ws-${scenario.name}`, multiRoot: scenario.multiRoot });
      const page = await browser.newPage();
      const consoleLog = fs.createWriteStream(path.join(runDir, `${scenario.name}.console.log`));
      page.on('console', (msg) => consoleLog.write(`[${msg.type()}] ${msg.text()}\n`));
      page.on('pageerror', (error) => consoleLog.write(`[pageerror] ${error.stack || error}\n`));
      const notes = [];
      let currentStep = 'opening the workbench';
      const context = {
        step: (name) => {
          currentStep = name;
        },
        page,
        folders: workspace.folders,
        workspaceFile: workspace.workspaceFile,
        storePath,
        home: server.dirs.home,
        log: (message) => notes.push(message),
        screenshot: async (name) => {
          const file = path.join(SCREENSHOTS, `${name}.png`);
          await page.screenshot({ path: file });
          return file;
        },
      };
      let error;
      try {
        // A scenario may set the stage before the window opens (a store with history, a project deleted)
        // and open another folder than the fixture copy (an empty one, to restore a project into).
        let openQuery = workspace.openQuery;
        if (scenario.prepare) {
          currentStep = 'preparing (before the window opens)';
          const stage = await scenario.prepare({ ...context, scratch: path.join(runDir, `stage-${scenario.name}`) });
          if (stage && stage.open) {
            context.folders = [stage.open];
            openQuery = `folder=${queryPath(stage.open)}`;
          }
          currentStep = 'opening the workbench';
        }
        await page.goto(`${server.url}/?${openQuery}`, { waitUntil: 'domcontentloaded', timeout: 120_000 * SCALE });
        await withTimeout(scenario.run(context), (scenario.timeout || SCENARIO_TIMEOUT) * SCALE, scenario.name);
      } catch (e) {
        error = e;
        notes.unshift(`failed at step: ${currentStep}`);
        const shot = path.join(SCREENSHOTS, `${scenario.name}-failure.png`);
        await page.screenshot({ path: shot }).then(
          () => notes.push(`failure screenshot: ${shot}`),
          (shotError) => notes.push(`no failure screenshot: ${shotError.message}`),
        );
        notes.push(...extensionLogTail(server.dirs.data, scenarioStarted));
      }
      await page.close().catch(() => {});
      await new Promise((resolve) => consoleLog.end(resolve));
      const seconds = ((Date.now() - scenarioStarted) / 1000).toFixed(1);
      console.log(`  ${error ? '✖' : '✔'} ${scenario.name}: ${scenario.title} (${seconds} s)`);
      if (error)
        console.log(
          `      ${String(error.message || error)
            .split('\n')
            .join('\n      ')}`,
        );
      for (const note of notes) console.log(`      ${note}`);
      results.push({ name: scenario.name, ok: !error });
    }
    if (blank) await blank.close().catch(() => {});
  } catch (error) {
    console.error(`e2e: ${error instanceof HostError ? error.message : error.stack || error}`);
    results.push({ name: '(setup)', ok: false });
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop();
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (failed > 0 || options.keep) console.log(`e2e: run folder kept at ${runDir} (server log, page console logs)`);
  else fs.rmSync(runDir, { recursive: true, force: true });
  console.log(`screenshots: ${SCREENSHOTS}`);
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return { code: failed > 0 ? 1 : 0, passed, failed };
}

module.exports = { runE2E, loadScenarios, extensionLogTail };

if (require.main === module) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`runE2E: ${error.message}`);
    process.exit(2);
  }
  runE2E(options).then(
    ({ code }) => process.exit(code),
    (error) => {
      console.error(`e2e: ${error instanceof HostError ? error.message : error.stack || error}`);
      console.log('e2e: 0 passed, 1 failed');
      process.exit(1);
    },
  );
}
