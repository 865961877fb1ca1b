// The Snapshots view's timeline as a pure function (#14): sessions under days, labelled and pinned snapshots
// on their own, rows that changed nothing left out, older days collapsed, and row texts that count files and
// never say a label's trigger twice.

import assert from 'node:assert/strict';
import type { SnapshotRecord, Trigger } from '../../src/core/repository/snapshotRecord';
import {
  applyFilter,
  buildTimeline,
  changedNothing,
  sessionRowText,
  sessionSummary,
  snapshotRowText,
} from '../../src/core/query/timeline';
import type { DayItem } from '../../src/core/query/timeline';

const NOW = new Date(2024, 4, 15, 18, 0);
let n = 0;

function snap(
  at: Date,
  options: {
    trigger?: Trigger;
    label?: string;
    auto?: boolean;
    pinned?: boolean;
    files?: number;
    first?: boolean;
    deleted?: number;
  } = {},
): SnapshotRecord {
  n++;
  return {
    v: 1,
    id: n.toString(16).padStart(32, '0'),
    time: at.toISOString(),
    workspace: { path: '/w', id: 'w' },
    host: 'h',
    trigger: options.trigger ?? 'save',
    tree: n.toString(16).padStart(64, '0'),
    stats: {
      files: 120,
      dirs: 30,
      symlinks: 0,
      bytes: 1,
      filesNew: 0,
      filesChanged: options.files ?? 1,
      filesDeleted: options.deleted ?? 0,
      bytesAdded: 0,
      dataAdded: 0,
      blobsAdded: 0,
      skipped: 0,
    },
    tool: 't',
    ...(options.first ? {} : { parent: '0'.repeat(32) }),
    ...(options.label ? { label: options.label } : {}),
    ...(options.auto ? { autoLabel: true as const } : {}),
    ...(options.pinned ? { pinned: true } : {}),
  };
}

const at = (d: number, h: number, m: number, s = 0) => new Date(2024, 4, d, h, m, s);

function shape(items: DayItem[]): string[] {
  return items.map((item) =>
    item.kind === 'session'
      ? `session ${sessionRowText(item).label} ×${item.snapshots.length}`
      : `snapshot ${snapshotRowText(item.snapshot).label}`,
  );
}

