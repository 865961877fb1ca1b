// Long jobs in a shared process (the editor's extension host runs every extension on one event loop) give
// the loop a turn now and then, so prompts, views and other extensions are not frozen while we scan.
// Invariant: between two calls that let the loop turn, at most BUDGET_MS of work or CALLS_PER_TURN calls pass.

const BUDGET_MS = 8;
const CALLS_PER_TURN = 256;

let lastTurn = performance.now();
let calls = 0;
/** The turn callers are waiting for, if one is asked for already. */
let pending: Promise<void> | undefined;

/**
 * Undefined when the caller has been running briefly (no await needed: hot loops pay one comparison);
 * otherwise a promise that resolves after one turn of the event loop (setImmediate: timers, I/O callbacks
 * and messages queued meanwhile run first). Use as `const turn = yieldIfBusy(); if (turn) await turn;` in
 * loops that do synchronous work per item (stat calls, hashing) or per folder.
 */
export function yieldIfBusy(): Promise<void> | undefined {
  // Every caller waits for the same turn: with a turn each, 16 restore writers resumed in one pass of the
  // loop with a budget each, and created 800 files between two turns (#16).
  if (pending) return pending;
  if (++calls < CALLS_PER_TURN && performance.now() - lastTurn < BUDGET_MS) return undefined;
  pending = new Promise<void>((resolve) =>
    setImmediate(() => {
      calls = 0;
      lastTurn = performance.now();
      pending = undefined;
      resolve();
    }),
  );
  return pending;
}
