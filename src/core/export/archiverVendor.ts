// archiver and the stream libraries under it behind one module, loaded on the first export. esbuild bundles
// this file alone into dist/vendor/archiver.js, so the extension never parses archiver at activation.
// Invariant: nothing else imports archiver (only its types); it is required, never `import()`ed: Node's ESM
// loader scans a CommonJS file of 1 MB for its exports first (cjs-module-lexer), and with that the first
// export held the editor's loop 110-123 ms at once (#16 bench profile); required, the same code costs the
// compile alone, and its evaluation is spread over turns below.

/** The archiver factory as archiveWriter uses it (typed there). */
export type ArchiverModule = unknown;

// One library of archiver's dependency graph per step, heaviest first; each is evaluated once and cached by
// the bundle, so archiver's own require of it later costs nothing. Evaluating them all at once held the loop
// 35-50 ms on a quiet machine (readable-stream 8-15 ms, glob 6-10 ms, graceful-fs 6 ms, zip-stream 9 ms).
// A library resolved to another copy than archiver's (npm's layout) only costs its evaluation twice.
/* eslint-disable @typescript-eslint/no-require-imports */
const STEPS: Array<() => unknown> = [
  () => require('readable-stream'),
  () => require('graceful-fs'),
  () => require('lazystream'),
  () => require('glob'),
  () => require('async'),
  () => require('readdir-glob'),
  () => require('zip-stream'),
  () => require('tar-stream'),
  () => require('archiver'),
];
/* eslint-enable @typescript-eslint/no-require-imports */

/** Evaluates archiver's libraries one per `turn` (a wait that lets the loop run), then returns archiver. */
export async function loadInSteps(turn: () => Promise<void>): Promise<ArchiverModule> {
  let archiver: unknown;
  for (const step of STEPS) {
    archiver = step();
    await turn();
  }
  return archiver;
}
