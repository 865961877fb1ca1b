// `project-backup passwd --repo <dir>`: changes the passphrase of an encrypted store. The current one comes
// from --password-file, PROJECT_BACKUP_PASSWORD or the terminal; the new one from --new-password-file,
// PROJECT_BACKUP_NEW_PASSWORD or the terminal (asked twice). Neither is ever printed.
// Invariant: only the config is rewritten (atomically); no data is touched, no lock taken.

import { assertEncrypted, changePassphrase, verifyPassphrase } from '../core/repository/passphrase';
import type { Io } from './context';
import {
  EXIT_OK,
  NEW_PASSPHRASE,
  PASSPHRASE,
  missingPassphrase,
  needPositionals,
  parse,
  passphraseSource,
  repoPath,
} from './context';
import { explainRemote, remoteOptions } from './remote';

export const PASSWD_USAGE =
  'Usage: project-backup passwd --repo <dir> [--password-file <file>] [--new-password-file <file>] [--json]';

export async function passwdCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { 'new-password-file': { type: 'string' } }, PASSWD_USAGE);
  if (values.help) return (io.out(PASSWD_USAGE), EXIT_OK);
  needPositionals(positionals, 0, PASSWD_USAGE);
  const location = repoPath(values, io, PASSWD_USAGE);
  const options = { port: io.port, remote: remoteOptions(values, io) };
  // A plain or missing store is said so before any passphrase is asked for (or found missing).
  await assertEncrypted(location, options).catch(explainRemote);
  const current = await passphraseSource(values, io, PASSPHRASE)();
  if (current === undefined || current === '') throw missingPassphrase(PASSPHRASE, location);
  // Typing a new passphrase twice is wasted when the current one is wrong: check it first in that case.
  const newTyped =
    values['new-password-file'] === undefined && !io.env[NEW_PASSPHRASE.envName] && io.readSecret !== undefined;
  if (newTyped) await verifyPassphrase(location, current, options).catch(explainRemote);
  const next = await passphraseSource(values, io, NEW_PASSPHRASE)();
  if (next === undefined) throw missingPassphrase(NEW_PASSPHRASE, location);
  await changePassphrase(location, current, next, options).catch(explainRemote);
  if (values.json) io.out(JSON.stringify({ location, changed: true }));
  else io.out(`The passphrase of the store at ${location} is changed; the old one no longer opens it.`);
  return EXIT_OK;
}
