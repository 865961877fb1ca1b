// The store in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2, Ceph RGW), path-style,
// signed with AWS Signature V4 by hand over node:https (no SDK: the whole client is this file).
// Invariants: a PUT is atomic per object, so `save` needs no temp names; `createOnce` uses `If-None-Match: *`
// when the server honours it (probed once) and otherwise falls back to put-then-reread, which a true race
// can fool (see docs/s3-destination.md); credentials never come from the location string.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { BackupError } from '../errors';
import type { Backend, KeyKind } from './backend';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Target {
  secure: boolean;
  host: string;
  port: number;
  bucket: string;
  /** '' or a folder inside the bucket ending in '/'. */
  prefix: string;
  region: string;
}

type Env = Record<string, string | undefined>;

/** `s3://host[:port]/bucket[/prefix][?region=r]` (https) or `s3+http://…` (plain http, for a local server). */
export function parseS3Location(location: string, env: Env = process.env): S3Target {
  // A scheme URL does not know keeps the port as written (http: would drop :80, and https: :443).
  const url = /^s3(\+https?)?:\/\//i.test(location)
    ? new URL(location.replace(/^s3(\+https?)?:/i, 'x-s3:'))
    : undefined;
  const [bucket, ...rest] = url ? decodeURIComponent(url.pathname).split('/').filter(Boolean) : [];
  if (!url || !bucket)
    throw new BackupError(
      'USAGE',
      `${location} is not an S3 location; write s3://host/bucket/folder (or s3+http:// for a local server).`,
      { location },
    );
  if (url.username || url.password) {
    throw new BackupError(
      'USAGE',
      `Put no credentials in ${url.host}'s location: they are read from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the editor's secret storage.`,
      { location: url.host },
    );
  }
  const secure = !/^s3\+http:/i.test(location);
  const fromHost = /^s3[.-]([a-z0-9-]+)\.(amazonaws\.com|backblazeb2\.com)$/i.exec(url.hostname)?.[1];
  const region = url.searchParams.get('region') ?? fromHost ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  return { secure, host: url.hostname, port, bucket, prefix: rest.length ? `${rest.join('/')}/` : '', region };
}

/** The CLI's credentials: the standard AWS variables, or undefined when they are not set. */
export function s3CredentialsFromEnv(env: Env = process.env): S3Credentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return accessKeyId && secretAccessKey
    ? { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined }
    : undefined;
}

/** The backend for an s3:// location, with the editor's stored credentials or else the environment's. */
export function openS3Backend(location: string, credentials?: S3Credentials, env: Env = process.env): S3Backend {
  const target = parseS3Location(location, env);
  const found = credentials ?? s3CredentialsFromEnv(env);
  if (!found)
    throw new BackupError(
      'AUTH_FAILED',
      `No access key for ${target.host}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (the editor asks once and keeps them in its secret storage).`,
      { location },
    );
  return new S3Backend(location, target, found);
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ is %XX. */
const enc = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const xmlText = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(Number(e[1] === 'x' || e[1] === 'X' ? `0${e.slice(1)}` : e.slice(1)))
      : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e.toLowerCase()],
  );

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const RETRIED = new Set([409, 429, 500, 502, 503, 504]);

export class S3Backend implements Backend {
  private readonly agent: http.Agent;
  /** Whether the server refuses a second `If-None-Match: *` PUT; probed on the first createOnce. */
  private conditional: Promise<boolean> | undefined;

  constructor(
    readonly location: string,
    private readonly target: S3Target,
    private readonly credentials: S3Credentials,
    private readonly options: { now?: () => Date; attempts?: number; conditionalWrites?: boolean } = {},
  ) {
    if (options.conditionalWrites !== undefined) this.conditional = Promise.resolve(options.conditionalWrites);
    this.agent = target.secure
      ? new https.Agent({ keepAlive: true, maxSockets: 16 })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Creates the bucket if it does not exist yet (a bucket we already own is fine). */
  async createBucket(): Promise<void> {
    const { region } = this.target;
    const where =
      region === 'us-east-1'
        ? []
        : [
            Buffer.from(
              `<CreateBucketConfiguration><LocationConstraint>${region}</LocationConstraint></CreateBucketConfiguration>`,
            ),
          ];
    const reply = await this.request('PUT', '', {}, where);
    if (reply.status !== 200 && !(reply.status === 409 && /BucketAlreadyOwnedByYou/.test(reply.body.toString())))
      throw this.failure(reply, 'creating the bucket', '');
  }

  async save(key: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const reply = await this.request('PUT', key, {}, Buffer.isBuffer(data) ? [data] : data);
    if (reply.status !== 200) throw this.failure(reply, 'writing', key);
  }

  async createOnce(key: string, data: Buffer): Promise<Buffer> {
    this.conditional ??= this.probeConditional();
    const conditional = await this.conditional;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (conditional) {
        const reply = await this.request('PUT', key, { 'if-none-match': '*' }, [data]);
        if (reply.status === 200) return data;
        if (reply.status !== 412) throw this.failure(reply, 'creating', key);
      } else if ((await this.size(key)) === undefined) {
        // Emulated: put, then read back; a writer that raced us between the HEAD and our PUT may still win.
        await this.save(key, data);
      }
      const stored = await this.load(key).catch((error: unknown) => {
        if (error instanceof BackupError && error.code === 'OBJECT_MISSING') return undefined; // removed meanwhile: try again
        throw error;
      });
      // Equal bytes are ours (a retried PUT whose first answer was lost meets its own object).
      if (stored) return stored.equals(data) ? data : stored;
    }
    throw new BackupError(
      'IO_ERROR',
      `${key} in ${this.location} keeps appearing and disappearing while it is being created.`,
      { key },
    );
  }

