// The SSH libraries (ssh2-sftp-client and the ssh2 it drives) behind one module, imported on first use of an
// sftp:// location. esbuild bundles this file alone into dist/vendor/ssh2.js, so the extension never parses
// ssh2 at activation. Invariant: nothing else imports ssh2 or ssh2-sftp-client, only types from them.
// ssh2's optional native parts (cpu-features, sshcrypto.node) are left out of the bundle; it then uses
// Node's own crypto, which is all we need.

import type { Client, ConnectConfig, SFTPWrapper } from 'ssh2';
import type * as Ssh2 from 'ssh2';

/** The part of ssh2-sftp-client we use: the connection, its SFTP session, and ending both. */
export interface SftpClientLike {
  readonly client: Client;
  connect(config: ConnectConfig): Promise<SFTPWrapper>;
  end(): Promise<boolean>;
}

export type SftpClientConstructor = new (
  name?: string,
  callbacks?: { error?: (error: Error) => void; end?: () => void; close?: () => void },
) => SftpClientLike;

// require, not import: ssh2-sftp-client ships no types, and esbuild bundles a static require all the same.
/* eslint-disable @typescript-eslint/no-require-imports */
export const SftpClient = require('ssh2-sftp-client') as SftpClientConstructor;
export const ssh2 = require('ssh2') as typeof Ssh2;
/* eslint-enable @typescript-eslint/no-require-imports */
