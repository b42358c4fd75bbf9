import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { decodeStatusDetails, OrderbookClient, STATUS_DETAILS_KEY, type StatusDetails } from '@orderbook/client';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, eventually, MatchingClient, unusedPort } from '@orderbook/test-support';
import { NatsCluster } from '@orderbook/matching-service/test/nats-cluster';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

const CLIENTS = 20;
/** Acknowledged commands before each leader kill, different each time so that the kills hit different moments. */
const ACKS_BEFORE_KILL = [250, 400, 175];
const DEPOSIT = { USD: 1_000_000n, BTC: 1_000n };
const UNITS = 10n ** 8n;
const STREAM = 'FAILOVER';
const ADMIN_PASSWORD = 'admin-password-for-tests';
const WRITE_DEADLINE_MS = 3_000;

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

/** What the clients were told, and by whom. */
interface Load {
  readonly acked: Map<string, { owner: Trader; order: matching.Order }>;
  readonly cancelled: Set<bigint>;
  /** Acknowledged commands so far. */
  acks(): number;
  /** When each node last acknowledged a command, and when the command it acknowledged was sent. */
  readonly lastAck: Map<string, { at: number; sentAt: number }>;
  stop(): Promise<void>;
}

function units(decimal: string): bigint {
  const [integer, fraction = ''] = decimal.split('.');
  return BigInt(integer + fraction.padEnd(8, '0'));
}

/** ErrorInfo of a call's error (google.rpc.Status details), if it carries one. */
function errorInfoOf(err: unknown): StatusDetails | undefined {
  const details = (err as grpc.ServiceError).metadata?.get(STATUS_DETAILS_KEY)[0];
  return details === undefined ? undefined : decodeStatusDetails(Buffer.from(details));
}

/** A write that gives up after WRITE_DEADLINE_MS (a paused leader never answers). */
function place(client: MatchingClient, request: Partial<matching.PlaceLimitOrderRequest>, metadata: grpc.Metadata): Promise<matching.PlaceLimitOrderResponse> {
  return new Promise((resolve, reject) =>
    client.raw.placeLimitOrder(matching.PlaceLimitOrderRequest.fromPartial(request), metadata, { deadline: Date.now() + WRITE_DEADLINE_MS }, (err, response) => (err ? reject(err) : resolve(response!))),
  );
}

function cancel(client: MatchingClient, orderId: bigint, metadata: grpc.Metadata): Promise<matching.CancelOrderResponse> {
  return new Promise((resolve, reject) =>
    client.raw.cancelOrder(matching.CancelOrderRequest.fromPartial({ orderId }), metadata, { deadline: Date.now() + WRITE_DEADLINE_MS }, (err, response) => (err ? reject(err) : resolve(response!))),
  );
}

/** The node's role as its log last told it (a node restarts in-process when it stops leading). */
function roleOf(node: Node): 'leader' | 'follower' | undefined {
  for (const entry of [...(node.process?.log ?? [])].reverse()) {
    if (entry.msg?.startsWith('leading:') === true) return 'leader';
    if (entry.msg?.startsWith('no longer leading') === true) return 'follower';
    if (entry.msg === 'matching service serving') return entry.role === 'leader' ? 'leader' : 'follower';
  }
  return undefined;
}

/** GetBalances with the x-orderbook-sequence header of its answer. */
function balancesAt(client: MatchingClient, metadata: grpc.Metadata): Promise<{ seq: string; balances: string }> {
  return new Promise((resolve, reject) => {
    let seq = '';
    const call = client.raw.getBalances({}, metadata, (err, response) =>
      err ? reject(err) : resolve({ seq, balances: JSON.stringify(matching.GetBalancesResponse.toJSON(response!)) }),
    );
    call.on('metadata', (md: grpc.Metadata) => (seq = String(md.get('x-orderbook-sequence')[0] ?? '')));
  });
}

/**
 * Two matching processes on a 3-node NATS cluster (stream and lease bucket with 3 replicas) under
 * 20 clients placing, cancelling and trading: the leader SIGKILLed three times, paused past its
 * lease, a NATS server killed, the follower paused. After each, every acknowledged order must be
 * there exactly once, every asset conserved, locked equal to what open orders reserve, and the
 * follower must read the leader's state at the leader's sequence.
 */