describe('timeline (#14)', () => {
  it('a day of 50 snapshots reads as a few sessions, with the labelled and pinned ones on their own', () => {
    const list: SnapshotRecord[] = [];
    // Morning: 20 saves a minute apart from 09:00; a branch switch labelled at 09:30; afternoon: 20 saves
    // from 13:00 (a gap of hours ends the session), one pinned at 13:10; evening: 8 external changes.
    for (let i = 0; i < 20; i++) list.push(snap(at(15, 9, i)));
    list.push(snap(at(15, 9, 30), { label: 'before switching to main', auto: true }));
    for (let i = 0; i < 10; i++) list.push(snap(at(15, 13, i)));
    list.push(snap(at(15, 13, 10), { pinned: true }));
    for (let i = 11; i < 21; i++) list.push(snap(at(15, 13, i)));
    for (let i = 0; i < 8; i++) list.push(snap(at(15, 17, i * 2), { trigger: 'external' }));
    assert.equal(list.length, 50);
    const [today] = buildTimeline(list, NOW);
    assert.equal(today.label, 'Today');
    assert.equal(today.count, 50);
    assert.deepEqual(shape(today.items), [
      'session 17:00–17:14 ×8',
      'session 13:11–13:20 ×10',
      'snapshot 13:10:00',
      'session 13:00–13:09 ×10',
      'snapshot 09:30:00  before switching to main',
      'session 09:00–09:19 ×20',
    ]);
  });

  it('a first snapshot stands alone: in a session its whole content would count as changed files', () => {
    const [today] = buildTimeline([snap(at(15, 9, 0), { first: true }), snap(at(15, 9, 1)), snap(at(15, 9, 2))], NOW);
    assert.deepEqual(shape(today.items), ['session 09:01–09:02 ×2', 'snapshot 09:00:00']);
  });

  it('a gap of more than 15 minutes starts a new session; one snapshot alone is a row of its own', () => {
    const list = [snap(at(15, 10, 0)), snap(at(15, 10, 15)), snap(at(15, 10, 31)), snap(at(15, 12, 0))];
    const [today] = buildTimeline(list, NOW);
    assert.deepEqual(shape(today.items), ['snapshot 12:00:00', 'snapshot 10:31:00', 'session 10:00–10:15 ×2']);
  });

  it('newest day first and open; older days collapsed; a session never spans midnight', () => {
    const list = [snap(at(13, 23, 55)), snap(at(14, 0, 5)), snap(at(14, 0, 6)), snap(at(15, 8, 0))];
    const days = buildTimeline(list, NOW);
    assert.deepEqual(
      days.map((d) => [d.label, d.expanded, d.count]),
      [
        ['Today', true, 1],
        ['Yesterday', false, 2],
        [days[2].label, false, 1],
      ],
    );
    assert.match(days[2].label, /^Mon, May 13$/);
  });

  it('rows that changed no file are left out, unless labelled, pinned or the first', () => {
    const first = snap(at(15, 9, 0), { first: true, files: 0 });
    const empty = snap(at(15, 9, 1), { files: 0, trigger: 'external' });
    const labelled = snap(at(15, 9, 2), { files: 0, label: 'kept' });
    assert.equal(changedNothing(empty), true);
    assert.equal(changedNothing(first), false);
    const [today] = buildTimeline([first, empty, labelled], NOW);
    assert.deepEqual(shape(today.items), ['snapshot 09:02:00  kept', 'snapshot 09:00:00']);
    assert.equal(today.count, 2);
  });

  it('labels and triggers never stack ("unsaved changes before restore before restore")', () => {
    const undo = snap(at(15, 9, 0), { trigger: 'pre-restore', label: 'unsaved changes before restore', auto: true });
    assert.deepEqual(snapshotRowText(undo), {
      label: '09:00:00  unsaved changes before restore',
      description: '1 file',
    });
    const deletion = snap(at(15, 9, 0), {
      trigger: 'external',
      label: 'before 48 files deleted outside the editor',
      files: 3,
    });
    assert.equal(snapshotRowText(deletion).description, '3 files');
    const user = snap(at(15, 9, 0), { trigger: 'save', label: 'before the refactor', files: 2 });
    assert.equal(
      snapshotRowText(user).description,
      '2 files · on save',
      'a label that says nothing of the trigger keeps it',
    );
    const plain = snap(at(15, 9, 0), { trigger: 'external', files: 30 });
    assert.deepEqual(snapshotRowText(plain), { label: '09:00:00', description: 'external change · 30 files' });
    assert.equal(
      snapshotRowText(snap(at(15, 9, 0), { first: true })).description,
      'on save · first snapshot, 120 files',
    );
  });

  it('a session row says its span, snapshots and files; its tooltip says everything', () => {
    const session = {
      kind: 'session' as const,
      snapshots: [snap(at(15, 10, 2)), snap(at(15, 10, 20), { trigger: 'external' }), snap(at(15, 10, 47))],
    };
    assert.deepEqual(sessionRowText(session, 14), { label: '10:02–10:47', description: '3 snapshots · 14 files' });
    assert.deepEqual(sessionRowText(session), { label: '10:02–10:47', description: '3 snapshots' });
    assert.equal(
      sessionSummary(session, 14),
      'Work session 10:02–10:47 (45 minutes): 3 snapshots (2 on save, 1 external change); 14 files changed from its start to its end.',
    );
  });

  it('filters by trigger, by label text, and by the snapshots that changed a path', () => {
    const a = snap(at(15, 9, 0), { trigger: 'save' });
    const b = snap(at(15, 9, 1), { trigger: 'external', label: 'Before switching to main', auto: true });
    const c = snap(at(15, 9, 2), { trigger: 'pre-restore', label: 'before restoring src' });
    const all = [a, b, c];
    assert.deepEqual(applyFilter(all, { triggers: ['external', 'pre-restore'] }), [b, c]);
    assert.deepEqual(applyFilter(all, { label: 'SWITCHING' }), [b]);
    assert.deepEqual(applyFilter(all, { ids: new Set([a.id, c.id]) }), [a, c]);
    assert.deepEqual(applyFilter(all, { triggers: ['pre-restore'], label: 'switch' }), []);
    assert.deepEqual(applyFilter(all, { notable: true }), [b, c]);
    assert.deepEqual(applyFilter(all, {}), all);
  });
});
