// `project-backup workspaces --repo <dir> [--json]`: every workspace the store holds, newest first, so a
// project whose folder is gone can be found and restored (`restore --workspace <name>`). Reads only.

import { formatBytes, formatTime } from '../core/format';
import { listWorkspaces } from '../core/query/workspaces';
import type { Io } from './context';
import { EXIT_OK, needPositionals, openRepo, parse } from './context';

export const WORKSPACES_USAGE = 'Usage: project-backup workspaces --repo <dir> [--json]';

export async function workspacesCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {}, WORKSPACES_USAGE);
  if (values.help) return (io.out(WORKSPACES_USAGE), EXIT_OK);
  needPositionals(positionals, 0, WORKSPACES_USAGE);
  const repo = await openRepo(values, io, WORKSPACES_USAGE);
  const workspaces = await listWorkspaces(repo, { onDamaged: (key, error) => io.err(`${key}: ${error.message}`) });
  if (values.json) {
    io.out(JSON.stringify(workspaces));
    return EXIT_OK;
  }
  if (workspaces.length === 0) {
    io.out('No snapshots yet.');
    return EXIT_OK;
  }
  const rows = workspaces.map((w) => [
    w.name,
    w.lastPath,
    formatTime(w.lastTime),
    String(w.snapshots),
    formatBytes(w.bytes),
    w.folderExists ? 'yes' : 'no',
    w.id,
  ]);
  const header = ['NAME', 'LAST PATH', 'LAST SNAPSHOT', 'SNAPSHOTS', 'SIZE', 'FOLDER EXISTS', 'ID'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = new Set([3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ');
  io.out(line(header));
  for (const row of rows) io.out(line(row));
  io.out(
    `${workspaces.length} workspace${workspaces.length === 1 ? '' : 's'}; restore one with: project-backup restore latest --workspace <name|id|path> --target <dir>`,
  );
  return EXIT_OK;
}
