import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { expectStatus } from '@orderbook/test-support';
import { TestStack, type Trader } from './support/test-stack';

const { SIDE_BUY, SIDE_SELL } = matching.Side;
const { ORDER_STATUS_OPEN, ORDER_STATUS_FILLED, ORDER_STATUS_CANCELLED, ORDER_STATUS_PARTIALLY_FILLED } = matching.OrderStatus;

const levels = (book: matching.GetOrderBookResponse, side: 'bids' | 'asks'): Array<[string, string, number]> =>
  book[side].map((l) => [l.price, l.quantity, l.orderCount]);

describe('orders through gRPC: placing, matching, cancelling, reading', () => {
  describe('a market buy walking three ask levels (SOL-USD)', () => {
    let stack: TestStack;
    let buyer: Trader;
    const sellers: Record<'A' | 'B' | 'C' | 'D', Trader> = {} as never;

    before(async () => {
      stack = await TestStack.start();
      for (const name of ['A', 'B', 'C', 'D'] as const) {
        sellers[name] = await stack.newTrader(`seller${name}`);
        await stack.fund(sellers[name], 'SOL', '100');
      }
      buyer = await stack.newTrader('buyer');
      await stack.fund(buyer, 'USD', '2000');
      for (const [name, quantity, price] of [['A', '5', '98'], ['B', '3', '98'], ['C', '10', '100'], ['D', '20', '105']] as const) {
        await stack.client.placeLimitOrder({ market: 'SOL-USD', side: SIDE_SELL, price, quantity }, sellers[name].metadata);
      }
    });
    after(() => stack.stop());

    it('shows the initial asks, best first, with their volume and order count', async () => {
      const book = await stack.client.getOrderBook({ market: 'SOL-USD' });
      expect(levels(book, 'asks')).to.deep.equal([['98', '8', 2], ['100', '10', 1], ['105', '20', 1]]);
      expect(book.bids).to.deep.equal([]);
    });

    it('fills a market buy of 15: 5@98 (A), 3@98 (B), 7@100 (C), for 1,484 quote', async () => {
      const { order, trades } = await stack.client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '15' }, buyer.metadata);
      expect(trades.map((t) => [t.quantity, t.price, t.quoteAmount])).to.deep.equal([['5', '98', '490'], ['3', '98', '294'], ['7', '100', '700']]);
      expect(trades.every((t) => t.takerSide === SIDE_BUY && t.takerOrderId === order?.orderId)).to.equal(true);
      expect(order).to.include({ type: matching.OrderType.ORDER_TYPE_MARKET, status: ORDER_STATUS_FILLED, quantity: '15', filledQuantity: '15', remainingQuantity: '0', price: '' });

      expect(await stack.balances(buyer)).to.deep.equal({ SOL: ['15', '0'], USD: ['516', '0'] });
      expect((await stack.balances(sellers.A))['USD']).to.deep.equal(['490', '0']);
      expect((await stack.balances(sellers.B))['USD']).to.deep.equal(['294', '0']);
      expect(await stack.balances(sellers.C)).to.deep.equal({ SOL: ['90', '3'], USD: ['700', '0'] });
      const book = await stack.client.getOrderBook({ market: 'SOL-USD' });
      expect(levels(book, 'asks')).to.deep.equal([['100', '3', 1], ['105', '20', 1]]);
    });

    it('rejects a market order the book cannot fill with FAILED_PRECONDITION, changing nothing', async () => {
      const before = await stack.client.getOrderBook({ market: 'SOL-USD' });
      await stack.fund(buyer, 'USD', '100000');
      await expectStatus(stack.client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '24' }, buyer.metadata), grpc.status.FAILED_PRECONDITION, /liquidity/);
      expect(await stack.balances(buyer)).to.deep.equal({ SOL: ['15', '0'], USD: ['100516', '0'] });
      expect(await stack.client.getOrderBook({ market: 'SOL-USD' })).to.deep.equal(before);
    });

    it('rejects a market order the taker cannot pay for with FAILED_PRECONDITION, changing nothing', async () => {
      const poor = await stack.newTrader('poor');
      await stack.fund(poor, 'USD', '2399');
      // 3@100 + 20@105 = 2,400
      await expectStatus(stack.client.placeMarketOrder({ market: 'SOL-USD', side: SIDE_BUY, quantity: '23' }, poor.metadata), grpc.status.FAILED_PRECONDITION);
      expect(await stack.balances(poor)).to.deep.equal({ USD: ['2399', '0'] });
    });

    it('rejects a post-only order that would match, and a FOK order that cannot fill, with FAILED_PRECONDITION', async () => {
      await expectStatus(
        stack.client.placeLimitOrder({ market: 'SOL-USD', side: SIDE_BUY, price: '100', quantity: '1', postOnly: true }, buyer.metadata),
        grpc.status.FAILED_PRECONDITION,
      );
      await expectStatus(
        stack.client.placeLimitOrder(
          { market: 'SOL-USD', side: SIDE_BUY, price: '100', quantity: '4', timeInForce: matching.TimeInForce.TIME_IN_FORCE_FOK },
          buyer.metadata,
        ),
        grpc.status.FAILED_PRECONDITION,
      );
      expect(await stack.balances(buyer)).to.deep.equal({ SOL: ['15', '0'], USD: ['100516', '0'] });
      // The same post-only order below the asks rests (control).
      const { order } = await stack.client.placeLimitOrder({ market: 'SOL-USD', side: SIDE_BUY, price: '99', quantity: '1', postOnly: true }, buyer.metadata);
      expect(order).to.include({ status: ORDER_STATUS_OPEN, postOnly: true, lockedAmount: '99' });
    });
  });

  describe('limit orders, cancels and reads (BTC-USD, ETH-USD)', () => {
    let stack: TestStack;
    let alice: Trader;
    let bob: Trader;

    // A stack of its own: the first order's id is the seq of the fourth command this engine saw.
    before(async () => {
      stack = await TestStack.start();
      alice = await stack.newTrader('alice');
      bob = await stack.newTrader('bob');
      await stack.fund(alice, 'USD', '10000');
      await stack.fund(bob, 'USD', '10000');
      await stack.fund(bob, 'ETH', '10');
    });
    after(() => stack.stop());

    it('rests a limit buy, locking price × quantity of quote, with the documented defaults', async () => {
      const sent = BigInt(Date.now());
      const { order, trades } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '50.5', quantity: '2', clientOrderId: 'first' }, alice.metadata);
      const answered = BigInt(Date.now());
      expect(trades).to.deep.equal([]);
      expect(order).to.include({
        market: 'BTC-USD',
        side: SIDE_BUY,
        type: matching.OrderType.ORDER_TYPE_LIMIT,
        price: '50.5',
        quantity: '2',
        filledQuantity: '0',
        remainingQuantity: '2',
        status: ORDER_STATUS_OPEN,
        timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTC,
        selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_CANCEL_RESTING,
        postOnly: false,
        clientOrderId: 'first',
        lockedAmount: '101',
      });
      // Three deposits came first: the order id is the seq of its command.
      expect(order!.orderId).to.equal(4n);
      expect(order!.createdAtUnixMs >= sent && order!.createdAtUnixMs <= answered, `created at ${order!.createdAtUnixMs}, sent ${sent}, answered ${answered}`).to.equal(true);
      expect(order!.updatedAtUnixMs).to.equal(order!.createdAtUnixMs);
      expect(await stack.balances(alice)).to.deep.equal({ USD: ['9899', '101'] });
      const book = await stack.client.getOrderBook({ market: 'BTC-USD' });
      expect(levels(book, 'bids')).to.deep.equal([['50.5', '2', 1]]);
      // One level change in this market so far: the new bid level.
      expect(book.sequence).to.equal(1n);
    });

    it('answers ALREADY_EXISTS for a client_order_id the caller already used for another order, placing nothing', async () => {
      await expectStatus(
        stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'first' }, alice.metadata),
        grpc.status.ALREADY_EXISTS,
      );
      expect(await stack.balances(alice)).to.deep.equal({ USD: ['9899', '101'] });
      // Another user may use the same id (control).
      await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '1', quantity: '1', clientOrderId: 'first' }, bob.metadata);
    });

    it('rejects a limit buy the caller cannot pay for with FAILED_PRECONDITION', async () => {
      await expectStatus(
        stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '10000', quantity: '1' }, alice.metadata),
        grpc.status.FAILED_PRECONDITION,
      );
      await expectStatus(stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_SELL, price: '1', quantity: '1' }, alice.metadata), grpc.status.FAILED_PRECONDITION);
      expect(await stack.balances(alice)).to.deep.equal({ USD: ['9899', '101'] });
    });

    it('gets, lists and cancels the caller’s orders', async () => {
      const placed = [];
      for (const price of ['10', '11', '12']) {
        placed.push((await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price, quantity: '1' }, alice.metadata)).order!);
      }
      const got = await stack.client.getOrder({ orderId: placed[1].orderId }, alice.metadata);
      expect(got.order).to.deep.equal(placed[1]);

      const cancelled = await stack.client.cancelOrder({ orderId: placed[1].orderId }, alice.metadata);
      expect(cancelled).to.deep.include({ releasedAmount: '11', releasedAsset: 'USD' });
      expect(cancelled.order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: matching.CancelReason.CANCEL_REASON_USER, lockedAmount: '0' });
      // A repeat (a retry after a lost answer) gets the cancelled order, releasing nothing more.
      const again = await stack.client.cancelOrder({ orderId: placed[1].orderId }, alice.metadata);
      expect(again).to.deep.equal({ ...cancelled, releasedAmount: '0' });

      const all = await stack.client.listOrders({}, alice.metadata);
      expect(all.nextPageToken).to.equal('');
      expect(all.orders.map((o) => o.price)).to.deep.equal(['12', '11', '10', '50.5']);
      const open = await stack.client.listOrders({ status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN }, alice.metadata);
      expect(open.orders.map((o) => o.price)).to.deep.equal(['12', '10', '50.5']);
      expect((await stack.client.listOrders({ market: 'ETH-USD' }, alice.metadata)).orders).to.deep.equal([]);
    });

    it('pages ListOrders newest first with next_page_token', async () => {
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let pageToken = '';
      do {
        const page = await stack.client.listOrders({ pageSize: 3, pageToken }, alice.metadata);
        pageSizes.push(page.orders.length);
        seen.push(...page.orders.map((o) => o.orderId.toString()));
        pageToken = page.nextPageToken;
      } while (pageToken !== '');
      const everything = await stack.client.listOrders({ pageSize: 1000 }, alice.metadata);
      expect(seen).to.deep.equal(everything.orders.map((o) => o.orderId.toString()));
      // Full pages of 3, then the rest (a last page of 3 is followed by no empty one).
      const full = Math.floor((seen.length - 1) / 3);
      expect(pageSizes).to.deep.equal([...Array<number>(full).fill(3), seen.length - 3 * full]);
      const ids = seen.map(BigInt);
      expect([...ids].sort((a, b) => (a > b ? -1 : 1))).to.deep.equal(ids);
    });

    it('answers NOT_FOUND for an unknown order id, however large', async () => {
      for (const orderId of [999_999n, 2n ** 53n, 2n ** 64n - 1n]) {
        await expectStatus(stack.client.getOrder({ orderId }, alice.metadata), grpc.status.NOT_FOUND, /^order_id: /);
        await expectStatus(stack.client.cancelOrder({ orderId }, alice.metadata), grpc.status.NOT_FOUND, /^order_id: /);
      }
    });

    it("answers NOT_FOUND for another user's order, exactly as for an unknown one, and leaves it alone", async () => {
      const { order } = await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: '20', quantity: '1' }, alice.metadata);
      const asBob = await expectStatus(stack.client.getOrder({ orderId: order!.orderId }, bob.metadata), grpc.status.NOT_FOUND);
      const unknown = await expectStatus(stack.client.getOrder({ orderId: 999_998n }, bob.metadata), grpc.status.NOT_FOUND);
      expect(asBob.details.replace(String(order!.orderId), 'N')).to.equal(unknown.details.replace('999998', 'N'));
      await expectStatus(stack.client.cancelOrder({ orderId: order!.orderId }, bob.metadata), grpc.status.NOT_FOUND);
      expect((await stack.client.getOrder({ orderId: order!.orderId }, alice.metadata)).order?.status).to.equal(ORDER_STATUS_OPEN);
      expect((await stack.client.listOrders({}, bob.metadata)).orders.map((o) => o.orderId)).not.to.include(order!.orderId);
    });

    it('fills what it can of an IOC order and cancels the rest', async () => {
      await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_SELL, price: '200', quantity: '1.5' }, bob.metadata);
      const { order, trades } = await stack.client.placeLimitOrder(
        { market: 'ETH-USD', side: SIDE_BUY, price: '210', quantity: '2', timeInForce: matching.TimeInForce.TIME_IN_FORCE_IOC },
        alice.metadata,
      );
      expect(trades.map((t) => [t.price, t.quantity, t.quoteAmount])).to.deep.equal([['200', '1.5', '300']]);
      expect(order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: matching.CancelReason.CANCEL_REASON_IOC, filledQuantity: '1.5', remainingQuantity: '0.5', lockedAmount: '0' });
      expect((await stack.balances(alice))['ETH']).to.deep.equal(['1.5', '0']);
      expect((await stack.client.getOrderBook({ market: 'ETH-USD' })).asks).to.deep.equal([]);
    });

    it('says why an order was cancelled: self-trade prevention cancels the resting order of the same user', async () => {
      const { order: resting } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_SELL, price: '250', quantity: '0.5' }, alice.metadata);
      const { order: taker, trades } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '250', quantity: '0.5' }, alice.metadata);
      expect(trades).to.deep.equal([]);
      const { order } = await stack.client.getOrder({ orderId: resting!.orderId }, alice.metadata);
      expect(order).to.include({ status: ORDER_STATUS_CANCELLED, cancelReason: matching.CancelReason.CANCEL_REASON_SELF_TRADE });
      expect(taker).to.include({ status: ORDER_STATUS_OPEN, cancelReason: matching.CancelReason.CANCEL_REASON_UNSPECIFIED });
      await stack.client.cancelOrder({ orderId: taker!.orderId }, alice.metadata);
    });

    it('partially fills a resting order and reports it', async () => {
      const { order: resting } = await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_SELL, price: '300', quantity: '2' }, bob.metadata);
      await stack.client.placeLimitOrder({ market: 'ETH-USD', side: SIDE_BUY, price: '300', quantity: '0.5' }, alice.metadata);
      const { order } = await stack.client.getOrder({ orderId: resting!.orderId }, bob.metadata);
      expect(order).to.include({ status: ORDER_STATUS_PARTIALLY_FILLED, cancelReason: matching.CancelReason.CANCEL_REASON_UNSPECIFIED, filledQuantity: '0.5', remainingQuantity: '1.5', lockedAmount: '1.5' });
    });

    it('returns balances sorted by asset and the markets with their decimals, fees and rules (none by default)', async () => {
      expect((await stack.client.getBalances(bob.metadata)).balances.map((b) => b.asset)).to.deep.equal(['ETH', 'USD']);
      const { markets } = await stack.client.listMarkets();
      expect(markets[0]).to.deep.equal({
        symbol: 'BTC-USD', baseAsset: 'BTC', quoteAsset: 'USD', priceDecimals: 6, quantityDecimals: 8,
        makerFeeBps: 0, takerFeeBps: 0, tickSize: '0.000001', lotSize: '0.00000001', minQuantity: '0.00000001', minNotional: '0',
      });
    });

    it('limits GetOrderBook to depth levels per side (0 means 10)', async () => {
      for (let i = 0; i < 12; i++) await stack.client.placeLimitOrder({ market: 'BTC-USD', side: SIDE_BUY, price: `${30 + i}`, quantity: '0.1' }, bob.metadata);
      expect((await stack.client.getOrderBook({ market: 'BTC-USD', depth: 2 })).bids.map((l) => l.price)).to.deep.equal(['50.5', '41']);
      expect((await stack.client.getOrderBook({ market: 'BTC-USD' })).bids).to.have.length(10);
      expect((await stack.client.getOrderBook({ market: 'BTC-USD', depth: 1000 })).bids.length).to.be.above(10);
    });
  });
});
