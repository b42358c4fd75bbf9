import { matching } from '@orderbook/proto';

/** An order that can still trade: a stop waiting for its trigger is one (it trades once triggered). */
const OPEN_STATUSES: ReadonlySet<matching.OrderStatus> = new Set([
  matching.OrderStatus.ORDER_STATUS_OPEN,
  matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED,
  matching.OrderStatus.ORDER_STATUS_UNTRIGGERED,
]);

/** Tracked ids past which the closed ones are dropped; then again at twice what remains. */
const FIRST_PRUNE = 1024;

/**
 * Orders cancelled per cancelSession command: 8 bytes each in the journal, so that the command
 * stays far below the JetStream journal's message limit (900 KiB, about 115,000 ids), which a
 * session with more open orders would otherwise exceed, failing the leader's journal.
 */
export const CANCEL_BATCH_ORDERS = 10_000;

/**
 * The orders an order session with cancel-on-disconnect placed that may still be open (waiting
 * stops and both orders of a pair included): what it cancels when it ends. Orders that close
 * meanwhile (filled, cancelled) are dropped now and then, so the set stays about the size of the
 * session's open orders however long it runs.
 */
export class SessionOrders {
  private readonly ids = new Set<number>();
  /** The other order of each tracked order that is one of a one-cancels-other pair. */
  private readonly partners = new Map<number, number>();
  private pruneAt = FIRST_PRUNE;

  constructor(private readonly isOpen: (orderId: number) => boolean) {}

  placed(order: matching.Order | undefined): void {
    if (order === undefined || !OPEN_STATUSES.has(order.status)) return;
    const id = Number(order.orderId);
    this.ids.add(id);
    if (order.ocoOrderId !== 0n) this.partners.set(id, Number(order.ocoOrderId));
    if (this.ids.size < this.pruneAt) return;
    for (const tracked of this.ids) {
      if (this.isOpen(tracked)) continue;
      this.ids.delete(tracked);
      this.partners.delete(tracked);
    }
    this.pruneAt = Math.max(FIRST_PRUNE, 2 * this.ids.size);
  }

  /**
   * The ids still open now, in placement order, in batches of at most `size` (one cancelSession
   * command each); the two orders of a pair in one batch, so that both are cancelled for the
   * disconnect rather than the second as the first's partner.
   */
  openBatches(size = CANCEL_BATCH_ORDERS): number[][] {
    const open = [...this.ids].filter(this.isOpen);
    const stillOpen = new Set(open);
    const taken = new Set<number>();
    const batches: number[][] = [];
    let batch: number[] = [];
    for (const id of open) {
      if (taken.has(id)) continue;
      const partner = this.partners.get(id);
      const group = partner !== undefined && stillOpen.has(partner) && !taken.has(partner) ? [id, partner] : [id];
      if (batch.length + group.length > size) {
        batches.push(batch);
        batch = [];
      }
      for (const member of group) {
        batch.push(member);
        taken.add(member);
      }
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }
}
