// One SSH connection to an SFTP server, and the requests made over it: the socket, the login, the check of
// the server's key, and the answer to each request. SftpBackend (sftpBackend.ts) runs the store on top of it.
// Invariants: the server's key is checked (known_hosts, an expected fingerprint, or the caller's trust on
// first use) before any credential is sent; no request waits forever (a dropped connection fails every
// waiting request at once, and one unanswered for REQUEST_TIMEOUT_MS drops the connection); a failed
// connection is one BackupError sentence; ssh2 is loaded on first connection, only through ssh2Vendor.ts.

import * as fs from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuthenticationType, ConnectConfig, ParsedKey, SFTPWrapper } from 'ssh2';
import { BackupError, errnoCode, isBackupError } from '../errors';
import { checkKnownHosts, fingerprintOf, normalizeFingerprint, preferredHostKeyAlgorithms } from './knownHosts';
import type { RemoteOptions, SftpLocation } from './remote';
import type { SftpClientLike } from './ssh2Vendor';

const posix = path.posix;

/** A request unanswered this long means a dead server or network (TCP may take many minutes to say so): reconnect. */
const REQUEST_TIMEOUT_MS = 120_000;

/** SFTP v3 status codes of a dropped connection (draft-ietf-secsh-filexfer-02). */
const NO_CONNECTION = 6;
const CONNECTION_LOST = 7;

/** Host key algorithms ssh2 supports, best first; the ones known_hosts names for the host go in front. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];
/** Keys ssh itself tries when none is given. */
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** One SSH connection and its SFTP session. Dead once the connection drops; the backend then opens a new one. */
export interface Session {
  client: SftpClientLike;
  sftp: SFTPWrapper;
  socket: net.Socket;
  /** The store folder, absolute. */
  root: string;
  alive: boolean;
  /** Operations running on it: the socket keeps the process alive only while there are some. */
  busy: number;
  /** Rejecters of the requests waiting for an answer, failed at once when the connection drops. */
  waiting: Set<(error: Error) => void>;
  /** Declares the connection dead: fails every waiting request and drops the socket. */
  kill(reason: string): void;
}

/** Thrown for requests cut off by a dropped connection: the operation is retried once on a new one. */
class ConnectionLost extends Error {}

export function sftpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export function isLost(error: unknown): boolean {
  const code = sftpCode(error);
  return (
    error instanceof ConnectionLost ||
    code === NO_CONNECTION ||
    code === CONNECTION_LOST ||
    errnoCode(error) === 'ECONNRESET' ||
    errnoCode(error) === 'EPIPE' ||
    (error instanceof Error && error.message === 'No response from server')
  );
}

/**
 * Calls one SFTP request and waits for its answer, or fails at once with ConnectionLost when the
 * connection drops (ssh2 would otherwise buffer a request to a closed channel and never answer).
 */
