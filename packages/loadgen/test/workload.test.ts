import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { Random } from '../src/prng';
import { DEFAULT_MIX, formatUnits, OrderFlow, type Operation, type WorkloadOptions } from '../src/workload';

const OPTIONS: WorkloadOptions = { markets: ['BTC-USD', 'ETH-USD'], mix: DEFAULT_MIX, maxOpenOrders: 50 };
const PRICE = /^\d+(\.\d{1,2})?$/;
const QUANTITY = /^0\.\d{1,3}$/;

function run(seed: number, count: number, restEvery = 1): Operation[] {
  const flow = new OrderFlow(new Random(seed), OPTIONS);
  const operations: Operation[] = [];
  for (let i = 0; i < count; i++) {
    const operation = flow.next();
    operations.push(operation);
    if (operation.kind === 'resting' && i % restEvery === 0) flow.rested(BigInt(i + 1));
  }
  return operations;
}

describe('OrderFlow', () => {
  it('is the same sequence for the same seed and a different one for another seed', () => {
    expect(run(7, 500)).to.deep.equal(run(7, 500));
    expect(run(7, 500)).to.not.deep.equal(run(8, 500));
  });

  it('produces valid decimal strings on both sides of a mid of 100', () => {
    for (const operation of run(3, 2000)) {
      if (operation.kind === 'cancel') continue;
      expect(OPTIONS.markets).to.include(operation.request.market);
      expect(operation.request.quantity).to.match(QUANTITY);
      expect(Number(operation.request.quantity)).to.be.greaterThan(0);
      if (operation.kind === 'market') continue;
      expect(operation.request.price).to.match(PRICE);
      const price = Number(operation.request.price);
      const buy = operation.request.side === matching.Side.SIDE_BUY;
      // Resting orders stay on their side of the mid; crossing (IOC) orders reach through it.
      if (operation.kind === 'resting') expect(buy ? price < 100 : price > 100).to.equal(true);
      else {
        expect(buy ? price > 100 : price < 100).to.equal(true);
        expect(operation.request.timeInForce).to.equal(matching.TimeInForce.TIME_IN_FORCE_IOC);
      }
    }
  });

  it('follows the mix: every kind appears, resting orders most', () => {
    const counts = { resting: 0, crossing: 0, market: 0, cancel: 0 };
    for (const operation of run(11, 10_000)) counts[operation.kind] += 1;
    expect(counts.resting).to.be.greaterThan(counts.crossing);
    expect(counts.crossing).to.be.greaterThan(counts.market);
    expect(counts.market).to.be.greaterThan(0);
    expect(counts.cancel).to.be.greaterThan(0);
  });

  it('cancels only orders it was told rest, each at most once', () => {
    const rested = new Set<bigint>();
    const cancelled = new Set<bigint>();
    const flow = new OrderFlow(new Random(5), OPTIONS);
    for (let i = 1; i <= 5000; i++) {
      const operation = flow.next();
      if (operation.kind === 'resting') {
        flow.rested(BigInt(i));
        rested.add(BigInt(i));
      }
      if (operation.kind === 'cancel') {
        expect(rested.has(operation.request.orderId)).to.equal(true);
        expect(cancelled.has(operation.request.orderId)).to.equal(false);
        cancelled.add(operation.request.orderId);
      }
    }
    expect(cancelled.size).to.be.greaterThan(0);
  });

  it('cancels before placing more once it tracks maxOpenOrders resting orders', () => {
    const flow = new OrderFlow(new Random(9), { ...OPTIONS, mix: { resting: 1, crossing: 0, market: 0, cancel: 0 } });
    for (let i = 1; i <= OPTIONS.maxOpenOrders; i++) flow.rested(BigInt(i));
    expect(flow.next().kind).to.equal('cancel');
    expect(flow.openOrders).to.equal(OPTIONS.maxOpenOrders - 1);
    expect(flow.next().kind).to.equal('resting');
  });

  it('places a resting order when a cancel is drawn but nothing rests', () => {
    const flow = new OrderFlow(new Random(1), { ...OPTIONS, mix: { resting: 0, crossing: 0, market: 0, cancel: 1 } });
    expect(flow.next().kind).to.equal('resting');
  });
});

describe('formatUnits', () => {
  it('writes an integer count of smallest units as a decimal without trailing zeros', () => {
    expect(formatUnits(10_000, 2)).to.equal('100');
    expect(formatUnits(9_975, 2)).to.equal('99.75');
    expect(formatUnits(10_010, 2)).to.equal('100.1');
    expect(formatUnits(1, 3)).to.equal('0.001');
    expect(formatUnits(100, 3)).to.equal('0.1');
  });
});
