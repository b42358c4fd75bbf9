import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { Engine, SnapshotInvalidError } from '../src/index';
import {
  concatParts,
  frameSections,
  ORDER_BYTES,
  ORDER_LAYOUT,
  readSections,
  REQUIRED_TAGS,
  SECTION_TAGS,
  type SectionTag,
  SNAPSHOT_VERSION,
  snapshotSeq,
} from '../src/snapshot';
import type { TradeView } from '../src/index';
import type { EngineState } from '../src/state';
import { FILL, TRADE, TRADE_FIELDS } from '../src/trade-ring';
import { accepted, CONFIG, Harness, placed, px, qty, rejected } from './harness';

const USERS = ['ann', 'bob', 'cy'];

/**
 * Orders of every kind the format knows: resting bids and asks on several levels (one partially
 * filled), closed ones filled, cancelled by the user, by IOC and by self-trade prevention, a filled
 * market order and a filled FOK, post-only and every self-trade prevention, client order ids.
 */
function variedBook(): Harness {
  const h = new Harness();
  for (const u of USERS) for (const asset of ['USD', 'BTC', 'ETH', 'SOL']) h.deposit(u, asset, '100000');
  placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'a-1' })); // 1: partially filled below
  placed(h.limit('ann', 'BTC-USD', 'buy', '99', '2', { postOnly: true, selfTradePrevention: 'cancel_taker' })); // 2
  placed(h.limit('bob', 'BTC-USD', 'buy', '100', '1', { selfTradePrevention: 'cancel_both' })); // 3
  placed(h.limit('bob', 'BTC-USD', 'sell', '101', '1')); // 4: cancelled by bob
  placed(h.limit('cy', 'BTC-USD', 'sell', '102', '3', { clientOrderId: 'c-1' })); // 5: partially filled by 8
  placed(h.limit('cy', 'BTC-USD', 'sell', '100', '0.5')); // 6: fills against 1
  placed(h.limit('cy', 'ETH-USD', 'buy', '10', '1', { timeInForce: 'IOC' })); // 7: cancelled (ioc)
  accepted(h.cancel('bob', 4));
  placed(h.market('bob', 'BTC-USD', 'buy', '1', { clientOrderId: 'b-1' })); // 8: filled
  placed(h.limit('cy', 'ETH-USD', 'sell', '20', '1')); // 9: filled by 10
  placed(h.limit('bob', 'ETH-USD', 'buy', '20', '1', { timeInForce: 'FOK' })); // 10
  placed(h.limit('ann', 'SOL-USD', 'sell', '5', '1')); // 11
  placed(h.limit('ann', 'SOL-USD', 'buy', '5', '1')); // 12: self-trade: 11 cancelled, 12 rests
  return h;
}

function expectSameEngine(restored: Engine, original: Engine, sameHash = true): void {
  if (sameHash) expect(restored.stateHash()).to.equal(original.stateHash());
  expect(restored.lastSeq()).to.equal(original.lastSeq());
  for (const u of USERS) {
    expect(restored.listOrders(u, { openOnly: false, limit: 100 })).to.deep.equal(original.listOrders(u, { openOnly: false, limit: 100 }));
    expect(restored.balances(u)).to.deep.equal(original.balances(u));
  }
  for (const m of CONFIG.markets) expect(restored.depth(m.symbol, 100)).to.deep.equal(original.depth(m.symbol, 100));
}

/** `bytes` with one section's payload changed by `change` (in place or replaced), framed again with sound checksums. */
function edited(bytes: Uint8Array, tag: SectionTag, change: (payload: Uint8Array, view: DataView) => Uint8Array | void): Uint8Array {
  const sections = readSections(bytes);
  const payload = Uint8Array.from(sections.get(tag)!);
  const replaced = change(payload, new DataView(payload.buffer)) ?? payload;
  return concatParts(frameSections([...sections].map(([t, p]) => ({ tag: t, payload: t === tag ? replaced : p }))));
}

/** ORDR with each record's flags packed as formats 1 and 2 did instead of format 3's. */
function withFormat1Flags(ordr: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(ordr);
  const view = new DataView(copy.buffer);
  // [format 3's shift, width, format 1's shift] of side, type, status, time in force, post-only,
  // self-trade prevention, cancel reason and client id.
  const fields = [[0, 1, 0], [1, 2, 1], [3, 3, 2], [6, 3, 4], [9, 1, 6], [10, 2, 7], [12, 4, 9], [16, 1, 11]] as const;
  for (let at = ORDER_LAYOUT.flags; at < copy.length; at += ORDER_BYTES) {
    const flags = view.getUint32(at, true);
    let narrow = 0;
    for (const [from, width, to] of fields) narrow |= ((flags >>> from) & ((1 << width) - 1)) << to;
    view.setUint32(at, narrow, true);
  }
  return copy;
}

/** Byte offset in ORDR of the record of order `id`. */
function orderAt(bytes: Uint8Array, id: number): number {
  const ordr = readSections(bytes).get('ORDR')!;
  const view = new DataView(ordr.buffer, ordr.byteOffset, ordr.byteLength);
  for (let at = 0; at < ordr.length; at += ORDER_BYTES) if (view.getFloat64(at + ORDER_LAYOUT.id, true) === id) return at;
  throw new Error(`no order ${id}`);
}

function editOrder(bytes: Uint8Array, id: number, change: (view: DataView, at: number) => void): Uint8Array {
  const at = orderAt(bytes, id);
  return edited(bytes, 'ORDR', (_, view) => change(view, at));
}

function refusal(bytes: Uint8Array, config = CONFIG): string {
  try {
    Engine.restore(config, bytes);
  } catch (err) {
    expect(err).to.be.instanceOf(SnapshotInvalidError);
    expect((err as Error).name).to.equal('SnapshotInvalidError');
    return (err as Error).message.replace('invalid engine snapshot: ', '');
  }
  throw new Error('restored');
}

