#!/usr/bin/env node
// Installs the real servers the unit tests start on private loopback ports (no system service is used):
// OpenSSH's sshd for the SFTP tests (test/unit/helpers/sshd.ts) and Ceph's S3 gateway for the S3 tests
// (test/unit/helpers/s3Server.ts). A no-op when they are there; as root they are apt-installed when
// missing, otherwise this fails with the command to run, so those tests never skip.
'use strict';

const { spawnSync } = require('node:child_process');
const { DebianPackagesError, ensureDebianPackages } = require('./debianPackages');

const NEEDS = [
  { file: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { file: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { file: '/usr/bin/radosgw', pkg: 'radosgw' },
  { file: '/usr/bin/ceph-mon', pkg: 'ceph-mon' },
  { file: '/usr/bin/ceph-osd', pkg: 'ceph-osd' },
];

try {
  ensureDebianPackages(NEEDS, { purpose: 'the SFTP and S3 tests', log: (message) => process.stderr.write(`[test servers] ${message}\n`) });
  const sshd = spawnSync('/usr/sbin/sshd', ['-V'], { encoding: 'utf8' });
  const rgw = spawnSync('/usr/bin/radosgw', ['--version'], { encoding: 'utf8' });
  console.log(`SFTP test server ready: /usr/sbin/sshd (${(sshd.stderr || sshd.stdout || '').trim().split(',')[0]})`);
  console.log(`S3 test server ready: /usr/bin/radosgw (${(rgw.stdout || rgw.stderr || '').trim().split('\n')[0]})`);
} catch (error) {
  console.error(`[test servers] ${error instanceof DebianPackagesError ? error.message : error.stack}`);
  process.exit(1);
}
