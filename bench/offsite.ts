// `npm run bench:offsite`: what encryption costs and how fast offsite copies are, against peers measured in
// the same run on the same workspace. Encryption: our snapshot into a plain and an encrypted store, and
// restic's (always encrypted). Copies of the store to another folder, first and after an edit round: our
// `copy`, `rsync -a` of the store folder, `cp -a` (first only) and `restic copy`. Prints figures and ratios;
// exits non-zero only if a measured command failed (a slow figure is a measurement, not a failure).
//
// Run: `node esbuild.js --bench && node dist/bench-offsite.js [--quick] [--dir PATH]`.

import * as fs from 'fs';
import * as path from 'path';
import { dirSize, runCommand, settleDisk, which } from './measure';
import { WorkspaceEditor, ensureWorkspace, formatMiB, mixedParams } from './workspace';

const PASSWORD = 'bench passphrase, not a secret';

interface Row {
  measure: string;
  figures: Array<[tool: string, ms: number | undefined]>;
}

async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  settleDisk();
  return (await runCommand({ cmd, args, env: { ...process.env, ...env } })).ms;
}

async function main(): Promise<number> {
  const quick = process.argv.includes('--quick');
  const dirArg = process.argv.indexOf('--dir');
  const repoRoot = path.resolve(__dirname, '..');
  const dir = path.resolve(dirArg > 0 ? process.argv[dirArg + 1] : path.join(repoRoot, '.bench', 'offsite'));
  const cli = path.join(repoRoot, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error(`${cli} does not exist: build it first (npm run build)`);
  const files = quick ? 1_000 : 10_000;
  const log = (line: string) => console.log(`[bench:offsite] ${line}`);

  const pristine = path.join(path.dirname(dir), `ws-mixed-${files}`);
  const manifest = ensureWorkspace(pristine, mixedParams(files, quick ? 8 << 20 : 64 << 20, quick), log);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const ws = path.join(dir, 'ws');
  await runCommand({ cmd: 'cp', args: ['-a', pristine, ws] });
  const at = (name: string) => path.join(dir, name);
  const restic = which('restic');
  const rsync = which('rsync');
  const failures: string[] = [];
  const rows: Row[] = [];
  const attempt = async (what: string, fn: () => Promise<number>): Promise<number | undefined> => {
    try {
      const ms = await fn();
      log(`${what}: ${ms.toFixed(0)} ms`);
      return ms;
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
      log(`${what} FAILED: ${(error as Error).message}`);
      return undefined;
    }
  };
  const secret = { PROJECT_BACKUP_PASSWORD: PASSWORD, RESTIC_PASSWORD: PASSWORD };

  // 1. Encryption overhead on a first snapshot (the key derivation, scrypt N=2^17, is in the encrypted figures).
  await attempt('init encrypted', () => timed('node', [cli, 'init', '--repo', at('enc'), '--encrypt'], secret));
  if (restic) await attempt('restic init', () => timed('restic', ['init', '--repo', at('restic')], secret));
  rows.push({
    measure: `first snapshot, ${files.toLocaleString('en-US')} files (${formatMiB(manifest.totalBytes)})`,
    figures: [
      [
        'ours plain',
        await attempt('ours plain snapshot', () => timed('node', [cli, 'snapshot', ws, '--repo', at('plain')])),
      ],
      [
        'ours encrypted',
        await attempt('ours encrypted snapshot', () =>
          timed('node', [cli, 'snapshot', ws, '--repo', at('enc')], secret),
        ),
      ],
      [
        'restic',
        restic
          ? await attempt('restic backup', () =>
              timed('restic', ['backup', '--repo', at('restic'), '--quiet', ws], secret),
            )
          : undefined,
      ],
    ],
  });

  // 2. Copies of the store to another folder: the first, then after an edit round.
  const copies = async (label: string, first: boolean): Promise<Row> => ({
    measure: label,
    figures: [
      [
        'ours copy',
        await attempt(`ours copy (${label})`, () =>
          timed('node', [cli, 'copy', '--repo', at('enc'), '--to', at('enc-copy')], secret),
        ),
      ],
      [
        'rsync -a',
        rsync
          ? await attempt(`rsync (${label})`, () =>
              timed('rsync', ['-a', '--delete', `${at('enc')}/`, `${at('rsync-copy')}/`]),
            )
          : undefined,
      ],
      [
        'cp -a',
        first ? await attempt(`cp -a (${label})`, () => timed('cp', ['-a', at('enc'), at('cp-copy')])) : undefined,
      ],
      [
        'restic copy',
        restic
          ? await attempt(`restic copy (${label})`, async () => {
              if (first)
                await timed(
                  'restic',
                  ['init', '--repo', at('restic-copy'), '--from-repo', at('restic'), '--copy-chunker-params'],
                  { ...secret, RESTIC_FROM_PASSWORD: PASSWORD },
                );
              return timed('restic', ['copy', '--repo', at('restic-copy'), '--from-repo', at('restic'), '--quiet'], {
                ...secret,
                RESTIC_FROM_PASSWORD: PASSWORD,
              });
            })
          : undefined,
      ],
    ],
  });
  rows.push(await copies('first copy of the store to a folder', true));
  const editor = new WorkspaceEditor(ws, manifest);
  editor.editRound(1);
  await attempt('ours encrypted snapshot after edits', () =>
    timed('node', [cli, 'snapshot', ws, '--repo', at('enc')], secret),
  );
  if (restic)
    await attempt('restic backup after edits', () =>
      timed('restic', ['backup', '--repo', at('restic'), '--quiet', ws], secret),
    );
  rows.push(await copies('copy after one edit round (1% of files)', false));

  // Report: each figure, and its ratio to ours.
  console.log('');
  console.log('| measure | figures (ratio to the first) |');
  console.log('|---|---|');
  for (const row of rows) {
    const base = row.figures[0][1];
    const cells = row.figures
      .filter(([, ms]) => ms !== undefined)
      .map(
        ([tool, ms]) =>
          `${tool} ${(ms! / 1000).toFixed(2)} s${base && tool !== row.figures[0][0] ? ` (${(ms! / base).toFixed(2)}x)` : ''}`,
      );
    console.log(`| ${row.measure} | ${cells.join(' · ')} |`);
  }
  const size = (n: string) => (fs.existsSync(at(n)) ? formatMiB(dirSize(at(n))) : 'n/a');
  console.log(
    `\nstore sizes: ours plain ${size('plain')} (first snapshot only); after the edit round: ours encrypted ${size('enc')}, restic ${size('restic')}`,
  );
  console.log(
    'ours copy checks every pack against its SHA-256 name and fsyncs each file and folder before the next phase; rsync and cp do neither.',
  );
  if (!restic) console.log('restic is not installed: its columns are missing (apt-get install restic)');
  if (!rsync) console.log('rsync is not installed: its column is missing (apt-get install rsync)');
  if (failures.length) console.log(`\nFAILED:\n${failures.join('\n')}`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench:offsite: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