describe('snapshot: binary format', () => {
  it('restores every kind of order, every balance, the books and the counters exactly, and the same future', () => {
    const h = variedBook();
    const bytes = h.engine.snapshot();
    const restored = Engine.restore(CONFIG, bytes);
    expectSameEngine(restored, h.engine);
    expect(restored.snapshot()).to.deep.equal(bytes);
    const next = { kind: 'placeLimit', seq: h.engine.lastSeq() + 1, timestamp: 9, orderId: 100, userId: 'bob', market: 'BTC-USD', side: 'sell',
      price: 99_000_000n, quantity: 300_000_000n, timeInForce: 'GTC', postOnly: false, selfTradePrevention: 'cancel_resting' } as const;
    expect(restored.apply(next)).to.deep.equal(h.engine.apply(next));
    expectSameEngine(restored, h.engine);
  });

  it('is laid out as documented: header, nine sections in order (no fees: no FEES), one 68-byte record per retained order', () => {
    const h = variedBook();
    const bytes = h.engine.snapshot();
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).to.equal('OBSNAPSH');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect([view.getUint32(8, true), view.getUint32(12, true), SNAPSHOT_VERSION]).to.deep.equal([3, 9, 3]);
    const sections = readSections(bytes);
    expect([...sections.keys()]).to.deep.equal(['SEQN', 'META', 'MRKT', 'ACCT', 'ORDR', 'CLID', 'RTRY', 'LDGR', 'HIST']);
    expect(snapshotSeq(bytes)).to.equal(h.engine.lastSeq());
    const meta = new DataView(sections.get('META')!.slice().buffer);
    // nextTradeId after the trades of orders 6, 8 and 10; 3 accounts; 12 orders, none evicted.
    expect([meta.getFloat64(0, true), meta.getUint32(8, true), meta.getUint32(12, true)]).to.deep.equal([4, 3, 12]);
    expect(sections.get('ORDR')!.length).to.equal(12 * ORDER_BYTES);
    const clid = new TextDecoder().decode(sections.get('CLID'));
    expect(clid).to.equal('\u0003\u0000\u0000\u0000a-1\u0003\u0000\u0000\u0000c-1\u0003\u0000\u0000\u0000b-1');
  });

  it('leaves lastSeq out of stateHash and nothing else: a rejected command changes only SEQN', () => {
    const h = variedBook();
    const before = readSections(h.engine.snapshot());
    const hash = h.engine.stateHash();
    h.cancel('ann', 999);
    const after = readSections(h.engine.snapshot());
    expect(h.engine.stateHash()).to.equal(hash);
    for (const tag of SECTION_TAGS) expect(after.get(tag), tag).to.deep.equal(tag === 'SEQN' ? after.get(tag) : before.get(tag));
    expect(after.get('SEQN')).to.not.deep.equal(before.get('SEQN'));
    h.deposit('ann', 'USD', '1');
    expect(h.engine.stateHash()).to.not.equal(hash);
  });

  it('encodes large books and many accounts, and restores them', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 3 });
    for (let u = 0; u < 4_200; u++) h.deposit(`u${u}`, 'USD', '1000');
    h.deposit('maker', 'USD', '100000000');
    for (let i = 0; i < 17_000; i++) h.limit('maker', 'BTC-USD', 'buy', String(1 + (i % 400)), '0.001', { clientOrderId: `m-${i}` });
    const bytes = h.engine.snapshot();
    const restored = Engine.restore(h.config, bytes);
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    expect(restored.depth('BTC-USD', 1_000)).to.deep.equal(h.engine.depth('BTC-USD', 1_000));
    expect(restored.listOrders('maker', { openOnly: true, limit: 3 })).to.deep.equal(h.engine.listOrders('maker', { openOnly: true, limit: 3 }));
  });

  it('restores with room to grow: the orders placed next copy neither the order store nor the id index', () => {
    const h = new Harness();
    h.deposit('maker', 'USD', '100000000');
    const resting = 8_000;
    for (let i = 0; i < resting; i++) placed(h.limit('maker', 'BTC-USD', 'buy', String(1 + (i % 400)), '0.001'));
    h.engine = Engine.restore(h.config, h.engine.snapshot());
    const state = (h.engine as unknown as { state: EngineState }).state;
    const storeSlots = state.store.capacity();
    const indexSlots = state.orders.capacity();
    for (let i = 0; i < resting / 4; i++) placed(h.limit('maker', 'BTC-USD', 'buy', '1', '0.001'));
    expect([state.store.capacity(), state.orders.capacity()]).to.deep.equal([storeSlots, indexSlots]);
  });

  it('keeps the exact sum of locks past 2^53 units', () => {
    const h = new Harness();
    h.deposit('whale', 'USD', '1000000000');
    // Each order locks just below 2^53 units; together they pass it.
    const price = '90000000';
    for (let i = 0; i < 3; i++) placed(h.limit('whale', 'BTC-USD', 'buy', price, '1'));
    expect(h.balance('whale', 'USD').locked > BigInt(Number.MAX_SAFE_INTEGER)).to.equal(true);
    expectSameEngine(Engine.restore(CONFIG, h.engine.snapshot()), h.engine);
    const bytes = editOrder(h.engine.snapshot(), 2, (view, at) => view.setFloat64(at + ORDER_LAYOUT.locked, 9_000_000_000_000_001, true));
    expect(refusal(bytes)).to.equal('whale has 27000000000000000 USD locked but its open orders reserve 27000000000000001');
  });

  it('encoding a state whose level counts disagree with its links is an engine fault, named', () => {
    const h = variedBook();
    const state = (h.engine as unknown as { state: EngineState }).state;
    const level = state.markets[0]!.book.bids.nthBest(0)!;
    level.count += 1;
    expect(() => h.engine.snapshot()).to.throw('BTC-USD bid level 0 counts 3 orders but links 2');
    level.count -= 2;
    expect(() => h.engine.snapshot()).to.throw('BTC-USD bid level 0 counts 1 orders but links more');
    level.count += 1;
    const ann = state.accountList[0]!;
    const closed = ann.retainedClosedCount();
    (ann as unknown as { closedCount: number }).closedCount += 1;
    expect(() => h.engine.snapshot()).to.throw(`the closed orders of ann counts ${closed + 1} orders but links ${closed}`);
  });
});

