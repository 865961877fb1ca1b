// `project-backup restore <snapshot> --repo <dir> --target <dir> [--path <p>]... [--dry-run] [--delete]`
// Restoring over the snapshot's own workspace first snapshots what is about to change (trigger
// `pre-restore`), so every restore can be undone by restoring that snapshot.

import { formatTime, plural, shortId } from '../core/format';
import { restoreNow } from '../core/restore/restoreJob';
import type { Io } from './context';
import { EXIT_ERROR, EXIT_OK, UsageError, needPositionals, openRepo, parse, printProblems } from './context';
import { resolveInWorkspace } from './workspaceOption';

export const RESTORE_USAGE =
  'Usage: project-backup restore [<snapshot>] --repo <dir> --target <dir> [--workspace <name|id|path>] [--path <p>]... [--dry-run] [--delete] [--replace-git] [--json]\n  Without --workspace, "latest" is the newest snapshot in the store; with it, that workspace\'s (the default <snapshot> then).\n  A target that has its own .git keeps it as it is; --replace-git restores the snapshot\'s .git over it.';

export async function restoreCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      target: { type: 'string', short: 't' },
      path: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean', short: 'n' },
      delete: { type: 'boolean' },
      workspace: { type: 'string', short: 'w' },
      'replace-git': { type: 'boolean' },
    },
    RESTORE_USAGE,
  );
  if (values.help) return (io.out(RESTORE_USAGE), EXIT_OK);
  const workspace = values.workspace as string | undefined;
  // With a workspace named, the snapshot defaults to its latest: "get that project back" in one line.
  if (workspace !== undefined && positionals.length === 0) positionals.push('latest');
  needPositionals(positionals, 1, RESTORE_USAGE);
  const target = values.target as string | undefined;
  if (!target)
    throw new UsageError(`restore needs --target <dir> (the workspace itself, or another folder).\n${RESTORE_USAGE}`);
  const repo = await openRepo(values, io, RESTORE_USAGE);
  const snapshot = await resolveInWorkspace(repo, positionals[0], workspace);
  const dryRun = values['dry-run'] === true;
  // Nothing is shown before writing, so the job decides and writes in one pass (memory: one path of trees and
  // a bounded queue, not the whole plan); over the snapshot's own workspace it first snapshots what is there
  // (undo). It takes its own lock, and leaves alone what the snapshot's own rules exclude.
  const result = await restoreNow(repo, snapshot, {
    target,
    paths: values.path as string[] | undefined,
    deleteExtra: values.delete === true,
    replaceGit: values['replace-git'] === true,
    undo: 'auto',
    dryRun,
    signal,
    // --json lists every change; a dry run prints each as it is decided; otherwise only the counts.
    keepChanges: values.json ? Infinity : 0,
    onChange:
      dryRun && !values.json
        ? (c) => io.out(`would ${c.action.padEnd(9)} ${c.path}${c.type === 'dir' ? '/' : ''}`)
        : undefined,
  });
  const { plan, undo } = result;
  if (values.json) {
    io.out(
      JSON.stringify({
        snapshot: snapshot.id,
        target: plan.target,
        dryRun,
        changes: plan.changes,
        unchanged: plan.unchanged,
        gitLeft: plan.gitLeft === true,
        restored: result.restored,
        deleted: result.deleted,
        problems: result.problems,
        undo: undo?.id ?? null,
      }),
    );
  } else {
    if (dryRun) {
      io.out(
        `Dry run: ${plan.total} to change, ${plan.unchanged} already as in snapshot ${shortId(snapshot.id)}; nothing was written.`,
      );
    } else {
      io.out(
        `Restored ${plural(result.restored, 'item')} and deleted ${result.deleted} from snapshot ${shortId(snapshot.id)} (${formatTime(snapshot.time)}) into ${plan.target}; ${plan.unchanged} already matched.`,
      );
      if (undo)
        io.out(
          `To undo: project-backup restore ${shortId(undo.id)} --repo ${repo.location} --target ${snapshot.workspace.path} --delete${values['replace-git'] ? ' --replace-git' : ''}`,
        );
    }
    if (plan.gitLeft)
      io.out(
        `.git left as it is: ${plan.target} has its own (restore with --replace-git to put the snapshot's in its place).`,
      );
    printProblems(io, result.problems, 'restored', false);
  }
  return result.problems.length > 0 ? EXIT_ERROR : EXIT_OK;
}
