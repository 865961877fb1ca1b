// Installs the Debian packages the test tooling needs (the VS Code host's chromium and build tools, the SFTP
// tests' OpenSSH server, Ceph's S3 gateway) with apt-get, when they are missing and we run as root.
// Invariants: nothing is installed when every package is present (one existsSync per need); without root or
// apt-get it throws an error whose message is the exact command to run, and never prompts; and an install
// leaves the machine's services as it found them: no service is started during it (policy-rc.d), every
// systemd unit it enabled is disabled again, and the SSH host keys openssh-server's setup generates are
// removed (the tests' sshd uses keys of its own, in its own folder).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const POLICY_RC_D = '/usr/sbin/policy-rc.d';
/** Where an enabled service is a symlink: systemd's unit links and aliases, and SysV init's rc folders. */
const SERVICE_LINK_FOLDERS = [
  '/etc/systemd/system',
  ...['0', '1', '2', '3', '4', '5', '6', 'S'].map((level) => `/etc/rc${level}.d`),
];
const SSH_HOST_KEYS = '/etc/ssh';

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

/** Every symlink that enables a service (a unit link in a `*.wants` folder, an alias, an rc S/K link). */
function enabledUnitLinks() {
  const links = new Set();
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) links.add(full);
      else if (entry.isDirectory()) walk(full);
    }
  };
  for (const folder of SERVICE_LINK_FOLDERS) walk(folder);
  return links;
}

function sshHostKeys() {
  try {
    return new Set(fs.readdirSync(SSH_HOST_KEYS).filter((name) => name.startsWith('ssh_host_')));
  } catch {
    return new Set();
  }
}

/**
 * Runs `install` so that it leaves the services as they were: a policy-rc.d that refuses every start while
 * it runs (Debian's packages start their daemons from their setup scripts otherwise), then every unit link
 * the install added removed (`systemctl disable` does the same, but needs a running systemd) and the SSH
 * host keys it generated deleted. Returns what it undid, for the log.
 */
function withServicesLeftAlone(install) {
  const linksBefore = enabledUnitLinks();
  const keysBefore = sshHostKeys();
  const ownPolicy = !fs.existsSync(POLICY_RC_D);
  if (ownPolicy)
    fs.writeFileSync(
      POLICY_RC_D,
      "#!/bin/sh\n# Written by Project Backup's test setup while it installs packages: start no service.\nexit 101\n",
      { mode: 0o755 },
    );
  try {
    return install();
  } finally {
    if (ownPolicy) fs.rmSync(POLICY_RC_D, { force: true });
    const undone = [];
    for (const link of enabledUnitLinks()) {
      if (linksBefore.has(link)) continue;
      fs.rmSync(link, { force: true });
      undone.push(`disabled ${path.basename(link)}`);
    }
    for (const key of sshHostKeys()) {
      if (keysBefore.has(key)) continue;
      fs.rmSync(path.join(SSH_HOST_KEYS, key), { force: true });
      undone.push(`removed /etc/ssh/${key}`);
    }
    module.exports.lastUndone = undone;
  }
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
    throw new DebianPackagesError(
      `${purpose} needs these Debian packages: ${missing.join(', ')}.\nInstall them first, e.g.:  sudo ${command}\n${hint}`,
    );
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const quiet = ['-o', 'Dpkg::Use-Pty=0', '-qq'];
  withServicesLeftAlone(() => {
    if (!run('apt-get', ['install', '-y', '--no-install-recommends', ...quiet, ...missing], { env })) {
      log('apt-get install failed; refreshing the package lists and retrying');
      if (
        !run('apt-get', ['update', '-qq'], { env }) ||
        !run('apt-get', ['install', '-y', '--no-install-recommends', ...quiet, ...missing], { env })
      ) {
        throw new DebianPackagesError(`apt-get could not install ${missing.join(' ')}`);
      }
    }
  });
  if (module.exports.lastUndone.length)
    log(`left the machine's services as they were: ${module.exports.lastUndone.join(', ')}`);
  const still = missingDebianPackages(needs);
  if (still.length > 0) throw new DebianPackagesError(`still missing after apt-get: ${still.join(', ')}`);
}

module.exports = { DebianPackagesError, ensureDebianPackages, missingDebianPackages, lastUndone: [] };
