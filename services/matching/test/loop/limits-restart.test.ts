import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { EngineConfig, OrderView } from '@orderbook/engine';
import { expect } from 'chai';
import pino from 'pino';
import type { CommandLoop } from '../../src/loop/command-loop-api';
import { openCommandLoop } from '../../src/loop/open-command-loop';
import { listSnapshots } from '../../src/storage/data-files';
import { LIMITS_FILE, LimitsRecordError } from '../../src/storage/limits-record';
import { rejectionOf, silentLogger, tempDirs } from '../helpers';

const tempDir = tempDirs();
const MARKET = { symbol: 'BTC-USD', base: 'BTC', quote: 'USD' };
const BASE: EngineConfig = { markets: [MARKET], closedOrdersRetainedPerUser: 1000 };

function open(dataDir: string, limits: Partial<EngineConfig>, logger: pino.Logger = silentLogger): Promise<CommandLoop> {
  return openCommandLoop({ dataDir, engineConfig: { ...BASE, ...limits }, maxQueueDepth: 100, snapshotEvery: 1_000_000, logger });
}

/** Starts the loop on `dataDir` with `limits`, runs `check` on it, and closes it. */
async function afterStart(dataDir: string, limits: Partial<EngineConfig>, check: (loop: CommandLoop) => void | Promise<void>): Promise<void> {
  const loop = await open(dataDir, limits);
  try {
    await check(loop);
  } finally {
    await loop.close();
  }
}

