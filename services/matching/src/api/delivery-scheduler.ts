/** Something with subscribers to serve: deliver() serves one of them and reports when a pass is done. */
export interface Deliverable {
  /** Starts a pass over the current subscribers. */
  beginPass(): void;
  /** Serves the next subscriber of the pass; false when the pass is complete. */
  deliverNext(): boolean;
}

export interface DeliverySchedulerOptions {
  /** Longest run of deliveries before the event loop gets a turn (order entry goes first). */
  readonly sliceMs: number;
  /** Most of the main thread that delivery's own slices may take over time, in (0, 1]. */
  readonly maxShare: number;
  /**
   * Event-loop utilisation (everything the thread did, order entry, HTTP/2 and GC included) above
   * which passes are spaced out further, doubling the gap each time, up to MAX_GAP_MS.
   */
  readonly busyThreshold: number;
}

const MAX_GAP_MS = 200;

export const DEFAULT_DELIVERY: DeliverySchedulerOptions = { sliceMs: 2, maxShare: 1 / 4, busyThreshold: 0.5 };

/**
 * Runs the market-data fan-out beside the command loop on the same thread without getting in its
 * way: events only mark a feed as having news (O(1) on the loop's path); delivery then runs in
 * passes over each woken feed's subscribers, in slices of at most sliceMs between which the event
 * loop serves calls, and after a pass that was busy for B ms the next one waits B × (1/maxShare − 1)
 * ms, longer (doubling up to MAX_GAP_MS) while the whole thread is busier than busyThreshold:
 * what delivery costs outside its slices (HTTP/2 sends, garbage collection) counts too. With few
 * subscribers a pass takes microseconds and updates go out at once; with thousands,
 * passes space out and each carries more (the feeds conflate what a subscriber missed), so the
 * fan-out never takes more than maxShare of the thread however many subscribers there are.
 */
export class DeliveryScheduler {
  private readonly woken = new Set<Deliverable>();
  private running = false;
  private earliestNextPass = 0;
  /** Extra spacing between passes while the thread is busier than busyThreshold. */
  private backoffMs = 0;
  private lastUtilization = performance.eventLoopUtilization();
  private stopped = false;

  constructor(private readonly options: DeliverySchedulerOptions = DEFAULT_DELIVERY) {}

  wake(feed: Deliverable): void {
    if (this.stopped) return;
    this.woken.add(feed);
    if (!this.running) {
      this.running = true;
      const wait = this.earliestNextPass - performance.now();
      if (wait >= 1) setTimeout(() => this.pass(), wait);
      else setImmediate(() => this.pass());
    }
  }

  stop(): void {
    this.stopped = true;
    this.woken.clear();
  }

  private pass(): void {
    const feeds = [...this.woken];
    this.woken.clear();
    for (const feed of feeds) feed.beginPass();
    let busyMs = 0;
    const slice = (): void => {
      const started = performance.now();
      while (feeds.length > 0 && !this.stopped) {
        const feed = feeds[0];
        if (feed === undefined || !feed.deliverNext()) feeds.shift();
        if (performance.now() - started >= this.options.sliceMs) break;
      }
      busyMs += performance.now() - started;
      if (feeds.length > 0 && !this.stopped) {
        setImmediate(slice);
        return;
      }
      const utilization = performance.eventLoopUtilization(this.lastUtilization);
      this.lastUtilization = performance.eventLoopUtilization();
      this.backoffMs =
        utilization.utilization > this.options.busyThreshold ? Math.min(MAX_GAP_MS, Math.max(1, this.backoffMs * 2)) : Math.floor(this.backoffMs / 2);
      this.earliestNextPass = performance.now() + Math.max(busyMs * (1 / this.options.maxShare - 1), this.backoffMs);
      this.running = false;
      if (this.woken.size > 0 && !this.stopped) {
        const [next] = this.woken;
        if (next !== undefined) this.wake(next);
      }
    };
    slice();
  }
}
