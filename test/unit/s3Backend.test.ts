// S3Backend against a real S3 server (Ceph RGW started for the run): the Backend contract — atomic save,
// last write wins, createOnce when absent, present and raced (with conditional writes and emulated), list
// per kind across pages of 1000 without foreign keys, loadRange, OBJECT_MISSING, idempotent remove — plus
// signing failures, a missing bucket, the location syntax, and `copy`/`verify`/`restore` through the CLI.
// Without the server packages it fails, saying what to install (`npm test` installs them first).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KeyKind } from '../../src/core/storage/backend';
import { Lock } from '../../src/core/storage/lock';
import { S3Backend, openS3Backend, parseS3Location } from '../../src/core/storage/s3Backend';
import type { S3Credentials } from '../../src/core/storage/s3Backend';
import * as fs from 'node:fs';
import { readTree, runCliCaptured, useTempDirs, writeTree } from './helpers/fixtures';
import { s3ServerUnavailable, startS3Server } from './helpers/s3Server';
import type { S3TestServer } from './helpers/s3Server';

function seededBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function rejectionCode(fn: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await fn();
  } catch (error) {
    return { code: String((error as { code?: unknown }).code), message: (error as Error).message };
  }
  throw new Error('expected a rejection, but the call succeeded');
}

describe('S3 location syntax', () => {
  it('reads host, port, bucket, folder and region; https unless s3+http', () => {
    assert.deepEqual(parseS3Location('s3://minio.lan:9000/backups/laptop/work', {}), {
      secure: true,
      host: 'minio.lan',
      port: 9000,
      bucket: 'backups',
      prefix: 'laptop/work/',
      region: 'us-east-1',
    });
    assert.deepEqual(parseS3Location('s3+http://127.0.0.1/b', { AWS_REGION: 'eu-west-3' }), {
      secure: false,
      host: '127.0.0.1',
      port: 80,
      bucket: 'b',
      prefix: '',
      region: 'eu-west-3',
    });
    assert.equal(parseS3Location('s3://s3.eu-central-003.backblazeb2.com/b/p', {}).region, 'eu-central-003');
    assert.equal(parseS3Location('s3://s3.us-west-2.amazonaws.com/b', {}).port, 443);
    assert.equal(parseS3Location('s3://x.r2.cloudflarestorage.com/b?region=auto', {}).region, 'auto');
  });

  it('refuses credentials in the location, and a location without a bucket', async () => {
    const withKey = await rejectionCode(async () => parseS3Location('s3://AKIAEXAMPLE:wJalrXUtnFEMI@host/bucket'));
    assert.equal(withKey.code, 'USAGE');
    assert.doesNotMatch(withKey.message, /wJalrXUtnFEMI|AKIAEXAMPLE/);
    assert.equal((await rejectionCode(async () => parseS3Location('s3://host/'))).code, 'USAGE');
  });

  it('takes credentials given, else AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else refuses with AUTH_FAILED', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'AK', AWS_SECRET_ACCESS_KEY: 'SK' };
    assert.ok(openS3Backend('s3://host/bucket', undefined, env) instanceof S3Backend);
    assert.ok(openS3Backend('s3://host/bucket', { accessKeyId: 'a', secretAccessKey: 'b' }, {}) instanceof S3Backend);
    const none = await rejectionCode(async () =>
      openS3Backend('s3://host/bucket', undefined, { AWS_ACCESS_KEY_ID: 'AK' }),
    );
    assert.equal(none.code, 'AUTH_FAILED');
    assert.match(none.message, /AWS_SECRET_ACCESS_KEY/);
  });

  it('a server that does not answer is REMOTE_UNREACHABLE after a few tries', async () => {
    const location = 's3+http://127.0.0.1:9/bucket';
    const backend = new S3Backend(
      location,
      parseS3Location(location, {}),
      { accessKeyId: 'a', secretAccessKey: 'b' },
      { attempts: 2 },
    );
    const failed = await rejectionCode(() => backend.load('config'));
    await backend.close();
    assert.equal(failed.code, 'REMOTE_UNREACHABLE');
    assert.match(failed.message, /127\.0\.0\.1/);
  });
});