describe('snapshot: damaged bytes are refused, naming what is wrong', () => {
  const bytes = variedBook().engine.snapshot();
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

  it('refuses another magic, version or section count, and a file cut short', () => {
    const copy = (): Uint8Array => Uint8Array.from(bytes);
    const magic = copy();
    magic[0] = 0x58;
    expect(refusal(magic)).to.equal('not a snapshot (no OBSNAPSH header)');
    expect(refusal(bytes.subarray(0, 15))).to.equal('not a snapshot (no OBSNAPSH header)');
    const version = copy();
    view(version).setUint32(8, 4, true);
    expect(refusal(version)).to.equal('format version 4, this engine reads 1 to 3');
    view(version).setUint32(8, 0, true);
    expect(refusal(version)).to.equal('format version 0, this engine reads 1 to 3');
    const count = copy();
    view(count).setUint32(12, 5, true);
    expect(refusal(count)).to.equal('5 sections, format 3 has 6 to 14');
    view(count).setUint32(12, 15, true);
    expect(refusal(count)).to.equal('15 sections, format 3 has 6 to 14');
    view(count).setUint32(12, 6, true);
    const after = (['RTRY', 'LDGR', 'HIST'] as const).reduce((n, tag) => n + 16 + readSections(bytes).get(tag)!.length, 0);
    expect(refusal(count)).to.equal(`${after} bytes after the last section`);
    view(count).setUint32(8, 2, true);
    expect(refusal(count)).to.equal('6 sections, format 2 has 7');
    view(count).setUint32(8, 1, true);
    expect(refusal(count)).to.equal(`${after} bytes after the last section`);
    view(count).setUint32(12, 7, true);
    expect(refusal(count)).to.equal('7 sections, format 1 has 6');
    expect(refusal(bytes.subarray(0, 16))).to.equal('truncated before section SEQN (at byte 16)');
    expect(refusal(bytes.subarray(0, 31))).to.equal('truncated before section SEQN (at byte 16)');
    expect(refusal(bytes.subarray(0, 39))).to.equal('section SEQN is truncated (at byte 16)');
    expect(refusal(bytes.subarray(0, bytes.length - 1))).to.match(/^section HIST is truncated \(at byte \d+\)$/);
    const withoutHistory = concatParts(frameSections([...readSections(bytes)].filter(([tag]) => tag !== 'HIST').map(([tag, payload]) => ({ tag, payload }))));
    const longer = Uint8Array.from(withoutHistory);
    view(longer).setUint32(12, 9, true);
    expect(refusal(longer)).to.equal(`truncated before section one of HIST, TIMR, STOP, OCOR, LIMT (at byte ${withoutHistory.length})`);
    expect(refusal(concatParts([bytes, new Uint8Array(3)]))).to.equal('3 bytes after the last section');
  });

  it('refuses a section out of place, a bad length and a checksum mismatch', () => {
    const tag = Uint8Array.from(bytes);
    tag[16] = 0x58;
    expect(refusal(tag)).to.equal('section "XEQN" at byte 16 where SEQN belongs');
    const negative = Uint8Array.from(bytes);
    view(negative).setFloat64(24, -8, true);
    expect(refusal(negative)).to.equal('section SEQN is truncated (at byte 16)');
    const fraction = Uint8Array.from(bytes);
    view(fraction).setFloat64(24, 7.5, true);
    expect(refusal(fraction)).to.equal('section SEQN is truncated (at byte 16)');
    const flipped = Uint8Array.from(bytes);
    flipped[32]! ^= 1;
    expect(refusal(flipped)).to.equal('section SEQN fails its checksum (at byte 16)');
    expect(() => snapshotSeq(flipped)).to.throw(SnapshotInvalidError);
  });

  it('refuses sections that end early or carry bytes left over', () => {
    expect(refusal(edited(bytes, 'META', (p) => p.subarray(0, 15)))).to.equal('section META ends early');
    expect(refusal(edited(bytes, 'META', (p) => concatParts([p, new Uint8Array(1)])))).to.equal('section META has 1 bytes left over');
    expect(refusal(edited(bytes, 'SEQN', (p) => concatParts([p, new Uint8Array(2)])))).to.equal('section SEQN has 2 bytes left over');
    expect(refusal(edited(bytes, 'MRKT', (p) => concatParts([p, new Uint8Array(4)])))).to.equal('section MRKT has 4 bytes left over');
    expect(refusal(edited(bytes, 'ACCT', (p) => concatParts([p, new Uint8Array(4)])))).to.equal('section ACCT has 4 bytes left over');
    expect(refusal(edited(bytes, 'CLID', (p) => concatParts([p, new Uint8Array(4)])))).to.equal('section CLID has 4 bytes left over');
    expect(refusal(edited(bytes, 'CLID', (p) => p.subarray(0, 5)))).to.equal('section CLID ends early');
    expect(refusal(edited(bytes, 'CLID', (p) => void (p[4] = 0xff)))).to.equal('section CLID holds a string that is not UTF-8');
    expect(refusal(edited(bytes, 'ORDR', (p) => p.subarray(0, p.length - 1)))).to.equal(`section ORDR holds ${12 * ORDER_BYTES - 1} bytes for 12 orders`);
  });

  it('refuses counters that are not counts', () => {
    for (const [value, text] of [[-1, '-1'], [1.5, '1.5'], [Number.NaN, 'NaN']] as const) {
      expect(refusal(edited(bytes, 'SEQN', (_, v) => v.setFloat64(0, value, true)))).to.equal(`lastSeq is ${text}, not a count`);
      expect(refusal(edited(bytes, 'META', (_, v) => v.setFloat64(0, value, true)))).to.equal(`nextTradeId is ${text}, not a count`);
    }
    expect(refusal(edited(bytes, 'MRKT', (_, v) => v.setFloat64(4 + 7 + 4 + 3 + 4 + 3, -2, true)))).to.equal('bookSeq of BTC-USD is -2, not a count');
  });

  it('refuses markets other than the config', () => {
    expect(refusal(bytes, { ...CONFIG, markets: CONFIG.markets.slice(1) })).to.equal('market BTC-USD (BTC/USD) where the config has ETH-USD (ETH/USD)');
    expect(refusal(bytes, { ...CONFIG, markets: [{ symbol: 'BTC-USD', base: 'BTC', quote: 'EUR' }, ...CONFIG.markets.slice(1)] })).to.equal(
      'market BTC-USD (BTC/USD) where the config has BTC-USD (BTC/EUR)',
    );
    expect(refusal(bytes, { ...CONFIG, markets: [{ symbol: 'BTC-USD', base: 'XBT', quote: 'USD' }, ...CONFIG.markets.slice(1)] })).to.equal(
      'market BTC-USD (BTC/USD) where the config has BTC-USD (XBT/USD)',
    );
    expect(refusal(bytes, { ...CONFIG, markets: [...CONFIG.markets, { symbol: 'XRP-USD', base: 'XRP', quote: 'USD' }] })).to.match(/^section MRKT ends early$/);
  });
});

