// The layering rules of eslint.config.mjs (#13) do what docs/architecture.md says: core never imports
// `vscode` or a front, the editor layer never imports the CLI, the CLI never imports the editor. Checked by
// linting small texts as if they were files in each layer, and the repository itself is clean. No file or
// folder under core and the CLI imports itself through others.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './helpers/fixtures';

type Linter = {
  lintText(
    code: string,
    options: { filePath: string },
  ): Promise<Array<{ messages: Array<{ ruleId: string | null; message: string }> }>>;
};

async function eslint(): Promise<Linter> {
  // eslint is ESM-first; load it the way Node loads it for the CLI.
  const { ESLint } = (await import('eslint')) as unknown as { ESLint: new (options: { cwd: string }) => Linter };
  return new ESLint({ cwd: REPO_ROOT });
}

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await (await eslint()).lintText(code, { filePath: path.join(REPO_ROOT, file) });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering rules (#13)', function () {
  this.timeout(120_000);

  it('core importing vscode, the CLI or the editor layer is an error', async () => {
    assert.match(
      (await restricted('src/core/query/x.ts', "import * as vscode from 'vscode';\nexport const a = vscode;\n")).join(),
      /core is pure Node/,
    );
    assert.match(
      (
        await restricted('src/core/query/x.ts', "import { run } from '../../cli/context';\nexport const a = run;\n")
      ).join(),
      /core never imports the CLI/,
    );
    assert.match(
      (
        await restricted(
          'src/core/query/x.ts',
          "import { BackupService } from '../../vscode/backupService';\nexport const a = BackupService;\n",
        )
      ).join(),
      /core never imports the editor layer/,
    );
  });

  it('the editor layer importing the CLI, or the CLI importing the editor layer, is an error', async () => {
    assert.match(
      (
        await restricted(
          'src/vscode/commands/x.ts',
          "import { run } from '../../cli/context';\nexport const a = run;\n",
        )
      ).join(),
      /editor layer never imports the CLI/,
    );
    assert.match(
      (
        await restricted(
          'src/cli/x.ts',
          "import { BackupService } from '../vscode/backupService';\nexport const a = BackupService;\n",
        )
      ).join(),
      /CLI never imports the editor layer/,
    );
  });

  it('imports along the layers are fine', async () => {
    assert.deepEqual(
      await restricted(
        'src/vscode/commands/x.ts',
        "import { plural } from '../../core/format';\nexport const a = plural;\n",
      ),
      [],
    );
    assert.deepEqual(
      await restricted('src/cli/x.ts', "import { plural } from '../core/format';\nexport const a = plural;\n"),
      [],
    );
  });
});

// ---- import cycles ------------------------------------------------------------------------------------------

/** Value imports (type-only ones erase at compile time) of every .ts file under `dir`, resolved to files. */
function importGraph(dir: string): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith('.ts')) files.push(p);
    }
  };
  walk(dir);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const specifiers = [
      ...[...text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]),
      ...[...text.matchAll(/^import\s+'(\.[^']+)'/gm)].map((m) => m[1]),
      ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]),
    ];
    const deps: string[] = [];
    for (const spec of specifiers) {
      const target = path.resolve(path.dirname(file), spec);
      if (fs.existsSync(`${target}.ts`)) deps.push(`${target}.ts`);
      else if (fs.existsSync(path.join(target, 'index.ts'))) deps.push(path.join(target, 'index.ts'));
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The strongly connected components with more than one member (Tarjan): each is an import cycle. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The same graph between folders: a folder imports another when one of its files does. */
function folderGraph(graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, deps] of graph) {
    const from = path.dirname(file);
    const set = folders.get(from) ?? new Set<string>();
    folders.set(from, set);
    for (const dep of deps) if (path.dirname(dep) !== from) set.add(path.dirname(dep));
  }
  return new Map([...folders].map(([folder, deps]) => [folder, [...deps]]));
}

describe('no import cycles in core and the CLI (#13)', () => {
  const src = path.join(REPO_ROOT, 'src');
  const show = (found: string[][]) => found.map((c) => c.map((p) => path.relative(src, p)).join(' <-> '));
  // The CLI's files import core, never the other way: one graph over both shows cycles through either.
  const graph = new Map([...importGraph(path.join(src, 'core')), ...importGraph(path.join(src, 'cli'))]);
  for (const file of graph.keys())
    graph.set(
      file,
      (graph.get(file) ?? []).filter((dep) => graph.has(dep)),
    );

  it('no file imports itself through others', () => {
    assert.deepEqual(show(cycles(graph)), []);
  });

  it('no folder imports itself through others (core/query and core/snapshot were a cycle)', () => {
    assert.deepEqual(show(cycles(folderGraph(graph))), []);
  });

  it('the check finds a cycle when there is one', () => {
    const a = path.join(src, 'core/a/x.ts');
    const b = path.join(src, 'core/b/y.ts');
    const c = path.join(src, 'core/b/z.ts');
    assert.equal(
      cycles(
        new Map([
          [a, [b]],
          [b, [c]],
          [c, [a]],
        ]),
      ).length,
      1,
    );
    assert.equal(
      cycles(
        folderGraph(
          new Map([
            [a, [b]],
            [b, []],
            [c, [a]],
          ]),
        ),
      ).length,
      1,
      'folder a -> b -> a through different files',
    );
    assert.deepEqual(
      cycles(
        new Map([
          [a, [b]],
          [b, [c]],
          [c, []],
        ]),
      ),
      [],
    );
  });
});
