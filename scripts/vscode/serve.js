#!/usr/bin/env node
// Try the extension in the real VS Code, in a browser: code-server on 127.0.0.1 with Project Backup loaded
// from this repository, on a temp copy of the sample workspace. Builds nothing: run `npm run build` first.
// Stays in the foreground until Ctrl+C, then stops the server and removes its temp folder.
//
//   node scripts/vscode/serve.js [--port 8080] [--folder <path>] [--multi-root] [--keep]
//
//   --port        port on 127.0.0.1 (default 8080)
//   --folder      open this folder instead of a copy of the sample workspace (snapshots go to the temp store)
//   --multi-root  open the two-folder sample .code-workspace
//   --keep        keep the temp folder (workspace copy, store, server logs) after Ctrl+C
//
// The first run installs the VS Code host (test/vscode-host, 1-2 minutes). From another machine, forward
// the port (e.g. ssh -L 8080:127.0.0.1:8080 host): the server only listens on 127.0.0.1, without a password.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { usageOf, ensureHost, codeServerVersions, HostError, REPO_ROOT } = require('./ensureHost');
const { makeRunDir, startCodeServer, linkExtension } = require('./codeServer');
const { prepareWorkspace, queryPath } = require('./workspace');

function parseArgs(argv) {
  const options = { port: 8080, folder: undefined, multiRoot: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') options.port = Number(argv[++i]);
    else if (arg === '--folder') options.folder = path.resolve(argv[++i]);
    else if (arg === '--multi-root') options.multiRoot = true;
    else if (arg === '--keep') options.keep = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usageOf(__filename));
      process.exit(0);
    } else throw new HostError(`unknown argument ${arg} (try --help)`);
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535)
    throw new HostError('--port needs a port number');
  if (options.folder && !fs.statSync(options.folder, { throwIfNoEntry: false })?.isDirectory())
    throw new HostError(`--folder ${options.folder}: not a folder`);
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  ensureHost();
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'extension.js'))) {
    throw new HostError('dist/extension.js is missing: run `npm run build` first');
  }
  const runDir = makeRunDir('serve');
  const store = path.join(runDir, 'store');
  fs.mkdirSync(store);
  const workspace = options.folder
    ? { openQuery: `folder=${queryPath(options.folder)}`, description: options.folder }
    : prepareWorkspace(runDir, { multiRoot: options.multiRoot });
  linkExtension(runDir, REPO_ROOT);

  let server;
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping code-server...');
    if (server) await server.stop();
    if (options.keep) console.log(`Kept ${runDir}`);
    else fs.rmSync(runDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGHUP', () => shutdown(0));

  try {
    server = await startCodeServer({ runDir, port: options.port, settings: { 'projectBackup.storePath': store } });
  } catch (error) {
    fs.rmSync(runDir, { recursive: true, force: true });
    throw error;
  }
  server.exited.then((e) => {
    if (stopping) return;
    console.error(`code-server exited (${e.code ?? e.signal}); log: ${server.dirs.log}`);
    options.keep = true;
    shutdown(1);
  });

  const v = codeServerVersions();
  console.log(`Project Backup in VS Code ${v.vscode} (code-server ${v.codeServer}), loaded from ${REPO_ROOT}`);
  console.log('');
  console.log(`  Open       ${server.url}/?${workspace.openQuery}`);
  console.log(`  Workspace  ${workspace.description}${options.folder ? '' : ' (a temp copy of the sample)'}`);
  console.log(`  Store      ${store} (projectBackup.storePath)`);
  console.log(`  Log        ${server.dirs.log}`);
  console.log('');
  console.log(
    'Ctrl+C to stop. After `npm run build`, reload the page (or run "Developer: Restart Extension Host") to pick up changes.',
  );
}

main().catch((error) => {
  console.error(`serve: ${error instanceof HostError ? error.message : error.stack || error}`);
  process.exit(1);
});
