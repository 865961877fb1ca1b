// Every command package.json contributes is registered exactly once, through the one registry (#13): read
// from the source of src/vscode/commands/registry.ts and the command files it lists (no vscode needed).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Commands } from '../../src/vscode/commandIds';
import { REPO_ROOT } from './helpers/fixtures';

const COMMANDS_DIR = path.join(REPO_ROOT, 'src', 'vscode', 'commands');

/** The command ids each file in the registry declares (`id: Commands.x`), by file. */
function registered(): Map<string, string[]> {
  const registry = fs.readFileSync(path.join(COMMANDS_DIR, 'registry.ts'), 'utf8');
  const imported = new Map(
    [...registry.matchAll(/import \{ commands as (\w+) \} from '\.\/(\w+)';/g)].map((m) => [m[1], m[2]]),
  );
  const listBody = /ALL_COMMANDS[^=]*=\s*\[([^\]]*)\]/.exec(registry)?.[1] ?? '';
  const listed = [...listBody.matchAll(/\.\.\.(\w+)/g)].map((m) => m[1]);
  const byFile = new Map<string, string[]>();
  for (const name of listed) {
    const file = imported.get(name);
    assert.ok(file, `${name} is listed in the registry but not imported from a command file`);
    const text = fs.readFileSync(path.join(COMMANDS_DIR, `${file}.ts`), 'utf8');
    const ids = [...text.matchAll(/\bid:\s*Commands\.(\w+)/g)].map((m) => {
      const id = (Commands as Record<string, string>)[m[1]];
      assert.ok(id, `${file}.ts declares Commands.${m[1]}, which commandIds.ts does not have`);
      return id;
    });
    byFile.set(file, ids);
  }
  return byFile;
}

describe('command registry (#13)', () => {
  it('every command in package.json contributes.commands is registered exactly once, and nothing else is', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      contributes: { commands: Array<{ command: string }> };
    };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    const ids = [...registered().values()].flat();
    const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
    assert.deepEqual(twice, [], 'registered more than once');
    assert.deepEqual([...ids].sort(), contributed);
  });

  it('every command file in src/vscode/commands with a `commands` list is in the registry', () => {
    const inRegistry = new Set(registered().keys());
    const withList = fs
      .readdirSync(COMMANDS_DIR)
      .filter(
        (f) =>
          f.endsWith('.ts') &&
          /^export const commands: CommandSpec\[\]/m.test(fs.readFileSync(path.join(COMMANDS_DIR, f), 'utf8')),
      )
      .map((f) => f.replace(/\.ts$/, ''));
    assert.deepEqual(
      withList.filter((f) => !inRegistry.has(f)),
      [],
    );
  });

  it('activate registers commands only through the registry', () => {
    const activate = fs.readFileSync(path.join(REPO_ROOT, 'src', 'extension.ts'), 'utf8');
    assert.doesNotMatch(activate, /registerCommand\(/);
    assert.match(activate, /registerCommands\(ctx\)/);
  });
});
