// Writes crafted content into a plain store the way an outsider would: from the documented format alone
// (docs/architecture.md "The store on disk"), without the engine's code. A pack is [unit…][header][u32 LE
// header length]["PBP1"] named by the SHA-256 of its bytes; an index file is raw-deflated "PBI1" + packs +
// entries, named by the SHA-256 of its bytes; a tree is `{"v":1,"entries":[…]}`; a snapshot record is JSON
// with `checksum`, the SHA-256 of its JSON without it. Entries are 50 bytes: type u8, flags u8, id 32,
// offset u32, length u32, raw length u32, inner offset u32.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');
const ENTRY = 50;
const FLAG_COMPRESSED = 1;

/** The canonical bytes of a tree; `sorted: false` keeps the given order (a malformed tree). */
function treeBytes(entries, { sorted = true } = {}) {
  const list = sorted ? [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) : entries;
  const canonical = list.map((e) =>
    e.type === 'file'
      ? { type: 'file', name: e.name, mode: e.mode, size: e.size, content: e.content }
      : e.type === 'dir'
        ? { type: 'dir', name: e.name, tree: e.tree }
        : e.type === 'symlink'
          ? { type: 'symlink', name: e.name, target: e.target }
          : e,
  );
  return Buffer.from(JSON.stringify({ v: 1, entries: canonical }), 'utf8');
}

/** Collects blobs and trees for one pack, then writes the pack and an index naming it into `store`. */
class Forger {
  constructor(store) {
    this.store = store;
    this.units = [];
  }

  /** A data blob; `claim` overrides what the pack header says of it ({rawLength, compressed, stored}). */
  blob(data, claim = {}) {
    const id = claim.id ?? sha256(data);
    this.units.push({
      type: 0,
      id,
      stored: claim.stored ?? data,
      rawLength: claim.rawLength ?? data.length,
      compressed: claim.compressed ?? false,
    });
    return id;
  }

  tree(entries, options) {
    const data = treeBytes(entries, options);
    const id = sha256(data);
    this.units.push({ type: 1, id, stored: data, rawLength: data.length, compressed: false });
    return id;
  }

  /** Raw tree bytes (anything: not JSON, the wrong version…), under `id` when given (a lie about its hash). */
  rawTree(data, id = sha256(data)) {
    this.units.push({ type: 1, id, stored: data, rawLength: data.length, compressed: false });
    return id;
  }

  /** A chain of `depth` folders named `d`, the last holding one file; returns the top tree's id. */
  chain(depth, leafFile) {
    let id = this.tree([
      { type: 'file', name: 'leaf.txt', mode: 0o644, size: leafFile.length, content: [this.blob(leafFile)] },
    ]);
    for (let i = 1; i < depth; i++) id = this.tree([{ type: 'dir', name: 'd', tree: id }]);
    return id;
  }

  /**
   * Writes the pack and its index; returns their paths. `indexEntries` may rewrite what the index says of
   * each entry (an offset past the pack's end…) while the pack's own header stays true.
   */
  write({ indexEntries = (entries) => entries } = {}) {
    const entries = [];
    const parts = [];
    let offset = 0;
    const seen = new Set();
    for (const u of this.units) {
      if (seen.has(u.id)) continue;
      seen.add(u.id);
      entries.push({ ...u, offset, length: u.stored.length });
      parts.push(u.stored);
      offset += u.stored.length;
    }
    const header = Buffer.alloc(entries.length * ENTRY);
    entries.forEach((e, i) => writeEntry(header, i * ENTRY, e));
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(header.length, 0);
    tail.write('PBP1', 4, 'ascii');
    const pack = Buffer.concat([...parts, header, tail]);
    const packId = sha256(pack);
    const packPath = path.join(this.store, 'data', packId.slice(0, 2), packId);
    fs.mkdirSync(path.dirname(packPath), { recursive: true });
    fs.writeFileSync(packPath, pack);

    const listed = indexEntries(entries.map((e) => ({ ...e })));
    const index = Buffer.alloc(8 + 36 + listed.length * ENTRY);
    index.write('PBI1', 0, 'ascii');
    index.writeUInt32LE(1, 4);
    index.write(packId, 8, 32, 'hex');
    index.writeUInt32LE(listed.length, 40);
    listed.forEach((e, i) => writeEntry(index, 44 + i * ENTRY, e));
    const sealed = zlib.deflateRawSync(index, { level: 1 });
    const indexPath = path.join(this.store, 'index', sha256(sealed));
    fs.mkdirSync(path.dirname(indexPath), { recursive: true });
    fs.writeFileSync(indexPath, sealed);
    this.units = [];
    return { packPath, indexPath };
  }
}

function writeEntry(out, at, e) {
  out.writeUInt8(e.type, at);
  out.writeUInt8(e.compressed ? FLAG_COMPRESSED : 0, at + 1);
  out.write(e.id, at + 2, 32, 'hex');
  out.writeUInt32LE(e.offset, at + 34);
  out.writeUInt32LE(e.length, at + 38);
  out.writeUInt32LE(e.rawLength >>> 0, at + 42);
  out.writeUInt32LE(0, at + 46);
}

/** The bytes of a snapshot record as the store writes them: its JSON with the checksum appended. */
function recordBytes(record) {
  const { checksum: _old, ...rest } = record;
  return Buffer.from(JSON.stringify({ ...rest, checksum: sha256(JSON.stringify(rest)) }), 'utf8');
}

/** Saves a snapshot record naming `tree`; returns its id. */
function forgeSnapshot(store, tree, id, fields = {}) {
  const record = {
    v: 1,
    id,
    time: '2031-01-01T00:00:00.000Z',
    workspace: { path: '/nonexistent/forged', id: 'forged0000000000' },
    host: 'forger',
    trigger: 'manual',
    tree,
    stats: {
      files: 0,
      dirs: 0,
      symlinks: 0,
      bytes: 0,
      filesNew: 0,
      filesChanged: 0,
      filesDeleted: 0,
      bytesAdded: 0,
      dataAdded: 0,
      blobsAdded: 0,
      skipped: 0,
    },
    tool: 'forger',
    ...fields,
  };
  fs.mkdirSync(path.join(store, 'snapshots'), { recursive: true });
  fs.writeFileSync(path.join(store, 'snapshots', id), recordBytes(record));
  return id;
}

/**
 * Every entry every index file of a plain store names, as `pack type id offset length` lines (a set): read
 * from the documented format alone, so a check can tell "the index still says the same" from "the same index
 * files are there" (prune merges index files without changing what they say).
 */
function indexedEntries(store) {
  const dir = path.join(store, 'index');
  const out = new Set();
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const raw = zlib.inflateRawSync(fs.readFileSync(path.join(dir, name)));
    if (raw.toString('ascii', 0, 4) !== 'PBI1') throw new Error(`index/${name} does not start with PBI1`);
    const packs = raw.readUInt32LE(4);
    let at = 8;
    for (let p = 0; p < packs; p++) {
      const packId = raw.toString('hex', at, at + 32);
      const count = raw.readUInt32LE(at + 32);
      at += 36;
      for (let i = 0; i < count; i++, at += ENTRY) {
        const id = raw.toString('hex', at + 2, at + 34);
        out.add(`${packId} ${raw.readUInt8(at)} ${id} ${raw.readUInt32LE(at + 34)} ${raw.readUInt32LE(at + 38)}`);
      }
    }
  }
  return out;
}

module.exports = { Forger, forgeSnapshot, indexedEntries, recordBytes, treeBytes, sha256 };
