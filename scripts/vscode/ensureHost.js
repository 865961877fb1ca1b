#!/usr/bin/env node
// Installs the real-VS-Code test host on first use: test/vscode-host (code-server 4.99.4 = VS Code 1.99.3
// with its Node extension host, and playwright-core) plus the Debian packages it needs (chromium, ripgrep,
// libkrb5-dev, build tools). Kept out of the extension's own dependencies so `npm ci` stays light and the
// .vsix never contains it. Idempotent: once installed, a marker makes the next call return in milliseconds.
//
//   node scripts/vscode/ensureHost.js            install if needed, print where it is
//   node scripts/vscode/ensureHost.js --force    reinstall test/vscode-host/node_modules
//
// From other scripts: const { ensureHost, loadPlaywright } = require('./ensureHost');
'use strict';

const { spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  DebianPackagesError,
  ensureDebianPackages: installDebianPackages,
  missingDebianPackages,
} = require('../debianPackages');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const HOST_DIR = path.join(REPO_ROOT, 'test', 'vscode-host');
const NODE_MODULES = path.join(HOST_DIR, 'node_modules');
const MARKER = path.join(NODE_MODULES, '.project-backup-host-ready.json');
const LOCK_DIR = path.join(HOST_DIR, '.install-lock');
const CODE_SERVER_DIR = path.join(NODE_MODULES, 'code-server');
const CODE_SERVER_ENTRY = path.join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
const VSCODE_DIR = path.join(CODE_SERVER_DIR, 'lib', 'vscode');
const BUNDLED_RG = path.join(VSCODE_DIR, 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
const CHROMIUM = process.env.PB_CHROMIUM || '/usr/bin/chromium';

// @vscode/ripgrep (inside code-server's own VS Code install) downloads rg from GitHub in its postinstall,
// which fails offline. It first looks for this tarball in a cache folder under the OS temp dir; one holding
// Debian's rg satisfies it. The two versions follow code-server 4.99.4's lib/vscode/npm-shrinkwrap.json
// (@vscode/ripgrep 1.15.11, whose lib/postinstall.js asks for ripgrep v13.0.0-10); update them together
// with code-server.
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

/** What the host needs from Debian: a path that proves the package is there, and the package. */
const DEBIAN_NEEDS = [
  { file: CHROMIUM, pkg: 'chromium' },
  { file: '/usr/bin/rg', pkg: 'ripgrep' },
  { file: '/usr/include/gssapi/gssapi.h', pkg: 'libkrb5-dev' }, // kerberos native module
  { file: '/usr/bin/make', pkg: 'build-essential' },
  { file: '/usr/bin/g++', pkg: 'build-essential' },
  { file: '/usr/bin/python3', pkg: 'python3' }, // node-gyp
  { file: '/bin/tar', pkg: 'tar' },
];

function log(message) {
  process.stderr.write(`[vscode-host] ${message}\n`);
}

class HostError extends Error {}

function fingerprint() {
  const hash = crypto.createHash('sha256');
  for (const file of ['package.json', 'package-lock.json']) hash.update(fs.readFileSync(path.join(HOST_DIR, file)));
  // Native modules are built against this Node's ABI.
  hash.update(`${process.platform}-${process.arch}-abi${process.versions.modules}`);
  return hash.digest('hex');
}

function hostIsReady() {
  try {
    const marker = JSON.parse(fs.readFileSync(MARKER, 'utf8'));
    return marker.fingerprint === fingerprint() && fs.existsSync(CODE_SERVER_ENTRY) && fs.existsSync(BUNDLED_RG);
  } catch {
    return false;
  }
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new HostError(`${command} could not start: ${result.error.message}`);
  return result.status === 0;
}

function ensureDebianPackages() {
  if (process.env.PB_CHROMIUM && !fs.existsSync(process.env.PB_CHROMIUM)) {
    throw new HostError(`PB_CHROMIUM points at ${process.env.PB_CHROMIUM}, which does not exist`);
  }
  try {
    installDebianPackages(DEBIAN_NEEDS, {
      purpose: 'the VS Code test host',
      log,
      hint: missingDebianPackages(DEBIAN_NEEDS).includes('chromium')
        ? '(or point PB_CHROMIUM at another Chromium binary)\n'
        : '',
    });
  } catch (error) {
    throw error instanceof DebianPackagesError ? new HostError(error.message) : error;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One installer at a time (integration and e2e may start together). Returns a release function. */
function acquireLock() {
  const deadline = Date.now() + 15 * 60_000;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      fs.writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
      return () => fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let stale = false;
    try {
      const pid = Number(fs.readFileSync(path.join(LOCK_DIR, 'pid'), 'utf8'));
      process.kill(pid, 0);
    } catch (error) {
      // No pid file yet (just created) is not stale; a dead owner is.
      stale =
        error.code === 'ESRCH' ||
        (error.code === 'ENOENT' && Date.now() - fs.statSync(LOCK_DIR, { throwIfNoEntry: false })?.mtimeMs > 10_000);
    }
    if (stale) {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new HostError(`another install holds ${LOCK_DIR}; remove it if no install is running`);
    if (!announced) log('another process is installing the host; waiting for it');
    announced = true;
    sleep(1000);
  }
}

/**
 * Runs npm with its output shown, less one line: code-server's postinstall refuses to run as root unless
 * npm_config_unsafe_perm is "true", and npm 11, which no longer knows that setting, warns about it. The
 * warning is about our own deliberate setting, so it is dropped rather than shown to every new user.
 */
function runQuietingUnsafePerm(command, args, options) {
  const result = spawnSync(command, args, {
    ...options,
    stdio: ['ignore', 'inherit', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new HostError(`${command} could not start: ${result.error.message}`);
  const shown = (result.stderr || '').split('\n').filter((line) => !/Unknown env config "unsafe-perm"/.test(line));
  if (shown.join('').trim()) process.stderr.write(`${shown.join('\n')}\n`);
  return result.status === 0;
}

function installNodeModules() {
  // The same range as package.json's engines.node: code-server 4.99.4 runs on Node 20 only.
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major !== 20 || minor < 19) {
    throw new HostError(
      `Project Backup's tests need Node 20.19 or a later 20.x (code-server 4.99.4 runs on Node 20 only); this is Node ${process.versions.node}.`,
    );
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-vscode-host-install-'));
  try {
    // The ripgrep cache tarball: Debian's rg at the top level, where @vscode/ripgrep looks before downloading.
    const cacheDir = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
    const stage = path.join(tmp, 'rg-stage');
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.mkdirSync(stage);
    fs.copyFileSync('/usr/bin/rg', path.join(stage, 'rg'));
    fs.chmodSync(path.join(stage, 'rg'), 0o755);
    if (!run('tar', ['-czf', path.join(cacheDir, RIPGREP_ASSET), '-C', stage, 'rg'])) throw new HostError('tar failed');

    log('installing test/vscode-host (code-server 4.99.4 + playwright-core, ~310 MB; 1-2 minutes the first time)');
    const env = {
      ...process.env,
      TMPDIR: tmp,
      npm_config_unsafe_perm: 'true', // code-server's postinstall refuses to run as root otherwise
      npm_config_yes: 'true', // a native module runs `npx node-gyp`, which would wait for a "yes"
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    const started = Date.now();
    if (!runQuietingUnsafePerm('npm', ['ci', '--no-audit', '--no-fund'], { cwd: HOST_DIR, env })) {
      throw new HostError(
        'npm ci in test/vscode-host failed (see above). Common causes: no access to the npm registry, ' +
          'missing build tools or libkrb5-dev, or a @vscode/ripgrep version that no longer matches RIPGREP_* in this script.',
      );
    }
    for (const file of [CODE_SERVER_ENTRY, BUNDLED_RG]) {
      if (!fs.existsSync(file)) throw new HostError(`npm ci finished but ${path.relative(REPO_ROOT, file)} is missing`);
    }
    fs.writeFileSync(
      MARKER,
      JSON.stringify({ fingerprint: fingerprint(), installedAt: new Date().toISOString() }, null, 2),
    );
    log(`installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Makes sure the host is installed; returns where things are. Throws HostError with a readable message.
 * @param {{ force?: boolean }} [options]
 */
function ensureHost(options = {}) {
  ensureDebianPackages();
  if (options.force || !hostIsReady()) {
    const release = acquireLock();
    try {
      // Someone else may have finished while we waited.
      if (options.force || !hostIsReady()) {
        if (options.force) fs.rmSync(MARKER, { force: true });
        installNodeModules();
      }
    } finally {
      release();
    }
  }
  return hostPaths();
}

function hostPaths() {
  return { repoRoot: REPO_ROOT, hostDir: HOST_DIR, codeServerEntry: CODE_SERVER_ENTRY, chromium: CHROMIUM };
}

/** playwright-core from the host package (not from the extension's node_modules). */
function loadPlaywright() {
  return require(require.resolve('playwright-core', { paths: [HOST_DIR] }));
}

function codeServerVersions() {
  const cs = JSON.parse(fs.readFileSync(path.join(CODE_SERVER_DIR, 'package.json'), 'utf8'));
  const vs = JSON.parse(fs.readFileSync(path.join(VSCODE_DIR, 'package.json'), 'utf8'));
  return { codeServer: cs.version, vscode: vs.version };
}

/** A script's leading comment block (after the shebang), for --help. */
function usageOf(file) {
  const lines = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
    if (!line.startsWith('//')) break;
    lines.push(line.replace(/^\/\/ ?/, ''));
  }
  return lines.join('\n');
}

module.exports = { usageOf, ensureHost, hostPaths, loadPlaywright, codeServerVersions, HostError, REPO_ROOT, HOST_DIR };

if (require.main === module) {
  const started = process.hrtime.bigint();
  try {
    const paths = ensureHost({ force: process.argv.includes('--force') });
    const v = codeServerVersions();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(
      `VS Code host ready: code-server ${v.codeServer} (VS Code ${v.vscode}) in ${path.relative(process.cwd(), paths.hostDir) || '.'}, chromium ${paths.chromium} [${ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`}]`,
    );
  } catch (error) {
    console.error(`[vscode-host] ${error instanceof HostError ? error.message : error.stack}`);
    process.exit(1);
  }
}
