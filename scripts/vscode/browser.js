// Launches Debian's chromium through playwright-core (from test/vscode-host) with a fresh profile under the
// run folder, and HOME/XDG pointed into it so nothing lands in the real home.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { ensureHost, loadPlaywright } = require('./ensureHost');
const { cleanEnv } = require('./codeServer');

const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--password-store=basic',
];

/**
 * @param {string} runDir
 * @param {{ viewport?: {width: number, height: number}, headless?: boolean }} [options]
 * @returns {Promise<import('playwright-core').BrowserContext>}
 */
async function launchBrowser(runDir, options = {}) {
  const { chromium: executablePath } = ensureHost();
  const { chromium } = loadPlaywright();
  const root = path.join(runDir, 'browser');
  const dirs = {
    profile: path.join(root, 'profile'),
    home: path.join(root, 'home'),
    tmp: path.join(root, 'tmp'),
    config: path.join(root, 'xdg', 'config'),
    cache: path.join(root, 'xdg', 'cache'),
    data: path.join(root, 'xdg', 'data'),
  };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
  return chromium.launchPersistentContext(dirs.profile, {
    executablePath,
    headless: options.headless !== false,
    args: CHROMIUM_FLAGS,
    env: cleanEnv({
      HOME: dirs.home,
      TMPDIR: dirs.tmp,
      XDG_CONFIG_HOME: dirs.config,
      XDG_CACHE_HOME: dirs.cache,
      XDG_DATA_HOME: dirs.data,
    }),
    viewport: options.viewport || { width: 1400, height: 900 },
    locale: 'en-US',
    timeout: 30_000,
  });
}

module.exports = { launchBrowser, CHROMIUM_FLAGS };
