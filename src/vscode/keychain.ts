// Secrets the editor holds for the user: the passphrase of each encrypted store and the credentials of
// each SFTP destination, in VS Code's secret storage (the OS keychain), plus the SSH host keys the user
// chose to trust. Invariants: a secret is asked for once and kept only after it worked; it never reaches
// settings, the log or an error message; a passphrase that stopped working is forgotten, not retried.

import * as vscode from 'vscode';
import type { Prompter } from './prompter';

const PASSPHRASE = 'projectBackup.passphrase:';
const CREDENTIALS = 'projectBackup.credentials:';
const HOST_KEYS = 'projectBackup.trustedHostKeys';

/** How a destination logs in: SFTP with a password or a private key (with its own passphrase), S3 with an access key. */
export interface DestinationCredentials {
  password?: string;
  privateKey?: string;
  keyPassphrase?: string;
  /** An S3-compatible store's access key. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export class Keychain {
  /** Stores whose passphrase prompt the user cancelled: background snapshots do not ask again until "Unlock". */
  private readonly declined = new Set<string>();
  private prompts: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
    private readonly prompter: () => Prompter,
  ) {}

  /**
   * The passphrase to try for a store: the remembered one on the first attempt, otherwise asked for.
   * Undefined when the user cancels.
   */
  async passphrase(store: string, attempt: number): Promise<string | undefined> {
    if (attempt === 0) {
      const kept = await this.secrets.get(PASSPHRASE + store);
      if (kept) return kept;
    }
    if (this.declined.has(store)) return undefined;
    const again = attempt > 0 ? ' That passphrase did not open it; try again.' : '';
    // One prompt at a time: VS Code shows one input box, and a second would cancel the first (two encrypted
    // stores opening at once would otherwise look like two cancels).
    const turn = this.prompts.then(async () => {
      if (this.declined.has(store)) return undefined;
      if (attempt === 0) {
        const kept = await this.secrets.get(PASSPHRASE + store); // entered meanwhile, for another window of ours
        if (kept) return kept;
      }
      const given = await this.prompter().askSecret(
        `The backup store ${store} is encrypted: enter its passphrase.${again}`,
        'Passphrase (kept in your system keychain)',
      );
      if (given === undefined || given === '') this.declined.add(store);
      return given || undefined;
    });
    this.prompts = turn.catch(() => undefined);
    return turn;
  }

  /** Stops asking for a store's passphrase in the background (after a cancel, or too many wrong ones). */
  decline(store: string): void {
    this.declined.add(store);
  }

  /** Lets the next open of the store ask again ("Backup: Unlock Encrypted Store"). */
  allowAsking(store: string): void {
    this.declined.delete(store);
  }

  async hasPassphrase(store: string): Promise<boolean> {
    return (await this.secrets.get(PASSPHRASE + store)) !== undefined;
  }

  rememberPassphrase(store: string, passphrase: string): Thenable<void> {
    return this.secrets.store(PASSPHRASE + store, passphrase);
  }

  forgetPassphrase(store: string): Thenable<void> {
    return this.secrets.delete(PASSPHRASE + store);
  }

  async credentials(destination: string): Promise<DestinationCredentials | undefined> {
    const raw = await this.secrets.get(CREDENTIALS + destination);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as DestinationCredentials;
    } catch {
      return undefined;
    }
  }

  setCredentials(destination: string, credentials: DestinationCredentials): Thenable<void> {
    return this.secrets.store(CREDENTIALS + destination, JSON.stringify(credentials));
  }

  forgetCredentials(destination: string): Thenable<void> {
    return this.secrets.delete(CREDENTIALS + destination);
  }

  /** The SHA256 fingerprint the user trusted for `host` (host:port), if any. */
  trustedHostKey(host: string): string | undefined {
    return this.state.get<Record<string, string>>(HOST_KEYS, {})[host];
  }

  trustHostKey(host: string, fingerprint: string): Thenable<void> {
    return this.state.update(HOST_KEYS, {
      ...this.state.get<Record<string, string>>(HOST_KEYS, {}),
      [host]: fingerprint,
    });
  }
}
