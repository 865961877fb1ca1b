// The crafted stores of the hostile loop: what a hostile store may hold, written with forge.js into an empty
// plain store. Each case builds its content and says what the CLI must answer: verify's exit code (3: damage
// found), restore's, a pattern its sentence names, and what the target must hold afterwards.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { Forger, forgeSnapshot, recordBytes } = require('./forge');

const PAYLOAD = Buffer.from('payload\n');
const file = (id, name, mode = 0o644, size = PAYLOAD.length) => ({ type: 'file', name, mode, size, content: [id] });

/**
 * Each case: build(store, ctx) returns { snapshot, verify, restore, about, target } where verify/restore are
 * the allowed exit codes, `about` a pattern restore's stderr must match when it fails, and `target(dir)` a
 * problem text or undefined for what the target holds. ctx: { outside, escape, rand } (a folder beside the
 * target that must stay empty, an absolute path that must never appear).
 */
const CASES = [
  {
    name: 'names "..", "/abs", "a/b", NUL, empty, "." beside a good file',
    build(store, { escape }) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const escaped = f.tree([file(d, 'escaped.txt')]);
      const root = f.tree([
        file(d, '..'),
        file(d, '.'),
        file(d, ''),
        file(d, '../escaped-up.txt'),
        file(d, escape),
        file(d, 'a\u0000b'),
        file(d, 'sub/../../x.txt'),
        { type: 'dir', name: '/tmp', tree: escaped },
        { type: 'dir', name: '..\\..', tree: escaped },
        file(d, 'ok.txt'),
      ]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'a1'.repeat(16)),
        verify: [3],
        restore: [1],
        about: /not restored|refused/,
        lines: 10,
        target: (dir) => expectOnly(dir, ['ok.txt', '..\\..', '..\\../escaped.txt']),
      };
    },
  },
  {
    name: 'a link out of the target, then a snapshot with a folder of the same name (write through it?)',
    build(store, { outside }) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const inner = f.tree([file(d, 'through-the-link.txt')]);
      const first = f.tree([
        { type: 'symlink', name: 'x', target: outside },
        { type: 'symlink', name: 'up', target: '../../../../etc' },
        file(d, 'ok.txt'),
      ]);
      const second = f.tree([
        { type: 'dir', name: 'x', tree: inner },
        { type: 'dir', name: 'up', tree: inner },
        file(d, 'ok.txt'),
      ]);
      f.write();
      forgeSnapshot(store, first, 'b1'.repeat(16), { time: '2030-01-01T00:00:00.000Z' });
      return {
        snapshot: forgeSnapshot(store, second, 'b2'.repeat(16)),
        before: 'b1'.repeat(16),
        verify: [0],
        restore: [0],
        target: () => undefined,
      };
    },
  },
  {
    name: 'setuid, setgid, sticky modes',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const root = f.tree([
        file(d, 'suid', 0o4755),
        file(d, 'sgid', 0o2755),
        file(d, 'both', 0o6755),
        file(d, 'sticky', 0o1777),
        file(d, 'all', 0o7777),
      ]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'c1'.repeat(16)),
        verify: [0],
        restore: [0],
        target: (dir) => modesAre(dir, { suid: 0o755, sgid: 0o755, both: 0o755, sticky: 0o777, all: 0o777 }),
      };
    },
  },
  {
    // A mode beyond the permission bits is cut to them (README: only rwx bits are restored), not refused.
    name: 'modes out of range, a link to "" and to NUL',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const root = f.tree([
        file(d, 'huge-mode', 2 ** 40 + 0o644),
        file(d, 'big-mode', 0o777777),
        { type: 'symlink', name: 'empty-link', target: '' },
        { type: 'symlink', name: 'nul-link', target: 'a\u0000b' },
        file(d, 'ok.txt'),
      ]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'c2'.repeat(16)),
        verify: [3],
        restore: [1],
        about: /not restored/,
        lines: 6,
        target: (dir) => expectOnly(dir, ['ok.txt', 'big-mode', 'huge-mode']),
      };
    },
  },
  ...[3000, 30000].map((depth) => ({
    name: `a chain of ${depth.toLocaleString('en-US')} nested folders`,
    build(store) {
      const f = new Forger(store);
      const root = f.chain(depth, PAYLOAD);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, `d${depth}`.padEnd(32, '0')),
        verify: [3],
        restore: [1],
        about: /nested|deep/,
        target: (dir) => expectOnly(dir, []),
      };
    },
  })),
  {
    name: 'a tree stored under the id of its own parent (a cycle)',
    build(store) {
      const f = new Forger(store);
      const id = 'e'.repeat(64);
      f.rawTree(Buffer.from(JSON.stringify({ v: 1, entries: [{ type: 'dir', name: 'loop', tree: id }] })), id);
      f.write();
      return {
        snapshot: forgeSnapshot(store, id, 'e1'.repeat(16)),
        verify: [3],
        restore: [1],
        target: (dir) => expectOnly(dir, [], null),
      };
    },
  },
  {
    name: 'a file claiming 1 PB in one small blob',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const root = f.tree([file(d, 'huge.bin', 0o644, 2 ** 50), file(d, 'ok.txt')]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'f1'.repeat(16)),
        verify: [3],
        restore: [1],
        about: /huge\.bin/,
        target: (dir) => expectOnly(dir, ['ok.txt']),
      };
    },
  },
  {
    name: 'a deflate bomb: 64 MiB of zeros claiming 8 bytes',
    build(store) {
      const f = new Forger(store);
      const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
      const d = f.blob(Buffer.from('payload!'), { stored: bomb, compressed: true, rawLength: 8 });
      const ok = f.blob(PAYLOAD);
      const root = f.tree([file(d, 'bomb.bin', 0o644, 8), file(ok, 'ok.txt')]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'f2'.repeat(16)),
        verify: [3],
        restore: [1],
        about: /bomb\.bin/,
        target: (dir) => expectOnly(dir, ['ok.txt']),
      };
    },
  },
  {
    name: 'a compressed blob claiming 4 GiB raw',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD, { stored: zlib.deflateRawSync(PAYLOAD), compressed: true, rawLength: 0xffffffff });
      const root = f.tree([file(d, 'liar.bin'), file(f.blob(Buffer.from('fine\n')), 'ok.txt', 0o644, 5)]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'f3'.repeat(16)),
        verify: [0, 3],
        restore: [0, 1],
        target: () => undefined,
      };
    },
  },
  {
    name: 'type confusion: a file whose content is a tree, a folder whose tree is data, a tree that is not JSON',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(Buffer.from('not a tree at all'));
      const t = f.tree([file(f.blob(PAYLOAD), 'inner.txt')]);
      const junk = f.rawTree(Buffer.from('{"v":1,"entries":[{"type":"file","name":"x","mode":-1}'));
      const unsorted = f.tree([file(d, 'b'), file(d, 'a'), file(d, 'a')], { sorted: false });
      const root = f.tree([
        file(t, 'file-is-tree', 0o644, 10),
        { type: 'dir', name: 'dir-is-data', tree: d },
        { type: 'dir', name: 'junk', tree: junk },
        { type: 'dir', name: 'unsorted', tree: unsorted },
        { type: 'weird', name: 'weird' },
        file(f.blob(PAYLOAD), 'ok.txt'),
      ]);
      f.write();
      return {
        snapshot: forgeSnapshot(store, root, 'f4'.repeat(16)),
        verify: [3],
        restore: [1],
        lines: 8,
        target: () => undefined,
      };
    },
  },
  {
    name: 'an index pointing past the end of its pack, and a snapshot of a tree no pack holds',
    build(store) {
      const f = new Forger(store);
      const d = f.blob(PAYLOAD);
      const root = f.tree([file(d, 'far.txt'), { type: 'dir', name: 'gone', tree: '7'.repeat(64) }]);
      f.write({ indexEntries: (entries) => entries.map((e) => (e.type === 0 ? { ...e, offset: 0xfffff000 } : e)) });
      forgeSnapshot(store, '9'.repeat(64), 'f6'.repeat(16), { time: '2030-01-01T00:00:00.000Z' });
      return {
        snapshot: forgeSnapshot(store, root, 'f5'.repeat(16)),
        verify: [3],
        restore: [1],
        lines: 8,
        target: () => undefined,
      };
    },
  },
  {
    name: 'records with odd fields: a label with control characters, a workspace "../../etc", huge counts, garbage locks',
    build(store) {
      const f = new Forger(store);
      const root = f.tree([file(f.blob(PAYLOAD), 'ok.txt')]);
      f.write();
      const stats = {
        files: 1e300,
        dirs: 0,
        symlinks: 0,
        bytes: Number.MAX_SAFE_INTEGER,
        filesNew: 0,
        filesChanged: 0,
        filesDeleted: 0,
        bytesAdded: 0,
        dataAdded: 0,
        blobsAdded: 0,
        skipped: 0,
      };
      fs.mkdirSync(path.join(store, 'locks'), { recursive: true });
      fs.writeFileSync(path.join(store, 'locks', 'garbage'), 'not json at all');
      fs.writeFileSync(
        path.join(store, 'locks', 'dead'),
        JSON.stringify({
          host: require('node:os').hostname(),
          pid: 2 ** 22 + 7,
          time: new Date().toISOString(),
          exclusive: true,
          purpose: 'prune',
        }),
      );
      fs.writeFileSync(path.join(store, 'snapshots', 'not-a-record'), 'garbage');
      fs.writeFileSync(path.join(store, 'snapshots', '00'.repeat(16)), recordBytes({ v: 2, id: '00'.repeat(16) }));
      return {
        snapshot: forgeSnapshot(store, root, 'f7'.repeat(16), {
          label: 'ok\u001b[2J\u0007\nsecond line',
          workspace: { path: '../../etc', id: '../..' },
          stats,
        }),
        verify: [3],
        restore: [0],
        target: (dir) => expectOnly(dir, ['ok.txt']),
      };
    },
  },
];

