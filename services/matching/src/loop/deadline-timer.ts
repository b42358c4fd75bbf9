/** setTimeout's longest delay (about 24.8 days): a later deadline is approached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * One wake-up at the earliest deadline asked for: arming an earlier deadline moves it, a later one
 * is ignored (the wake-up looks again). A timer, not a poll: nothing runs while nothing is due.
 * Unref'd, so it never keeps the process alive on its own.
 */
export class DeadlineTimer {
  private armedFor = Infinity;
  private timeout: NodeJS.Timeout | undefined;

  constructor(
    private readonly wake: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Wakes at `deadline` (Unix ms; at once if past) unless an earlier wake-up is armed. */
  arm(deadline: number): void {
    if (deadline >= this.armedFor) return;
    this.stop();
    this.armedFor = deadline;
    const delay = Math.min(Math.max(deadline - this.now(), 0), MAX_DELAY_MS);
    this.timeout = setTimeout(() => {
      this.timeout = undefined;
      this.armedFor = Infinity;
      this.wake();
    }, delay);
    this.timeout.unref();
  }

  stop(): void {
    if (this.timeout !== undefined) clearTimeout(this.timeout);
    this.timeout = undefined;
    this.armedFor = Infinity;
  }
}