describe('snapshot: a state no command sequence reaches is refused, naming what is wrong', () => {
  const h = variedBook();
  const bytes = h.engine.snapshot();
  /** ACCT offset of the first balance of account #a: accounts are ann, bob, cy (3-byte ids), 4 assets each. */
  const accountAt = (a: number): number => a * (4 + 3 + 4 * 16 + 4);
  const setFlags = (id: number, change: (flags: number) => number): Uint8Array =>
    editOrder(bytes, id, (v, at) => v.setUint32(at + ORDER_LAYOUT.flags, change(v.getUint32(at + ORDER_LAYOUT.flags, true)), true));

  it('locked balances that differ from what open orders reserve', () => {
    // ann's USD (asset #1) locked, one unit more.
    const more = edited(bytes, 'ACCT', (_, v) => {
      const at = accountAt(0) + 7 + 16 + 8;
      v.setBigUint64(at, v.getBigUint64(at, true) + 1n, true);
    });
    expect(refusal(more)).to.equal(`ann has ${h.balance('ann', 'USD').locked + 1n} USD locked but its open orders reserve ${h.balance('ann', 'USD').locked}`);
    const lock = editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.locked, 1, true));
    expect(refusal(lock)).to.equal(`ann has ${h.balance('ann', 'USD').locked} USD locked but its open orders reserve ${h.balance('ann', 'USD').locked - 19_800_000_000n + 1n}`);
  });

  it('balances whose total passes 2^64-1, duplicate accounts, more closed orders than retained', () => {
    const rich = edited(bytes, 'ACCT', (_, v) => v.setBigUint64(accountAt(1) + 7, 2n ** 64n - 1n, true));
    expect(refusal(rich)).to.equal('the BTC of all accounts adds up past 2^64-1');
    const twice = edited(bytes, 'ACCT', (p) => void p.set(new TextEncoder().encode('ann'), accountAt(1) + 4));
    expect(refusal(twice)).to.equal('account ann appears twice');
    expect(refusal(bytes, { ...CONFIG, closedOrdersRetainedPerUser: 2 })).to.equal('bob has 3 closed orders, more than the 2 retained');
  });

  it('orders with impossible fields', () => {
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.id, 0, true)))).to.equal('order #2 has id 0');
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.id, 3, true)))).to.equal('order 3 appears twice');
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, -1, true)))).to.equal("order #2's price is -1, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.quantity, 0.5, true)))).to.equal("order #2's quantity is 0.5, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.filled, -1, true)))).to.equal("order #2's filled is -1, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.locked, -1, true)))).to.equal("order #2's locked is -1, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.createdAt, -1, true)))).to.equal("order #2's createdAt is -1, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.updatedAt, -1, true)))).to.equal("order #2's updatedAt is -1, not a count");
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.filled, 300_000_000, true)))).to.equal('order 2 filled 300000000 of 200000000');
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setUint32(at + ORDER_LAYOUT.account, 3, true)))).to.equal('order 2 names account #3, of 3');
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setUint32(at + ORDER_LAYOUT.market, 3, true)))).to.equal('order 2 names market #3, of 3');
    expect(refusal(setFlags(2, (f) => f | (1 << 18)))).to.equal(`order 2 has unknown flags ${orderFlags(2) | (1 << 18)}`);
    expect(refusal(setFlags(2, (f) => f | (7 << 6)))).to.equal('order 2 has an unknown value 7 in flag bits 6-8');
    expect(refusal(setFlags(2, (f) => f | (3 << 10)))).to.equal('order 2 has an unknown value 3 in flag bits 10-11');
    expect(refusal(setFlags(2, (f) => f | (3 << 1)))).to.equal('order 2 has an unknown value 3 in flag bits 1-2');
    expect(refusal(setFlags(2, (f) => f | (7 << 3)))).to.equal('order 2 has an unknown value 7 in flag bits 3-5');
    expect(refusal(setFlags(2, (f) => f | (15 << 12)))).to.equal('order 2 has an unknown value 15 in flag bits 12-15');
  });

  function orderFlags(id: number): number {
    const ordr = readSections(bytes).get('ORDR')!;
    return new DataView(ordr.buffer, ordr.byteOffset).getUint32(orderAt(bytes, id) + ORDER_LAYOUT.flags, true);
  }

  it('each flag decodes to its own value', () => {
    // Order 2 is a post-only GTC buy with cancel_taker; order 7 an IOC cancelled for ioc; 8 a market order with a client id.
    expect(orderFlags(2)).to.equal((0 << 0) | (0 << 1) | (0 << 3) | (0 << 6) | (1 << 9) | (1 << 10));
    expect(orderFlags(3)).to.equal(2 << 10);
    expect(orderFlags(4)).to.equal((1 << 0) | (3 << 3) | (1 << 12));
    expect(orderFlags(7)).to.equal((3 << 3) | (1 << 6) | (2 << 12));
    expect(orderFlags(8)).to.equal((1 << 1) | (2 << 3) | (2 << 6) | (1 << 16));
    expect(orderFlags(11)).to.equal((1 << 0) | (3 << 3) | (3 << 12));
    expect(orderFlags(1)).to.equal((1 << 3) | (1 << 16));
  });

  it('resting orders that cannot rest where they are', () => {
    expect(refusal(setFlags(2, (f) => f | 1))).to.equal('order 2 rests in the buy book of BTC-USD but is a open sell limit order of market #0');
    expect(refusal(setFlags(2, (f) => f | 2))).to.equal('order 2 rests in the buy book of BTC-USD but is a open buy market order of market #0');
    expect(refusal(setFlags(2, (f) => f | (2 << 3)))).to.equal('order 2 rests in the buy book of BTC-USD but is a filled buy limit order of market #0');
    expect(refusal(setFlags(2, (f) => f | (3 << 3)))).to.equal('order 2 rests in the buy book of BTC-USD but is a cancelled buy limit order of market #0');
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setUint32(at + ORDER_LAYOUT.market, 1, true)))).to.equal(
      'order 2 rests in the buy book of BTC-USD but is a open buy limit order of market #1',
    );
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.filled, 200_000_000, true)))).to.equal('order 2 rests with nothing left or no price');
    expect(refusal(editOrder(bytes, 12, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 0, true)))).to.equal('order 12 rests with nothing left or no price');
    expect(refusal(editOrder(bytes, 3, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 100_000_001, true)))).to.equal('order 3 at price 100000001 is in the level of 100000000');
  });

  it('levels out of order, empty or crossing the other side', () => {
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 100_000_000, true)))).to.equal(
      'the buy levels of BTC-USD are not best first (100000000 after 100000000)',
    );
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 101_000_000, true)))).to.equal(
      'the buy levels of BTC-USD are not best first (101000000 after 100000000)',
    );
    // The asks of BTC-USD: one level (order 5 at 102).
    const asks = editOrder(bytes, 5, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 100_000_000, true));
    expect(refusal(asks)).to.equal('the book of BTC-USD is crossed (100000000 >= 100000000)');
    // MRKT of BTC-USD: 3 strings (7 + 3 + 3 bytes + 3 lengths), bookSeq, bids: 2 levels of 2 and 1 orders.
    const bids = 4 + 7 + 4 + 3 + 4 + 3 + 8;
    const empty = edited(bytes, 'MRKT', (_, v) => {
      v.setUint32(bids + 4, 0, true);
      v.setUint32(bids + 8, 3, true);
    });
    expect(refusal(empty)).to.equal('an empty level in the buy book of BTC-USD');
  });

  it('closed orders that still lock, are open, or belong to another account', () => {
    // Order 6 (cy's, filled) and 4 (bob's, cancelled) are closed.
    expect(refusal(editOrder(bytes, 6, (v, at) => v.setFloat64(at + ORDER_LAYOUT.locked, 5, true)))).to.equal(
      'order 6 is listed as closed by cy but is filled, account #2, locking 5',
    );
    expect(refusal(setFlags(4, (f) => f & ~(7 << 3)))).to.equal('order 4 is listed as closed by bob but is open, account #1, locking 0');
    expect(refusal(setFlags(4, (f) => (f & ~(7 << 3)) | (1 << 3)))).to.equal('order 4 is listed as closed by bob but is partially_filled, account #1, locking 0');
    expect(refusal(editOrder(bytes, 4, (v, at) => v.setUint32(at + ORDER_LAYOUT.account, 2, true)))).to.equal(
      'order 4 is listed as closed by bob but is cancelled, account #2, locking 0',
    );
    expect(Engine.restore(CONFIG, setFlags(4, (f) => (f & ~(7 << 3)) | (2 << 3))).lastSeq()).to.equal(h.engine.lastSeq());
  });

  it('orders no list holds, lists longer than the orders, and client order ids used twice', () => {
    const extra = edited(edited(bytes, 'ORDR', (p) => concatParts([p, p.subarray(0, ORDER_BYTES)])), 'META', (_, v) => v.setUint32(12, 13, true));
    expect(refusal(extra)).to.equal('section ORDR holds 1 orders that no book or account lists');
    const fewer = edited(edited(bytes, 'ORDR', (p) => p.subarray(0, 11 * ORDER_BYTES)), 'META', (_, v) => v.setUint32(12, 11, true));
    expect(refusal(fewer)).to.equal('section ORDR holds 11 orders, fewer than the books and accounts list');
    // Order 2 gets a client order id, the same as ann's order 1: the CLID string goes first.
    const clid = edited(setFlags(2, (f) => f | (1 << 16)), 'CLID', (p) => concatParts([p.subarray(0, 7), p]));
    expect(refusal(clid)).to.equal('client order id "a-1" of ann is used twice');
  });
});