describe('matching high availability on a 3-node NATS cluster (processes, under load)', function () {
  this.timeout(300_000);
  let dir: string;
  let cluster: NatsCluster;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  const nodes: Node[] = [];
  const clients = new Map<string, MatchingClient>();
  const traders: Trader[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-failover-'));
    cluster = await NatsCluster.start(3);
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    for (const name of ['a', 'b']) {
      const address = `127.0.0.1:${await unusedPort()}`;
      clients.set(address, new MatchingClient(address));
      nodes.push({
        name,
        address,
        process: undefined,
        env: {
          ...testMatchingEnv(join(dir, name), auth),
          MATCHING_PORT: address.split(':')[1],
          MATCHING_ADVERTISED_ADDRESS: address,
          MATCHING_JOURNAL: cluster.urls.join(','),
          MATCHING_JOURNAL_STREAM: STREAM,
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
    for (const node of nodes) {
      node.process?.child.kill('SIGCONT');
      node.process?.child.kill('SIGKILL');
    }
    for (const client of clients.values()) client.close();
    authClient.close();
    await auth.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (node: Node): Promise<void> => {
    node.process = await startMatchingProcess(node.env);
  };
  const leaderNode = (): Node | undefined => nodes.find((n) => roleOf(n) === 'leader');
  const waitForLeader = (other?: Node): Promise<Node> =>
    eventually(() => nodes.find((n) => n !== other && roleOf(n) === 'leader'), 'a leader', 60_000);

  async function signIn(login: string, password: string): Promise<Trader> {
    const { tokens, user } = await authClient.signIn({ login, password });
    return { userId: user!.id, metadata: bearer(tokens!.accessToken) };
  }

  /** Clients write to the node they believe leads and move on a refusal or a lost connection. */
  function startLoad(): Load {
    let target = leaderNode()!.address;
    const acked = new Map<string, { owner: Trader; order: matching.Order }>();
    const cancelled = new Set<bigint>();
    const lastAck = new Map<string, { at: number; sentAt: number }>();
    let acks = 0;
    let running = true;
    const run = async (trader: Trader, c: number): Promise<void> => {
      const open: bigint[] = [];
      for (let step = 0; running; step++) {
        const side = (step + c) % 2 === 0 ? matching.Side.SIDE_BUY : matching.Side.SIDE_SELL;
        const clientOrderId = `${c}-${step}-${Math.random().toString(36).slice(2, 8)}`;
        const address = target;
        const client = clients.get(address)!;
        const sentAt = performance.now();
        try {
          if (step % 4 === 3 && open.length > 0) {
            const orderId = open.shift()!;
            await cancel(client, orderId, trader.metadata);
            cancelled.add(orderId);
          } else {
            const price = `${97 + ((step * 7 + c) % 7)}.${step % 100}`;
            const { order } = await place(client, { market: 'BTC-USD', side, price, quantity: `0.${1 + (step % 9)}`, clientOrderId }, trader.metadata);
            acked.set(clientOrderId, { owner: trader, order: order! });
            if (order!.status === matching.OrderStatus.ORDER_STATUS_OPEN) open.push(order!.orderId);
          }
          acks += 1;
          lastAck.set(address, { at: performance.now(), sentAt });
        } catch (err) {
          const { code } = err as grpc.ServiceError;
          if (code === grpc.status.FAILED_PRECONDITION || code === grpc.status.NOT_FOUND) continue;
          if (code !== grpc.status.UNAVAILABLE && code !== grpc.status.DEADLINE_EXCEEDED) throw err;
          const leader = errorInfoOf(err)?.metadata.leader_address;
          if (leader !== undefined && leader !== '') target = leader;
          else if (target === address) target = nodes.find((n) => n.address !== address)!.address;
          await sleep(20);
        }
      }
    };
    const runs = traders.map((trader, c) => run(trader, c));
    return {
      acked,
      cancelled,
      lastAck,
      acks: () => acks,
      stop: async () => {
        running = false;
        await Promise.all(runs);
      },
    };
  }

  const moreAcks = async (load: Load, count: number): Promise<void> => {
    const goal = load.acks() + count;
    await eventually(() => (load.acks() >= goal ? true : undefined), `${count} more acknowledged commands`, 120_000);
  };

  /** Every acknowledged order exactly once, assets conserved, locked == reserves; the follower at the leader's state and sequence. */
  async function verify(load: Load): Promise<void> {
    const leader = clients.get(leaderNode()!.address)!;
    const totals = { USD: 0n, BTC: 0n };
    for (const trader of traders) {
      const { orders } = await leader.listOrders({ pageSize: 1000 }, trader.metadata);
      const seen = new Map<string, number>();
      for (const order of orders) seen.set(order.clientOrderId, (seen.get(order.clientOrderId) ?? 0) + 1);
      for (const [clientOrderId, { owner, order }] of load.acked) {
        if (owner !== trader) continue;
        expect(seen.get(clientOrderId), `order ${clientOrderId} once`).to.equal(1);
        const now = orders.find((o) => o.clientOrderId === clientOrderId)!;
        expect(now.orderId).to.equal(order.orderId);
        expect(units(now.filledQuantity) >= units(order.filledQuantity)).to.equal(true);
        if (load.cancelled.has(order.orderId)) expect(now.status).to.equal(matching.OrderStatus.ORDER_STATUS_CANCELLED);
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
    }
    expect(totals).to.deep.equal({ USD: DEPOSIT.USD * UNITS * BigInt(CLIENTS), BTC: DEPOSIT.BTC * UNITS * BigInt(CLIENTS) });

    const followerNode = nodes.find((n) => roleOf(n) === 'follower')!;
    const follower = clients.get(followerNode.address)!;
    for (const trader of traders) {
      const atLeader = await balancesAt(leader, trader.metadata);
      expect(atLeader.seq).to.match(/^[1-9]\d*$/);
      await eventually(
        async () => {
          // Its channel may still be in reconnect backoff after a restart.
          const atFollower = await balancesAt(follower, trader.metadata).catch(() => undefined);
          return atFollower?.seq === atLeader.seq ? atFollower : undefined;
        },
        `the follower at seq ${atLeader.seq}`,
        30_000,
      )
        .catch((err: Error) => {
          // What the follower last said is what tells a stuck read from a slow one.
          const tail = followerNode.process!.log.slice(-15).map((e) => JSON.stringify(e)).join('\n');
          throw new Error(`${err.message}; the follower's last log lines:\n${tail}`, { cause: err });
        })
        .then((atFollower) => expect(atFollower.balances).to.equal(atLeader.balances));
    }
  }

  it('serves writes on the leader only: the follower answers NOT_LEADER naming it, and the TypeScript client follows', async () => {
    await start(nodes[0]);
    await waitForLeader();
    await start(nodes[1]);
    expect(roleOf(nodes[0])).to.equal('leader');
    expect(roleOf(nodes[1])).to.equal('follower');

    const admin = await signIn('admin', ADMIN_PASSWORD);
    const refused = await clients
      .get(nodes[1].address)!
      .addFunds({ userId: admin.userId, asset: 'USD', amount: '1' }, admin.metadata)
      .then(
        () => expect.fail('a follower took a write'),
        (err: grpc.ServiceError) => err,
      );
    expect(refused.code).to.equal(grpc.status.UNAVAILABLE);
    expect(errorInfoOf(refused)?.reason).to.equal('NOT_LEADER');
    expect(errorInfoOf(refused)?.metadata.leader_address).to.equal(nodes[0].address);
    const follower = clients.get(nodes[1].address)!;
    const otherWrites: Array<[string, Promise<unknown>]> = [
      ['PlaceLimitOrder', follower.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' }, admin.metadata)],
      ['AmendOrder', follower.amendOrder({ orderId: 1n, quantity: '1' }, admin.metadata)],
      ['CancelAllOrders', follower.cancelAllOrders({}, admin.metadata)],
    ];
    for (const [rpc, write] of otherWrites) {
      const error = await write.then(
        () => expect.fail(`a follower took ${rpc}`),
        (err: grpc.ServiceError) => err,
      );
      expect([error.code, errorInfoOf(error)?.reason], rpc).to.deep.equal([grpc.status.UNAVAILABLE, 'NOT_LEADER']);
    }
    const sdk = new OrderbookClient({ authAddress: auth.address, matchingAddress: nodes[1].address });
    await sdk.signIn({ login: 'admin', password: ADMIN_PASSWORD });
    await sdk.orders.addFunds(matching.AddFundsRequest.fromPartial({ userId: admin.userId, asset: 'ETH', amount: '1' }));
    expect(sdk.leaderAddress).to.equal(nodes[0].address);
    sdk.close();

    const leader = clients.get(nodes[0].address)!;
    for (let i = 0; i < CLIENTS; i++) {
      const username = `failover-${i}`;
      await authClient.signUp({ username, email: `${username}@example.com`, password: `password-${username}` });
      const trader = await signIn(username, `password-${username}`);
      await leader.addFunds({ userId: trader.userId, asset: 'USD', amount: DEPOSIT.USD.toString() }, admin.metadata);
      await leader.addFunds({ userId: trader.userId, asset: 'BTC', amount: DEPOSIT.BTC.toString() }, admin.metadata);
      traders.push(trader);
    }
  });

  it('SIGKILL of the leader, three times under load: the follower takes over, nothing acknowledged is lost or doubled', async () => {
    const load = startLoad();
    const failovers: number[] = [];
    for (const acks of ACKS_BEFORE_KILL) {
      await moreAcks(load, acks);
      const victim = leaderNode()!;
      const survivor = nodes.find((n) => n !== victim)!;
      victim.process!.child.kill('SIGKILL');
      const killedAt = performance.now();
      await victim.process!.exited;
      const acknowledgedAfter = (): number | undefined => {
        const at = load.lastAck.get(survivor.address)?.at ?? 0;
        return at > killedAt ? at : undefined;
      };
      failovers.push((await eventually(acknowledgedAfter, 'a command acknowledged by the survivor after the kill', 60_000)) - killedAt);
      expect(roleOf(survivor)).to.equal('leader');
      // The killed node comes back and rejoins as a follower.
      await start(victim);
      expect(roleOf(victim)).to.equal('follower');
    }
    await load.stop();
    console.log(`      failover (SIGKILL of the leader to the first acknowledged command): ${failovers.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(', ')}`);
    const follower = nodes.find((n) => roleOf(n) === 'follower')!;
    const discarded = (await readdir(join(dir, follower.name, 'matching'))).filter((f) => f.startsWith('discarded-'));
    console.log(`      local journal copies set aside at rejoin on ${follower.name}: ${discarded.length}`);
    await verify(load);
  });

  it('a leader paused past its lease (SIGSTOP, SIGCONT) acknowledges nothing more and rejoins as a follower', async () => {
    const load = startLoad();
    await moreAcks(load, 200);
    const paused = leaderNode()!;
    const other = nodes.find((n) => n !== paused)!;
    paused.process!.child.kill('SIGSTOP');
    await waitForLeader(paused);
    await moreAcks(load, 100);
    const resumedAt = performance.now();
    paused.process!.child.kill('SIGCONT');
    await eventually(() => (roleOf(paused) === 'follower' ? true : undefined), 'the paused leader following', 60_000);
    await moreAcks(load, 100);
    await load.stop();
    // Whatever it answered after resuming was sent before the pause (and is in the stream: verify below).
    const last = load.lastAck.get(paused.address);
    expect(last === undefined || last.sentAt < resumedAt, 'an acknowledgement of a command sent to the resumed leader').to.equal(true);
    expect(roleOf(other)).to.equal('leader');
    expect(paused.process!.log.some((e) => e.reason === 'LEASE_LOST' || e.reason === 'JOURNAL_FENCED')).to.equal(true);
    await verify(load);
  });

  it('a NATS server killed under load (the one leading the stream) loses no acknowledged command, and trading goes on', async () => {
    const load = startLoad();
    await moreAcks(load, 200);
    const natsNode = await cluster.streamLeader(STREAM);
    await cluster.killNode(natsNode);
    const killedAt = performance.now();
    const resumedAt = await eventually(
      () => [...load.lastAck.values()].find((a) => a.sentAt > killedAt)?.at,
      'a command sent after the NATS kill acknowledged',
      120_000,
    );
    console.log(`      NATS server leading the stream killed: first command sent after it acknowledged ${((resumedAt - killedAt) / 1000).toFixed(2)} s later`);
    await moreAcks(load, 200);
    cluster.startNode(natsNode);
    await moreAcks(load, 100);
    await load.stop();
    await waitForLeader();
    await verify(load);
  });

  it('a follower paused under load (a slow consumer) catches up to the leader\'s state', async () => {
    const load = startLoad();
    const follower = nodes.find((n) => roleOf(n) === 'follower')!;
    follower.process!.child.kill('SIGSTOP');
    await moreAcks(load, 600);
    follower.process!.child.kill('SIGCONT');
    await moreAcks(load, 100);
    await load.stop();
    await verify(load);
  });
});
