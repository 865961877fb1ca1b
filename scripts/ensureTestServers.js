#!/usr/bin/env node
// Installs what the unit tests need from Debian: git, tar and unzip (repositories, and archives read back
// with independent tools), and the real servers the tests start on private loopback ports from their own
// folders (no system service is used, enabled or started): OpenSSH's sshd for the SFTP tests
// (test/unit/helpers/sshd.ts) and Ceph's S3 gateway for the S3 tests (test/unit/helpers/s3Server.ts). A
// no-op when they are there; as root they are apt-installed when missing (leaving the machine's services as
// they were: scripts/debianPackages.js), otherwise this fails with the command to run, so no test skips.
'use strict';

const { spawnSync } = require('node:child_process');
const { DebianPackagesError, ensureDebianPackages } = require('./debianPackages');

const NEEDS = [
  { file: '/usr/bin/git', pkg: 'git' },
  { file: '/bin/tar', pkg: 'tar' },
  { file: '/usr/bin/unzip', pkg: 'unzip' },
  { file: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { file: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { file: '/usr/bin/radosgw', pkg: 'radosgw' },
  { file: '/usr/bin/ceph-mon', pkg: 'ceph-mon' },
  { file: '/usr/bin/ceph-osd', pkg: 'ceph-osd' },
];

try {
  ensureDebianPackages(NEEDS, {
    purpose: 'the SFTP and S3 tests',
    log: (message) => process.stderr.write(`[test servers] ${message}\n`),
  });
  const sshd = spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' });
  const rgw = spawnSync('/usr/bin/radosgw', ['--version'], { encoding: 'utf8' });
  console.log(`SFTP test server ready: /usr/sbin/sshd (${(sshd.stderr || sshd.stdout || '').trim().split(',')[0]})`);
  console.log(`S3 test server ready: /usr/bin/radosgw (${(rgw.stdout || rgw.stderr || '').trim().split('\n')[0]})`);
} catch (error) {
  console.error(`[test servers] ${error instanceof DebianPackagesError ? error.message : error.stack}`);
  process.exit(1);
}
