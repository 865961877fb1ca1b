// Starts code-server (the real VS Code workbench and Node extension host) on 127.0.0.1 and a free port,
// with everything it writes (user data, extensions, XDG folders, TMPDIR, HOME) under one per-run folder,
// in its own process group so stop() ends it and the children it forks.
//
//   const { makeRunDir, startCodeServer } = require('./codeServer');
//   const runDir = makeRunDir('it');
//   const server = await startCodeServer({ runDir, settings: { 'projectBackup.storePath': ... } });
//   ... server.url, server.port ...
//   await server.stop();
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { ensureHost, hostPaths, HostError } = require('./ensureHost');

/** Settings that keep the workbench calm and offline: no welcome pages, tips, telemetry or fetches. */
const CALM_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.settings.enableNaturalLanguageSearch': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'git.autofetch': false,
  'git.autoRepositoryDetection': false,
  'git.openRepositoryInParentFolders': 'never',
  'security.workspace.trust.enabled': false,
  'npm.fetchOnlinePackageInfo': false,
  'json.schemaDownload.enable': false,
  'typescript.disableAutomaticTypeAcquisition': true,
  'typescript.tsserver.experimental.enableProjectDiagnostics': false,
  'terminal.integrated.enablePersistentSessions': false,
  'chat.commandCenter.enabled': false,
  'github.copilot.enable': { '*': false },
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'files.simpleDialog.enable': true,
};

/** A fresh per-run folder under the OS temp dir (or PB_VSCODE_RUNS if set). */
function makeRunDir(label) {
  const base = process.env.PB_VSCODE_RUNS || os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `pb-vscode-${label}-`));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether something already listens on 127.0.0.1:port. */
function portInUse(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function get(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** An environment for child processes with nothing from an enclosing VS Code or Electron session. */
function cleanEnv(extra) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VSCODE_') || key.startsWith('ELECTRON_') || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** Folders code-server (and, through HOME, the extension under test) writes to, all under runDir. */
function serverDirs(runDir) {
  const dirs = {
    root: path.join(runDir, 'server'),
    data: path.join(runDir, 'server', 'data'),
    extensions: path.join(runDir, 'server', 'extensions'),
    home: path.join(runDir, 'server', 'home'),
    tmp: path.join(runDir, 'server', 'tmp'),
    xdgConfig: path.join(runDir, 'server', 'xdg', 'config'),
    xdgData: path.join(runDir, 'server', 'xdg', 'data'),
    xdgCache: path.join(runDir, 'server', 'xdg', 'cache'),
    config: path.join(runDir, 'server', 'config.yaml'),
    log: path.join(runDir, 'server', 'code-server.log'),
  };
  for (const dir of [dirs.data, dirs.extensions, dirs.home, dirs.tmp, dirs.xdgConfig, dirs.xdgData, dirs.xdgCache]) {
    fs.mkdirSync(dir, { recursive: true });
  }
  return dirs;
}

function serverEnv(dirs, extra) {
  return cleanEnv({
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: dirs.xdgConfig,
    XDG_DATA_HOME: dirs.xdgData,
    XDG_CACHE_HOME: dirs.xdgCache,
    XDG_RUNTIME_DIR: dirs.tmp,
    ...extra,
  });
}

/**
 * Installs a .vsix into runDir's extensions folder (code-server --install-extension, before the server starts).
 * @param {string} runDir
 * @param {string} vsix
 */
function installVsix(runDir, vsix) {
  const { codeServerEntry } = ensureHost();
  const dirs = serverDirs(runDir);
  const result = spawnSync(
    process.execPath,
    [
      codeServerEntry,
      '--user-data-dir',
      dirs.data,
      '--extensions-dir',
      dirs.extensions,
      '--install-extension',
      path.resolve(vsix),
      '--force',
    ],
    { env: serverEnv(dirs), encoding: 'utf8', timeout: 120_000 },
  );
  if (result.status !== 0) {
    throw new HostError(`code-server --install-extension ${vsix} failed:\n${result.stdout}${result.stderr}`);
  }
}

/**
 * Makes an extension folder visible to code-server's extensions dir by symlinking it as
 * <publisher>.<name>-<version>, the way an installed extension is laid out.
 */
function linkExtension(runDir, extensionRoot) {
  const dirs = serverDirs(runDir);
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionRoot, 'package.json'), 'utf8'));
  const link = path.join(dirs.extensions, `${manifest.publisher}.${manifest.name}-${manifest.version}`);
  fs.rmSync(link, { force: true, recursive: true });
  fs.symlinkSync(path.resolve(extensionRoot), link, 'dir');
  return { id: `${manifest.publisher}.${manifest.name}`, link };
}

