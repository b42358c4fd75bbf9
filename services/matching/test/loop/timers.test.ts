import type { Command, EngineEvent } from '@orderbook/engine';
import { expect } from 'chai';
import type { CommandInput } from '../../src/loop/command-loop-api';
import type { JournaledCommandLoop } from '../../src/loop/command-loop';
import { decodeBatch } from '../../src/storage/command-codec';
import { listJournalSegments } from '../../src/storage/data-files';
import { readSegment } from '../../src/storage/journal-reader';
import { silentLogger, tempDirs } from '../helpers';
import { openHarness } from '../loop-harness';

const tempDir = tempDirs();
const HOUR = 3_600_000;

async function journaled(dataDir: string): Promise<Command[]> {
  const segments = await listJournalSegments(dataDir);
  const commands: Command[] = [];
  for (const [i, segment] of segments.entries()) {
    for (const payload of await readSegment(segment, i === segments.length - 1, { logger: silentLogger })) commands.push(...decodeBatch(payload));
  }
  return commands;
}

/** A clock that a test moves on. */
function testClock(): { now: () => number; advance: (ms: number) => void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}

const gtdBuy = (expireAt: number): CommandInput => ({
  kind: 'placeLimit', userId: 'ann', market: 'BTC-USD', side: 'buy', price: 100_000_000n, quantity: 100_000_000n,
  timeInForce: 'GTD', postOnly: false, selfTradePrevention: 'cancel_resting', expireAt,
});

/** Resolves with the first order update with the given cancel reason. */
function cancelled(loop: JournaledCommandLoop, reason: string): Promise<Extract<EngineEvent, { type: 'orderUpdated' }>> {
  return new Promise((resolve) => {
    loop.onEvents((_seq, events) => {
      for (const e of events) if (e.type === 'orderUpdated' && e.order.cancelReason === reason) resolve(e);
    });
  });
}

async function placedId(loop: JournaledCommandLoop, input: CommandInput): Promise<number> {
  const result = await loop.submit(input);
  if (!result.ok || result.value.kind !== 'placed') throw new Error('not placed');
  return result.value.order.orderId;
}

describe('command loop timers', () => {
  it('fires a GTD expiry by itself, as one journaled expire command, and journals nothing while nothing is due', async () => {
    const dir = tempDir();
    const { loop } = await openHarness(dir);
    await loop.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 10n ** 12n });
    const expiry = cancelled(loop, 'expired');
    // Submitted in one turn (each is applied at once, in call order), so the earlier deadline is
    // cancelled before it can come: its wake-up finds nothing due. Order ids are seqs: 2 and 3.
    const early = placedId(loop, gtdBuy(Date.now() + 40));
    const late = placedId(loop, gtdBuy(Date.now() + 120));
    const cancel = loop.submit({ kind: 'cancel', userId: 'ann', orderId: 2 });
    expect([await early, await late, (await cancel).ok]).to.deep.equal([2, 3, true]);
    const event = await expiry;
    expect(event.order).to.include({ orderId: 3, status: 'cancelled', cancelReason: 'expired' });
    expect(loop.queries.nextDeadline()).to.equal(Infinity);
    await loop.close();
    const commands = await journaled(dir);
    expect(commands.map((c) => c.kind)).to.deep.equal(['deposit', 'placeLimit', 'placeLimit', 'cancel', 'expire']);
    expect(commands[4]!.timestamp).to.be.at.least((commands[2] as Extract<Command, { kind: 'placeLimit' }>).expireAt!);
  });

  it('sequences the expire command before a command whose time reaches a deadline', async () => {
    const dir = tempDir();
    const clock = testClock();
    const { loop } = await openHarness(dir, { now: clock.now });
    await loop.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 10n ** 12n });
    const id = await placedId(loop, gtdBuy(clock.now() + HOUR));
    expect((await loop.submit({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 7200 })).ok).to.equal(true);
    clock.advance(HOUR);
    // The cancel comes after the expiry: the order is already cancelled (expired), and answered as such.
    const result = await loop.submit({ kind: 'cancel', userId: 'ann', orderId: id });
    expect(result.ok && result.value.kind === 'cancelled' && result.value.order.cancelReason).to.equal('expired');
    await loop.close();
    expect((await journaled(dir)).map((c) => c.kind)).to.deep.equal(['deposit', 'placeLimit', 'cancelAllAfter', 'expire', 'cancel']);
  });

  it('fires at once, after a restart, what became due while the service was down; a replay gives the same state', async () => {
    const dir = tempDir();
    const clock = testClock();
    const first = await openHarness(dir, { now: clock.now });
    await first.loop.submit({ kind: 'deposit', userId: 'ann', asset: 'USD', amount: 10n ** 12n });
    await first.loop.submit({ kind: 'cancelAllAfter', userId: 'ann', timeoutSeconds: 60 });
    const id = await placedId(first.loop, gtdBuy(clock.now() + HOUR));
    await first.loop.close();

    clock.advance(2 * HOUR);
    const second = await openHarness(dir, { now: clock.now });
    const event = await cancelled(second.loop, 'dead_man');
    expect(event.order.orderId).to.equal(id);
    expect([second.loop.queries.deadManDeadline('ann'), second.loop.queries.nextDeadline()]).to.deep.equal([undefined, Infinity]);
    const hash = second.engine.stateHash();
    await second.loop.close();

    const third = await openHarness(dir, { now: clock.now });
    expect(third.engine.stateHash()).to.equal(hash);
    await third.loop.close();
    // Older segments went with the snapshots of each close: the newest holds the timer command.
    expect((await journaled(dir)).map((c) => c.kind)).to.deep.equal(['expire']);
  });
});
