// Installs the Debian packages the test tooling needs (the VS Code host's chromium and build tools, the SFTP
// tests' OpenSSH server) with apt-get, when they are missing and we run as root. Invariant: nothing is
// installed when every package is present (one existsSync per need); without root or apt-get it throws an
// error whose message is the exact command to run, and never prompts.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

class DebianPackagesError extends Error {}

/** @param {Array<{ file: string, pkg: string }>} needs a path that proves each package is installed */
function missingDebianPackages(needs) {
  return [...new Set(needs.filter((n) => !fs.existsSync(n.file)).map((n) => n.pkg))];
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new DebianPackagesError(`${command} could not start: ${result.error.message}`);
  return result.status === 0;
}

/**
 * Installs what `needs` lacks. `purpose` names who needs them (for messages), `log` prints progress, `hint`
 * is added to the "install them first" message.
 * @param {Array<{ file: string, pkg: string }>} needs
 * @param {{ purpose: string, log: (message: string) => void, hint?: string }} options
 */
function ensureDebianPackages(needs, { purpose, log, hint = '' }) {
  const missing = missingDebianPackages(needs);
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !fs.existsSync('/usr/bin/apt-get')) {
    throw new DebianPackagesError(`${purpose} needs these Debian packages: ${missing.join(', ')}.\nInstall them first, e.g.:  sudo ${command}\n${hint}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = ['-o', 'Dpkg::Use-Pty=0'];
  if (!run('apt-get', ['install', '-y', '--no-install-recommends', ...quiet, ...missing], { env })) {
    log('apt-get install failed; refreshing the package lists and retrying');
    if (!run('apt-get', ['update'], { env }) || !run('apt-get', ['install', '-y', '--no-install-recommends', ...quiet, ...missing], { env })) {
      throw new DebianPackagesError(`apt-get could not install ${missing.join(' ')}`);
    }
  }
  const still = missingDebianPackages(needs);
  if (still.length > 0) throw new DebianPackagesError(`still missing after apt-get: ${still.join(', ')}`);
}

module.exports = { DebianPackagesError, ensureDebianPackages, missingDebianPackages };
