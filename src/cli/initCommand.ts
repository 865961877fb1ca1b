// `project-backup init --repo <dir> [--encrypt]`: creates an empty store (a first snapshot also does).
// With --encrypt the store is sealed with a passphrase (PROJECT_BACKUP_PASSWORD, --password-file or the
// terminal), which is never printed.

import { Repository } from '../core/repository/repository';
import type { Io } from './context';
import { EXIT_OK, PASSPHRASE, explainPassphrase, needPositionals, parse, passphraseSource, repoPath } from './context';

export const INIT_USAGE = 'Usage: project-backup init --repo <dir> [--encrypt] [--password-file <file>]';

export async function initCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { encrypt: { type: 'boolean' } }, INIT_USAGE);
  if (values.help) return (io.out(INIT_USAGE), EXIT_OK);
  needPositionals(positionals, 0, INIT_USAGE);
  const location = repoPath(values, io, INIT_USAGE);
  const encrypt = values.encrypt === true;
  const repo = await Repository.open(location, {
    create: true,
    encrypt,
    port: io.port,
    // A new passphrase typed on the terminal is asked twice: a typo there would lock the data away for good.
    passphrase: passphraseSource(values, io, { ...PASSPHRASE, confirm: encrypt }),
  }).catch(explainPassphrase);
  const encrypted = repo.codec.encrypted;
  if (values.json) {
    io.out(JSON.stringify({ location: repo.location, id: repo.config.id, format: repo.config.format, encrypted }));
  } else {
    io.out(`${encrypted ? 'Encrypted store' : 'Store'} ready at ${repo.location} (format ${repo.config.format}).`);
    if (encrypt) io.out('Keep the passphrase safe: without it nobody can recover the data.');
  }
  return EXIT_OK;
}
