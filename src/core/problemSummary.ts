// The few lines a user reads when many entries of a restore, mirror or export failed: what failed (the
// reasons, counted), how many, the first few paths, and where the full list is. Shared by the CLI and the
// editor so both say it the same way; a target that cannot be written must not print one line per file.

import { plural, thousands } from './format';

export interface EntryProblem {
  path: string;
  reason: string;
}

export interface ProblemSummaryOptions {
  /** The verb in "not <verb>": restored, mirrored, exported. */
  verb: string;
  /** The sentence that says where every entry is listed, e.g. "The full list: run it again with --json." */
  fullList: string;
  /** How many paths to name; the rest are counted. */
  first?: number;
}

export interface ProblemSummary {
  /** One sentence: how many entries failed and why, e.g. "808 items were not restored: permission denied (808)." */
  headline: string;
  /** What to print: one `not <verb>: <path>: <reason>` line per entry when they are few; else the headline, the first few and the pointer. */
  lines: string[];
}

export const FIRST_PROBLEMS = 5;

/** The most common reasons named in the headline; the rest are counted as "other reasons". */
const REASONS_NAMED = 3;

export function summarizeProblems(problems: readonly EntryProblem[], options: ProblemSummaryOptions): ProblemSummary {
  const first = options.first ?? FIRST_PROBLEMS;
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1]);
  const named = ranked.slice(0, REASONS_NAMED).map(([reason, n]) => `${reason} (${thousands(n)})`);
  const others = ranked.slice(REASONS_NAMED).reduce((sum, [, n]) => sum + n, 0);
  if (others > 0) named.push(`other reasons (${thousands(others)})`);
  const many = problems.length === 1 ? 'was' : 'were';
  const headline =
    problems.length === 0 ? '' : `${plural(problems.length, 'item')} ${many} not ${options.verb}: ${named.join('; ')}.`;
  const line = (p: EntryProblem) => `not ${options.verb}: ${p.path}: ${p.reason}`;
  if (problems.length <= first) return { headline, lines: problems.map(line) };
  return {
    headline,
    lines: [
      `${headline} The first ${first}:`,
      ...problems.slice(0, first).map(line),
      `…and ${plural(problems.length - first, 'more item')}. ${options.fullList}`,
    ],
  };
}
