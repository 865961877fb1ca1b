// Long jobs in a shared process (the editor's extension host runs every extension on one event loop) give
// the loop a turn now and then, so prompts, views and other extensions are not frozen while we scan.
// Invariant: between two calls that let the loop turn, at most budgetMs (8 ms) of work or CALLS_PER_TURN calls pass.

let budgetMs = 8;
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
  if (++calls < CALLS_PER_TURN && performance.now() - lastTurn < budgetMs) return undefined;
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

/** Items a cheap loop handles between two asks of yieldIfBusy (a power of two). */
const CHEAP_ITEMS = 1024;

/**
 * yieldIfBusy for loops over many cheap items, asked every CHEAP_ITEMS items (`n` counts them): a pack of
 * small files lists 100,000 blobs, and a loop that yielded only between packs held the editor's loop
 * 40-50 ms a pack (prune at 200,000 files, #16), while asking at every item would turn it every 256.
 */
export function yieldEvery(n: number): Promise<void> | undefined {
  return (n & (CHEAP_ITEMS - 1)) === 0 ? yieldIfBusy() : undefined;
}

/**
 * Sets the budget between turns and returns what puts the old one back. Tests use 0, so that every ask
 * turns the loop and where a job can turn shows in a count, not in timing.
 */
export function setTurnBudget(ms: number): () => void {
  const before = budgetMs;
  budgetMs = ms;
  return () => {
    budgetMs = before;
  };
}

let shared = true;

/**
 * Whether other work waits on this process's event loop (the editor's extension host: every extension).
 * The CLI says no (`setLoopShared(false)`): it then keeps the fastest path even where that holds the loop.
 */
export function loopShared(): boolean {
  return shared;
}

export function setLoopShared(value: boolean): void {
  shared = value;
}
