import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { OrderbookClient } from '@orderbook/client';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, eventually, MatchingClient, unusedPort } from '@orderbook/test-support';
import { NatsCluster } from '@orderbook/matching-service/test/nats-cluster';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

const CLIENTS = 20;
const KILLS = 3;
/** Acknowledged commands between two kills, different each time so that the kills hit different moments. */
const ACKS_BEFORE_KILL = [250, 400, 175];
const DEPOSIT = { USD: 1_000_000n, BTC: 1_000n };
const UNITS = 10n ** 8n;

interface Trader {
  readonly userId: string;
  readonly metadata: grpc.Metadata;
}

interface Node {
  readonly name: string;
  readonly address: string;
  readonly env: NodeJS.ProcessEnv;
  process: ServingMatchingProcess | undefined;
}

function units(decimal: string): bigint {
  const [integer, fraction = ''] = decimal.split('.');
  return BigInt(integer + fraction.padEnd(8, '0'));
}

function reasonOf(err: unknown): string | undefined {
  const details = (err as grpc.ServiceError).metadata?.get('grpc-status-details-bin')[0];
  if (details === undefined) return undefined;
  return /NOT_LEADER|LEASE_LOST|JOURNAL_FENCED|JOURNAL_WRITE_FAILED|SHUTTING_DOWN|STARTING/.exec(Buffer.from(details).toString('latin1'))?.[0];
}

/**
 * Two matching processes on a 3-node NATS cluster (stream and lease with 3 replicas): the leader
 * is SIGKILLed three times while 20 clients place, cancel and trade; each time the follower takes
 * over and the killed one is restarted and rejoins as a follower. Every acknowledged order must be
 * there exactly once, every asset conserved, locked equal to what open orders reserve.
 */
