/**
 * The engine's timers: GTD expiries (keyed by order id) and dead-man switches (keyed by account
 * index), each in a DeadlineQueue. Time enters only with commands: an ExpireCommand fires what is
 * due at its timestamp, and nextDeadline() tells the service when the next one has work.
 */

/** The longest a GTD order may live: 90 days after its placement. */
export const MAX_GTD_MS = 90 * 24 * 60 * 60 * 1000;
/** The longest dead-man timeout: one day. */
export const MAX_DEAD_MAN_SECONDS = 24 * 60 * 60;

/**
 * A binary min-heap of (deadline, key), earliest deadline first, ties by `keyBefore`, with a
 * position index so that an entry is replaced or removed in O(log n): a cancelled GTD order leaves
 * the queue at once, so the queue holds exactly the live timers (nothing stale to fire or to bound).
 */
export class DeadlineQueue {
  private readonly deadlines: number[] = [];
  private readonly keys: number[] = [];
  private readonly positions = new Map<number, number>();

  constructor(private readonly keyBefore: (a: number, b: number) => boolean = (a, b) => a < b) {}

  get size(): number {
    return this.keys.length;
  }

  /** The earliest deadline; Infinity when empty. */
  peekDeadline(): number {
    return this.keys.length === 0 ? Infinity : this.deadlines[0]!;
  }

  /** The key of the earliest deadline; call only when not empty. */
  peekKey(): number {
    return this.keys[0]!;
  }

  deadlineOf(key: number): number | undefined {
    const at = this.positions.get(key);
    return at === undefined ? undefined : this.deadlines[at];
  }

  /** Sets (or replaces) the deadline of `key`. */
  set(key: number, deadline: number): void {
    const at = this.positions.get(key);
    if (at === undefined) {
      this.deadlines.push(deadline);
      this.keys.push(key);
      this.positions.set(key, this.keys.length - 1);
      this.up(this.keys.length - 1);
      return;
    }
    this.deadlines[at] = deadline;
    this.down(this.up(at));
  }

  /** Removes `key`'s deadline, if it has one. */
  delete(key: number): void {
    const at = this.positions.get(key);
    if (at === undefined) return;
    this.positions.delete(key);
    const last = this.keys.length - 1;
    const lastKey = this.keys.pop()!;
    const lastDeadline = this.deadlines.pop()!;
    if (at === last) return;
    this.keys[at] = lastKey;
    this.deadlines[at] = lastDeadline;
    this.positions.set(lastKey, at);
    this.down(this.up(at));
  }

  /** Every (key, deadline), by key: canonical, for snapshots. */
  entries(): [number, number][] {
    return this.keys.map((key, i): [number, number] => [key, this.deadlines[i]!]).sort(([a], [b]) => a - b);
  }

  private before(i: number, j: number): boolean {
    const a = this.deadlines[i]!;
    const b = this.deadlines[j]!;
    return a < b || (a === b && this.keyBefore(this.keys[i]!, this.keys[j]!));
  }

  private swap(i: number, j: number): void {
    const { keys, deadlines } = this;
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    [deadlines[i], deadlines[j]] = [deadlines[j]!, deadlines[i]!];
    this.positions.set(keys[i]!, i);
    this.positions.set(keys[j]!, j);
  }

  private up(i: number): number {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private down(i: number): void {
    const n = this.keys.length;
    for (;;) {
      const left = 2 * i + 1;
      let least = i;
      if (left < n && this.before(left, least)) least = left;
      if (left + 1 < n && this.before(left + 1, least)) least = left + 1;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }
}

export class Timers {
  /** Open GTD orders with their expiry, by order id; at the same expiry, lower ids first. */
  readonly expiries = new DeadlineQueue();
  /** Armed dead-man switches, by account index; at the same deadline, by user id. */
  readonly deadMan: DeadlineQueue;

  constructor(accounts: readonly { readonly userId: string }[]) {
    this.deadMan = new DeadlineQueue((a, b) => accounts[a]!.userId < accounts[b]!.userId);
  }

  nextDeadline(): number {
    const a = this.expiries.peekDeadline();
    const b = this.deadMan.peekDeadline();
    return a < b ? a : b;
  }
}
