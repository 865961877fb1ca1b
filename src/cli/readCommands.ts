// The read-only commands: list, ls, cat, history, diff. None of them takes a lock or writes anything.

import * as path from 'node:path';
import { BackupError } from '../core/errors';
import { formatBytes, formatTime, shortId } from '../core/format';
import { entryAt, history, listTree, readFile } from '../core/query/browse';
import { diffTrees } from '../core/query/diff';
import type { TreeEntry } from '../core/repository/tree';
import type { Io } from './context';
import { EXIT_OK, UsageError, filterWorkspace, needPositionals, openRepo, parse } from './context';
import { resolveInWorkspace } from './workspaceOption';

export const LIST_USAGE = 'Usage: project-backup list --repo <dir> [--workspace <name|id|path>] [--json]';
export const LS_USAGE =
  'Usage: project-backup ls <snapshot> [<path>] --repo <dir> [--workspace <name|id|path>] [--recursive] [--json]';
export const CAT_USAGE = 'Usage: project-backup cat <snapshot> <path> --repo <dir>';
export const HISTORY_USAGE = 'Usage: project-backup history <path> --repo <dir> --workspace <dir> [--json]';
export const DIFF_USAGE = 'Usage: project-backup diff <snapshot> <snapshot> --repo <dir> [--json]';

function describeEntry(entry: TreeEntry): string {
  switch (entry.type) {
    case 'file':
      return `${entry.mode.toString(8).padStart(4, '0')} ${String(entry.size).padStart(12)}`;
    case 'dir':
      return `dir  ${''.padStart(12)}`;
    case 'symlink':
      return `link ${''.padStart(12)}`;
  }
}

function entryJson(entry: TreeEntry) {
  switch (entry.type) {
    case 'file':
      return { type: 'file', mode: entry.mode, size: entry.size };
    case 'dir':
      return { type: 'dir' };
    case 'symlink':
      return { type: 'symlink', target: entry.target };
  }
}

export async function listCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { workspace: { type: 'string', short: 'w' } }, LIST_USAGE);
  if (values.help) return (io.out(LIST_USAGE), EXIT_OK);
  needPositionals(positionals, 0, LIST_USAGE);
  const repo = await openRepo(values, io, LIST_USAGE);
  const snapshots = await filterWorkspace(
    repo,
    await repo.listSnapshots({ reload: true, onDamaged: (key, error) => io.err(`${key}: ${error.message}`) }),
    values.workspace as string | undefined,
  );
  if (values.json) {
    io.out(
      JSON.stringify(
        snapshots.map((s) => ({
          id: s.id,
          time: s.time,
          trigger: s.trigger,
          label: s.label ?? null,
          pinned: s.pinned ?? false,
          workspace: s.workspace,
          parent: s.parent ?? null,
          git: s.git ?? null,
          stats: s.stats,
        })),
      ),
    );
    return EXIT_OK;
  }
  if (snapshots.length === 0) {
    io.out('No snapshots yet.');
    return EXIT_OK;
  }
  io.out(['ID      ', 'TIME               ', 'TRIGGER    ', 'CHANGED', 'FILES  ', 'WORKSPACE / LABEL'].join('  '));
  for (const s of snapshots) {
    const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
    const label = s.label ? `  "${s.label}"` : '';
    const pin = s.pinned ? ' (pinned)' : '';
    io.out(
      [
        shortId(s.id),
        formatTime(s.time),
        s.trigger.padEnd(11),
        String(changed).padStart(7),
        String(s.stats.files).padStart(7),
        `${s.workspace.path}${label}${pin}`,
      ].join('  '),
    );
  }
  io.out(`${snapshots.length} snapshot${snapshots.length === 1 ? '' : 's'}`);
  return EXIT_OK;
}

export async function lsCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { recursive: { type: 'boolean', short: 'R' }, workspace: { type: 'string', short: 'w' } },
    LS_USAGE,
  );
  if (values.help) return (io.out(LS_USAGE), EXIT_OK);
  if (positionals.length < 1 || positionals.length > 2)
    throw new UsageError(`ls takes a snapshot and an optional path.\n${LS_USAGE}`);
  const repo = await openRepo(values, io, LS_USAGE);
  const snapshot = await resolveInWorkspace(repo, positionals[0], values.workspace as string | undefined);
  const entries = await listTree(repo, snapshot, positionals[1] ?? '', values.recursive === true);
  if (values.json) {
    io.out(JSON.stringify(entries.map((e) => ({ path: e.path, name: e.entry.name, ...entryJson(e.entry) }))));
    return EXIT_OK;
  }
  for (const e of entries) {
    const suffix = e.entry.type === 'dir' ? '/' : e.entry.type === 'symlink' ? ` -> ${e.entry.target}` : '';
    io.out(`${describeEntry(e.entry)}  ${e.path}${suffix}`);
  }
  return EXIT_OK;
}

