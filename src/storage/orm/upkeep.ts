import type { Db } from './db.js';
import * as maintenance from './sql/maintenance.js';

/** Deliveries written before the first growth ANALYZE: below this, plans of any size are cheap. */
const ANALYZE_MIN_ROWS = 1_000;

/**
 * For the embedded PGlite, which has no autovacuum, and servers with autovacuum off: what autovacuum
 * would do, from the store's cleanup runs (one process at a time). Unset: nothing (autovacuum does it).
 */
export interface UpkeepOptions {
  /**
   * Refresh planner statistics every this many cleanup runs (not the first: at start the tables may
   * be empty, and statistics of empty tables are what makes bad plans stick). Without fresh statistics,
   * prepared statements keep plans made for tables far smaller, and ANALYZE is what makes PostgreSQL
   * plan them again. With `vacuum`, that run vacuums every table as well.
   */
  analyzeEveryCleanups?: number;
  /**
   * Also analyse the tables sends grow once this process has written that many times more deliveries
   * than sm_delivery held at the last ANALYZE (at least ANALYZE_MIN_ROWS), in the background: a
   * plan made for a table far smaller is replaced within a doubling, not at the next cleanup.
   * ANALYZE reads a bounded sample, and doublings are few.
   */
  analyzeOnGrowth?: number;
  /**
   * Vacuum, so that the space of deleted and updated rows is used again instead of the files growing
   * for ever: the queue tables (VACUUM_QUEUES) every cleanup run, every table with each ANALYZE of all.
   */
  vacuum?: boolean;
}

/** Keeps planner statistics fresh and dead rows reclaimed where nothing else does. */
export class TableUpkeep {
  private cleanups = 0;
  /** Deliveries written since the last ANALYZE, sm_delivery's size then, and the ANALYZE running now. */
  private written = 0;
  private analyzedRows = 0;
  private analysis: Promise<void> | null = null;

  constructor(
    private readonly db: Db,
    private readonly o: UpkeepOptions,
  ) {}

  /** Before a cleanup run: the queues' vacuum, and every analyzeEveryCleanups-th run every table's ANALYZE (and vacuum). */
  async beforeCleanup(): Promise<void> {
    const every = this.o.analyzeEveryCleanups;
    if (every && ++this.cleanups % every === 0) await this.db.unprepared(this.o.vacuum ? maintenance.VACUUM_ANALYZE_ALL : maintenance.ANALYZE_ALL);
    else if (this.o.vacuum) await this.db.unprepared(maintenance.VACUUM_QUEUES);
  }

  /** Counts deliveries written, and starts an ANALYZE when they have grown sm_delivery by the configured factor. */
  grew(deliveries: number): void {
    const factor = this.o.analyzeOnGrowth;
    if (!factor) return;
    this.written += deliveries;
    if (this.analysis || this.written < Math.max(ANALYZE_MIN_ROWS, this.analyzedRows * (factor - 1))) return;
    this.written = 0;
    this.analysis = (async () => {
      await this.db.unprepared(maintenance.ANALYZE_SENDS);
      this.analyzedRows = (await this.db.unprepared(maintenance.DELIVERY_ROWS))[0].n;
    })()
      // A failed ANALYZE leaves the old statistics: the next growth tries again.
      .catch(() => undefined)
      .finally(() => (this.analysis = null));
  }

  /** Waits for the ANALYZE running now, if any (before the pool closes). */
  async settled(): Promise<void> {
    await this.analysis;
  }
}
