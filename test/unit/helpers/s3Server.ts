// A real S3 server for tests: Ceph's RADOS Gateway (Debian packages radosgw, ceph-mon, ceph-osd) on a
// one-node throwaway cluster (one monitor, one in-memory OSD, no auth inside the cluster), all in a temp
// folder and on free loopback ports. The gateway itself checks SigV4 signatures like any S3 endpoint.
// Every daemon runs in the foreground as our child, so stop() ends exactly the processes started here.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph'];

export interface S3TestServer {
  /** host:port of the gateway on 127.0.0.1. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** Why no server can be started here, or undefined when it can. */
export function s3ServerUnavailable(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat('/usr/sbin', '/usr/bin');
  const missing = BINARIES.filter((name) => !dirs.some((dir) => fs.existsSync(path.join(dir, name))));
  return missing.length
    ? `not installed: ${missing.join(', ')} (apt-get install radosgw ceph-mon ceph-osd)`
    : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Runs a `ceph` command against the new monitor, again until it answers: a monitor that has just started can
 * refuse a command for a while ("EPERM: problem getting command descriptions from mon", seen on a loaded
 * machine) although the cluster is fine. Both commands used here are idempotent (an OSD created with the
 * same uuid is the same OSD; adding it to the CRUSH map again changes nothing).
 */
async function cephCommand(conf: string, args: string[]): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await run('ceph', ['-c', conf, '--connect-timeout', '30', ...args]);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

export async function startS3Server(): Promise<S3TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-rgw-'));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'ceph.conf');
  const fsid = randomUUID();
  fs.writeFileSync(path.join(dir, 'keyring'), '');
  for (const sub of ['mon', 'osd', 'run', 'log']) fs.mkdirSync(path.join(dir, sub));
  fs.writeFileSync(
    conf,
    `[global]
fsid = ${fsid}
mon host = v1:127.0.0.1:${monPort}
mon initial members = a
auth cluster required = none
auth service required = none
auth client required = none
ms bind ipv6 = false
public network = 127.0.0.0/8
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd objectstore = memstore
memstore device bytes = 2147483648
osd class update on start = false
osd crush update on start = false
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
keyring = ${dir}/keyring
[mon.a]
mon data = ${dir}/mon
[osd.0]
osd data = ${dir}/osd
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`,
  );
  const children: ChildProcess[] = [];
  // If the test process dies without after() running, its daemons must not outlive it.
  const orphanGuard = (): void => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', orphanGuard);
  const daemon = (cmd: string, args: string[]): void => {
    const child = spawn(cmd, ['-f', '-c', conf, ...args], { stdio: 'ignore' });
    child.on('error', () => undefined);
    children.push(child);
  };
  const kill = async (): Promise<void> => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  const stop = async (): Promise<void> => {
    await kill();
    process.removeListener('exit', orphanGuard);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run('monmaptool', [
      '--create',
      '--add',
      'a',
      `v1:127.0.0.1:${monPort}`,
      '--fsid',
      fsid,
      path.join(dir, 'monmap'),
    ]);
    await run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', path.join(dir, 'monmap')]);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    await cephCommand(conf, ['osd', 'create', osdUuid]);
    await run('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    await cephCommand(conf, ['osd', 'crush', 'add', 'osd.0', '1', 'root=default']);
    daemon('ceph-osd', ['-i', '0']);
    daemon('radosgw', ['-n', 'client.rgw.a']);
    const deadline = Date.now() + 90_000;
    while (!(await answers(rgwPort))) {
      if (Date.now() > deadline)
        throw new Error(`radosgw did not answer on port ${rgwPort} within 90 s; see ${dir}/log`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const accessKeyId = `TEST${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`;
    const secretAccessKey = randomUUID();
    await run('radosgw-admin', [
      '-c',
      conf,
      'user',
      'create',
      '--uid=test',
      '--display-name=test',
      `--access-key=${accessKeyId}`,
      `--secret=${secretAccessKey}`,
    ]);
    return { endpoint: `127.0.0.1:${rgwPort}`, accessKeyId, secretAccessKey, stop };
  } catch (error) {
    await kill(); // the folder stays, with the daemons' logs
    throw error;
  }
}
