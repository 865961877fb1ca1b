// The editor layer has no import cycles (#13): no file imports itself through others, and no folder of
// src/vscode imports one that imports it back (the views and the commands sit on the services, the
// composition root src/extension.ts on all of them). Read from the source text, `import type` included, so
// no vscode module is needed.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/fixtures';

type Graph = Map<string, string[]>;

/** Every .ts file under `dir`, absolute. */
function sources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
    );
}

/** The relative imports of each file (static, `import type`, re-exports and dynamic ones), resolved to files. */
export function importGraph(
  files: readonly string[],
  readText: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): Graph {
  const graph: Graph = new Map();
  for (const file of files) {
    const text = readText(file);
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gm),
      ...text.matchAll(/import\(\s*['"](\.[^'"]+)['"]\s*\)/g),
      ...text.matchAll(/^\s*import\s+['"](\.[^'"]+)['"]/gm),
    ].map((m) => m[1]);
    const deps = specs
      .map((spec) => path.resolve(path.dirname(file), spec))
      .map((target) =>
        [`${target}.ts`, path.join(target, 'index.ts'), target].find((candidate) => files.includes(candidate)),
      );
    graph.set(file, [...new Set(deps.filter((d): d is string => d !== undefined))]);
  }
  return graph;
}

/** The strongly connected components of more than one node, or with a self-loop (Tarjan). */
export function cycles(graph: Graph): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indices.get(w)!));
    }
    if (low.get(v) !== indices.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

/** The graph of folders: an edge from a file's folder to each other folder it imports from. */
export function folderGraph(graph: Graph): Graph {
  const folders: Graph = new Map();
  for (const [file, deps] of graph) {
    const from = path.dirname(file);
    const edges = folders.get(from) ?? [];
    for (const dep of deps)
      if (path.dirname(dep) !== from && !edges.includes(path.dirname(dep))) edges.push(path.dirname(dep));
    folders.set(from, edges);
  }
  return folders;
}

const SRC = path.join(REPO_ROOT, 'src');
const rel = (component: string[]) => component.map((p) => path.relative(SRC, p)).join(' <-> ');

describe('editor layering: no import cycles in src/vscode and src/extension.ts (#13)', () => {
  const files = [...sources(path.join(SRC, 'vscode')), path.join(SRC, 'extension.ts')];
  const graph = importGraph(files);

  it('no file-level cycle', () => {
    assert.deepEqual(cycles(graph).map(rel), []);
  });

  it('no folder-level cycle (vscode, vscode/views, vscode/commands, vscode/providers)', () => {
    assert.deepEqual(cycles(folderGraph(graph)).map(rel), []);
  });

  it('the checks see a cycle: a file cycle, a type-only one and a folder cycle are each found', () => {
    const root = path.join(SRC, 'vscode');
    const a = path.join(root, 'a.ts');
    const b = path.join(root, 'b.ts');
    const c = path.join(root, 'views', 'c.ts');
    const text: Record<string, string> = {
      [a]: "import { b } from './b';\n",
      [b]: "import type { A } from './a';\n",
      [c]: "import { b } from '../b';\n",
    };
    const fileCycle = importGraph([a, b, c], (f) => text[f]);
    assert.deepEqual(cycles(fileCycle).map(rel), ['vscode/a.ts <-> vscode/b.ts']);
    text[a] = "export {\n  c,\n} from './views/c';\n";
    text[b] = 'export const b = 1;\n';
    const folderCycle = importGraph([a, b, c], (f) => text[f]);
    assert.deepEqual(cycles(folderCycle), []);
    assert.deepEqual(cycles(folderGraph(folderCycle)).map(rel), ['vscode <-> vscode/views']);
  });
});

describe('editor composition root (#13)', () => {
  it('activate assigns nothing to a service after building it (every dependency goes through a constructor)', () => {
    const text = fs.readFileSync(path.join(SRC, 'extension.ts'), 'utf8');
    const assignments = [...text.matchAll(/^\s*([\w.]+\.\w+)\s*=[^=>]/gm)].map((m) => m[1]);
    assert.deepEqual(assignments, []);
  });
});

/** Core imports a front may not use: the engine's parts under a use case's door (restore, forget, prune). */
const BEHIND_DOORS: ReadonlyArray<{ module: string; name: string; door: string }> = [
  { module: 'core/restore/restorer', name: 'Restorer', door: 'planRestore/applyRestore' },
  { module: 'core/retention/forget', name: 'forget', door: 'planForget/applyForget' },
  { module: 'core/retention/prune', name: 'prune', door: 'planPrune/applyPrune' },
];

/** "file: name (use door)" for each value import of a part behind a door (type imports are fine). */
export function partsBehindDoors(
  files: readonly string[],
  readText: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): string[] {
  const found: string[] = [];
  for (const file of files) {
    const text = readText(file);
    for (const m of text.matchAll(/^\s*import\s+(type\s+)?\{([^}]*)\}\s*from\s+['"]([^'"]+)['"]/gm)) {
      if (m[1]) continue;
      const target = path.resolve(path.dirname(file), m[3]);
      const names = m[2]
        .split(',')
        .map((n) => n.trim())
        .filter((n) => n && !n.startsWith('type '))
        .map((n) => n.split(/\s+as\s+/)[0]);
      for (const rule of BEHIND_DOORS)
        if (target === path.join(SRC, rule.module) && names.includes(rule.name))
          found.push(`${path.relative(SRC, file)}: ${rule.name} (use ${rule.door})`);
    }
    if (/new\s+Restorer\s*\(/.test(text) && !found.some((f) => f.startsWith(`${path.relative(SRC, file)}: Restorer`)))
      found.push(`${path.relative(SRC, file)}: Restorer (use planRestore/applyRestore)`);
  }
  return found;
}

describe('the editor goes through the doors (#13)', () => {
  const files = [...sources(path.join(SRC, 'vscode')), path.join(SRC, 'extension.ts')];

  it('no file under src/vscode restores with the Restorer or calls forget or prune itself: only planRestore/applyRestore and the retention door', () => {
    assert.deepEqual(partsBehindDoors(files), []);
  });

  it('the check sees a front that restores, forgets or prunes by itself (type imports aside)', () => {
    const a = path.join(SRC, 'vscode', 'a.ts');
    const b = path.join(SRC, 'vscode', 'commands', 'b.ts');
    const text: Record<string, string> = {
      [a]: "import { forget } from '../core/retention/forget';\nimport type { PruneReport } from '../core/retention/prune';\n",
      [b]: "import {\n  KEPT_CHANGES,\n  Restorer,\n} from '../../core/restore/restorer';\nimport { prune as p } from '../../core/retention/prune';\n",
    };
    assert.deepEqual(
      partsBehindDoors([a, b], (f) => text[f]),
      [
        'vscode/a.ts: forget (use planForget/applyForget)',
        'vscode/commands/b.ts: Restorer (use planRestore/applyRestore)',
        'vscode/commands/b.ts: prune (use planPrune/applyPrune)',
      ],
    );
    text[a] = "import type { Restorer } from '../core/restore/restorer';\n";
    text[b] = "import { KEPT_CHANGES, type PlannedChange } from '../../core/restore/restorer';\n";
    assert.deepEqual(
      partsBehindDoors([a, b], (f) => text[f]),
      [],
    );
  });
});