describe('S3Backend on a real S3 server (Ceph RGW)', function () {
  this.timeout(180_000);
  let server: S3TestServer | undefined;
  let credentials: S3Credentials;
  const opened: S3Backend[] = [];

  before(async () => {
    // `npm test` installs the server first (scripts/ensureTestServers.js): missing here is a failure, not a skip.
    const why = s3ServerUnavailable();
    if (why) throw new Error(`no S3 server can be started here: ${why}`);
    server = await startS3Server();
    credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
  });

  after(async () => {
    for (const backend of opened) await backend.close();
    await server?.stop();
  });

  /** A backend on a fresh bucket (or on `bucket` when given), under an optional folder. */
  async function open(
    options: { bucket?: string; prefix?: string; conditionalWrites?: boolean; creds?: S3Credentials } = {},
  ): Promise<S3Backend> {
    const bucket = options.bucket ?? `b-${randomBytes(6).toString('hex')}`;
    const location = `s3+http://${server!.endpoint}/${bucket}${options.prefix ? `/${options.prefix}` : ''}`;
    const backend = new S3Backend(location, parseS3Location(location, {}), options.creds ?? credentials, {
      conditionalWrites: options.conditionalWrites,
    });
    opened.push(backend);
    if (!options.bucket) await backend.createBucket();
    return backend;
  }

  it('saves and loads whole values; the last write wins; parts are stored as one value', async () => {
    const backend = await open();
    const big = seededBytes(3 * 1024 * 1024 + 17, 1);
    await backend.save('data/ab/abcd', big);
    assert.ok((await backend.load('data/ab/abcd')).equals(big));
    assert.equal(await backend.size('data/ab/abcd'), big.length);
    await backend.save('index/one', Buffer.from('first'));
    await backend.save('index/one', [Buffer.from('sec'), Buffer.from(''), Buffer.from('ond')]);
    assert.equal((await backend.load('index/one')).toString(), 'second');
    await backend.save('config', Buffer.alloc(0));
    assert.equal((await backend.load('config')).length, 0);
  });

  it('save is atomic: readers during overwrites see one whole value or the other, never a mix', async () => {
    const backend = await open();
    const a = seededBytes(4 * 1024 * 1024, 2);
    const b = seededBytes(4 * 1024 * 1024, 3);
    await backend.save('snapshots/s', a);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 6; i++) await backend.save('snapshots/s', i % 2 ? a : b);
      writing = false;
    })();
    let reads = 0;
    while (writing) {
      const got = await backend.load('snapshots/s');
      assert.ok(got.equals(a) || got.equals(b), `read ${reads} is neither value (${got.length} bytes)`);
      reads++;
    }
    await writer;
    assert.ok(reads > 0);
  });

  for (const conditionalWrites of [undefined, false]) {
    const mode = conditionalWrites === undefined ? 'with If-None-Match (probed)' : 'emulated (put, then read back)';
    it(`createOnce ${mode}: stores when absent, returns what is there when present`, async () => {
      const backend = await open({ conditionalWrites });
      const mine = Buffer.from('mine');
      assert.equal(await backend.createOnce('locks/claim-x', mine), mine);
      const theirs = Buffer.from('theirs');
      const got = await backend.createOnce('locks/claim-x', theirs);
      assert.notEqual(got, theirs);
      assert.equal(got.toString(), 'mine');
      assert.equal((await backend.load('locks/claim-x')).toString(), 'mine');
      // Equal bytes are taken as ours (a retried request meeting its own first attempt).
      const same = Buffer.from('mine');
      assert.equal(await backend.createOnce('locks/claim-x', same), same);
    });
  }

  it('createOnce raced by eight writers on their own connections: exactly one wins and all agree', async () => {
    const first = await open();
    const bucket = new URL(first.location.replace(/^s3\+http:/, 'http:')).pathname.slice(1);
    const writers = [first, ...(await Promise.all(Array.from({ length: 7 }, () => open({ bucket }))))];
    for (let round = 0; round < 5; round++) {
      const key = `config-race-${round}`;
      const values = writers.map((_, i) => Buffer.from(`writer ${i} round ${round}`));
      const results = await Promise.all(writers.map((w, i) => w.createOnce(key, values[i])));
      const winners = results.filter((r, i) => r === values[i]);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} writers think they won`);
      for (const r of results) assert.ok(r.equals(winners[0]));
      assert.ok((await first.load(key)).equals(winners[0]));
    }
    // The probe found that this server honours If-None-Match, so the race above went through it.
    assert.equal(await (first as unknown as { conditional: Promise<boolean> }).conditional, true);
  });

  it('lists keys per kind, across the data fan-out and over pages of 1000, and nothing else', async () => {
    const backend = await open({ prefix: 'stores/mine' });
    const bucket = new URL(backend.location.replace(/^s3\+http:/, 'http:')).pathname.split('/')[1];
    const neighbour = await open({ bucket, prefix: 'stores/other' });
    const whole = await open({ bucket });
    await neighbour.save('index/foreign', Buffer.from('x'));
    await whole.save('stores/mine-too/index/near-miss', Buffer.from('x'));
    await whole.save('stores/mine/index/', Buffer.alloc(0)); // a folder marker another tool made
    const index = Array.from({ length: 1105 }, (_, i) => `index/${i.toString(16).padStart(64, '0')}`);
    for (let i = 0; i < index.length; i += 32)
      await Promise.all(index.slice(i, i + 32).map((key) => backend.save(key, Buffer.from(key))));
    const data = ['data/00/00aa', 'data/ab/abcd', 'data/ff/ffee'];
    for (const key of data) await backend.save(key, Buffer.from('d'));
    await backend.save('snapshots/s1', Buffer.from('s'));
    await backend.save('meta/archives/a1', Buffer.from('nested'));
    await backend.createOnce('config', Buffer.from('c'));
    assert.deepEqual((await backend.list('index')).sort(), index.sort());
    assert.deepEqual((await backend.list('data')).sort(), data);
    assert.deepEqual(await backend.list('snapshots'), ['snapshots/s1']);
    assert.deepEqual(await backend.list('meta'), ['meta/archives/a1']);
    for (const kind of ['locks', 'cache'] as KeyKind[]) assert.deepEqual(await backend.list(kind), []);
    assert.deepEqual(await neighbour.list('index'), ['index/foreign']);
    const sizes = await backend.sizes('data');
    assert.deepEqual(
      [...sizes.entries()].sort(),
      data.map((key) => [key, 1]),
    );
    assert.equal((await backend.sizes('index')).size, 1105);
    assert.deepEqual((await backend.rootEntries())?.sort(), ['config', 'data', 'index', 'meta', 'snapshots']);
    await backend.createLayout(); // the bucket exists: nothing to do
    const fresh = await open({ bucket, prefix: 'stores/empty' });
    assert.deepEqual(await fresh.rootEntries(), []);
  });

  it('loadRange reads the asked bytes; past the end is OBJECT_DAMAGED; an absent key is OBJECT_MISSING', async () => {
    const backend = await open();
    const pack = seededBytes(100_000, 4);
    await backend.save('data/12/1234', pack);
    assert.ok((await backend.loadRange('data/12/1234', 0, 10)).equals(pack.subarray(0, 10)));
    assert.ok((await backend.loadRange('data/12/1234', 40_000, 5_000)).equals(pack.subarray(40_000, 45_000)));
    assert.ok((await backend.loadRange('data/12/1234', 99_990, 10)).equals(pack.subarray(99_990)));
    assert.equal((await backend.loadRange('data/12/1234', 5, 0)).length, 0);
    assert.equal((await rejectionCode(() => backend.loadRange('data/12/1234', 99_990, 11))).code, 'OBJECT_DAMAGED');
    assert.equal((await rejectionCode(() => backend.loadRange('data/12/1234', 200_000, 1))).code, 'OBJECT_DAMAGED');
    assert.equal((await rejectionCode(() => backend.loadRange('data/12/absent', 0, 1))).code, 'OBJECT_MISSING');
    assert.equal((await rejectionCode(() => backend.loadRange('data/12/absent', 0, 0))).code, 'OBJECT_MISSING');
  });

  it('an absent key is OBJECT_MISSING to load and undefined to size; remove is idempotent', async () => {
    const backend = await open();
    const missing = await rejectionCode(() => backend.load('snapshots/nope'));
    assert.equal(missing.code, 'OBJECT_MISSING');
    assert.match(missing.message, /snapshots\/nope/);
    assert.equal(await backend.size('snapshots/nope'), undefined);
    await backend.save('locks/l', Buffer.from('l'));
    await backend.remove('locks/l');
    await backend.remove('locks/l');
    await backend.remove('locks/never-there');
    assert.deepEqual(await backend.list('locks'), []);
    assert.equal((await rejectionCode(() => backend.load('locks/l'))).code, 'OBJECT_MISSING');
  });

  it('signs keys under a folder with spaces and non-ASCII names', async () => {
    const backend = await open({ prefix: 'my backups/Zoë+1' });
    await backend.save('snapshots/a b', Buffer.from('x'));
    assert.deepEqual(await backend.list('snapshots'), ['snapshots/a b']);
    assert.equal((await backend.load('snapshots/a b')).toString(), 'x');
  });

  it('store locks work on it: an exclusive lock shuts out a second one, a claim is held by one at a time', async () => {
    const backend = await open();
    const held = await Lock.acquire(backend, { exclusive: true, purpose: 'prune', waitMs: 0 });
    assert.equal(
      (await rejectionCode(() => Lock.acquire(backend, { exclusive: false, purpose: 'snapshot', waitMs: 200 }))).code,
      'REPO_LOCKED',
    );
    await held.release();
    const shared = await Lock.acquire(backend, { exclusive: false, purpose: 'snapshot', waitMs: 0 });
    await shared.release();
    const claim = await Lock.tryClaim(backend, 'scheduled', 'scheduled snapshot');
    assert.ok(claim);
    assert.equal(await Lock.tryClaim(backend, 'scheduled', 'scheduled snapshot'), undefined);
    await claim.release();
    assert.deepEqual(await backend.list('locks'), []);
  });

  it('a bucket that does not exist reads as no store and is not laid out; a wrong secret is AUTH_FAILED', async () => {
    const absent = await open({ bucket: `absent-${randomBytes(4).toString('hex')}` });
    assert.equal((await rejectionCode(() => absent.load('config'))).code, 'OBJECT_MISSING');
    assert.deepEqual(await absent.list('snapshots'), []);
    assert.equal(await absent.rootEntries(), undefined);
    assert.equal((await rejectionCode(() => absent.createLayout())).code, 'PATH_NOT_FOUND');
    const backend = await open();
    await backend.save('config', Buffer.from('c'));
    const bucket = new URL(backend.location.replace(/^s3\+http:/, 'http:')).pathname.slice(1);
    const forged = await open({ bucket, creds: { accessKeyId: credentials.accessKeyId, secretAccessKey: 'wrong' } });
    const denied = await rejectionCode(() => forged.load('config'));
    assert.equal(denied.code, 'AUTH_FAILED');
    assert.doesNotMatch(denied.message, new RegExp(credentials.secretAccessKey));
  });

  describe('as a destination, end to end through the CLI', () => {
    const temp = useTempDirs();

    it('`copy --to s3+http://…` makes a store there; `verify` and `status` read it; `restore` works with the local store gone', async () => {
      const ws = temp.make('ws');
      const store = temp.make('store');
      writeTree(ws, {
        'README.md': '# app\n',
        'src/main.ts': 'export const x = 1;\n',
        'data/blob.bin': seededBytes(300_000, 9),
      });
      const env = { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey };
      assert.equal((await runCliCaptured(['snapshot', ws, '--repo', store])).code, 0);
      const bucket = await open();
      const location = `s3+http://${server!.endpoint}/${bucket.location.split('/').pop()}/laptop`;

      const copy = await runCliCaptured(['copy', '--repo', store, '--to', location, '--offsite'], env);
      assert.equal(copy.code, 0, copy.stderr.join('\n'));
      assert.match(copy.stdout.join('\n'), /copied/);
      const verify = await runCliCaptured(['verify', '--repo', location, '--read-data'], env);
      assert.equal(verify.code, 0, verify.stderr.join('\n') + verify.stdout.join('\n'));
      const status = await runCliCaptured(['status', '--repo', store, '--workspace', ws, '--json'], env);
      const report = status.json<{
        copies: number;
        offsite: boolean;
        locations: Array<{ kind: string; medium?: string }>;
      }>();
      assert.equal(report.copies, 3);
      assert.equal(report.offsite, true);
      assert.equal(report.locations.find((l) => l.kind === 'destination')?.medium, '127.0.0.1'.replace(/^/, 'remote:'));

      fs.rmSync(store, { recursive: true, force: true });
      const target = temp.make('restored');
      const restore = await runCliCaptured(['restore', 'latest', '--repo', location, '--target', target], env);
      assert.equal(restore.code, 0, restore.stderr.join('\n'));
      assert.deepEqual(readTree(target), readTree(ws));
      // Without the access key: one sentence, exit 1.
      const denied = await runCliCaptured(['list', '--repo', location], {});
      assert.equal(denied.code, 1);
      assert.equal(denied.stderr.length, 1);
      assert.match(denied.stderr[0], /AWS_ACCESS_KEY_ID/);
    });
  });
});
