// How the editor logs in to a remote store or destination: credentials from the keychain, and host-key
// trust (known_hosts, then the keys this user trusted here; a new one asked about only when interactive).
// Built before the engine room and the replicator, which both use it.

import { destinationKey } from '../core/health/gather';
import type { RemoteOptions } from '../core/storage/remote';
import type { Keychain } from './keychain';
import type { Prompter } from './prompter';

/** The login options for a location; `interactive`: a new SFTP host key may be asked about. */
export type RemoteLogin = (location: string, interactive: boolean) => Promise<RemoteOptions>;

export function remoteLogin(keychain: Keychain, prompter: () => Prompter): RemoteLogin {
  return async (location, interactive) => {
    const credentials = await keychain.credentials(destinationKey(location));
    return {
      privateKey: credentials?.privateKey,
      passphrase: credentials?.keyPassphrase,
      password: credentials?.password,
      s3Credentials:
        credentials?.accessKeyId && credentials.secretAccessKey
          ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }
          : undefined,
      verifyHostKey: async (host, fingerprint) => {
        if (keychain.trustedHostKey(host) === fingerprint) return true;
        if (!interactive) return false; // a background run never asks: "Replicate Now" will
        const trusted = await prompter().confirm(
          `The SFTP server ${host} is not known yet. Its host key fingerprint is ${fingerprint}. Trust it for backups? Compare it with the one your server administrator gives you.`,
          'Trust',
        );
        if (trusted) await keychain.trustHostKey(host, fingerprint);
        return trusted;
      },
    };
  };
}