describe('matching failover: SIGKILL of the leader under load, on a 3-node NATS cluster', function () {
  this.timeout(300_000);
  let dir: string;
  let cluster: NatsCluster;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  const nodes: Node[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-failover-'));
    cluster = await NatsCluster.start(3);
    auth = await startTestAuth(dir, 'admin-password-for-tests');
    authClient = new AuthClient(auth.address);
    for (const name of ['a', 'b']) {
      const address = `127.0.0.1:${await unusedPort()}`;
      nodes.push({
        name,
        address,
        process: undefined,
        env: {
          ...testMatchingEnv(join(dir, name), auth),
          MATCHING_PORT: address.split(':')[1],
          MATCHING_ADVERTISED_ADDRESS: address,
          MATCHING_JOURNAL: cluster.urls.join(','),
          MATCHING_JOURNAL_STREAM: 'FAILOVER',
          MATCHING_JOURNAL_REPLICAS: '3',
          MATCHING_LEASE_BUCKET: 'FAILOVER_LEASE',
          MATCHING_LEASE_TTL_MS: '2000',
          MATCHING_LEASE_RENEW_MS: '600',
          MATCHING_SNAPSHOT_EVERY: '400',
          MATCHING_CLOSED_ORDERS_RETAINED: '1000000',
          MATCHING_DISK_RESERVE_BYTES: '0',
          LOG_LEVEL: 'info',
        },
      });
    }
  });

  after(async () => {
    for (const node of nodes) node.process?.child.kill('SIGKILL');
    authClient.close();
    await auth.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (node: Node): Promise<void> => {
    node.process = await startMatchingProcess(node.env);
  };
  const isLeading = (node: Node): boolean => node.process?.log.some((e) => e.msg?.startsWith('leading:') === true) === true;

  async function signIn(login: string, password: string): Promise<Trader> {
    const { tokens, user } = await authClient.signIn({ login, password });
    return { userId: user!.id, metadata: bearer(tokens!.accessToken) };
  }

  it('a follower takes over after each kill; nothing acknowledged is lost or doubled; assets are conserved', async () => {
    await start(nodes[0]);
    await eventually(() => (isLeading(nodes[0]) ? true : undefined), 'node a leading', 30_000);
    await start(nodes[1]);
    expect(isLeading(nodes[1])).to.equal(false);

    // A follower refuses a write naming the leader; the TypeScript client follows it there.
    const follower = new MatchingClient(nodes[1].address);
    const admin = await signIn('admin', 'admin-password-for-tests');
    const refused = await follower.addFunds({ userId: admin.userId, asset: 'USD', amount: '1' }, admin.metadata).then(
      () => expect.fail('a follower took a write'),
      (err: grpc.ServiceError) => err,
    );
    expect(refused.code).to.equal(grpc.status.UNAVAILABLE);
    expect(reasonOf(refused)).to.equal('NOT_LEADER');
    const sdk = new OrderbookClient({ authAddress: auth.address, matchingAddress: nodes[1].address });
    await sdk.signIn({ login: 'admin', password: 'admin-password-for-tests' });
    await sdk.orders.addFunds(matching.AddFundsRequest.fromPartial({ userId: admin.userId, asset: 'ETH', amount: '1' }));
    expect(sdk.leaderAddress).to.equal(nodes[0].address);
    sdk.close();
    follower.close();

    const leaderClient = new MatchingClient(nodes[0].address);
    const traders: Trader[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const username = `failover-${i}`;
      await authClient.signUp({ username, email: `${username}@example.com`, password: `password-${username}` });
      const trader = await signIn(username, `password-${username}`);
      await leaderClient.addFunds({ userId: trader.userId, asset: 'USD', amount: DEPOSIT.USD.toString() }, admin.metadata);
      await leaderClient.addFunds({ userId: trader.userId, asset: 'BTC', amount: DEPOSIT.BTC.toString() }, admin.metadata);
      traders.push(trader);
    }
    leaderClient.close();

    // Clients write to the node they believe leads and move on a refusal or a lost connection.
    const clients = new Map(nodes.map((node) => [node.address, new MatchingClient(node.address)]));
    let target = nodes[0].address;
    const acked = new Map<string, { owner: Trader; order: matching.Order }>();
    const cancelled = new Set<bigint>();
    let acks = 0;
    /** When each node last acknowledged a command. */
    const lastAckAt = new Map<string, number>();
    let running = true;
    const load = async (trader: Trader, c: number): Promise<void> => {
      const open: bigint[] = [];
      for (let step = 0; running; step++) {
        const side = (step + c) % 2 === 0 ? matching.Side.SIDE_BUY : matching.Side.SIDE_SELL;
        const clientOrderId = `${c}-${step}`;
        const address = target;
        try {
          if (step % 4 === 3 && open.length > 0) {
            const orderId = open.shift()!;
            await clients.get(address)!.cancelOrder({ orderId }, trader.metadata);
            cancelled.add(orderId);
          } else {
            const price = `${97 + ((step * 7 + c) % 7)}.${step % 100}`;
            const { order } = await clients.get(address)!.placeLimitOrder({ market: 'BTC-USD', side, price, quantity: `0.${1 + (step % 9)}`, clientOrderId }, trader.metadata);
            acked.set(clientOrderId, { owner: trader, order: order! });
            if (order!.status === matching.OrderStatus.ORDER_STATUS_OPEN) open.push(order!.orderId);
          }
          acks += 1;
          lastAckAt.set(address, performance.now());
        } catch (err) {
          const { code } = err as grpc.ServiceError;
          if (code === grpc.status.FAILED_PRECONDITION || code === grpc.status.NOT_FOUND) continue;
          if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) throw err;
          const leader = (err as grpc.ServiceError).metadata?.get('leader_address')[0];
          if (typeof leader === 'string' && leader !== '') target = leader;
          else if (target === address) target = nodes.find((n) => n.address !== address)!.address;
          await sleep(20);
        }
      }
    };
    const running_ = traders.map((trader, c) => load(trader, c));

    const failovers: number[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const goal = acks + ACKS_BEFORE_KILL[kill];
      await eventually(() => (acks >= goal ? true : undefined), `${ACKS_BEFORE_KILL[kill]} more acknowledged commands`, 120_000);
      const victim = nodes.find(isLeading)!;
      const survivor = nodes.find((n) => n !== victim)!;
      victim.process!.child.kill('SIGKILL');
      const killedAt = performance.now();
      await victim.process!.exited;
      const acknowledgedAfter = (): number | undefined => {
        const at = lastAckAt.get(survivor.address) ?? 0;
        return at > killedAt ? at : undefined;
      };
      failovers.push((await eventually(acknowledgedAfter, 'a command acknowledged by the survivor after the kill', 60_000)) - killedAt);
      expect(isLeading(survivor), `${survivor.name} leads after the kill`).to.equal(true);
      // The killed node comes back and rejoins as a follower.
      await start(victim);
      expect(isLeading(victim)).to.equal(false);
    }
    running = false;
    await Promise.all(running_);
    console.log(`      failover (SIGKILL of the leader to the first acknowledged command): ${failovers.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')}`);

    const leader = clients.get(nodes.find(isLeading)!.address)!;
    const followerNode = nodes.find((n) => !isLeading(n))!;
    // Each restart set the local tail past the stream aside, if the kill left one.
    const discarded = (await readdir(join(dir, followerNode.name, 'matching'))).filter((f) => f.startsWith('discarded-'));
    console.log(`      local journal copies set aside at rejoin on ${followerNode.name}: ${discarded.length}`);

    // Every acknowledged order is there exactly once (by its client order id), as acknowledged or further along.
    const totals = { USD: 0n, BTC: 0n };
    const answers = new Map<string, string>();
    for (const trader of traders) {
      const { orders } = await leader.listOrders({ pageSize: 1000 }, trader.metadata);
      const seen = new Map<string, number>();
      for (const order of orders) seen.set(order.clientOrderId, (seen.get(order.clientOrderId) ?? 0) + 1);
      for (const [clientOrderId, { owner, order }] of acked) {
        if (owner !== trader) continue;
        expect(seen.get(clientOrderId), `order ${clientOrderId} once`).to.equal(1);
        const now = orders.find((o) => o.clientOrderId === clientOrderId)!;
        expect(now.orderId).to.equal(order.orderId);
        expect(units(now.filledQuantity) >= units(order.filledQuantity)).to.equal(true);
        if (cancelled.has(order.orderId)) expect(now.status).to.equal(matching.OrderStatus.ORDER_STATUS_CANCELLED);
      }
      const { balances } = await leader.getBalances(trader.metadata);
      const reserved = { USD: 0n, BTC: 0n };
      for (const order of orders) {
        if (order.status !== matching.OrderStatus.ORDER_STATUS_OPEN && order.status !== matching.OrderStatus.ORDER_STATUS_PARTIALLY_FILLED) continue;
        reserved[order.side === matching.Side.SIDE_BUY ? 'USD' : 'BTC'] += units(order.lockedAmount);
      }
      for (const balance of balances) {
        const asset = balance.asset as 'USD' | 'BTC';
        totals[asset] += units(balance.available) + units(balance.locked);
        expect(units(balance.locked), `${trader.userId} ${asset} locked`).to.equal(reserved[asset]);
      }
      answers.set(trader.userId, JSON.stringify(matching.GetBalancesResponse.toJSON({ balances })));
    }
    expect(totals).to.deep.equal({ USD: DEPOSIT.USD * UNITS * BigInt(CLIENTS), BTC: DEPOSIT.BTC * UNITS * BigInt(CLIENTS) });

    // The follower reads the same balances once it has applied the stream.
    const followerClient = clients.get(followerNode.address)!;
    for (const trader of traders) {
      await eventually(
        async () => (JSON.stringify(matching.GetBalancesResponse.toJSON(await followerClient.getBalances(trader.metadata))) === answers.get(trader.userId) ? true : undefined),
        `the follower's balances of ${trader.userId}`,
        30_000,
      );
    }
    for (const client of clients.values()) client.close();
  });
});