describe('snapshot: edges', () => {
  it('refuses ask levels out of order or at one price twice, and a market renamed with the same assets', () => {
    const h = new Harness();
    h.deposit('ann', 'BTC', '10');
    placed(h.limit('ann', 'BTC-USD', 'sell', '101', '1')); // 1: the best ask
    placed(h.limit('ann', 'BTC-USD', 'sell', '102', '1')); // 2
    const bytes = h.engine.snapshot();
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 100_000_000, true)))).to.equal(
      'the sell levels of BTC-USD are not best first (100000000 after 101000000)',
    );
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.price, 101_000_000, true)))).to.equal(
      'the sell levels of BTC-USD are not best first (101000000 after 101000000)',
    );
    const renamed = { ...CONFIG, markets: [{ symbol: 'XBT-USD', base: 'BTC', quote: 'USD' }, ...CONFIG.markets.slice(1)] };
    expect(refusal(bytes, renamed)).to.equal('market BTC-USD (BTC/USD) where the config has XBT-USD (BTC/USD)');
  });

  it("names an order whose id is not a count by its place in ORDR", () => {
    const bytes = variedBook().engine.snapshot();
    expect(refusal(editOrder(bytes, 2, (v, at) => v.setFloat64(at + ORDER_LAYOUT.id, -1, true)))).to.equal("order #2's id is -1, not a count");
  });

  it('restores a total supply of exactly 2^64-1', () => {
    const h = new Harness();
    h.send({ kind: 'deposit', userId: 'ann', asset: 'BTC', amount: (1n << 64n) - 2n });
    h.send({ kind: 'deposit', userId: 'bob', asset: 'BTC', amount: 1n });
    expect(h.balance('bob', 'BTC').available).to.equal(1n);
    expectSameEngine(Engine.restore(CONFIG, h.engine.snapshot()), h.engine);
  });

  it('writes names longer than its first buffers', () => {
    const long = `${'L'.repeat(3_000)}-USD`;
    const config = { markets: [{ symbol: long, base: 'L'.repeat(3_000), quote: 'USD' }], closedOrdersRetainedPerUser: 5 };
    const engine = new Engine(config);
    engine.apply({ kind: 'deposit', seq: 1, timestamp: 1, userId: 'ann', asset: 'USD', amount: 5n });
    const restored = Engine.restore(config, engine.snapshot());
    expect(restored.stateHash()).to.equal(engine.stateHash());
    expect(restored.markets()[0]!.symbol).to.equal(long);
  });
});

/** A state with every kind of retry data: placement trades, an amended order's placement, deposit request ids. */
function retryBook(): { h: Harness; trade: TradeView } {
  const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 3 });
  for (const u of USERS) for (const asset of ['USD', 'BTC']) h.deposit(u, asset, '100000');
  placed(h.limit('bob', 'BTC-USD', 'sell', '100', '2')); // 1
  const [trade] = placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 't' })).trades; // 2: trades with 1
  placed(h.limit('ann', 'BTC-USD', 'buy', '90', '1', { clientOrderId: 'p' })); // 3
  accepted(h.amend('ann', 3, { price: '95' }));
  for (const requestId of ['r-2', 'r-1']) accepted(h.send({ kind: 'deposit', userId: 'cy', asset: 'BTC', amount: 7n, requestId }));
  return { h, trade: trade! };
}

/** A trade as RTRY holds it: market and taker side as their codes. */
type RawTrade = Omit<{ -readonly [K in keyof TradeView]: TradeView[K] }, 'market' | 'takerSide'> & { market: number; takerSide: number };

interface RetryEntry {
  account: number;
  trades: [string, RawTrade[]][];
  placed: [string, number, number][];
  deposits: [string, number, bigint][];
}

/** An RTRY payload laid out as the format says, from entries that may break its rules. */
function retryPayload(entries: readonly RetryEntry[]): Uint8Array {
  const parts: Buffer[] = [];
  const u32 = (v: number): number => parts.push(Buffer.from(new Uint32Array([v]).buffer));
  const f64 = (v: number): number => parts.push(Buffer.from(new Float64Array([v]).buffer));
  const u64 = (v: bigint): number => parts.push(Buffer.from(new BigUint64Array([v]).buffer));
  const string = (v: string): number => u32(Buffer.byteLength(v)) + parts.push(Buffer.from(v));
  for (const e of entries) {
    u32(e.account);
    u32(e.trades.length);
    for (const [id, trades] of e.trades) {
      string(id);
      u32(trades.length);
      for (const t of trades) {
        f64(t.tradeId);
        u32(t.market);
        for (const amount of [t.price, t.quantity, t.quoteAmount]) u64(amount);
        for (const n of [t.makerOrderId, t.takerOrderId]) f64(n);
        for (const user of [t.makerUserId, t.takerUserId]) string(user);
        parts.push(Buffer.from([t.takerSide]));
        for (const n of [t.timestamp, t.seq]) f64(n);
      }
    }
    u32(e.placed.length);
    for (const [id, price, quantity] of e.placed) [string(id), f64(price), f64(quantity)];
    u32(e.deposits.length);
    for (const [id, asset, amount] of e.deposits) [string(id), u32(asset), u64(amount)];
  }
  return Uint8Array.from(Buffer.concat(parts));
}

