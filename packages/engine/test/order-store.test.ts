import { expect } from 'chai';
import { OrderStore } from '../src/order-store';

describe('order store', () => {
  const store = () => new OrderStore(['alice'], ['BTC-USD']);

  it('refuses an enumeration value it cannot pack, rather than store it as the first one', () => {
    const s = store();
    expect(() => s.create(1, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTT' as never, false, 'cancel_resting', undefined, undefined)).to.throw(
      'GTT is not one of GTC, IOC, FOK, GTD',
    );
    expect(() => s.create(2, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTC', false, 'none' as never, undefined, undefined)).to.throw(
      'none is not one of cancel_resting, cancel_taker, cancel_both',
    );
    expect(() => s.create(3, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, undefined as never, false, 'cancel_resting', undefined, undefined)).to.throw(
      'undefined is not one of GTC, IOC, FOK, GTD',
    );
  });

  it('reuses the slot of a released order, and the new order inherits nothing from the old one', () => {
    const s = store();
    const first = s.create(1, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTC', true, 'cancel_resting', 'old', undefined);
    s.release(first);
    const second = s.create(2, 0, 0, 0, 'sell', 'market', 0, 3, 3, 5, 'FOK', false, 'cancel_taker', undefined, undefined);
    expect(second).to.equal(first);
    expect(s.view(second)).to.include({ orderId: 2, clientOrderId: undefined, side: 'sell', type: 'market', price: undefined, postOnly: false });
    expect(s.clientOrderId(second)).to.equal(undefined);
    const third = s.create(3, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTC', false, 'cancel_resting', undefined, undefined);
    expect(third).to.not.equal(first);
  });

  it('packs every field of an order and gives each back as created', () => {
    const s = store();
    const ref = s.create(7, 0, 0, 0, 'sell', 'limit', 101, 5, 5, 1234, 'IOC', true, 'cancel_both', 'c-7', undefined);
    expect(s.view(ref)).to.deep.equal({
      orderId: 7, clientOrderId: 'c-7', userId: 'alice', market: 'BTC-USD', side: 'sell', type: 'limit', price: 101n, quantity: 5n,
      filled: 0n, status: 'open', cancelReason: undefined, timeInForce: 'IOC', postOnly: true, selfTradePrevention: 'cancel_both',
      expireAt: undefined, locked: 5n, feesPaid: 0n, createdAt: 1234, updatedAt: 1234, stopPrice: undefined, ocoOrderId: undefined,
    });
    s.recordFill(ref, 2, 2000);
    expect(s.view(ref)).to.include({ filled: 2n, status: 'partially_filled', updatedAt: 2000, createdAt: 1234 });
    expect([s.remaining(ref), s.isOpen(ref)]).to.deep.equal([3, true]);
    // The accessors the snapshot reads, one by one.
    expect([s.side(ref), s.type(ref), s.timeInForce(ref), s.postOnly(ref), s.selfTradePrevention(ref), s.clientOrderId(ref)]).to.deep.equal([
      'sell', 'limit', 'IOC', true, 'cancel_both', 'c-7',
    ]);
    s.cancel(ref, 'user', 3000);
    expect(s.view(ref)).to.include({ filled: 2n, status: 'cancelled', cancelReason: 'user', updatedAt: 3000 });
    expect(s.isOpen(ref)).to.equal(false);
  });

  it('keeps a GTD order\'s expiry while the order is retained, and every cancel reason in its bits', () => {
    const s = store();
    const gtd = s.create(8, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTD', true, 'cancel_resting', 'g', 5000);
    expect([s.isGtd(gtd), s.expireAt(gtd), s.view(gtd).expireAt, s.view(gtd).timeInForce]).to.deep.equal([true, 5000, 5000, 'GTD']);
    for (const reason of ['user', 'ioc', 'self_trade', 'expired', 'dead_man', 'disconnect'] as const) {
      s.cancel(gtd, reason, 6000);
      expect([s.cancelReason(gtd), s.status(gtd), s.postOnly(gtd), s.clientOrderId(gtd), s.isOnBook(gtd)]).to.deep.equal([reason, 'cancelled', true, 'g', false]);
    }
    s.release(gtd);
    const next = s.create(9, 0, 0, 1, 'buy', 'limit', 1, 1, 1, 0, 'GTC', false, 'cancel_resting', undefined, undefined);
    expect(next).to.equal(gtd);
    expect([s.isGtd(next), s.expireAt(next), s.view(next).expireAt]).to.deep.equal([false, undefined, undefined]);
  });
});
