import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { CANCEL_BATCH_ORDERS, SessionOrders } from '../../src/api/session-orders';

const { ORDER_STATUS_OPEN, ORDER_STATUS_PARTIALLY_FILLED, ORDER_STATUS_UNTRIGGERED, ORDER_STATUS_FILLED, ORDER_STATUS_CANCELLED } = matching.OrderStatus;

const order = (orderId: number, status: matching.OrderStatus, ocoOrderId = 0): matching.Order =>
  matching.Order.fromPartial({ orderId: BigInt(orderId), status, ocoOrderId: BigInt(ocoOrderId) });

/** What a cancel-on-disconnect session cancels when it ends. */
describe('SessionOrders', () => {
  it('tracks open, partially filled and waiting stop orders, both orders of a pair, and not closed ones', () => {
    const closed = new Set<number>();
    const orders = new SessionOrders((id) => !closed.has(id));
    orders.placed(order(1, ORDER_STATUS_OPEN));
    orders.placed(order(2, ORDER_STATUS_PARTIALLY_FILLED));
    orders.placed(order(3, ORDER_STATUS_UNTRIGGERED));
    orders.placed(order(4, ORDER_STATUS_FILLED));
    orders.placed(order(5, ORDER_STATUS_CANCELLED));
    orders.placed(order(6, ORDER_STATUS_OPEN, 2 ** 52 + 6));
    orders.placed(order(2 ** 52 + 6, ORDER_STATUS_UNTRIGGERED, 6));
    orders.placed(undefined);
    closed.add(2);
    expect(orders.openBatches()).to.deep.equal([[1, 3, 6, 2 ** 52 + 6]]);
  });

  it(`cancels in batches of at most ${CANCEL_BATCH_ORDERS} (a journal message each), never splitting a pair`, () => {
    const orders = new SessionOrders(() => true);
    for (let id = 1; id <= 2 * CANCEL_BATCH_ORDERS; id++) orders.placed(order(id, ORDER_STATUS_OPEN));
    const batches = orders.openBatches();
    expect(batches.map((b) => b.length)).to.deep.equal([CANCEL_BATCH_ORDERS, CANCEL_BATCH_ORDERS]);
    expect(batches.flat()).to.deep.equal(Array.from({ length: 2 * CANCEL_BATCH_ORDERS }, (_, i) => i + 1));

    const pairs = new SessionOrders(() => true);
    pairs.placed(order(1, ORDER_STATUS_OPEN));
    pairs.placed(order(2, ORDER_STATUS_OPEN, 102));
    pairs.placed(order(102, ORDER_STATUS_UNTRIGGERED, 2));
    pairs.placed(order(3, ORDER_STATUS_OPEN, 103));
    pairs.placed(order(103, ORDER_STATUS_UNTRIGGERED, 3));
    expect(pairs.openBatches(2)).to.deep.equal([[1], [2, 102], [3, 103]]);
    expect(pairs.openBatches(4)).to.deep.equal([[1, 2, 102], [3, 103]]);
  });
});
