// Source-like text for the benchmark workspace. It is built from a fixed token vocabulary with a skewed
// frequency so it compresses roughly like real code (3-5x with zlib), and each file mixes in a few names
// of its own so no two files are identical (identical files would flatter every deduplicating tool).

import type { Prng } from './prng';

const keywords = [
  'const',
  'let',
  'function',
  'return',
  'if',
  'else',
  'for',
  'while',
  'import',
  'export',
  'from',
  'async',
  'await',
  'new',
  'this',
  'class',
  'interface',
  'type',
  'public',
  'private',
  'static',
  'readonly',
  'throw',
  'try',
  'catch',
  'finally',
  'switch',
  'case',
  'break',
  'continue',
  'typeof',
  'instanceof',
  'void',
];
const literals = ['true', 'false', 'null', 'undefined', '0', '1', '-1', "''", '[]', '{}'];
const syllables = [
  'user',
  'file',
  'path',
  'node',
  'tree',
  'item',
  'list',
  'map',
  'set',
  'key',
  'value',
  'index',
  'count',
  'size',
  'name',
  'data',
  'config',
  'option',
  'state',
  'event',
  'handler',
  'request',
  'response',
  'cache',
  'store',
  'buffer',
  'stream',
  'chunk',
  'hash',
  'entry',
  'record',
  'result',
  'error',
  'status',
  'token',
  'session',
  'client',
  'server',
  'query',
  'filter',
  'sort',
  'parse',
  'format',
  'render',
  'update',
  'create',
  'delete',
  'load',
  'save',
  'open',
  'close',
  'read',
  'write',
  'start',
  'stop',
  'init',
  'reset',
  'get',
  'apply',
  'build',
];
const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** A shared identifier vocabulary: camelCase pairs of syllables, built once in a fixed order. */
export const identifiers: readonly string[] = (() => {
  const out: string[] = [];
  for (let i = 0; i < syllables.length; i++) {
    for (let j = 0; j < syllables.length; j += 7) {
      if (i !== j) out.push(syllables[i] + capitalize(syllables[j]));
    }
  }
  return out;
})();
const typeNames = identifiers.filter((_, i) => i % 5 === 0).map(capitalize);
const words = [
  'the',
  'a',
  'to',
  'of',
  'and',
  'is',
  'in',
  'when',
  'this',
  'that',
  'we',
  'it',
  'not',
  'be',
  'so',
  'each',
  'file',
  'snapshot',
  'store',
  'value',
  'returns',
  'keeps',
  'called',
  'only',
  'once',
  'after',
  'before',
  'must',
  'never',
  'because',
  'otherwise',
  'cache',
  'order',
  'changed',
  'same',
  'new',
  'old',
  'first',
  'last',
  'error',
];

/** Names unique to one file: short random tails that repeat within the file, as local names do. */
export function localNames(rng: Prng, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    out.push(rng.pick(syllables) + capitalize(rng.pick(syllables)) + rng.nextUint32().toString(36).slice(0, 3));
  }
  return out;
}

function ident(rng: Prng, locals: readonly string[]): string {
  return locals.length > 0 && rng.chance(0.3) ? rng.pick(locals) : rng.pickSkewed(identifiers);
}

function comment(rng: Prng): string {
  const n = rng.int(3, 12);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(rng.pickSkewed(words));
  return parts.join(' ');
}

/** One line of TypeScript-looking code at the given indentation depth. */
export function codeLine(rng: Prng, locals: readonly string[], depth: number): string {
  const indent = '  '.repeat(depth);
  const a = ident(rng, locals);
  const b = ident(rng, locals);
  const c = ident(rng, locals);
  switch (rng.int(0, 11)) {
    case 0:
      return `${indent}const ${a} = ${b}(${c}, ${rng.pick(literals)});`;
    case 1:
      return `${indent}if (${a}.${b} === ${rng.pick(literals)}) {`;
    case 2:
      return `${indent}return ${a}.${b}(${c});`;
    case 3:
      return `${indent}// ${comment(rng)}`;
    case 4:
      return `${indent}}`;
    case 5:
      return `${indent}${a}.${b} = await ${c}.${rng.pickSkewed(identifiers)}(${rng.int(0, 4096)});`;
    case 6:
      return `${indent}for (const ${a} of ${b}.${c}) {`;
    case 7:
      return `${indent}${rng.pick(keywords)} ${a}: ${rng.pick(typeNames)} = new ${rng.pick(typeNames)}(${b});`;
    case 8:
      return `${indent}throw new Error(\`${comment(rng)} \${${a}}\`);`;
    case 9:
      return `${indent}export function ${a}(${b}: ${rng.pick(typeNames)}, ${c}: string): ${rng.pick(typeNames)} {`;
    case 10:
      return `${indent}${a}(${b}, '${rng.pickSkewed(words)}-${rng.int(0, 999)}');`;
    default:
      return '';
  }
}

function markdownLine(rng: Prng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return `## ${capitalize(comment(rng))}`;
    case 1:
      return `- ${capitalize(comment(rng))}.`;
    case 2:
      return '';
    default:
      return `${capitalize(comment(rng))}. ${capitalize(comment(rng))}, \`${rng.pickSkewed(identifiers)}\`.`;
  }
}

/** Source text of about `size` bytes (never more than a line over). */
export function sourceText(rng: Prng, size: number, kind: 'code' | 'markdown'): string {
  const locals = localNames(rng, rng.int(3, 10));
  const lines: string[] = [];
  let length = 0;
  let depth = 0;
  while (length < size) {
    let line: string;
    if (kind === 'markdown') {
      line = markdownLine(rng);
    } else {
      line = codeLine(rng, locals, depth);
      if (line.endsWith('{')) depth = Math.min(depth + 1, 6);
      else if (line.trim() === '}') depth = Math.max(depth - 1, 0);
    }
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n') + '\n';
}

/** A package.json / tsconfig-like document. */
export function jsonText(rng: Prng, size: number): string {
  const doc: Record<string, unknown> = {};
  let length = 2;
  while (length < size) {
    const key = rng.pickSkewed(identifiers) + rng.int(0, 99);
    const value = rng.chance(0.5)
      ? `${rng.pickSkewed(words)}-${rng.pickSkewed(identifiers)}`
      : { [rng.pickSkewed(identifiers)]: rng.int(0, 100000), enabled: rng.chance(0.5), tag: rng.pick(words) };
    doc[key] = value;
    length += JSON.stringify({ [key]: value }).length + 4;
  }
  return JSON.stringify(doc, null, 2) + '\n';
}

/** A package-lock.json-like file: repetitive structure with random integrity hashes (incompressible part). */
export function lockText(rng: Prng, size: number): string {
  const packages: Record<string, unknown> = {};
  let length = 0;
  let i = 0;
  while (length < size) {
    const name = `${rng.pickSkewed(syllables)}-${rng.pickSkewed(syllables)}${i++}`;
    const version = `${rng.int(0, 12)}.${rng.int(0, 30)}.${rng.int(0, 20)}`;
    const entry = {
      version,
      resolved: `https://registry.example.invalid/${name}/-/${name}-${version}.tgz`,
      integrity: `sha512-${rng.bytes(64).toString('base64')}`,
      dev: rng.chance(0.3) || undefined,
      dependencies: rng.chance(0.4) ? { [rng.pickSkewed(identifiers)]: `^${rng.int(1, 9)}.0.0` } : undefined,
    };
    packages[`node_modules/${name}`] = entry;
    length += JSON.stringify(entry).length + name.length + 40;
  }
  return JSON.stringify({ name: 'workspace', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n';
}
