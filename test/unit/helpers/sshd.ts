// A real OpenSSH server for the SFTP tests: Debian's /usr/sbin/sshd on 127.0.0.1 and a free high port, with
// a temporary host key, a temporary user key and its own authorized_keys, serving folders under a temp dir.
// As root it logs in a dedicated user made for this run (with a password, so password login is tested, and
// without root's power to ignore permissions); otherwise the current user, where sshd turns privilege
// separation off by itself. Invariant: a missing sshd fails the suite with a sentence saying how to install
// it, never skips; everything the harness made (process, user, folders) is removed by stop().

import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RemoteOptions } from '../../../src/core/storage/remote';
import { removeDir } from './fixtures';

/** Debian's sshd; PB_SSHD points elsewhere (another distribution's path). */
export const SSHD = process.env.PB_SSHD || '/usr/sbin/sshd';
const USER_PREFIX = 'pb-sftp-';

export interface Sshd {
  readonly host: string;
  readonly port: number;
  /** The user tests log in as. */
  readonly user: string;
  /** Whether `user` was made for this run (tests run as root): then it has a password and a home of its own. */
  readonly dedicatedUser: boolean;
  /** The user's password (only with a dedicated user). */
  readonly password?: string;
  /** A private key authorized for `user` (OpenSSH format, no passphrase). */
  readonly keyFile: string;
  /** A known_hosts file naming this server's key as `[127.0.0.1]:port`. */
  readonly knownHostsFile: string;
  /** The server key's fingerprint as `ssh-keygen -l` prints it. */
  readonly hostKeyFingerprint: string;
  /** The server key's `type base64` (for writing other known_hosts files). */
  readonly hostKeyLine: string;
  /** A new empty folder the user owns; absolute path on the local machine (which is the server). */
  folder(label?: string): string;
  /** sftp://user@127.0.0.1:port<absolute path> */
  url(absolutePath: string): string;
  /** Key and known_hosts: what a test passes as RemoteOptions to log in. */
  remote(extra?: RemoteOptions): RemoteOptions;
  /** The CLI flags that say the same. */
  cliFlags(): string[];
  /** Gives the user a path the test made (as root the test's files belong to root). */
  giveToUser(target: string): void;
  /** Kills the per-connection sshd processes: every open SFTP connection drops; the listener stays. */
  dropConnections(): number;
  /** Generates a key pair under the harness's folder; returns the private key file. */
  newKey(label: string, passphrase?: string): string;
  /** Lets the key (a private key file from newKey) log in as `user`. */
  authorize(keyFile: string): void;
  /** sshd's log so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the port answers with an SSH banner; rejects when sshd exits or `ms` pass. */
function waitForBanner(port: number, child: ChildProcess, ms: number, log: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    let exited = false;
    child.once('exit', (code) => {
      exited = true;
      reject(new Error(`sshd exited (code ${code}) before it listened:\n${log()}`));
    });
    const attempt = () => {
      if (exited) return;
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('data', (data) => {
        socket.destroy();
        if (data.toString('latin1').startsWith('SSH-')) resolve();
        else retry();
      });
      socket.once('error', () => {
        socket.destroy();
        retry();
      });
    };
    const retry = () => {
      if (Date.now() > deadline) reject(new Error(`sshd did not listen on port ${port} within ${ms} ms:\n${log()}`));
      else setTimeout(attempt, 50);
    };
    attempt();
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Users a killed earlier run left behind (their pid is in the name). */
function removeLeftoverUsers(): void {
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return;
  }
  for (const line of passwd.split('\n')) {
    const name = line.split(':')[0];
    if (!name.startsWith(USER_PREFIX)) continue;
    const pid = Number(name.slice(USER_PREFIX.length));
    if (Number.isInteger(pid) && !pidAlive(pid)) {
      try {
        execFileSync('userdel', [name], { stdio: 'ignore' });
      } catch {
        // someone else's cleanup got there first
      }
    }
  }
}

/**
 * Servers of earlier runs whose test process died without stopping them (killed, or a crash): each base
 * folder names its owner's pid; when that process is gone, its sshd (found by its config path) is ended,
 * with its sessions, and the folder removed.
 */
function removeLeftoverServers(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith('pb-sshd-')) continue;
    const base = path.join(os.tmpdir(), name);
    let owner: number | undefined;
    try {
      owner = Number(fs.readFileSync(path.join(base, 'owner'), 'utf8')) || undefined;
    } catch {
      continue; // being set up, or not ours
    }
    if (owner === undefined || pidAlive(owner)) continue;
    const config = path.join(base, 'sshd_config');
    for (const pid of fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)) {
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      // sshd rewrites its title ("sshd: /usr/sbin/sshd -D -e -f <config> [listener] …"): match the path in it.
      if (!cmdline.includes(`${config} `) && !cmdline.split('\0').includes(config)) continue;
      for (const child of childrenOf(pid)) killQuietly(child);
      killQuietly(pid);
    }
    removeDir(base);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Children of `pid`, from /proc (no pgrep needed). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function keygen(file: string, comment: string, passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], { stdio: 'ignore' });
}