describe('snapshot: the retry window (RTRY)', () => {
  const raw = (t: TradeView): RawTrade => ({ ...t, market: 0, takerSide: t.takerSide === 'buy' ? 0 : 1 });
  /** retryBook's RTRY as entries: ann (#0) has placement trades and a placement, cy (#2) two deposit request ids. */
  const entries = (trade: TradeView): RetryEntry[] => [
    { account: 0, trades: [['t', [raw(trade)]]], placed: [['p', Number(px('90')), Number(qty('1'))]], deposits: [] },
    { account: 2, trades: [], placed: [], deposits: [['r-2', 0, 7n], ['r-1', 0, 7n]] },
  ];

  it('is laid out as documented and restores to the same bytes, hash and answers to retries', () => {
    const { h, trade } = retryBook();
    const bytes = h.engine.snapshot();
    expect(readSections(bytes).get('RTRY')).to.deep.equal(retryPayload(entries(trade)));
    const restored = Engine.restore(h.config, bytes);
    expect(restored.snapshot()).to.deep.equal(bytes);
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
    const seq = h.engine.lastSeq();
    const place = { kind: 'placeLimit', timestamp: 9, orderId: 50, userId: 'ann', market: 'BTC-USD', side: 'buy', timeInForce: 'GTC', postOnly: false,
      selfTradePrevention: 'cancel_resting', quantity: qty('1') } as const;
    const retries = [
      { ...place, seq: seq + 1, price: px('100'), clientOrderId: 't' },
      { ...place, seq: seq + 2, price: px('90'), clientOrderId: 'p' },
      { ...place, seq: seq + 3, price: px('95'), clientOrderId: 'p' },
      { kind: 'deposit', seq: seq + 4, timestamp: 9, userId: 'cy', asset: 'BTC', amount: 7n, requestId: 'r-2' },
      { kind: 'deposit', seq: seq + 5, timestamp: 9, userId: 'cy', asset: 'BTC', amount: 8n, requestId: 'r-1' },
    ] as const;
    for (const cmd of retries) expect(restored.apply(cmd), `seq ${cmd.seq}`).to.deep.equal(h.engine.apply(cmd));
    expect(placed(restored.apply({ ...retries[0], seq: seq + 6 })).trades).to.deep.equal([trade]);
    expect(rejected(restored.apply({ ...retries[2], seq: seq + 7 })).code).to.equal('ALREADY_EXISTS');
    expect(restored.stateHash()).to.equal(h.engine.stateHash());
  });

  it('writes placement trades and placements sorted by client order id, whatever order they came in', () => {
    const h = new Harness();
    for (const u of USERS) for (const asset of ['USD', 'BTC']) h.deposit(u, asset, '100000');
    placed(h.limit('bob', 'BTC-USD', 'sell', '100', '2'));
    for (const id of ['z', 'b']) placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { clientOrderId: id }));
    for (const id of ['y', 'c']) placed(h.limit('ann', 'BTC-USD', 'buy', '90', '1', { clientOrderId: id }));
    for (const orderId of [4, 5]) accepted(h.amend('ann', orderId, { price: '91' }));
    const bytes = h.engine.snapshot();
    const text = Buffer.from(readSections(bytes).get('RTRY')!).toString('latin1');
    const at = (id: string): number => text.indexOf(`\u0001\u0000\u0000\u0000${id}`);
    expect([at('b') < at('z'), at('z') < at('c'), at('c') < at('y')]).to.deep.equal([true, true, true]);
    expect(Engine.restore(CONFIG, bytes).snapshot()).to.deep.equal(bytes);
  });

  it('leaves RTRY out of a state without retry data, hashed as before the section existed, and counts retry data in it', () => {
    const quiet = (): Harness => {
      const h = new Harness();
      for (const u of ['ann', 'bob']) for (const asset of ['USD', 'BTC']) h.deposit(u, asset, '1000');
      placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { clientOrderId: 'a-1' }));
      placed(h.limit('bob', 'BTC-USD', 'sell', '100', '0.25'));
      placed(h.market('bob', 'BTC-USD', 'sell', '0.25'));
      placed(h.limit('ann', 'BTC-USD', 'buy', '99', '1', { clientOrderId: 'a-2' }));
      accepted(h.cancel('ann', 4));
      return h;
    };
    const h = quiet();
    const sections = readSections(h.engine.snapshot());
    expect(sections.has('RTRY')).to.equal(false);
    const hashOf = (parts: readonly Uint8Array[]): string => {
      const hash = createHash('sha256');
      for (const part of parts.slice(3)) hash.update(part);
      return hash.digest('hex');
    };
    const framed = (tags: readonly SectionTag[]) => frameSections(tags.map((tag) => ({ tag, payload: sections.get(tag)! })));
    // What the engines of formats 1 and 2 computed for this state: the same sections but SEQN, flags packed narrower.
    const format1 = frameSections(REQUIRED_TAGS.map((tag) => ({ tag, payload: tag === 'ORDR' ? withFormat1Flags(sections.get(tag)!) : sections.get(tag)! })));
    expect(hashOf(format1)).to.equal('29671548ffb7581e6c35c837f7542267fb0d6686dfaa0dbc655a1cab00461336');
    expect(hashOf(framed(REQUIRED_TAGS))).to.equal('46e95e03c122936249d64d87ba424bbf3e9cc8198afa6b72ec0d94dccbf8c172');
    // The ledger of its deposits and the history of its trades are state too.
    expect(h.engine.stateHash()).to.equal(hashOf(framed([...REQUIRED_TAGS, 'LDGR', 'HIST'])));
    const twin = quiet();
    accepted(h.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 1n, requestId: 'r' }));
    accepted(twin.send({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 1n }));
    expect(h.engine.balances('ann')).to.deep.equal(twin.engine.balances('ann'));
    expect(h.engine.stateHash()).to.not.equal(twin.engine.stateHash());
  });

  it('restores a format 1 snapshot with empty retry state, and a format 2 one with it', () => {
    const h = variedBook();
    const sections = readSections(h.engine.snapshot());
    const older = (version: number, tags: readonly SectionTag[]): Uint8Array => {
      const bytes = concatParts(frameSections(tags.map((tag) => ({ tag, payload: tag === 'ORDR' ? withFormat1Flags(sections.get(tag)!) : sections.get(tag)! }))));
      new DataView(bytes.buffer).setUint32(8, version, true);
      return bytes;
    };
    const v1 = Engine.restore(CONFIG, older(1, REQUIRED_TAGS));
    // variedBook's market order b-1 traded when placed: format 1 could not keep that.
    expect(readSections(v1.snapshot()).get('RTRY')).to.equal(undefined);
    expect(readSections(h.engine.snapshot()).get('RTRY')).to.have.length.above(0);
    expect(v1.listOrders('bob', { openOnly: false, limit: 100 })).to.deep.equal(h.engine.listOrders('bob', { openOnly: false, limit: 100 }));
    const v2 = Engine.restore(CONFIG, older(2, [...REQUIRED_TAGS, 'RTRY']));
    // Format 2 had no funds ledger and no trade history: all the rest comes back.
    const withoutHistory = concatParts(frameSections(([...REQUIRED_TAGS, 'RTRY'] as const).map((tag) => ({ tag, payload: sections.get(tag)! }))));
    expectSameEngine(v2, Engine.restore(CONFIG, withoutHistory));
    expectSameEngine(v2, h.engine, false);
    expect([v2.ledger('bob', { limit: 9 }), v2.listFills('bob', { limit: 9 })]).to.deep.equal([[], []]);
  });


  it('refuses retry data that no command sequence leaves, naming what is wrong', () => {
    const { h, trade } = retryBook();
    const bytes = h.engine.snapshot();
    const refused = (change: (e: RetryEntry[]) => void): string => {
      const e = entries(trade);
      change(e);
      return refusal(edited(bytes, 'RTRY', () => retryPayload(e)), h.config);
    };
    const [ann, cy] = [0, 1] as const;
    expect(refused((e) => (e[cy].account = 0))).to.equal('retry state of account #0 after #0, of 3');
    expect(refused((e) => e.reverse())).to.equal('retry state of account #0 after #2, of 3');
    expect(refused((e) => (e[cy].account = 3))).to.equal('retry state of account #3 after #0, of 3');
    expect(refused((e) => (e[ann].trades[0]![0] = 'x'))).to.equal('placement trades of unknown client order id "x" of ann');
    expect(refused((e) => (e[cy].trades = [['t', [raw(trade)]]]))).to.equal('placement trades of unknown client order id "t" of cy');
    expect(refused((e) => e[ann].trades.push(['t', [raw(trade)]]))).to.equal('placement trades of ann: "t" after "t"');
    expect(refused((e) => e[ann].trades.push(['p', [{ ...raw(trade), takerOrderId: 3 }]]))).to.equal('placement trades of ann: "p" after "t"');
    expect(refused((e) => (e[ann].trades[0]![1] = []))).to.equal('placement trades of "t" of ann list no trade');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.takerOrderId = 3))).to.equal('placement trades of "t" of ann are not all of its order 2 as taker');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.takerUserId = 'bob'))).to.equal('placement trades of "t" of ann are not all of its order 2 as taker');
    expect(refused((e) => e[ann].trades[0]![1].push({ ...raw(trade), market: 3 }))).to.equal('trade 1 names market #3, of 3');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.takerSide = 2))).to.equal('trade 1 has taker side 2');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.tradeId = -1))).to.equal('tradeId is -1, not a count');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.seq = 0.5))).to.equal('seq of trade 1 is 0.5, not a count');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.timestamp = -1))).to.equal('timestamp of trade 1 is -1, not a count');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.makerOrderId = -1))).to.equal('maker order of trade 1 is -1, not a count');
    expect(refused((e) => (e[ann].trades[0]![1][0]!.takerOrderId = 1.5))).to.equal('taker order of trade 1 is 1.5, not a count');
    expect(refused((e) => e[ann].trades[0]![1].push({ ...raw(trade), takerOrderId: 3 }))).to.equal(
      'placement trades of "t" of ann are not all of its order 2 as taker',
    );
    expect(refused((e) => (e[ann].placed[0]![0] = 'q'))).to.equal('placement of unknown client order id "q" of ann');
    expect(refused((e) => e[ann].placed.unshift(['t', 1, 1]))).to.equal('placement of ann: "p" after "t"');
    expect(refused((e) => (e[ann].placed[0]![1] = 1.5))).to.equal('placed price is 1.5, not a count');
    expect(refused((e) => (e[ann].placed[0]![2] = -1))).to.equal('placed quantity is -1, not a count');
    expect(refused((e) => e[cy].deposits.push(['r-3', 0, 1n], ['r-4', 0, 1n]))).to.equal('cy has 4 deposit request ids, more than the 3 retained');
    expect(refused((e) => e[cy].deposits.push(['r-2', 0, 1n]))).to.equal('deposit request id "r-2" of cy appears twice');
    expect(refused((e) => (e[cy].deposits[1]![1] = 4))).to.equal('deposit request id "r-1" of cy names asset #4, of 4');
    expect(refused((e) => (e[cy].deposits = []))).to.equal('retry state of cy is empty');
    expect(refusal(edited(bytes, 'RTRY', (payload) => payload.subarray(0, payload.length - 1)), h.config)).to.equal('section RTRY ends early');
  });
});

