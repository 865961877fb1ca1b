#!/usr/bin/env node
// The integration suite (out/test/integration/index.js) in desktop VS Code, through @vscode/test-electron,
// for machines that can download VS Code. (On machines that cannot, use scripts/vscode/runIntegration.js:
// the same suite in code-server.) On Linux without a display, run it under xvfb-run.
//
//   node esbuild.js && npx tsc -p . --outDir out
//   node scripts/vscode/runDesktop.js [--multi-root] [--grep <text>] [--vscode-version <version>] [--keep]
//
//   --vscode-version  the VS Code to download (default: the minimum of engines.vscode, e.g. 1.90.0;
//                     "stable" or "insiders" also work)
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
// The same calm user settings as under code-server (requiring codeServer.js installs nothing).
const { CALM_SETTINGS, writeJson } = require('./codeServer');
const { prepareWorkspace } = require('./workspace');
const { usageOf } = require('./ensureHost');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SUITE_INDEX = path.join(REPO_ROOT, 'out', 'test', 'integration', 'index.js');
const EXTENSION_MAIN = path.join(REPO_ROOT, 'dist', 'extension.js');

function parseArgs(argv) {
  const options = { multiRoot: false, grep: undefined, version: undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--multi-root') options.multiRoot = true;
    else if (arg === '--grep') options.grep = argv[++i];
    else if (arg === '--vscode-version') options.version = argv[++i];
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usageOf(__filename));
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return options;
}

function loadTestElectron() {
  try {
    return require(require.resolve('@vscode/test-electron', { paths: [REPO_ROOT] }));
  } catch {
    console.error(
      'runDesktop: @vscode/test-electron is not installed. Install it with\n' +
        '  npm install --save-dev @vscode/test-electron\n' +
        '(it downloads VS Code from update.code.visualstudio.com; where that is unreachable, use\n' +
        '  node scripts/vscode/runIntegration.js   instead).',
    );
    process.exit(1);
  }
}

function minimumEngine() {
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  const match = /(\d+\.\d+\.\d+)/.exec(manifest.engines?.vscode || '');
  return match ? match[1] : 'stable';
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const missing = [EXTENSION_MAIN, SUITE_INDEX].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    console.error(
      `runDesktop: ${missing.map((f) => path.relative(REPO_ROOT, f)).join(' and ')} missing: build first with\n  node esbuild.js && npx tsc -p . --outDir out`,
    );
    process.exit(1);
  }
  const { runTests } = loadTestElectron();

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-vscode-desktop-'));
  const store = path.join(runDir, 'store');
  const userData = path.join(runDir, 'user-data');
  const extensions = path.join(runDir, 'extensions');
  for (const dir of [store, userData, extensions]) fs.mkdirSync(dir, { recursive: true });
  writeJson(path.join(userData, 'User', 'settings.json'), { ...CALM_SETTINGS, 'projectBackup.storePath': store });
  const workspace = prepareWorkspace(runDir, { multiRoot: options.multiRoot });

  let code = 0;
  try {
    await runTests({
      version: options.version || minimumEngine(),
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: SUITE_INDEX,
      launchArgs: [
        workspace.workspaceFile || workspace.folders[0],
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        `--user-data-dir=${userData}`,
        `--extensions-dir=${extensions}`,
      ],
      extensionTestsEnv: {
        PB_TEST_PLAIN: '1', // plain reporter lines: they go straight to this terminal
        PB_TEST_LABEL: 'integration',
        ...(options.grep ? { PB_TEST_GREP: options.grep } : {}),
      },
    });
  } catch (error) {
    console.error(`runDesktop: ${error.message || error}`);
    code = 1;
  }
  if (code !== 0 || options.keep) console.log(`runDesktop: run folder kept at ${runDir}`);
  else fs.rmSync(runDir, { recursive: true, force: true });
  process.exit(code);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
