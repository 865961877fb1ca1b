// Runs one CLI command function in this process, with runCli's error mapping (usage: 2, BackupError: 1 with
// one sentence), for commands tested before or apart from their registration in src/cli.ts.

import type { Io } from '../../../src/cli/context';
import { EXIT_ERROR, EXIT_USAGE, UsageError } from '../../../src/cli/context';
import { BackupError } from '../../../src/core/errors';
import type { CliRun } from './fixtures';

export type CommandFn = (args: string[], io: Io, signal: AbortSignal) => Promise<number>;

export async function runCommandCaptured(command: CommandFn, argv: string[], env: NodeJS.ProcessEnv = {}, signal: AbortSignal = new AbortController().signal): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const raw: Buffer[] = [];
  const io: Io = {
    out: (text) => stdout.push(...text.split('\n')),
    err: (text) => stderr.push(...text.split('\n')),
    write: async (data) => {
      raw.push(Buffer.from(data));
    },
    env,
  };
  let code: number;
  try {
    code = await command(argv, io, signal);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`project-backup: ${error.message}`);
      code = EXIT_USAGE;
    } else if (error instanceof BackupError) {
      io.err(`project-backup: ${error.message}`);
      code = EXIT_ERROR;
    } else {
      throw error;
    }
  }
  return {
    code,
    stdout,
    stderr,
    raw: Buffer.concat(raw),
    json<T>() {
      return JSON.parse(stdout.join('\n')) as T;
    },
  };
}
