// `project-backup restore <snapshot> --repo <dir> --target <dir> [--path <p>]... [--dry-run] [--delete]`
// Restoring over the snapshot's own workspace first snapshots what is about to change (trigger
// `pre-restore`), so every restore can be undone by restoring that snapshot.

import * as path from 'node:path';
import { BackupError } from '../core/errors';
import { formatTime, plural, shortId } from '../core/format';
import { Restorer } from '../core/restore/restorer';
import { Snapshotter } from '../core/snapshot/snapshotter';
import type { SnapshotRecord } from '../core/repository/snapshotRecord';
import type { Io } from './context';
import { EXIT_ERROR, EXIT_OK, UsageError, needPositionals, openRepo, parse, printProblems } from './context';
import { resolveInWorkspace } from './workspaceOption';

export const RESTORE_USAGE = 'Usage: project-backup restore [<snapshot>] --repo <dir> --target <dir> [--workspace <name|id|path>] [--path <p>]... [--dry-run] [--delete] [--replace-git] [--json]\n  Without --workspace, "latest" is the newest snapshot in the store; with it, that workspace\'s (the default <snapshot> then).\n  A target that has its own .git keeps it as it is; --replace-git restores the snapshot\'s .git over it.';

/** Whether `target` is the workspace or a folder inside it (so the restore changes the workspace). */
async function insideWorkspace(target: string, workspace: string): Promise<boolean> {
  const { realpath } = await import('node:fs/promises');
  // The target may not exist yet: resolve its nearest existing ancestor.
  const real = async (p: string): Promise<string> => {
    const abs = path.resolve(p);
    try {
      return await realpath(abs);
    } catch {
      const parent = path.dirname(abs);
      return parent === abs ? abs : path.join(await real(parent), path.basename(abs));
    }
  };
  const rel = path.relative(await real(workspace), await real(target));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

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
  if (values.help) return io.out(RESTORE_USAGE), EXIT_OK;
  const workspace = values.workspace as string | undefined;
  // With a workspace named, the snapshot defaults to its latest: "get that project back" in one line.
  if (workspace !== undefined && positionals.length === 0) positionals.push('latest');
  needPositionals(positionals, 1, RESTORE_USAGE);
  const target = values.target as string | undefined;
  if (!target) throw new UsageError(`restore needs --target <dir> (the workspace itself, or another folder).\n${RESTORE_USAGE}`);
  const repo = await openRepo(values, io, RESTORE_USAGE);
  const snapshot = await resolveInWorkspace(repo, positionals[0], workspace);
  const dryRun = values['dry-run'] === true;
  const overWorkspace = await insideWorkspace(target, snapshot.workspace.path);
  let undo: SnapshotRecord | undefined;

  // The restore takes its own lock, and leaves alone what the snapshot's own rules exclude.
  const restorer = new Restorer(repo);
  {
    const result = await restorer.restore(snapshot, {
      target,
      paths: values.path as string[] | undefined,
      dryRun,
      deleteExtra: values.delete === true,
      replaceGit: values['replace-git'] === true,
      signal,
      // --json lists every change; a dry run prints each as it is decided; otherwise only the counts.
      keepChanges: values.json ? Infinity : 0,
      onChange: dryRun && !values.json ? (c) => io.out(`would ${c.action.padEnd(9)} ${c.path}${c.type === 'dir' ? '/' : ''}`) : undefined,
      beforeWrite: overWorkspace
        ? async () => {
            if (repo.readOnly) {
              throw new BackupError('PERMISSION_DENIED', `The store at ${repo.location} cannot be written, so the undo snapshot taken before restoring over the workspace cannot be made; nothing was changed. Restore into another folder (--target), or make the store writable.`, { location: repo.location });
            }
            // A full snapshot (cheap with the stat cache), so undo puts back exactly what was there, even
            // changes never snapshotted. Locks are shared, so it runs while we hold ours.
            const snapshotter = new Snapshotter(repo, { workspace: snapshot.workspace.path, trigger: 'pre-restore' });
            undo = (await snapshotter.snapshot({ trigger: 'pre-restore', signal })).snapshot;
          }
        : undefined,
    });
    if (values.json) {
      io.out(JSON.stringify({ snapshot: snapshot.id, target: path.resolve(target), dryRun, changes: result.plan.changes, unchanged: result.plan.unchanged, gitLeft: result.plan.gitLeft === true, restored: result.restored, deleted: result.deleted, problems: result.problems, undo: undo?.id ?? null }));
    } else {
      if (dryRun) {
        io.out(`Dry run: ${result.plan.total} to change, ${result.plan.unchanged} already as in snapshot ${shortId(snapshot.id)}; nothing was written.`);
      } else {
        io.out(`Restored ${plural(result.restored, 'item')} and deleted ${result.deleted} from snapshot ${shortId(snapshot.id)} (${formatTime(snapshot.time)}) into ${path.resolve(target)}; ${result.plan.unchanged} already matched.`);
        if (undo) io.out(`To undo: project-backup restore ${shortId(undo.id)} --repo ${repo.location} --target ${snapshot.workspace.path} --delete${values['replace-git'] ? ' --replace-git' : ''}`);
      }
      if (result.plan.gitLeft) io.out(`.git left as it is: ${path.resolve(target)} has its own (restore with --replace-git to put the snapshot's in its place).`);
      printProblems(io, result.problems, 'restored', false);
    }
    return result.problems.length > 0 ? EXIT_ERROR : EXIT_OK;
  }
}
