// `project-backup init --repo <dir>`: creates an empty store (a first snapshot also does).

import { Repository } from '../core/repository/repository';
import type { Io } from './context';
import { EXIT_OK, needPositionals, parse, repoPath } from './context';

export const INIT_USAGE = 'Usage: project-backup init --repo <dir>';

export async function initCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {}, INIT_USAGE);
  if (values.help) return io.out(INIT_USAGE), EXIT_OK;
  needPositionals(positionals, 0, INIT_USAGE);
  const location = repoPath(values, io, INIT_USAGE);
  const repo = await Repository.open(location, { create: true });
  io.out(values.json ? JSON.stringify({ location: repo.location, id: repo.config.id, format: repo.config.format }) : `Store ready at ${repo.location} (format ${repo.config.format}).`);
  return EXIT_OK;
}
