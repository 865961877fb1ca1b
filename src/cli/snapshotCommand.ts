// `project-backup snapshot <workspace> --repo <dir> [--label <text>] [--path <p>]... [--json]`

import { DEFAULT_EXCLUDES } from '../core/scan/rules';
import { formatBytes, parseSize, plural, shortId, formatTime } from '../core/format';
import { Snapshotter } from '../core/snapshot/snapshotter';
import { annotatedText } from '../core/snapshot/annotate';
import { identifyWorkspace } from '../core/workspace/workspace';
import { nodeFs } from '../core/storage/fsPort';
import type { Trigger } from '../core/repository/snapshotRecord';
import type { Io } from './context';
import { EXIT_OK, UsageError, needPositionals, openRepo, parse } from './context';

export const SNAPSHOT_USAGE = `Usage: project-backup snapshot <workspace> --repo <dir> [--label <text>] [--path <p>]... [--exclude <glob>]... [--gitignore] [--max-file-size <size>] [--no-git] [--json]
  A full snapshot includes the workspace's .git whole (no size cap inside it); --no-git leaves it out. --path snapshots never scan .git.`;

const TRIGGERS: readonly Trigger[] = ['manual', 'save', 'external', 'schedule', 'pre-restore', 'startup', 'cli'];

export async function snapshotCommand(args: string[], io: Io, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      label: { type: 'string' },
      path: { type: 'string', multiple: true },
      exclude: { type: 'string', multiple: true },
      gitignore: { type: 'boolean' },
      'max-file-size': { type: 'string' },
      'no-git': { type: 'boolean' },
      trigger: { type: 'string' },
      pin: { type: 'boolean' },
    },
    SNAPSHOT_USAGE,
  );
  if (values.help) {
    io.out(SNAPSHOT_USAGE);
    return EXIT_OK;
  }
  needPositionals(positionals, 1, SNAPSHOT_USAGE);
  let maxFileSize: number | undefined;
  if (values['max-file-size'] !== undefined) {
    maxFileSize = parseSize(values['max-file-size'] as string);
    if (maxFileSize === undefined)
      throw new UsageError(`--max-file-size takes a size such as 50M or 1048576.\n${SNAPSHOT_USAGE}`);
  }
  const trigger = (values.trigger as Trigger | undefined) ?? 'manual';
  if (!TRIGGERS.includes(trigger))
    throw new UsageError(`--trigger is one of ${TRIGGERS.join(', ')}.\n${SNAPSHOT_USAGE}`);

  // Check the workspace before creating a store, so a mistyped folder leaves no empty store behind.
  await identifyWorkspace(nodeFs, positionals[0]);
  // The snapshot reads the index only once it has something to store (#16): a no-change run never does.
  const repo = await openRepo(values, io, SNAPSHOT_USAGE, true, { index: false });
  const snapshotter = new Snapshotter(repo, {
    workspace: positionals[0],
    excludes: [...DEFAULT_EXCLUDES, ...((values.exclude as string[] | undefined) ?? [])],
    gitignore: values.gitignore === true,
    maxFileSize,
    includeGit: values['no-git'] !== true,
  });
  const result = await snapshotter.snapshot({
    paths: values.path as string[] | undefined,
    label: values.label as string | undefined,
    pinned: values.pin === true,
    trigger,
    signal,
    onNotice: (message) => io.err(message),
  });
  const s = result.snapshot;
  if (values.json) {
    io.out(
      JSON.stringify({
        id: s.id,
        time: s.time,
        created: result.created,
        workspace: s.workspace,
        trigger: s.trigger,
        label: s.label,
        parent: s.parent,
        files: s.stats.files,
        bytes: s.stats.bytes,
        filesNew: result.created ? s.stats.filesNew : 0,
        filesChanged: result.created ? s.stats.filesChanged : 0,
        filesDeleted: result.created ? s.stats.filesDeleted : 0,
        bytesAdded: result.created ? s.stats.bytesAdded : 0,
        skipped: result.skipped,
        ...(result.annotated ? { annotated: result.annotated } : {}),
      }),
    );
    return EXIT_OK;
  }
  for (const skip of result.skipped) io.err(`skipped ${skip.path}: ${skip.reason}`);
  if (!result.created) {
    io.out(
      `Nothing changed since snapshot ${shortId(s.id)} (${formatTime(s.time)}); no new snapshot was made${annotatedText(result.annotated)}.`,
    );
    return EXIT_OK;
  }
  const changed = s.stats.filesNew + s.stats.filesChanged + s.stats.filesDeleted;
  io.out(
    `Snapshot ${shortId(s.id)} of ${s.workspace.path}: ${plural(changed, 'file')} changed (${s.stats.filesNew} new, ${s.stats.filesChanged} modified, ${s.stats.filesDeleted} deleted), ` +
      `${formatBytes(s.stats.bytesAdded)} added; ${plural(s.stats.files, 'file')}, ${formatBytes(s.stats.bytes)} in all.`,
  );
  return EXIT_OK;
}
