// What the CLI adds for remote (sftp://) stores: the --ssh-key/--known-hosts/--host-key options and their
// environment variables, sentences that name those options, and closing connections when a command ends.
// Invariant: a command that opened an SFTP connection closes it before runCli returns, so the process ends.

import * as path from 'node:path';
import { BackupError, isBackupError } from '../core/errors';
import { s3CredentialsFromEnv } from '../core/storage/s3Backend';
import type { RemoteOptions } from '../core/storage/remote';
import type { Io, Options } from './context';

/** Accepted by every command (they all take --repo, which may be an sftp:// URL). */
export const REMOTE_OPTIONS: Options = {
  'ssh-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  'host-key': { type: 'string' },
};

export const REMOTE_HELP = `For sftp://user@host[:port]/path (or /~/path in the home folder): --ssh-key <file> (or PROJECT_BACKUP_SSH_KEY),
  PROJECT_BACKUP_SSH_KEY_PASSPHRASE, PROJECT_BACKUP_SSH_PASSWORD, or ssh-agent; the server's key must be in
  ~/.ssh/known_hosts (--known-hosts <file>) or given with --host-key SHA256:…`;

/** Credentials and host-key trust from the options and the environment (the run's, not the process's). */
export function remoteOptions(values: Record<string, unknown>, io: Io): RemoteOptions {
  const keyFile = (values['ssh-key'] as string | undefined) ?? (io.env.PROJECT_BACKUP_SSH_KEY || undefined);
  const knownHosts = values['known-hosts'] as string | undefined;
  return {
    privateKeyFile: keyFile === undefined ? undefined : path.resolve(keyFile),
    passphrase: io.env.PROJECT_BACKUP_SSH_KEY_PASSPHRASE || undefined,
    password: io.env.PROJECT_BACKUP_SSH_PASSWORD || undefined,
    agent: io.env.SSH_AUTH_SOCK || false,
    knownHostsFile: knownHosts === undefined ? undefined : path.resolve(knownHosts),
    hostKey: values['host-key'] as string | undefined,
    // s3:// stores: the usual AWS variables, read from this run's environment.
    s3Credentials: s3CredentialsFromEnv(io.env),
  };
}

/** The core cannot know our options: a sentence that says which option or variable would help. */
export function explainRemote(error: unknown): never {
  if (isBackupError(error, 'AUTH_FAILED') && error.data.need === 'passphrase') {
    throw new BackupError(
      'AUTH_FAILED',
      `${error.message.replace(/\.$/, '')}: set PROJECT_BACKUP_SSH_KEY_PASSPHRASE.`,
      error.data,
    );
  }
  if (isBackupError(error, 'AUTH_FAILED') && error.data.need === 'credentials') {
    throw new BackupError(
      'AUTH_FAILED',
      `${error.message.replace(/\.$/, '')}: pass --ssh-key <file>, set PROJECT_BACKUP_SSH_PASSWORD, or start ssh-agent.`,
      error.data,
    );
  }
  if (isBackupError(error, 'HOST_KEY_REJECTED') && error.data.reason === 'unknown') {
    throw new BackupError(
      'HOST_KEY_REJECTED',
      error.message.replace(
        /or give it as the expected host key\.$/,
        `or pass --host-key ${String(error.data.fingerprint)}.`,
      ),
      error.data,
    );
  }
  throw error;
}

interface Closable {
  close(): Promise<void>;
}

// Per run (an Io is one run): tests run the CLI in process, several at once.
const opened = new WeakMap<Io, Closable[]>();

/** Remembers something to close when the command ends; returns it. */
export function closeAfterCommand<T extends Closable>(io: Io, closable: T): T {
  let list = opened.get(io);
  if (!list) opened.set(io, (list = []));
  list.push(closable);
  return closable;
}

/** Closes what the command opened (runCli calls it after every command, success or not). */
export async function closeOpened(io: Io): Promise<void> {
  const list = opened.get(io);
  opened.delete(io);
  for (const closable of list ?? []) await closable.close().catch(() => undefined);
}