export async function catCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {}, CAT_USAGE);
  if (values.help) return (io.out(CAT_USAGE), EXIT_OK);
  needPositionals(positionals, 2, CAT_USAGE);
  const repo = await openRepo(values, io, CAT_USAGE);
  const snapshot = await repo.resolveSnapshot(positionals[0]);
  for await (const part of readFile(repo, snapshot, positionals[1])) await io.write(part);
  return EXIT_OK;
}

/**
 * A path given to `history`: workspace-relative as given, or an absolute path inside the workspace (through
 * symlinks too). An absolute path outside it is refused with one sentence, never turned into `../..`.
 */
async function workspacePath(given: string, workspace: string): Promise<string> {
  if (!path.isAbsolute(given)) return given;
  const inside = (rel: string) =>
    rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
  let rel = path.relative(path.resolve(workspace), path.resolve(given));
  if (!inside(rel)) {
    const { realpath } = await import('node:fs/promises');
    const real = (p: string) => realpath(p).catch(() => path.resolve(p));
    rel = path.relative(await real(workspace), await real(given));
  }
  if (!inside(rel)) {
    throw new BackupError(
      'UNSAFE_PATH',
      `${given} is outside the workspace ${path.resolve(workspace)}; give a path inside it, or relative to it.`,
      { path: given },
    );
  }
  return rel.split(path.sep).join('/');
}

export async function historyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, { workspace: { type: 'string', short: 'w' } }, HISTORY_USAGE);
  if (values.help) return (io.out(HISTORY_USAGE), EXIT_OK);
  needPositionals(positionals, 1, HISTORY_USAGE);
  const workspace = values.workspace as string | undefined;
  if (!workspace) throw new UsageError(`history needs --workspace <dir>.\n${HISTORY_USAGE}`);
  const repo = await openRepo(values, io, HISTORY_USAGE);
  const snapshots = await filterWorkspace(repo, await repo.listSnapshots(), workspace);
  const rel = await workspacePath(positionals[0], workspace);
  const versions = await history(repo, snapshots, rel);
  if (values.json) {
    io.out(
      JSON.stringify(
        versions.map((v) => ({
          snapshot: v.snapshot.id,
          time: v.snapshot.time,
          trigger: v.snapshot.trigger,
          label: v.snapshot.label ?? null,
          deleted: !v.entry,
          ...(v.entry ? entryJson(v.entry) : {}),
        })),
      ),
    );
    return EXIT_OK;
  }
  if (versions.length === 0) {
    io.out(`${rel} is in no snapshot of ${path.resolve(workspace)}.`);
    return EXIT_OK;
  }
  for (const v of versions) {
    const what = !v.entry ? 'deleted' : v.entry.type === 'file' ? formatBytes(v.entry.size) : v.entry.type;
    const label = v.snapshot.label ? `  "${v.snapshot.label}"` : '';
    io.out(
      `${shortId(v.snapshot.id)}  ${formatTime(v.snapshot.time)}  ${v.snapshot.trigger.padEnd(11)}  ${what}${label}`,
    );
  }
  return EXIT_OK;
}

export async function diffCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {}, DIFF_USAGE);
  if (values.help) return (io.out(DIFF_USAGE), EXIT_OK);
  needPositionals(positionals, 2, DIFF_USAGE);
  const repo = await openRepo(values, io, DIFF_USAGE);
  const a = await repo.resolveSnapshot(positionals[0]);
  const b = await repo.resolveSnapshot(positionals[1]);
  const changes = await diffTrees(repo, a.tree, b.tree, '', {
    a: `Snapshot ${a.id.slice(0, 8)}`,
    b: `Snapshot ${b.id.slice(0, 8)}`,
  });
  if (values.json) {
    io.out(
      JSON.stringify(
        changes.map((c) => ({
          path: c.path,
          change: c.kind,
          type: (c.after ?? c.before)?.type,
          ...(c.before?.type === 'file' ? { sizeBefore: c.before.size } : {}),
          ...(c.after?.type === 'file' ? { sizeAfter: c.after.size } : {}),
        })),
      ),
    );
    return EXIT_OK;
  }
  const marks = { added: '+', modified: 'M', deleted: '-' } as const;
  for (const c of changes) io.out(`${marks[c.kind]}  ${c.path}${(c.after ?? c.before)?.type === 'dir' ? '/' : ''}`);
  const count = (kind: string) =>
    changes.filter((c) => c.kind === kind && (c.after ?? c.before)?.type !== 'dir').length;
  io.out(
    `${count('added')} added, ${count('modified')} modified, ${count('deleted')} deleted between ${shortId(a.id)} and ${shortId(b.id)}.`,
  );
  return EXIT_OK;
}

/** Used by restore to check a --path before planning. */
export { entryAt };