/** A logger whose JSON lines the test reads. */
function capturedLogger(): { logger: pino.Logger; lines: { msg: string; seq?: number }[] } {
  const lines: { msg: string; seq?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

/**
 * Closes the loop and deletes its newest snapshot, the one its close wrote: the next start replays
 * the journal from the snapshot before (or from the start), as after a crash.
 */
async function closeAndLoseSnapshot(loop: CommandLoop, dataDir: string): Promise<void> {
  await loop.close();
  await rm((await listSnapshots(dataDir)).at(-1)!.path);
}

async function fund(loop: CommandLoop): Promise<void> {
  const result = await loop.submit({ kind: 'deposit', userId: 'alice', asset: 'USD', amount: 10n ** 14n });
  expect(result.ok).to.equal(true);
}

/** A GTC bid that rests (nothing to trade with), or its rejection. */
async function bid(loop: CommandLoop, price: bigint, clientOrderId?: string, timeInForce: 'GTC' | 'IOC' = 'GTC') {
  return loop.submit({
    kind: 'placeLimit', userId: 'alice', market: 'BTC-USD', side: 'buy', price, quantity: 100_000_000n, timeInForce, postOnly: false,
    selfTradePrevention: 'cancel_resting', ...(clientOrderId === undefined ? {} : { clientOrderId }),
  });
}

async function placed(loop: CommandLoop, price: bigint, clientOrderId?: string, timeInForce: 'GTC' | 'IOC' = 'GTC'): Promise<OrderView> {
  const result = await bid(loop, price, clientOrderId, timeInForce);
  if (!result.ok) throw new Error(`refused: ${result.error.message}`);
  return result.value.order;
}

function openOrders(loop: CommandLoop): readonly OrderView[] {
  return loop.queries.listOrders('alice', { openOnly: true, limit: 100 });
}

describe('engine limits across a restart', () => {
  it('keeps every acknowledged order when the open-order bound is lowered, and applies the new bound to what follows', async () => {
    const dataDir = tempDir();
    let loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 3 });
    await fund(loop);
    const acknowledged = [await placed(loop, 1_000_000n), await placed(loop, 2_000_000n), await placed(loop, 3_000_000n)];
    await closeAndLoseSnapshot(loop, dataDir);

    loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 2 });
    try {
      expect(openOrders(loop).map((o) => o.orderId)).to.have.members(acknowledged.map((o) => o.orderId));
      expect(loop.queries.balances('alice').find((b) => b.asset === 'USD')!.locked).to.equal(600_000_000n);
      expect(loop.queries.limits().maxOpenOrdersPerUserMarket).to.equal(2);
      const refused = await bid(loop, 4_000_000n);
      expect(refused.ok).to.equal(false);
    } finally {
      await closeAndLoseSnapshot(loop, dataDir);
    }

    // Replayed again from the start (with yet another value): the change applies at its seq, so the history holds.
    await afterStart(dataDir, { maxOpenOrdersPerUserMarket: 10 }, (restarted) => {
      expect(openOrders(restarted)).to.have.length(3);
      expect(restarted.queries.limits().maxOpenOrdersPerUserMarket).to.equal(10);
    });
  });

  it('applies a raised bound after the restart and keeps what it let in when replayed under a lower one', async () => {
    const dataDir = tempDir();
    let loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 1 });
    await fund(loop);
    await placed(loop, 1_000_000n);
    expect((await bid(loop, 2_000_000n)).ok).to.equal(false);
    await loop.close();

    loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 3 });
    await placed(loop, 2_000_000n);
    await placed(loop, 3_000_000n);
    await closeAndLoseSnapshot(loop, dataDir);

    await afterStart(dataDir, { maxOpenOrdersPerUserMarket: 1 }, (restarted) => {
      expect(openOrders(restarted)).to.have.length(3);
    });
  });

  it('judges a client order id on replay by the retry window it was placed under', async () => {
    const dataDir = tempDir();
    const loop = await open(dataDir, { closedOrdersRetainedPerUser: 1 });
    await fund(loop);
    // Two closed orders with a window of one: "first" is forgotten, so it may name a new order.
    await placed(loop, 1_000_000n, 'first', 'IOC');
    await placed(loop, 1_000_000n, 'second', 'IOC');
    const reused = await placed(loop, 5_000_000n, 'first');
    await closeAndLoseSnapshot(loop, dataDir);

    await afterStart(dataDir, { closedOrdersRetainedPerUser: 1000 }, (restarted) => {
      expect(restarted.queries.getOrder('alice', reused.orderId)?.status).to.equal('open');
    });
  });

  it('records the limits a data directory starts with, also one written before they were recorded, and logs each change', async () => {
    const dataDir = tempDir();
    let loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 3 });
    await fund(loop);
    for (const price of [1_000_000n, 2_000_000n, 3_000_000n]) await placed(loop, price);
    await closeAndLoseSnapshot(loop, dataDir);
    // As a directory written before limits were recorded: its first start records the configured ones.
    await rm(join(dataDir, LIMITS_FILE));
    loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 3 });
    expect(JSON.parse(await readFile(join(dataDir, LIMITS_FILE), 'utf8'))).to.include({ maxOpenOrdersPerUserMarket: 3, closedOrdersRetainedPerUser: 1000 });
    expect(openOrders(loop)).to.have.length(3);
    await closeAndLoseSnapshot(loop, dataDir);

    const { logger, lines } = capturedLogger();
    loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 2, maxStopsPerUserMarket: 5 }, logger);
    try {
      expect(openOrders(loop)).to.have.length(3);
      const changed = lines.filter((line) => line.msg.startsWith('engine limits changed'));
      expect(changed.map((line) => line.msg)).to.deep.equal([
        'engine limits changed by a journaled configure command: maxStopsPerUserMarket 1000 -> 5, maxOpenOrdersPerUserMarket 3 -> 2',
      ]);
      expect(changed[0]!.seq).to.equal(loop.queries.lastSeq());
    } finally {
      await loop.close();
    }
    // The record keeps the limits the journal starts with: a change is a journaled command, not a new record.
    expect(JSON.parse(await readFile(join(dataDir, LIMITS_FILE), 'utf8'))).to.include({ maxOpenOrdersPerUserMarket: 3 });
    loop = await open(dataDir, { maxOpenOrdersPerUserMarket: 2, maxStopsPerUserMarket: 5 }, logger);
    await loop.close();
    expect(lines.filter((line) => line.msg.startsWith('engine limits changed'))).to.have.length(1);
  });

  it('refuses to start on a damaged limits record, naming it', async () => {
    const dataDir = tempDir();
    await (await open(dataDir, {})).close();
    await writeFile(join(dataDir, LIMITS_FILE), '{"closedOrdersRetainedPerUser": 10');
    const error = await rejectionOf(open(dataDir, {}));
    expect(error).to.be.instanceOf(LimitsRecordError);
    expect(error.message).to.include(join(dataDir, LIMITS_FILE));
    await writeFile(join(dataDir, LIMITS_FILE), JSON.stringify({ closedOrdersRetainedPerUser: -1 }));
    expect((await rejectionOf(open(dataDir, {}))).message).to.include('closedOrdersRetainedPerUser is not a non-negative integer');
  });
});
