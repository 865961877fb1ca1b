// `project-backup tag <snapshot> --repo <dir> [--label <text>] [--pin | --unpin] [--json]`: labels and pins
// a snapshot (retention always keeps pinned and labelled ones). Only the record is rewritten, atomically.

import { formatTime, shortId } from '../core/format';
import { applyTag, planTag } from '../core/snapshot/tagJob';
import type { Io } from './context';
import { EXIT_OK, UsageError, needPositionals, openRepo, parse } from './context';

export const TAG_USAGE = `Usage: project-backup tag <snapshot> --repo <dir> [--label <text>] [--pin | --unpin] [--json]
  --label "" removes the label. Pinned and labelled snapshots are always kept by forget.`;

export async function tagCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    args,
    { label: { type: 'string', short: 'l' }, pin: { type: 'boolean' }, unpin: { type: 'boolean' } },
    TAG_USAGE,
  );
  if (values.help) return (io.out(TAG_USAGE), EXIT_OK);
  needPositionals(positionals, 1, TAG_USAGE);
  const label = values.label as string | undefined;
  if (values.pin && values.unpin) throw new UsageError(`Give --pin or --unpin, not both.\n${TAG_USAGE}`);
  if (label === undefined && !values.pin && !values.unpin)
    throw new UsageError(`tag needs --label <text>, --pin or --unpin.\n${TAG_USAGE}`);
  const repo = await openRepo(values, io, TAG_USAGE);
  const found = await repo.resolveSnapshot(positionals[0]);
  // The job makes both changes under one shared lock of its own, in one write of the record.
  const { record = found } = await applyTag(
    await planTag(repo, found, { label, pinned: values.pin || values.unpin ? values.pin === true : undefined }),
  );
  if (values.json) {
    io.out(
      JSON.stringify({ id: record.id, time: record.time, label: record.label ?? null, pinned: record.pinned ?? false }),
    );
    return EXIT_OK;
  }
  const labelText = record.label ? `label "${record.label}"` : 'no label';
  io.out(
    `Snapshot ${shortId(record.id)} (${formatTime(record.time)}): ${labelText}, ${record.pinned ? 'pinned' : 'not pinned'}.`,
  );
  return EXIT_OK;
}
