/** One call waiting for a batch: its input and how to answer it. */
export interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(err: unknown): void;
}

export interface GroupCommitOptions<T, R> {
  /** Batches running at once. */
  running: number;
  /** Calls per batch at most. */
  max: number;
  /** A call's size (recipients, say), and the most a batch may hold of it (a lone call always goes). */
  weight?: (item: T) => number;
  maxWeight?: number;
  /**
   * Runs one batch and answers each of its calls. A batch that throws rejects every call it has not
   * answered yet (a call answered already keeps its answer).
   */
  run(batch: Waiting<T, R>[]): Promise<void>;
  /** Told each batch's size as it starts (the send batch-size metric). */
  onBatch?: (size: number) => void;
}

/**
 * Group commit: a call that arrives while `running` batches run waits, and the calls that waited go
 * together as the next batch. Under load the storage pays its per-statement or per-script cost once for
 * many calls; alone, a call goes at once. Used by both stores for direct sends, and by PostgreSQL's for markReads.
 */
export class GroupCommit<T, R> {
  private readonly waiting: Waiting<T, R>[] = [];
  private active = 0;

  constructor(private readonly o: GroupCommitOptions<T, R>) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.start();
    });
  }

  private start(): void {
    while (this.active < this.o.running && this.waiting.length) {
      const batch = this.take();
      this.o.onBatch?.(batch.length);
      this.active++;
      void this.o
        .run(batch)
        .catch((err: unknown) => {
          for (const w of batch) w.reject(err);
        })
        .finally(() => {
          this.active--;
          this.start();
        });
    }
  }

  private take(): Waiting<T, R>[] {
    const { max, weight, maxWeight = Infinity } = this.o;
    let n = 0;
    let total = 0;
    while (n < this.waiting.length && n < max) {
      const w = weight ? weight(this.waiting[n].item) : 1;
      if (n > 0 && total + w > maxWeight) break;
      total += w;
      n++;
    }
    return this.waiting.splice(0, n);
  }
}
