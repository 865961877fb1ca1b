// The command line of `npm run bench` (node dist/bench.js --help).

import type { ToolName } from './tool';

export const allTools: ToolName[] = ['ours', 'git', 'restic', 'borg', 'cp'];

export interface Options {
  quick: boolean;
  /** Skip the small-files step (200,000 files; 10,000 with --quick). */
  skipSmall: boolean;
  dir?: string;
  cli?: string;
  tools: ToolName[];
  rounds?: number;
  saves?: number;
  /** Repetitions of the steps whose time depends on the disk's state (alternating order); 3 by default, 1 with --quick. */
  pairs?: number;
  /** Where the JSON of every figure goes (default DIR/results.json). */
  json?: string;
  /** Sections left out (cli, editor, blocks, scale, replay). */
  skip: Set<Section>;
  /** Commits replayed by the replay step. */
  commits?: number;
}

export type Section = 'cli' | 'editor' | 'blocks' | 'scale' | 'replay';
const sections: Section[] = ['cli', 'editor', 'blocks', 'scale', 'replay'];

const usage = `usage: node dist/bench.js [--quick] [--skip-200k] [--dir PATH] [--cli PATH] [--tools ours,git,restic,borg,cp]
                          [--rounds N] [--saves N] [--pairs N] [--commits N] [--json FILE] [--skip cli,editor,blocks,scale,replay]
  --quick      1,000 files, 8 MiB big file, 10,000 small files, 50 saves, 5 edit rounds (smoke test)
  --skip-200k  skip the 200,000-small-file step (time and peak RSS of first snapshot, no-change, restore all,
               verify); --skip-100k is the same flag under its older name
  --dir        work folder (default: .bench/ in the repository); results go to DIR/results.json
  --cli        Project Backup CLI to run (default: dist/cli.js in the repository)
  --pairs      repetitions of first snapshots and restores, tools in alternating order (default 3; 1 with --quick)
  --commits    commits of this repository's history replayed as edits (default 50; 10 with --quick)
  --json       where every figure is written as JSON (default DIR/results.json)
  --skip       leave sections out: cli (the tools' CLI table), editor (the editor's path in process),
               blocks (event-loop blocks in process at the 200k step), scale (CLI cost against the number of
               snapshots), replay (real commits replayed)`;

/** A mistake on the command line: printed without a stack trace. */
export class UsageError extends Error {}

export function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, skipSmall: false, tools: [...allTools], skip: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value\n${usage}`);
      return v;
    };
    const count = (): number => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--skip-200k' || a === '--skip-100k') o.skipSmall = true;
    else if (a === '--dir') o.dir = value();
    else if (a === '--cli') o.cli = value();
    else if (a === '--rounds') o.rounds = count();
    else if (a === '--saves') o.saves = count();
    else if (a === '--pairs') o.pairs = count();
    else if (a === '--commits') o.commits = count();
    else if (a === '--json') o.json = value();
    else if (a === '--skip') {
      const names = value()
        .split(',')
        .map((s) => s.trim());
      const bad = names.filter((n) => !sections.includes(n as Section));
      if (bad.length > 0) throw new UsageError(`unknown section(s): ${bad.join(', ')}; known: ${sections.join(', ')}`);
      for (const n of names) o.skip.add(n as Section);
    } else if (a === '--tools') {
      const names = value()
        .split(',')
        .map((s) => s.trim());
      const bad = names.filter((n) => !allTools.includes(n as ToolName));
      if (bad.length > 0) throw new UsageError(`unknown tool(s): ${bad.join(', ')}; known: ${allTools.join(', ')}`);
      o.tools = allTools.filter((t) => names.includes(t));
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(usage + '\n');
      process.exit(0);
    } else throw new UsageError(`unknown argument ${a}\n${usage}`);
  }
  return o;
}