/**
 * Starts code-server and waits until /healthz answers.
 * @param {object} options
 * @param {string} options.runDir          per-run folder (makeRunDir); the server's files go to runDir/server
 * @param {number} [options.port]          fixed port (else a free one); fails clearly if it is taken
 * @param {object} [options.settings]      user settings merged over CALM_SETTINGS (User/settings.json)
 * @param {string[]} [options.args]        extra code-server arguments
 * @param {object} [options.env]           extra environment (reaches the extension host too)
 * @param {boolean} [options.isolateHome]  HOME under runDir (default true), so nothing lands in the real home
 * @param {number} [options.timeoutMs]     how long to wait for /healthz (default 30 s)
 * @returns {Promise<{url: string, port: number, pid: number, dirs: object, stop: () => Promise<void>}>}
 */
async function startCodeServer(options) {
  const { codeServerEntry } = ensureHost();
  const dirs = serverDirs(options.runDir);
  // Every window of code-server is a remote window: settings of machine scope (e.g. a store path declared
  // "machine-overridable") are read from the remote settings (data/Machine/settings.json) and ignore the
  // user settings, so the same settings go to both files. WorkspaceConfiguration.update(..., Global) of a
  // machine-scoped setting writes the Machine file too.
  const settings = { ...CALM_SETTINGS, ...(options.settings || {}) };
  writeJson(path.join(dirs.data, 'User', 'settings.json'), settings);
  writeJson(path.join(dirs.data, 'Machine', 'settings.json'), settings);

  const fixedPort = options.port;
  if (fixedPort && (await portInUse(fixedPort))) {
    throw new HostError(`port ${fixedPort} on 127.0.0.1 is already in use; pick another with --port`);
  }
  const attempts = fixedPort ? 1 : 3;
  let lastError;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = fixedPort || (await freePort());
    try {
      return await startOnce(codeServerEntry, dirs, port, options);
    } catch (error) {
      lastError = error;
      if (!/EADDRINUSE/.test(String(error.message))) break;
    }
  }
  throw lastError;
}

async function startOnce(codeServerEntry, dirs, port, options) {
  fs.writeFileSync(dirs.config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--locale',
    'en',
    '--config',
    dirs.config,
    '--user-data-dir',
    dirs.data,
    '--extensions-dir',
    dirs.extensions,
    ...(options.args || []),
  ];
  const isolate = options.isolateHome !== false;
  const env = serverEnv(dirs, options.env);
  if (!isolate) env.HOME = os.homedir();
  const logFd = fs.openSync(dirs.log, 'a');
  // detached: the server leads its own process group (setsid), so stop() can end it and its children.
  const child = spawn(process.execPath, args, { cwd: dirs.root, env, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  let exited = null;
  const exitedPromise = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve((exited = { code, signal }))),
  );
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // If this process dies without calling stop(), take the server with it.
  const onExit = () => killGroup('SIGKILL');
  process.once('exit', onExit);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    killGroup('SIGTERM');
    const done = await Promise.race([exitedPromise.then(() => true), sleep(3000).then(() => false)]);
    // The group may still hold the extension host or a pty host after the main process left.
    killGroup('SIGKILL');
    if (!done) await Promise.race([exitedPromise, sleep(1000)]);
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs || 30_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new HostError(
        `code-server exited (${exited.code ?? exited.signal}) before it was healthy:\n${tail(dirs.log)}`,
      );
    }
    if ((await get(`${url}/healthz`, 1000)) === 200) break;
    if (Date.now() > deadline) {
      await stop();
      throw new HostError(`code-server did not answer ${url}/healthz in time:\n${tail(dirs.log)}`);
    }
    await sleep(100);
  }
  return { url, port, pid: child.pid, dirs, stop, exited: exitedPromise };
}

/** vscode-remote:// URI for a path on the server, with exactly the page's host:port. */
function remoteUri(port, absPath) {
  const encoded = path
    .resolve(absPath)
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
  return `vscode-remote://127.0.0.1:${port}${encoded}`;
}

module.exports = {
  CALM_SETTINGS,
  makeRunDir,
  freePort,
  portInUse,
  startCodeServer,
  installVsix,
  linkExtension,
  remoteUri,
  cleanEnv,
  writeJson,
  hostPaths,
};
