// Remote locations: how an sftp:// URL names a host, user, port and folder, and the credentials and host-key
// trust a caller passes in (the CLI from flags and the environment, the editor from its secret storage).
// Invariant: a location never carries a secret, so it is safe to print, log and record as it is.

import * as os from 'node:os';
import { BackupError } from '../errors';

/**
 * How to log in to a remote store and which server keys to trust. Every secret can be given as a value (the
 * editor keeps them in VS Code's secret storage) or, for keys, as a file.
 */
export interface RemoteOptions {
  /** A private key (OpenSSH or PEM text) as a value. */
  privateKey?: string | Buffer;
  /** A private key file (the CLI's --ssh-key); read when connecting. */
  privateKeyFile?: string;
  /** The passphrase of an encrypted private key. */
  passphrase?: string;
  /** A password for password authentication. */
  password?: string;
  /** An ssh-agent socket; defaults to SSH_AUTH_SOCK. `false` never asks an agent. */
  agent?: string | false;
  /** The known_hosts file to check the server's key against; defaults to ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** The server key's expected fingerprint (`SHA256:…`, as `ssh-keygen -l` prints it); replaces known_hosts. */
  hostKey?: string;
  /**
   * Asked when the server's key is in neither `hostKey` nor known_hosts (trust on first use): resolve true to
   * trust it for this connection. Never asked for a key that contradicts a known one.
   */
  verifyHostKey?: (host: string, fingerprint: string) => Promise<boolean>;
  /** Seconds to wait for the server to answer before giving up. Default 20. */
  timeoutSeconds?: number;
  /** Access key of an s3:// store (the editor's secret storage); without it, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY. */
  s3Credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface SftpLocation {
  user: string;
  host: string;
  port: number;
  /** The folder on the server: absolute, or relative to the login folder (home) when written `/~/…`. */
  path: string;
  /** `host` or `[host]:port`, as ssh names the server in known_hosts. */
  hostId: string;
}

/**
 * Parses `sftp://[user@]host[:port]/absolute/path` or `sftp://[user@]host[:port]/~/path-in-home`. The user
 * defaults to the local user name and the port to 22, as with ssh. A password in the URL is refused: it
 * would end up in shell history, logs and the store's replica records.
 */
export function parseSftpLocation(location: string): SftpLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new BackupError(
      'USAGE',
      `"${redactLocation(location)}" is not a valid location; write sftp://user@host/path/to/store.`,
      { location: redactLocation(location) },
    );
  }
  if (url.protocol !== 'sftp:') {
    throw new BackupError(
      'USAGE',
      `Locations starting with ${url.protocol}// are not supported; use a folder path, sftp://user@host/path or s3://host/bucket/path.`,
      { location },
    );
  }
  if (url.password) {
    throw new BackupError(
      'USAGE',
      `The location ${redactLocation(location)} holds a password; give it through PROJECT_BACKUP_SSH_PASSWORD (or use a key) instead.`,
      { location: redactLocation(location) },
    );
  }
  if (url.search || url.hash) {
    throw new BackupError(
      'USAGE',
      `The location ${location} has a "?" or "#" part; write sftp://user@host/path/to/store.`,
      { location },
    );
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (!host)
    throw new BackupError('USAGE', `The location ${location} names no host; write sftp://user@host/path/to/store.`, {
      location,
    });
  const port = url.port ? Number(url.port) : 22;
  const user = url.username ? decodeURIComponent(url.username) : os.userInfo().username;
  let remotePath = decodeURIComponent(url.pathname);
  if (remotePath === '/~' || remotePath.startsWith('/~/')) remotePath = remotePath.slice(3) || '.';
  remotePath = remotePath.replace(/\/+$/, '') || '/';
  if (remotePath === '/' || remotePath === '.') {
    throw new BackupError(
      'USAGE',
      `The location ${location} names no folder; write sftp://user@host/path/to/store (or /~/folder for one in your home folder).`,
      { location },
    );
  }
  return { user, host, port, path: remotePath, hostId: port === 22 ? host : `[${host}]:${port}` };
}

/** A location without any password a URL may carry, for messages and records. */
export function redactLocation(location: string): string {
  // Up to the last "@" before the path: a password may hold a raw "@" of its own.
  return location.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/]*@/i, '$1@');
}

/**
 * Whether a private key (OpenSSH or PEM text) is protected by a passphrase, so the editor knows to ask for
 * it. An OpenSSH key says so only inside its base64 body: the cipher name after the "openssh-key-v1" magic.
 */
export function privateKeyIsEncrypted(text: string): boolean {
  if (/Proc-Type:\s*4,ENCRYPTED|BEGIN ENCRYPTED PRIVATE KEY/.test(text)) return true;
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)?.[1];
  if (!body) return false;
  const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (bytes.length < magic.length + 4 || !bytes.subarray(0, magic.length).equals(magic)) return false;
  const length = bytes.readUInt32BE(magic.length);
  const cipher = bytes.subarray(magic.length + 4, magic.length + 4 + length).toString('latin1');
  return cipher !== 'none';
}