describe('snapshot: the timers (TIMR)', () => {
  /** ann's GTD order rests, bob's expired; cy armed a dead-man switch. */
  function timerBook(): Harness {
    const h = new Harness();
    for (const u of ['ann', 'bob', 'cy']) h.deposit(u, 'USD', '1000');
    placed(h.limit('ann', 'BTC-USD', 'buy', '100', '1', { timeInForce: 'GTD', expireAt: h.now() + 60_000 }));
    placed(h.limit('bob', 'BTC-USD', 'buy', '99', '1', { timeInForce: 'GTD', expireAt: h.now() + 10 }));
    accepted(h.send({ kind: 'cancelAllAfter', userId: 'cy', timeoutSeconds: 30 }));
    h.advance(20);
    accepted(h.send({ kind: 'expire' }));
    return h;
  }

  it('holds each GTD order\'s expiry in ORDR order, then the switches by account; absent when there is no timer', () => {
    const h = timerBook();
    const bytes = h.engine.snapshot();
    const timers = readSections(bytes).get('TIMR')!;
    const view = new DataView(timers.slice().buffer);
    // ORDR: ann's resting order (book first), then bob's expired one (retained closed orders).
    expect([view.getFloat64(0, true), view.getFloat64(8, true)]).to.deep.equal([h.engine.getOrder('ann', 1)!.expireAt, h.engine.getOrder('bob', 2)!.expireAt]);
    expect([view.getUint32(16, true), view.getUint32(20, true), view.getFloat64(24, true)]).to.deep.equal([1, 2, h.engine.deadManDeadline('cy')]);
    expect(timers.length).to.equal(32);
    expect(readSections(new Harness().engine.snapshot()).has('TIMR')).to.equal(false);
  });

  it('refuses switches out of order or of unknown accounts, a missing expiry, and a section listing nothing', () => {
    const bytes = timerBook().engine.snapshot();
    expect(refusal(edited(bytes, 'TIMR', (_, v) => v.setUint32(20, 3, true)))).to.equal('dead-man switch of account #3 after #-1, of 3');
    expect(refusal(edited(bytes, 'TIMR', (_, v) => v.setFloat64(24, -1, true)))).to.equal('dead-man deadline of account #2 is -1, not a count');
    expect(refusal(edited(bytes, 'TIMR', (_, v) => v.setFloat64(0, 0.5, true)))).to.equal("order 1's expiry is 0.5, not a count");
    // A GTC order made GTD (time in force code 3) takes the first expiry; the section then comes up short.
    const gtc = new Harness();
    gtc.deposit('ann', 'USD', '1000');
    placed(gtc.limit('ann', 'BTC-USD', 'buy', '100', '1'));
    const plain = gtc.engine.snapshot();
    expect(refusal(editOrder(plain, 1, (v, at) => v.setUint32(at + ORDER_LAYOUT.flags, v.getUint32(at + ORDER_LAYOUT.flags, true) | (3 << 6), true)))).to.equal(
      'section TIMR ends early',
    );
    const noTimer = [...readSections(plain)].map(([tag, payload]) => ({ tag, payload }));
    expect(refusal(concatParts(frameSections([...noTimer, { tag: 'TIMR', payload: new Uint8Array(4) }])))).to.equal('section TIMR lists no timer');
  });
});

describe('snapshot: stop orders (STOP)', () => {
  it('refuses stops or pairs no command could make, naming what is wrong', () => {
    const h = new Harness();
    for (const u of ['ann', 'bob']) for (const asset of ['USD', 'SOL']) h.deposit(u, asset, '1000');
    placed(h.limit('bob', 'SOL-USD', 'sell', '100', '1')); // order 1
    accepted(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '1')); // orders 2 (limit) and 3 (stop)
    placed(h.stopMarket('ann', 'SOL-USD', 'buy', '100', '1')); // order 4
    const bytes = h.engine.snapshot();
    // STOP: waiting u32 (2), the stop prices of orders 3 and 4 (f64 each), pairs u32 (1), ids 2 and 3 (f64 each).
    const stop = (change: (view: DataView) => void): Uint8Array => edited(bytes, 'STOP', (_, view) => change(view));
    expect(Engine.restore(CONFIG, stop(() => undefined)).stateHash()).to.equal(h.engine.stateHash());
    expect(refusal(stop((v) => v.setFloat64(24, 1, true)))).to.equal('one-cancels-other pair 1, 3 is not an open order and a waiting stop of one user, each in no other pair');
    expect(refusal(stop((v) => v.setFloat64(32, 2, true)))).to.equal('one-cancels-other pair 2, 2 out of order');
    expect(refusal(stop((v) => v.setUint32(0, 1, true)))).to.equal('section ORDR holds 1 orders that no book or account lists');
    expect(refusal(stop((v) => v.setFloat64(4, -1, true)))).to.equal("order #2's stop price is -1, not a count");
  });
});

