import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * The matching service as its own process, SIGKILLed while authenticated clients place and cancel
 * orders, then restarted on the same data directory: every command it acknowledged must be there,
 * and no asset may have been created or destroyed.
 */

const TRADERS = 6;
const ACKS_BEFORE_KILL = 1500;
const DEPOSIT = { USD: 1_000_000n, BTC: 1_000n };
const UNITS = 10n ** 8n;

interface Trader {
  readonly userId: string;
  readonly metadata: grpc.Metadata;
}

/** What the clients were told: the orders as acknowledged and every acknowledged trade. */
interface Acknowledged {
  readonly orders: Map<bigint, { owner: Trader; order: matching.Order }>;
  readonly trades: Map<bigint, matching.Trade>;
}

function units(decimal: string): bigint {
  const [integer, fraction = ''] = decimal.split('.');
  return BigInt(integer + fraction.padEnd(8, '0'));
}

describe('matching service crash (SIGKILL under load) and recovery', function () {
  this.timeout(180_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let matchingEnv: NodeJS.ProcessEnv;
  let service: ServingMatchingProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-crash-'));
    auth = await startTestAuth(dir, 'admin-password-for-tests');
    authClient = new AuthClient(auth.address);
    matchingEnv = {
      ...testMatchingEnv(dir, auth),
      // Snapshots while the load runs, so recovery reads a snapshot and a journal tail.
      MATCHING_SNAPSHOT_EVERY: '150',
      LOG_LEVEL: 'info',
    };
  });

  after(async () => {
    service?.child.kill('SIGKILL');
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function signIn(login: string, password: string): Promise<Trader> {
    const { tokens, user } = await authClient.signIn({ login, password });
    return { userId: user!.id, metadata: bearer(tokens!.accessToken) };
  }

  it('keeps every acknowledged order and trade, and conserves every asset', async () => {
    service = await startMatchingProcess(matchingEnv);
    let client = new MatchingClient(service.address);
    const admin = await signIn('admin', 'admin-password-for-tests');
    const traders: Trader[] = [];
    for (let i = 0; i < TRADERS; i++) {
      const username = `crash-${i}`;
      await authClient.signUp({ username, email: `${username}@example.com`, password: `password-${username}` });
      const trader = await signIn(username, `password-${username}`);
      await client.addFunds({ userId: trader.userId, asset: 'USD', amount: DEPOSIT.USD.toString() }, admin.metadata);
      await client.addFunds({ userId: trader.userId, asset: 'BTC', amount: DEPOSIT.BTC.toString() }, admin.metadata);
      traders.push(trader);
    }

    const acked: Acknowledged = { orders: new Map(), trades: new Map() };
    let acks = 0;
    let killed = false;
    const record = (owner: Trader, order: matching.Order | undefined, trades: readonly matching.Trade[]): void => {
      acked.orders.set(order!.orderId, { owner, order: order! });
      for (const trade of trades) acked.trades.set(trade.tradeId, trade);
      acks += 1;
    };
    const load = async (trader: Trader, seed: number): Promise<void> => {
      let step = seed;
      const open: bigint[] = [];
      while (!killed) {
        step += 1;
        const side = step % 2 === 0 ? matching.Side.SIDE_BUY : matching.Side.SIDE_SELL;
        const price = `${95 + ((step * 7 + seed) % 11)}.${step % 100}`;
        try {
          if (step % 5 === 0 && open.length > 0) {
            const { order } = await client.cancelOrder({ orderId: open.shift()! }, trader.metadata);
            acked.orders.set(order!.orderId, { owner: trader, order: order! });
            acks += 1;
          } else if (step % 7 === 0) {
            const { order, trades } = await client.placeMarketOrder({ market: 'BTC-USD', side, quantity: '0.05' }, trader.metadata);
            record(trader, order, trades);
          } else {
            const { order, trades } = await client.placeLimitOrder({ market: 'BTC-USD', side, price, quantity: `0.${1 + (step % 9)}` }, trader.metadata);
            record(trader, order, trades);
            if (order!.status === matching.OrderStatus.ORDER_STATUS_OPEN) open.push(order!.orderId);
          }
        } catch (err) {
          const code = (err as grpc.ServiceError).code;
          // Expected refusals (no liquidity, already filled) and, once killed, the lost connection.
          if (!killed && code !== grpc.status.FAILED_PRECONDITION && code !== grpc.status.NOT_FOUND) throw err;
        }
      }
    };

    const running = traders.map((trader, i) => load(trader, i * 1000));
    while (acks < ACKS_BEFORE_KILL) await new Promise((resolve) => setTimeout(resolve, 20));
    service.child.kill('SIGKILL');
    killed = true;
    await service.exited;
    await Promise.all(running);
    client.close();

    service = await startMatchingProcess(matchingEnv);
    client = new MatchingClient(service.address);

    // Every acknowledged order is there, as acknowledged or further along (filled more, or cancelled).
    for (const [orderId, { owner, order }] of acked.orders) {
      const { order: now } = await client.getOrder({ orderId }, owner.metadata);
      expect({ market: now!.market, side: now!.side, price: now!.price, quantity: now!.quantity }).to.deep.equal({
        market: order.market,
        side: order.side,
        price: order.price,
        quantity: order.quantity,
      });
      expect(units(now!.filledQuantity) >= units(order.filledQuantity), `order ${orderId} lost fills`).to.equal(true);
      if (order.status === matching.OrderStatus.ORDER_STATUS_CANCELLED || order.status === matching.OrderStatus.ORDER_STATUS_FILLED) {
        expect(now).to.deep.equal(order);
      }
    }
    // Every acknowledged trade is reflected in both orders' fills.
    const tradedPerOrder = new Map<bigint, bigint>();
    for (const trade of acked.trades.values()) {
      for (const id of [trade.makerOrderId, trade.takerOrderId]) tradedPerOrder.set(id, (tradedPerOrder.get(id) ?? 0n) + units(trade.quantity));
    }
    const owners = new Map([...acked.orders].map(([id, { owner }]) => [id, owner]));
    for (const [orderId, traded] of tradedPerOrder) {
      const owner = owners.get(orderId);
      if (owner === undefined) continue; // a maker whose own acknowledgement was lost in the crash
      const { order } = await client.getOrder({ orderId }, owner.metadata);
      expect(units(order!.filledQuantity) >= traded, `order ${orderId} lost acknowledged trades`).to.equal(true);
    }

    // Conservation: deposits only moved between traders; locked equals what open orders reserve.
    const totals = { USD: 0n, BTC: 0n };
    for (const trader of traders) {
      const { balances } = await client.getBalances(trader.metadata);
      const { orders } = await client.listOrders({ status: matching.OrderStatusFilter.ORDER_STATUS_FILTER_OPEN, pageSize: 1000 }, trader.metadata);
      const reserved = { USD: 0n, BTC: 0n };
      for (const order of orders) reserved[order.side === matching.Side.SIDE_BUY ? 'USD' : 'BTC'] += units(order.lockedAmount);
      for (const balance of balances) {
        const asset = balance.asset as 'USD' | 'BTC';
        totals[asset] += units(balance.available) + units(balance.locked);
        expect(units(balance.locked), `${trader.userId} ${asset} locked`).to.equal(reserved[asset]);
      }
    }
    expect(totals).to.deep.equal({ USD: DEPOSIT.USD * UNITS * BigInt(TRADERS), BTC: DEPOSIT.BTC * UNITS * BigInt(TRADERS) });
    expect(acked.trades.size, 'the load produced trades').to.be.above(0);

    client.close();
    service.child.kill('SIGTERM');
    await service.exited;
    service = undefined;
  });
});
