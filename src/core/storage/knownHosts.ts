// Is this server's key the one we trust? Reads OpenSSH's known_hosts format (plain and hashed `|1|` host
// names, `[host]:port` for other ports, `*`/`?` wildcards and `!` negation, `@revoked` lines) and computes
// fingerprints as `ssh-keygen -l` prints them (SHA256:<base64 without padding>).
// Invariant: a key is trusted only when a line names this host and port with exactly these key bytes, and
// no @revoked line names the key.

import { createHash, createHmac } from 'node:crypto';

/** The fingerprint of a public key blob (the wire format ssh sends), e.g. `SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s`. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Accepts a fingerprint as the user may paste it (with or without `SHA256:`, with or without padding). */
export function normalizeFingerprint(text: string): string | undefined {
  const match = /^\s*(?:SHA256:)?([A-Za-z0-9+/]{43})=?\s*$/.exec(text);
  return match ? `SHA256:${match[1]}` : undefined;
}

export type KnownHostsVerdict =
  /** A line names this host with this key. */
  | { kind: 'trusted' }
  /** No line names this host. */
  | { kind: 'unknown' }
  /** Lines name this host, with other keys: the server's key changed, or someone is in between. */
  | { kind: 'mismatch' }
  /** A @revoked line names this key. */
  | { kind: 'revoked' };

interface Entry {
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  type: string;
  key: Buffer;
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0].startsWith('@') ? fields.shift() : '';
    if (marker !== '' && marker !== '@revoked' && marker !== '@cert-authority') continue;
    if (fields.length < 3) continue;
    const [hosts, type, base64] = fields;
    const key = Buffer.from(base64, 'base64');
    if (key.length === 0) continue;
    entries.push({ marker, hosts, type, key });
  }
  return entries;
}

function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

/** Whether a line's host field names `hostId` (`host` or `[host]:port`), following OpenSSH's rules. */
function namesHost(hosts: string, hostId: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(hostId).digest('base64');
    return mac === hash;
  }
  let matched = false;
  for (const pattern of hosts.split(',')) {
    if (!pattern) continue;
    const negated = pattern.startsWith('!');
    const body = negated ? pattern.slice(1) : pattern;
    if (!wildcardToRegExp(body).test(hostId)) continue;
    if (negated) return false; // a negated match overrules any positive one on the line
    matched = true;
  }
  return matched;
}

/** Checks `key` (the server's public key blob) for `hostId` against the text of a known_hosts file. */
export function checkKnownHosts(text: string, hostId: string, key: Buffer): KnownHostsVerdict {
  let namedHere = false;
  let trusted = false;
  for (const entry of parse(text)) {
    if (entry.marker === '@revoked') {
      if (entry.key.equals(key)) return { kind: 'revoked' };
      continue;
    }
    if (entry.marker === '@cert-authority') continue; // host certificates are not supported: such lines do not vouch for a plain key
    if (!namesHost(entry.hosts, hostId)) continue;
    namedHere = true;
    if (entry.key.equals(key)) trusted = true;
  }
  if (trusted) return { kind: 'trusted' };
  return namedHere ? { kind: 'mismatch' } : { kind: 'unknown' };
}

/**
 * The host key algorithms to ask the server for, best first, so that it shows a key of a type known_hosts
 * has for it (as ssh does); undefined when known_hosts names no key for the host (any type will do).
 */
export function preferredHostKeyAlgorithms(text: string, hostId: string): string[] | undefined {
  const algorithms: string[] = [];
  for (const entry of parse(text)) {
    if (entry.marker !== '' || !namesHost(entry.hosts, hostId)) continue;
    const forType = entry.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [entry.type];
    for (const algorithm of forType) if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  return algorithms.length > 0 ? algorithms : undefined;
}