  async load(key: string): Promise<Buffer> {
    const reply = await this.request('GET', key, {});
    if (reply.status === 200) return reply.body;
    throw reply.status === 404 ? this.missing(key) : this.failure(reply, 'reading', key);
  }

  async loadRange(key: string, offset: number, length: number): Promise<Buffer> {
    if (length === 0) {
      if ((await this.size(key)) === undefined) throw this.missing(key);
      return Buffer.alloc(0);
    }
    const reply = await this.request('GET', key, { range: `bytes=${offset}-${offset + length - 1}` });
    if (reply.status === 404) throw this.missing(key);
    const body = reply.status === 200 ? reply.body.subarray(offset) : reply.body; // a server that ignores Range sends it all
    if ((reply.status === 206 || reply.status === 200) && body.length >= length) return body.subarray(0, length);
    if (reply.status === 206 || reply.status === 200 || reply.status === 416) {
      throw new BackupError(
        'OBJECT_DAMAGED',
        `${key} in the store at ${this.location} is shorter than its index says (truncated).`,
        { key },
      );
    }
    throw this.failure(reply, 'reading', key);
  }

  async size(key: string): Promise<number | undefined> {
    const reply = await this.request('HEAD', key, {});
    if (reply.status === 404) return undefined;
    if (reply.status !== 200) throw this.failure(reply, 'reading', key);
    return Number(reply.headers['content-length']);
  }

  async list(kind: KeyKind): Promise<string[]> {
    return [...(await this.sizes(kind)).keys()];
  }