/** Config files a hostile store may carry: each makes every command refuse with one sentence, or work. */
const CONFIGS = [
  ['a newer format', (c) => ({ ...c, format: 99 }), /newer|format/],
  ['not JSON', () => '{"format":1,', /config|damaged/],
  ['no chunker', (c) => ({ ...c, chunker: null }), /config|incomplete|damaged/],
  [
    'a chunker of 1 TiB chunks',
    (c) => ({ ...c, chunker: { ...c.chunker, minSize: 1, avgSize: 2 ** 30, maxSize: 2 ** 40 }, chunkFrom: 1 }),
    null,
  ],
  [
    'an encryption block asking for 2^40 scrypt work',
    (c) => ({
      ...c,
      encryption: {
        version: 1,
        cipher: 'aes-256-gcm',
        kdf: { name: 'scrypt', N: 2 ** 40, r: 8, p: 1, salt: 'AAAA' },
        masterKey: 'AAAA',
      },
    }),
    /passphrase|encrypt|config|damaged/,
  ],
];

/** Only these entries (and no others) may be in dir; `files` of them must hold the payload. */
function expectOnly(dir, allowed, files = allowed.filter((a) => a.endsWith('.txt') && !a.includes('/'))) {
  const found = fs.existsSync(dir) ? listRel(dir) : [];
  const extra = found.filter((p) => !allowed.includes(p));
  if (extra.length) return `unexpected entries in the target: ${extra.slice(0, 5).join(', ')}`;
  for (const name of files ?? []) {
    if (!fs.existsSync(path.join(dir, name))) return `${name} was not restored`;
  }
  return undefined;
}

function modesAre(dir, modes) {
  for (const [name, mode] of Object.entries(modes)) {
    const st = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (!st) return `${name} was not restored`;
    if ((st.mode & 0o7777) !== mode)
      return `${name} has mode ${(st.mode & 0o7777).toString(8)}, expected ${mode.toString(8)}`;
  }
  return undefined;
}

function listRel(dir, prefix = '') {
  const out = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const rel = prefix ? `${prefix}/${name}` : name;
    out.push(rel);
    const abs = path.join(dir, name);
    if (fs.lstatSync(abs).isDirectory()) out.push(...listRel(abs, rel));
  }
  return out;
}

module.exports = { CASES, CONFIGS, PAYLOAD };
