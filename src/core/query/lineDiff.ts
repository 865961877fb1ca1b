// Line diffs, for following a region of a file through its versions (#15: the history of a selection, and
// restoring a selection from a version). Myers' O(ND) algorithm on lines, with the common head and tail cut
// first (edits are usually small); past MAX_D edits the middle is one replaced block, which is what a region
// that was rewritten wholesale is anyway.
// Invariant: pure functions of their inputs; line numbers are 0-based, ranges half-open [start, end).

export interface Hunk {
  /** Lines [aStart, aEnd) of `a` became lines [bStart, bEnd) of `b`. */
  aStart: number;
  aEnd: number;
  bStart: number;
  bEnd: number;
}

const MAX_D = 4000;

export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The changed blocks from `a` to `b`, in order. */
export function lineDiff(a: readonly string[], b: readonly string[]): Hunk[] {
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const aMid = a.slice(head, a.length - tail);
  const bMid = b.slice(head, b.length - tail);
  if (aMid.length === 0 && bMid.length === 0) return [];
  const pairs = myers(aMid, bMid);
  if (!pairs) return [{ aStart: head, aEnd: a.length - tail, bStart: head, bEnd: b.length - tail }];
  // Turn the matched pairs into the blocks between them.
  const hunks: Hunk[] = [];
  let ai = 0;
  let bi = 0;
  for (const [x, y] of [...pairs, [aMid.length, bMid.length] as [number, number]]) {
    if (x > ai || y > bi) hunks.push({ aStart: head + ai, aEnd: head + x, bStart: head + bi, bEnd: head + y });
    ai = x + 1;
    bi = y + 1;
  }
  return hunks;
}

/** Matched line pairs (index in a, index in b) of a shortest edit script, or undefined past MAX_D edits. */
function myers(a: readonly string[], b: readonly string[]): Array<[number, number]> | undefined {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_D);
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d]: the furthest x on each diagonal before round d (the state after round d - 1).
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? v[offset + k + 1] : v[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, offset, n, m);
    }
  }
  return undefined;
}

function backtrack(
  trace: readonly Int32Array[],
  depth: number,
  offset: number,
  n: number,
  m: number,
): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  let x = n;
  let y = m;
  for (let d = depth; d >= 0; d--) {
    const v = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && v[offset + k - 1] < v[offset + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : v[offset + prevK];
    const prevY = d === 0 ? 0 : prevX - prevK;
    // The diagonal (matched lines) that followed the edit of round d.
    while (x > prevX && y > prevY) {
      pairs.push([x - 1, y - 1]);
      x--;
      y--;
    }
    x = prevX;
    y = prevY;
  }
  return pairs.reverse();
}

/**
 * Where the lines [start, end) of `b` were in `a`, given the hunks from `a` to `b`: unchanged lines map one
 * to one; a range that starts or ends inside a changed block takes the whole block on that side. The result
 * is empty (start === end) when the region did not exist in `a` (it was added since).
 */
export function mapRangeBack(hunks: readonly Hunk[], start: number, end: number): { start: number; end: number } {
  /** The line of `a` where line `line` of `b` is, or its block's edge (`first`: the start, else the end). */
  const place = (line: number, first: boolean): number => {
    let delta = 0;
    for (const h of hunks) {
      if (line < h.bStart) break;
      if (line < h.bEnd) return first ? h.aStart : h.aEnd;
      delta = h.aEnd - h.bEnd;
    }
    return line + delta + (first ? 0 : 1);
  };
  if (end <= start) {
    const at = place(start, true);
    return { start: at, end: at };
  }
  const a = place(start, true);
  return { start: a, end: Math.max(a, place(end - 1, false)) };
}
