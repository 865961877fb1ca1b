// Long jobs in a shared process (the editor's extension host runs every extension on one event loop) give
// the loop a turn now and then, so prompts, views and other extensions are not frozen while we scan.
// Invariant: between two calls that let the loop turn, at most BUDGET_MS of work or CALLS_PER_TURN calls pass.

const BUDGET_MS = 8;
const CALLS_PER_TURN = 256;

let lastTurn = performance.now();
let calls = 0;

/**
 * Undefined when the caller has been running briefly (no await needed: hot loops pay one comparison);
 * otherwise a promise that resolves after one turn of the event loop (setImmediate: timers, I/O callbacks
 * and messages queued meanwhile run first). Use as `const turn = yieldIfBusy(); if (turn) await turn;` in
 * loops that do synchronous work per item (stat calls, hashing) or per folder.
 */
export function yieldIfBusy(): Promise<void> | undefined {
  if (++calls < CALLS_PER_TURN && performance.now() - lastTurn < BUDGET_MS) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      calls = 0;
      lastTurn = performance.now();
      resolve();
    }),
  );
}