describe('snapshot: pairs with a client order id (OCOR)', () => {
  it('is written only for keyed pairs, restores to the same hash, and refuses what no command could make, naming it', () => {
    const h = new Harness({ ...CONFIG, closedOrdersRetainedPerUser: 0 });
    for (const u of ['ann', 'bob']) for (const asset of ['USD', 'SOL']) h.deposit(u, asset, '1000');
    accepted(h.oco('ann', 'SOL-USD', 'sell', '110', '90', '1'));
    expect(readSections(h.engine.snapshot()).has('OCOR')).to.equal(false);
    accepted(h.oco('ann', 'SOL-USD', 'buy', '99', '120', '2', '121', { clientOrderId: 'p' })); // orders 3 (limit) and 4 (stop)
    accepted(h.oco('ann', 'SOL-USD', 'buy', '98', '120', '2', undefined, { clientOrderId: 'q' })); // orders 5 and 6
    placed(h.limit('bob', 'SOL-USD', 'sell', '99', '1')); // fills 1 of order 3: its stop 4 is cancelled and freed
    const bytes = h.engine.snapshot();
    expect(Engine.restore(h.config, bytes).stateHash()).to.equal(h.engine.stateHash());
    // OCOR: ann's index u32, pairs u32 (2); "p" (u32 length, 1 byte), stop id, stop price, stop limit price (f64 each), freed u8 (1) and how it ended.
    const ocor = (change: (view: DataView) => void): string => refusal(edited(bytes, 'OCOR', (_, view) => change(view)), h.config);
    expect(ocor((v) => v.setUint32(4, 0, true))).to.equal('pairs of ann: none listed');
    expect(ocor((v) => v.setUint8(37, 2))).to.equal('pair "p" of ann: freed flag 2');
    expect(ocor((v) => v.setFloat64(13, 5, true))).to.equal('pair "p" of ann: stop order 5 is freed but exists');
    expect(ocor((v) => v.setUint8(38 + 24, 0))).to.equal('pair "p" of ann: freed stop order 4 is open');
    expect(ocor((v) => v.setUint8(12, 0x72))).to.equal('pair of client order id "r" of ann has no retained limit order');
  });
});

describe('snapshot: the funds ledger (LDGR) and trade history (HIST)', () => {
  it('refuses what no command sequence leaves, naming it', () => {
    const bytes = variedBook().engine.snapshot();
    // Rings longer than the engine restoring them keeps.
    expect(refusal(bytes, { ...CONFIG, tradesRetainedPerMarket: 1 })).to.equal('the trades of BTC-USD holds 2 trades, more than the 1 retained');
    expect(refusal(bytes, { ...CONFIG, fillsRetainedPerUser: 1 })).to.match(/^the fills of \w+ holds \d trades, more than the 1 retained$/);
    // HIST starts with BTC-USD's ring: its size u32, then rows of TRADE_FIELDS f64 (trade-ring.ts TRADE).
    const field = (offset: number): number => 4 + 8 * offset;
    const trades = (change: (v: DataView) => void): string => refusal(edited(bytes, 'HIST', (_, v) => change(v)));
    expect(trades((v) => v.setFloat64(field(TRADE.takerSells), 2, true))).to.equal('the trades of BTC-USD holds trade 1 with impossible fields');
    expect(trades((v) => v.setFloat64(field(TRADE.quantity), 0, true))).to.equal('the trades of BTC-USD holds trade 1 with impossible fields');
    expect(trades((v) => v.setFloat64(field(TRADE.makerAccount), 99, true))).to.equal('trade 1 of the trades of BTC-USD names account #99, of 3');
    expect(trades((v) => v.setFloat64(field(TRADE.price), 1.5, true))).to.equal('a trade of the trades of BTC-USD is 1.5, not a count');
    expect(trades((v) => v.setFloat64(field(TRADE_FIELDS + TRADE.tradeId), 1, true))).to.equal('the trades of BTC-USD holds trade 1 out of place');
    expect(trades((v) => v.setFloat64(field(TRADE.makerFee), 0.5, true))).to.equal('a fee of the trades of BTC-USD is 0.5, not an integer');
    // Then, after every market's ring and buckets, the accounts with fills: ann's ring first, rows of FILL_FIELDS f64.
    const fill = (payload: Uint8Array, v: DataView, offset: number): number => {
      let at = 0;
      const skipString = (): void => void (at += 4 + v.getUint32(at, true));
      for (let m = 0; m < CONFIG.markets.length; m++) {
        at += 4 + v.getUint32(at, true) * TRADE_FIELDS * 8 + 16;
        for (let n = v.getUint32((at += 4) - 4, true); n > 0; n--) {
          at += 6 * 8;
          skipString();
          skipString();
        }
      }
      expect([v.getUint32(at, true), v.getUint32(at + 4, true)], `ann's fills in ${payload.length} bytes`).to.deep.equal([3, 0]);
      return at + 12 + 8 * offset;
    };
    const fills = (offset: number, value: number): string => refusal(edited(bytes, 'HIST', (p, v) => v.setFloat64(fill(p, v, offset), value, true)));
    expect(fills(FILL.flags, CONFIG.markets.length * 4)).to.equal('the fills of ann holds trade 1 with impossible fields');
    expect(fills(FILL.price, 2 ** 52)).to.equal('the fills of ann holds trade 1 with impossible fields');
    expect(fills(FILL.fee, -0.5)).to.equal('a fee of the fills of ann is -0.5, not an integer');
    expect(fills(FILL.tradeId, 0)).to.equal('the fills of ann holds trade 0 out of place');
    // LDGR: account u32, entries u32, then seq f64, timestamp f64, kind u8, asset u32, ...
    expect(refusal(edited(bytes, 'LDGR', (_, v) => v.setUint32(0, 99, true)))).to.equal('ledger of account #99 after #-1, of 3');
    expect(refusal(edited(bytes, 'LDGR', (_, v) => v.setUint8(24, 5)))).to.equal('ledger entry 1 of ann has kind 5');
    expect(refusal(edited(bytes, 'LDGR', (_, v) => v.setUint32(25, 9, true)))).to.equal('ledger entry 1 of ann names asset #9, of 4');
    expect(refusal(edited(bytes, 'LDGR', (p) => p.subarray(0, p.length - 1)))).to.equal('section LDGR ends early');
  });
});
