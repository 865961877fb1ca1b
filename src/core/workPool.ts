// A fixed number of workers running batches of indexed tasks, in the order submitted. A batch is a count
// and one function of the index: a folder of 60 files costs one queue entry, not 60 closures and promises
// waiting their turn (at 200,000 files those were a quarter of everything a first snapshot allocated).
// Invariant: at most `workers` tasks run at once; a batch settles once all its tasks have run, or at its
// first failure (its tasks not yet started are then dropped).

import { yieldIfBusy } from './eventLoop';

interface Batch {
  count: number;
  next: number;
  running: number;
  failed: boolean;
  task: (index: number) => Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WorkPool {
  private readonly queue: Batch[] = [];
  private active = 0;
  private waiting = 0;
  private running = 0;
  private readonly idleWaiters: Array<{ max: number; resolve: () => void }> = [];

  constructor(private readonly workers: number) {}

  /** Tasks submitted and not finished (waiting or running): what a producer may bound itself by. */
  get pending(): number {
    return this.waiting + this.running;
  }

  /** Resolves once at most `max` tasks are pending: a producer waits here before submitting more. */
  idle(max: number): Promise<void> {
    if (this.pending <= max) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push({ max, resolve }));
  }

  private notifyIdle(): void {
    for (let i = this.idleWaiters.length - 1; i >= 0; i--) {
      const waiter = this.idleWaiters[i];
      if (this.pending > waiter.max) continue;
      this.idleWaiters.splice(i, 1);
      waiter.resolve();
    }
  }

  /** Runs task(0) ... task(count - 1) after the batches submitted before; settles as described above. */
  run(count: number, task: (index: number) => Promise<void>): Promise<void> {
    if (count <= 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ count, next: 0, running: 0, failed: false, task, resolve, reject });
      this.waiting += count;
      while (this.active < this.workers && this.waiting > 0) {
        this.active++;
        void this.work();
      }
    });
  }

  private async work(): Promise<void> {
    try {
      for (;;) {
        // A task that ends on microtasks alone (a small file read synchronously, its blob bundled) lets the
        // next start in the same turn: reads the page cache had dropped, 2-4 ms each, chained into blocks of
        // 50-110 ms at a cold first snapshot of 200,000 files (#16).
        const turn = yieldIfBusy();
        if (turn) await turn;
        const batch = this.queue[0];
        if (!batch) return;
        const index = batch.next++;
        if (batch.next >= batch.count) this.queue.shift();
        this.waiting--;
        batch.running++;
        this.running++;
        try {
          await batch.task(index);
        } catch (error) {
          if (!batch.failed) {
            batch.failed = true;
            const at = this.queue.indexOf(batch);
            if (at >= 0) this.queue.splice(at, 1);
            this.waiting -= batch.count - batch.next;
            batch.next = batch.count;
            batch.reject(error);
          }
        } finally {
          batch.running--;
          this.running--;
          if (this.idleWaiters.length > 0) this.notifyIdle();
        }
        if (!batch.failed && batch.next >= batch.count && batch.running === 0) batch.resolve();
      }
    } finally {
      this.active--;
    }
  }
}