export async function startSshd(): Promise<Sshd> {
  if (!fs.existsSync(SSHD)) {
    throw new Error(
      `The SFTP tests need a real OpenSSH server, and ${SSHD} is missing: install it with ` +
        '`apt-get install -y --no-install-recommends openssh-server` (npm test and .ci/run do this when they run as root).',
    );
  }
  const root = isRoot();
  removeLeftoverServers();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pb-sshd-'));
  fs.chmodSync(base, 0o755); // the dedicated user must reach its folders
  fs.writeFileSync(path.join(base, 'owner'), String(process.pid));
  const served = path.join(base, 'served');
  const home = path.join(base, 'home');
  fs.mkdirSync(served, { mode: 0o755 });
  fs.mkdirSync(home, { mode: 0o755 });
  const hostKey = path.join(base, 'host_ed25519');
  const keyFile = path.join(base, 'user_ed25519');
  keygen(hostKey, 'pb-test-host');
  keygen(keyFile, 'pb-test-user');
  const authorizedKeys = path.join(base, 'authorized_keys');
  fs.writeFileSync(authorizedKeys, fs.readFileSync(`${keyFile}.pub`), { mode: 0o644 });

  let user = os.userInfo().username;
  let password: string | undefined;
  let uid: number | undefined;
  let gid: number | undefined;
  if (root) {
    removeLeftoverUsers();
    user = `${USER_PREFIX}${process.pid}`;
    password = randomBytes(12).toString('hex');
    try {
      execFileSync('useradd', ['--no-create-home', '--home-dir', home, '--shell', '/bin/sh', user], { stdio: 'pipe' });
    } catch (error) {
      if (!/already exists/.test(String((error as { stderr?: Buffer }).stderr ?? ''))) throw error;
    }
    execFileSync('chpasswd', { input: `${user}:${password}\n`, stdio: ['pipe', 'ignore', 'pipe'] });
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    fs.chownSync(home, uid, gid);
    fs.chownSync(served, uid, gid);
    // sshd's privilege separation needs its empty chroot folder (the Debian service creates it at boot).
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  }

  let logText = '';
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const config = path.join(base, 'sshd_config');
    fs.writeFileSync(
      config,
      [
        `ListenAddress 127.0.0.1`,
        `Port ${port}`,
        `HostKey ${hostKey}`,
        `PidFile none`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        `StrictModes no`,
        `UsePAM no`,
        `PubkeyAuthentication yes`,
        `PasswordAuthentication ${root ? 'yes' : 'no'}`,
        `KbdInteractiveAuthentication no`,
        `PermitRootLogin no`,
        `AllowUsers ${user}`,
        `Subsystem sftp internal-sftp`,
        `MaxStartups 100`,
        `MaxSessions 100`,
        `MaxAuthTries 10`,
        `LogLevel INFO`,
        '',
      ].join('\n'),
    );
    logText = '';
    child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (data: Buffer) => {
      logText += data.toString('utf8');
      if (logText.length > 200_000) logText = logText.slice(-100_000);
    });
    try {
      await waitForBanner(port, child, 15_000, () => logText);
      break;
    } catch (error) {
      child.kill('SIGKILL');
      // Someone took the port between our check and sshd's bind: try another.
      if (attempt < 3 && /Address already in use|Cannot bind/i.test(logText)) continue;
      throw error;
    }
  }
  const listener = child;
  listener.unref();
  // A test process that exits without stop() (process.exit, an uncaught error) still ends its server.
  const onExit = () => killQuietly(listener.pid as number);
  process.once('exit', onExit);
  (listener.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  const pub = fs.readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const hostKeyLine = `${pub[0]} ${pub[1]}`;
  const knownHostsFile = path.join(base, 'known_hosts');
  fs.writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
  const hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], {
    encoding: 'utf8',
  }).split(/\s+/)[1];

  let folders = 0;
  const giveToUser = (target: string) => {
    if (uid === undefined || gid === undefined) return;
    const walk = (p: string) => {
      fs.lchownSync(p, uid as number, gid as number);
      if (fs.lstatSync(p).isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
    };
    walk(target);
  };
  let stopped = false;
  return {
    host: '127.0.0.1',
    port,
    user,
    dedicatedUser: root,
    password,
    keyFile,
    knownHostsFile,
    hostKeyFingerprint,
    hostKeyLine,
    folder(label = 'dir') {
      const dir = path.join(served, `${label.replace(/[^a-zA-Z0-9_-]/g, '_')}-${++folders}`);
      fs.mkdirSync(dir, { mode: 0o755 });
      giveToUser(dir);
      return dir;
    },
    url: (absolutePath) => `sftp://${user}@127.0.0.1:${port}${absolutePath}`,
    remote: (extra = {}) => ({ privateKeyFile: keyFile, knownHostsFile, agent: false, ...extra }),
    cliFlags: () => ['--ssh-key', keyFile, '--known-hosts', knownHostsFile],
    giveToUser,
    dropConnections() {
      const sessions = childrenOf(listener.pid as number);
      for (const pid of sessions) killQuietly(pid);
      return sessions.length;
    },
    newKey(label, passphrase) {
      const file = path.join(base, `key-${label}-${++folders}`);
      keygen(file, `pb-test-${label}`, passphrase ?? '');
      return file;
    },
    authorize(file) {
      fs.appendFileSync(authorizedKeys, fs.readFileSync(`${file}.pub`));
    },
    log: () => logText,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      for (const pid of childrenOf(listener.pid as number)) killQuietly(pid);
      if (listener.exitCode === null && listener.signalCode === null) {
        const exited = new Promise((resolve) => listener.once('exit', resolve));
        listener.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (listener.exitCode === null && listener.signalCode === null) listener.kill('SIGKILL');
      }
      if (root) {
        for (const mount of fs.readFileSync('/proc/mounts', 'utf8').split('\n')) {
          const where = mount.split(' ')[1];
          if (where?.startsWith(`${base}/`)) execFileSync('umount', ['-l', where], { stdio: 'ignore' });
        }
        try {
          execFileSync('userdel', [user], { stdio: 'ignore' });
        } catch {
          // removed already
        }
      }
      removeDir(base);
    },
  };
}

/** Call inside a `describe`: one server for the suite, stopped after it. */
export function useSshd(): () => Sshd {
  let server: Sshd | undefined;
  before(async function () {
    this.timeout(60_000);
    server = await startSshd();
  });
  after(async function () {
    this.timeout(30_000);
    await server?.stop();
  });
  return () => {
    if (!server) throw new Error('sshd is not running (its start failed; see the before-all hook)');
    return server;
  };
}
