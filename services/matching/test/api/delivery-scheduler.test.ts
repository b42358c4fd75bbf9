import { expect } from 'chai';
import { DeliveryScheduler, type Deliverable } from '../../src/api/delivery-scheduler';

/** A feed of `count` subscribers that logs each delivery. */
function feed(name: string, count: number, log: string[]): Deliverable {
  let next = 0;
  return {
    beginPass: () => {
      next = 0;
    },
    deliverNext: () => {
      if (next >= count) return false;
      log.push(`${name}${next++}`);
      return true;
    },
  };
}

describe('delivery scheduler', () => {
  it('serves every subscriber of every woken feed, yielding to the event loop between slices', async () => {
    const log: string[] = [];
    const scheduler = new DeliveryScheduler({ sliceMs: 0, maxShare: 1, busyThreshold: 1 });
    scheduler.wake(feed('a', 3, log));
    scheduler.wake(feed('b', 2, log));
    setImmediate(() => log.push('order entry'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log.filter((entry) => entry !== 'order entry')).to.deep.equal(['a0', 'a1', 'a2', 'b0', 'b1']);
    expect(log.indexOf('order entry'), 'other work ran in the middle of the pass').to.be.within(1, log.length - 2);
  });

  it('runs a feed woken during a pass again after it, and nothing once stopped', async () => {
    const log: string[] = [];
    const scheduler = new DeliveryScheduler({ sliceMs: 0, maxShare: 1, busyThreshold: 1 });
    const a = feed('a', 2, log);
    scheduler.wake(a);
    setImmediate(() => scheduler.wake(a));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(log).to.deep.equal(['a0', 'a1', 'a0', 'a1']);
    scheduler.stop();
    scheduler.wake(a);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).to.have.length(4);
  });
});