export function call<T>(
  s: Session,
  request: (cb: (error: Error | undefined | null, value?: T) => void) => void,
): Promise<T> {
  if (!s.alive) return Promise.reject(new ConnectionLost('the connection is closed'));
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      s.waiting.delete(fail);
      reject(error);
    };
    s.waiting.add(fail);
    const timer = setTimeout(() => s.kill(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`), REQUEST_TIMEOUT_MS);
    timer.unref();
    try {
      request((error, value) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        s.waiting.delete(fail);
        if (error) reject(error);
        else resolve(value as T);
      });
    } catch (error) {
      fail(error as Error); // ssh2 throws synchronously for an unsupported extension, or a closed channel
    }
  });
}

/**
 * Opens the connection of one backend and keeps it: every operation gets the same live session, and a new one
 * once it has dropped (the backend decides whether to run the operation again on it).
 */
export class SftpConnector {
  private session: Promise<Session> | undefined;
  /** `host:port` for messages (the location is the whole URL). */
  readonly server: string;

  constructor(
    private readonly location: string,
    private readonly target: SftpLocation,
    private readonly options: RemoteOptions,
  ) {
    this.server = target.port === 22 ? target.host : `${target.host}:${target.port}`;
  }

  /** Ends the connection, if one is open or opening. */
  async close(): Promise<void> {
    const pending = this.session;
    this.session = undefined;
    if (!pending) return;
    const s = await pending.catch(() => undefined);
    if (s) await this.end(s);
  }

  /** The live session: the one open, or a new one if there is none or it has dropped. */
  connected(): Promise<Session> {
    if (!this.session) {
      const attempt = this.connect();
      this.session = attempt;
      attempt.catch(() => {
        if (this.session === attempt) this.session = undefined; // the next operation tries again
      });
    }
    return this.session.then((s) => {
      if (s.alive) return s;
      this.forget(s);
      return this.connected();
    });
  }

  /** Drops a session that failed (ending its connection): the next `connected()` opens a new one. */
  forget(s: Session): void {
    s.alive = false;
    void this.session?.then(
      (current) => {
        if (current === s) this.session = undefined;
      },
      () => undefined,
    );
    void this.end(s);
  }

  private async end(s: Session): Promise<void> {
    s.alive = false;
    for (const fail of [...s.waiting]) fail(new ConnectionLost('the connection was closed'));
    // Held while the goodbye is exchanged, or a caller awaiting close() would see the process exit under it.
    s.socket.ref();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      s.client.end().catch(() => undefined),
      new Promise((resolve) => (timer = setTimeout(resolve, 2000))),
    ]);
    clearTimeout(timer);
    s.socket.destroy();
  }

  private async connect(): Promise<Session> {
    // require, not import(): Node's ESM loader scans the 900 KB vendor file for exports first (see
    // export/archiverVendor.ts), a block of ~100 ms in the editor's loop.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SftpClient, ssh2 } = require('./ssh2Vendor') as typeof import('./ssh2Vendor');
    const timeoutMs = (this.options.timeoutSeconds ?? 20) * 1000;
    const auth = await this.authMethods(ssh2.utils.parseKey);
    // Our own handshake limit instead of ssh2's readyTimeout: it stands still while the user decides whether
    // to trust the server's key (reading a fingerprint takes longer than any handshake should).
    let expire = () => undefined as void;
    const clock = new HandshakeClock(timeoutMs, () => expire());
    const trust = await this.hostKeyCheck(clock);
    const socket = await this.openSocket(timeoutMs);
    expire = () => socket.destroy();
    let lost: (error: Error) => void = () => undefined;
    const client = new SftpClient(`pb-${this.target.host}`, {
      // ssh2-sftp-client prints these by default; we turn them into a dead session instead.
      error: (error) => lost(error),
      end: () => lost(new ConnectionLost('the server ended the connection')),
      close: () => lost(new ConnectionLost('the connection closed')),
    });
    const config: ConnectConfig = {
      sock: socket,
      username: this.target.user,
      readyTimeout: 0,
      hostVerifier: trust.verifier,
      authHandler: auth.methods,
      algorithms: trust.algorithms ? ({ serverHostKey: trust.algorithms } as ConnectConfig['algorithms']) : undefined,
    };
    let sftp: SFTPWrapper;
    clock.start();
    try {
      sftp = await client.connect(config);
    } catch (error) {
      socket.destroy();
      throw this.connectError(
        clock.expired ? new Error('Timed out while waiting for handshake') : error,
        trust.problem(),
        auth.tried,
        timeoutMs,
      );
    } finally {
      clock.stop();
    }
    const s: Session = {
      client,
      sftp,
      socket,
      root: this.target.path,
      alive: true,
      busy: 0,
      waiting: new Set(),
      kill: (reason) => {
        lost(new ConnectionLost(reason));
        socket.destroy();
      },
    };
    lost = (error) => {
      if (!s.alive) return;
      s.alive = false;
      for (const fail of [...s.waiting]) fail(new ConnectionLost(error.message));
    };
    sftp.on('close', () => lost(new ConnectionLost('the SFTP session closed')));
    socket.unref();
    if (!posix.isAbsolute(s.root)) {
      // A folder in the home folder (sftp://host/~/x): made absolute once, for messages and temp paths.
      s.busy++;
      socket.ref();
      try {
        const home = await call<string>(s, (cb) => sftp.realpath('.', cb));
        s.root = posix.join(home, s.root);
      } catch (error) {
        await this.end(s);
        throw new BackupError(
          'REMOTE_UNREACHABLE',
          `${this.server} did not say where the home folder of ${this.target.user} is: ${(error as Error).message}.`,
          { location: this.location },
        );
      } finally {
        s.busy--;
        socket.unref();
      }
    }
    return s;
  }

  private openSocket(timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.target.host, port: this.target.port });
      // Without ssh2's optional native crypto (as bundled) a packet leaves in several writes; with Nagle's
      // algorithm each request then waits for a delayed ACK (~40 ms): 25 times slower. ssh does the same.
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new BackupError(
            'REMOTE_UNREACHABLE',
            `Cannot reach ${this.server}: no answer within ${Math.round(timeoutMs / 1000)} s; check the address and the network.`,
            { location: this.location },
          ),
        );
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        socket.destroy();
        const code = errnoCode(error);
        const why =
          code === 'ECONNREFUSED'
            ? 'the connection was refused (is an SSH server running there, on that port?)'
            : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
              ? 'the host name cannot be resolved'
              : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
                ? 'there is no route to it'
                : `${error.message}`;
        reject(
          new BackupError('REMOTE_UNREACHABLE', `Cannot reach ${this.server}: ${why}.`, {
            location: this.location,
            code,
          }),
        );
      });
    });
  }

  /** The ways to log in, in the order ssh tries them: the given key, the agent, ssh's default keys, the password. */
  private async authMethods(
    parseKey: (data: Buffer | string, passphrase?: string) => ParsedKey | ParsedKey[] | Error,
  ): Promise<{ methods: AuthenticationType[]; tried: string[] }> {
    const user = this.target.user;
    const methods: Array<Record<string, unknown>> = [];
    const tried: string[] = [];
    const { privateKey, privateKeyFile, passphrase, password } = this.options;
    const explicitKey = privateKey !== undefined || privateKeyFile !== undefined;
    if (explicitKey) {
      const name = privateKeyFile ?? 'the SSH key given';
      let text: Buffer | string;
      if (privateKey !== undefined) text = privateKey;
      else {
        try {
          text = await fs.readFile(privateKeyFile as string);
        } catch (error) {
          throw new BackupError(
            'AUTH_FAILED',
            `The SSH key file ${privateKeyFile} cannot be read (${errnoCode(error) ?? (error as Error).message}).`,
            { location: this.location, keyFile: privateKeyFile },
          );
        }
      }
      const key = parseKey(text, passphrase);
      if (key instanceof Error) {
        const encrypted = /encrypted|passphrase/i.test(key.message);
        if (encrypted && !passphrase) {
          throw new BackupError(
            'AUTH_FAILED',
            `The SSH key ${name} is protected by a passphrase, and none was given.`,
            { location: this.location, keyFile: privateKeyFile, need: 'passphrase' },
          );
        }
        if (passphrase && /decrypt|passphrase|bad/i.test(key.message)) {
          throw new BackupError('AUTH_FAILED', `The passphrase of the SSH key ${name} is wrong.`, {
            location: this.location,
            keyFile: privateKeyFile,
            need: 'passphrase',
          });
        }
        throw new BackupError(
          'AUTH_FAILED',
          `${privateKeyFile ? `The file ${privateKeyFile}` : 'The SSH key given'} is not a private key this program can read (${key.message}).`,
          { location: this.location, keyFile: privateKeyFile },
        );
      }
      methods.push({ type: 'publickey', username: user, key: Array.isArray(key) ? key[0] : key });
      tried.push(privateKeyFile ? `the key ${privateKeyFile}` : 'the key given');
    }
    const agent = this.options.agent === false ? undefined : (this.options.agent ?? process.env.SSH_AUTH_SOCK);
    if (agent) {
      methods.push({ type: 'agent', username: user, agent });
      tried.push('the ssh-agent');
    }
    if (!explicitKey && password === undefined) {
      // As ssh does without -i: the user's usual keys, those readable without a passphrase.
      for (const name of DEFAULT_KEYS) {
        const file = path.join(os.homedir(), '.ssh', name);
        const text = await fs.readFile(file).catch(() => undefined);
        if (!text) continue;
        const key = parseKey(text, passphrase);
        if (key instanceof Error) continue;
        methods.push({ type: 'publickey', username: user, key: Array.isArray(key) ? key[0] : key });
        tried.push(`~/.ssh/${name}`);
      }
    }
    if (password !== undefined) {
      methods.push({ type: 'password', username: user, password });
      tried.push('the password');
    }
    if (methods.length === 0) {
      throw new BackupError(
        'AUTH_FAILED',
        `No SSH key, password or agent was given to log in to ${this.server} as ${user}.`,
        { location: this.location, need: 'credentials' },
      );
    }
    return { methods: methods as unknown as AuthenticationType[], tried };
  }

  /**
   * The host-key check, decided before any credential is sent: an expected fingerprint if one was given,
   * else known_hosts, else (for a host known_hosts does not name) the caller's trust-on-first-use callback.
   */
  private async hostKeyCheck(clock: HandshakeClock): Promise<{
    verifier: NonNullable<ConnectConfig['hostVerifier']>;
    algorithms?: string[];
    problem: () => BackupError | undefined;
  }> {
    const expected = this.options.hostKey === undefined ? undefined : normalizeFingerprint(this.options.hostKey);
    if (this.options.hostKey !== undefined && !expected) {
      throw new BackupError(
        'USAGE',
        `"${this.options.hostKey}" is not a host key fingerprint; give it as ssh-keygen -l prints it (SHA256:…).`,
        { location: this.location },
      );
    }
    let knownHosts = '';
    let knownHostsFile = '';
    if (!expected) {
      knownHostsFile = this.options.knownHostsFile ?? path.join(os.homedir(), '.ssh', 'known_hosts');
      try {
        knownHosts = await fs.readFile(knownHostsFile, 'utf8');
      } catch (error) {
        // The default file may well not exist yet; one the caller named must.
        if (this.options.knownHostsFile !== undefined || errnoCode(error) !== 'ENOENT') {
          throw new BackupError(
            'HOST_KEY_REJECTED',
            `The known hosts file ${knownHostsFile} cannot be read (${errnoCode(error) ?? (error as Error).message}).`,
            { location: this.location },
          );
        }
      }
    }
    const hostId = this.target.hostId;
    let problem: BackupError | undefined;
    const refuse = (message: string, fingerprint: string, reason: string) => {
      problem = new BackupError('HOST_KEY_REJECTED', message, {
        location: this.location,
        host: hostId,
        fingerprint,
        reason,
      });
      return false;
    };
    const decide = async (key: Buffer): Promise<boolean> => {
      const fingerprint = fingerprintOf(key);
      if (expected) {
        if (fingerprint === expected) return true;
        return refuse(
          `The key of ${this.server} is ${fingerprint}, not the expected ${expected}; nothing was sent to it.`,
          fingerprint,
          'mismatch',
        );
      }
      const verdict = checkKnownHosts(knownHosts, hostId, key);
      if (verdict.kind === 'trusted') return true;
      if (verdict.kind === 'revoked')
        return refuse(
          `The key of ${this.server} (${fingerprint}) is marked revoked in ${knownHostsFile}; nothing was sent to it.`,
          fingerprint,
          'revoked',
        );
      if (verdict.kind === 'mismatch') {
        return refuse(
          `The key of ${this.server} (${fingerprint}) differs from the one in ${knownHostsFile}: the server's key changed or someone is intercepting the connection; nothing was sent to it.`,
          fingerprint,
          'mismatch',
        );
      }
      if (this.options.verifyHostKey) {
        clock.pause();
        const accepted = await this.options
          .verifyHostKey(hostId, fingerprint)
          .catch(() => false)
          .finally(() => clock.resume());
        if (accepted === true) return true;
        return refuse(
          `The key of ${this.server} (${fingerprint}) was not accepted; nothing was sent to it.`,
          fingerprint,
          'declined',
        );
      }
      return refuse(
        `${this.server} is not a known host (its key is ${fingerprint}); if that is its key, add it to ${knownHostsFile} (ssh-keyscan) or give it as the expected host key.`,
        fingerprint,
        'unknown',
      );
    };
    // A connection that timed out or closed while the user decided is gone: its answer goes nowhere.
    const answer = (verify: (valid: boolean) => void, valid: boolean) => {
      if (clock.expired) return;
      try {
        verify(valid);
      } catch {
        // the connection ended meanwhile; client.connect reports it
      }
    };
    const verifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      decide(key).then(
        (valid) => answer(verify, valid),
        (error: unknown) => {
          problem = new BackupError(
            'HOST_KEY_REJECTED',
            `The key of ${this.server} could not be checked: ${(error as Error).message}.`,
            { location: this.location },
          );
          answer(verify, false);
        },
      );
    };
    const preferred = knownHosts ? preferredHostKeyAlgorithms(knownHosts, hostId) : undefined;
    const algorithms = preferred
      ? [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))]
      : undefined;
    return { verifier: verifier as NonNullable<ConnectConfig['hostVerifier']>, algorithms, problem: () => problem };
  }

  private connectError(
    error: unknown,
    hostKeyProblem: BackupError | undefined,
    tried: string[],
    timeoutMs: number,
  ): BackupError {
    if (hostKeyProblem) return hostKeyProblem;
    if (isBackupError(error)) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (/authentication methods failed/i.test(message)) {
      return new BackupError(
        'AUTH_FAILED',
        `${this.server} refused to log in ${this.target.user} with ${tried.join(', ')}.`,
        { location: this.location, tried },
      );
    }
    if (/timed out/i.test(message)) {
      return new BackupError(
        'REMOTE_UNREACHABLE',
        `${this.server} did not complete an SSH handshake within ${Math.round(timeoutMs / 1000)} s; is it an SSH server?`,
        { location: this.location },
      );
    }
    if (/subsystem|sftp/i.test(message) && !/ECONNRESET/.test(message)) {
      return new BackupError(
        'REMOTE_UNREACHABLE',
        `${this.server} accepted the login but offers no SFTP (${message.replace(/^[\w.-]+: /, '')}).`,
        { location: this.location },
      );
    }
    return new BackupError(
      'REMOTE_UNREACHABLE',
      `The SSH connection to ${this.server} failed: ${message.replace(/^[\w.-]+: /, '')}.`,
      { location: this.location },
    );
  }
}

/**
 * The time an SSH handshake may take, not counting the time a person spends deciding whether to trust the
 * server's key: paused while that question is open, then running on with what was left. Expiring ends the
 * connection (`onExpire`), which fails the pending connect.
 */
export class HandshakeClock {
  expired = false;
  private left: number;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private pauses = 0;

  constructor(
    limitMs: number,
    private readonly onExpire: () => void,
  ) {
    this.left = limitMs;
  }

  start(): void {
    this.started = true;
    if (this.pauses === 0) this.run();
  }

  pause(): void {
    if (this.pauses++ > 0 || !this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.left -= Date.now() - this.since;
  }

  resume(): void {
    if (--this.pauses === 0 && this.started && !this.stopped && !this.expired) this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    if (this.stopped || this.timer) return;
    this.since = Date.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.expired = true;
        this.onExpire();
      },
      Math.max(0, this.left),
    );
  }
}