  /** Keys under a kind with their sizes, from the listing itself (no request per key). */
  async sizes(kind: KeyKind): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const { key, size } of (await this.listing(`${kind}/`))?.objects ?? [])
      if (!key.endsWith('/')) found.set(key, size); // not folder markers other tools make
    return found;
  }

  /** Names directly under the store's prefix (objects and "folders"), or undefined when the bucket does not exist. */
  async rootEntries(): Promise<string[] | undefined> {
    const found = await this.listing('', '/');
    return found && [...found.objects.map((o) => o.key), ...found.folders.map((f) => f.replace(/\/$/, ''))];
  }

  /** Nothing to lay out in a bucket; checks that it exists, since the store is only created inside one. */
  async createLayout(): Promise<void> {
    if (!(await this.listing('locks/'))) {
      throw new BackupError(
        'PATH_NOT_FOUND',
        `The bucket ${this.target.bucket} does not exist at ${this.target.host}; create it with your provider's console or tools first.`,
        { location: this.location },
      );
    }
  }

  /** ListObjectsV2 under the store's prefix + `under`, all pages; undefined when there is no bucket. */
  private async listing(
    under: string,
    delimiter?: string,
  ): Promise<{ objects: { key: string; size: number }[]; folders: string[] } | undefined> {
    const objects: { key: string; size: number }[] = [];
    const folders: string[] = [];
    const strip = (name: string): string => xmlText(name).slice(this.target.prefix.length);
    let token: string | undefined;
    do {
      const query: Record<string, string> = {
        'list-type': '2',
        prefix: `${this.target.prefix}${under}`,
        ...(delimiter ? { delimiter } : {}),
      };
      if (token) query['continuation-token'] = token;
      const reply = await this.request('GET', '', {}, [], query);
      if (reply.status === 404) return undefined;
      if (reply.status !== 200) throw this.failure(reply, 'listing', under || 'the store');
      const xml = reply.body.toString('utf8');
      for (const [entry] of xml.matchAll(/<Contents>.*?<\/Contents>/gs)) {
        objects.push({
          key: strip(/<Key>([^<]*)</.exec(entry)?.[1] ?? ''),
          size: Number(/<Size>(\d+)</.exec(entry)?.[1]),
        });
      }
      for (const [, name] of xml.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)) folders.push(strip(name));
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
        ? xmlText(/<NextContinuationToken>([^<]*)</.exec(xml)?.[1] ?? '')
        : undefined;
    } while (token);
    return { objects, folders };
  }

  async remove(key: string): Promise<void> {
    const reply = await this.request('DELETE', key, {});
    if (reply.status !== 204 && reply.status !== 200 && reply.status !== 404)
      throw this.failure(reply, 'removing', key);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** Writes a scratch object twice with `If-None-Match: *`: a server that accepts both ignores the header. */
  private async probeConditional(): Promise<boolean> {
    const key = `probe-${randomBytes(8).toString('hex')}`; // outside every kind: never listed
    try {
      const first = await this.request('PUT', key, { 'if-none-match': '*' }, [Buffer.from('1')]);
      if (first.status === 501 || first.status === 400) return false; // "not implemented" (B2, older servers)
      if (first.status !== 200) throw this.failure(first, 'writing', key);
      const second = await this.request('PUT', key, { 'if-none-match': '*' }, [Buffer.from('2')]);
      return second.status === 412;
    } finally {
      await this.remove(key).catch(() => undefined);
    }
  }

  private missing(key: string): BackupError {
    return new BackupError('OBJECT_MISSING', `The store at ${this.location} is missing ${key}.`, { key });
  }

  private failure(reply: Reply, doing: string, key: string): BackupError {
    const text = reply.body.toString('utf8');
    const code = /<Code>([^<]*)</.exec(text)?.[1] ?? `HTTP ${reply.status}`;
    const detail = xmlText(/<Message>([^<]*)</.exec(text)?.[1] ?? '');
    const where = `${key} in ${this.location}`;
    if (/InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|InvalidToken/.test(code)) {
      return new BackupError(
        'AUTH_FAILED',
        `${this.target.host} refused the access key (${code}) while ${doing} ${where}; check the key, its secret and the region.`,
        { key, s3Code: code },
      );
    }
    if (reply.status === 403)
      return new BackupError(
        'PERMISSION_DENIED',
        `Permission denied while ${doing} ${where} (${code}); check the access key's rights on the bucket.`,
        { key, s3Code: code },
      );
    return new BackupError(
      'IO_ERROR',
      `The server answered ${code}${detail ? ` (${detail})` : ''} while ${doing} ${where}.`,
      { key, s3Code: code, status: reply.status },
    );
  }

  /** One signed request, retried with backoff on network errors, throttling and server errors. */
  private async request(
    method: string,
    key: string,
    headers: Record<string, string>,
    body: readonly Buffer[] = [],
    query: Record<string, string> = {},
  ): Promise<Reply> {
    const attempts = this.options.attempts ?? 4;
    for (let attempt = 1; ; attempt++) {
      try {
        const reply = await this.send(method, key, headers, body, query);
        if (
          !RETRIED.has(reply.status) ||
          attempt >= attempts ||
          (reply.status === 409 && !/ConditionalRequestConflict|OperationAborted/.test(reply.body.toString()))
        )
          return reply;
      } catch (error) {
        if (attempt >= attempts) {
          const detail = error instanceof Error ? error.message : String(error);
          throw new BackupError(
            'REMOTE_UNREACHABLE',
            `Cannot reach ${this.target.host} for ${key || 'the bucket'} in ${this.location}: ${detail}`,
            { key },
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random())));
    }
  }

  private send(
    method: string,
    key: string,
    extra: Record<string, string>,
    body: readonly Buffer[],
    query: Record<string, string>,
  ): Promise<Reply> {
    const { host, port, secure, bucket, prefix, region } = this.target;
    const path = `/${[bucket, ...(key ? `${prefix}${key}`.split('/') : [])].map(enc).join('/')}`;
    const search = Object.keys(query)
      .sort()
      .map((k) => `${enc(k)}=${enc(query[k])}`)
      .join('&');
    const hash = createHash('sha256');
    for (const part of body) hash.update(part);
    const amzDate = (this.options.now?.() ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const headers: Record<string, string> = {
      host: port === (secure ? 443 : 80) ? host : `${host}:${port}`,
      'x-amz-content-sha256': hash.digest('hex'),
      'x-amz-date': amzDate,
      ...(this.credentials.sessionToken ? { 'x-amz-security-token': this.credentials.sessionToken } : {}),
    };
    const signed = Object.keys(headers).sort();
    const canonical = [
      method,
      path,
      search,
      ...signed.map((h) => `${h}:${headers[h]}`),
      '',
      signed.join(';'),
      headers['x-amz-content-sha256'],
    ].join('\n');
    const scope = `${amzDate.slice(0, 8)}/${region}/s3/aws4_request`;
    const signingKey = ['s3', 'aws4_request'].reduce(
      hmac,
      hmac(hmac(`AWS4${this.credentials.secretAccessKey}`, amzDate.slice(0, 8)), region),
    );
    const signature = hmac(signingKey, ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n')).toString(
      'hex',
    );
    const authorization = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
    const length = body.reduce((n, part) => n + part.length, 0);
    const all = {
      ...headers,
      ...extra,
      authorization,
      ...(method === 'PUT' ? { 'content-length': String(length) } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          host,
          port,
          method,
          path: search ? `${path}?${search}` : path,
          headers: all,
          agent: this.agent,
          timeout: 120_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer for 120 s')));
      req.on('error', reject);
      for (const part of body) req.write(part);
      req.end();
    });
  }
}
