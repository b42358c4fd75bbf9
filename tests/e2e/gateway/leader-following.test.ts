import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { grpcError } from '@orderbook/server-kit';
import { loadConfig, startGateway } from '@orderbook/gateway-service';
import { HttpStack } from './http-stack';

/**
 * A matching follower as the gateway meets it: every call is refused UNAVAILABLE NOT_LEADER naming
 * `leader` (what a real follower answers to a write; the real one is in tests/slow/matching-failover).
 */
async function follower(leader: () => string): Promise<{ address: string; calls: string[]; stop: () => void }> {
  const server = new grpc.Server();
  const calls: string[] = [];
  const handlers = Object.fromEntries(
    Object.entries(matching.MatchingServiceService).map(([name, method]) => [
      name,
      (call: { metadata?: grpc.Metadata }, callback?: grpc.sendUnaryData<unknown>) => {
        calls.push(method.path);
        const refusal = grpcError(grpc.status.UNAVAILABLE, 'this matching instance is a follower: send commands to the leader', {
          reason: 'NOT_LEADER',
          metadata: { leader_address: leader() },
        });
        if (callback !== undefined) callback(refusal);
        else (call as grpc.ServerWritableStream<unknown, unknown>).destroy(refusal);
      },
    ]),
  );
  server.addService(matching.MatchingServiceService, handlers as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return { address: `127.0.0.1:${port}`, calls, stop: () => server.forceShutdown() };
}

describe('gateway: matching writes follow the leader a follower names', () => {
  let stack: HttpStack;
  let alice: { token: string; userId: string };
  const stops: (() => Promise<void> | void)[] = [];

  /** A gateway whose configured matching address is a follower naming `leader()`. */
  async function behindFollower(leader: () => string): Promise<{ place: (price: string) => Promise<Response>; calls: string[]; address: string }> {
    const replica = await follower(leader);
    const gateway = await startGateway(
      loadConfig({ GATEWAY_PORT: '0', GATEWAY_AUTH_ADDRESS: stack.services.auth.address, GATEWAY_MATCHING_ADDRESS: replica.address, LOG_LEVEL: 'silent' }),
    );
    stops.push(() => gateway.stop(), replica.stop);
    const place = (price: string): Promise<Response> =>
      fetch(`http://${gateway.address}/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ market: 'BTC-USD', side: 'SIDE_BUY', price, quantity: '0.01' }),
      });
    return { place, calls: replica.calls, address: replica.address };
  }

  before(async () => {
    stack = await HttpStack.start('gateway-leader');
    alice = await stack.trader('alice');
    await stack.call('POST', `/v1/users/${alice.userId}/funds`, { token: await stack.admin(), body: { asset: 'USD', amount: '1000' } });
  });
  after(async () => {
    for (const stop of stops) await stop();
    await stack.stop();
  });

  const PLACE = '/orderbook.matching.v1.MatchingService/PlaceLimitOrder';
  const openPrices = async (): Promise<string[]> =>
    (await stack.call('GET', '/v1/orders?status=ORDER_STATUS_FILTER_OPEN', { token: alice.token })).json.orders.map((o: { price: string }) => o.price).sort();

  it('sends a write refused NOT_LEADER to the leader once more, and the next writes straight there', async () => {
    const { place, calls } = await behindFollower(() => stack.services.matching.address);
    expect((await place('100')).status).to.equal(200);
    expect(calls).to.deep.equal([PLACE]);
    expect((await place('101')).status).to.equal(200);
    expect(calls).to.deep.equal([PLACE]);
    expect(await openPrices()).to.deep.equal(['100', '101']);
  });

  it('asks the configured address again once the leader it followed is unreachable, and follows the next leader named', async () => {
    const gone = await follower(() => '');
    gone.stop();
    let leader = gone.address;
    const { place, calls } = await behindFollower(() => leader);
    const unreachable = await place('90');
    expect(unreachable.status).to.equal(503);
    expect(((await unreachable.json()) as { code: number }).code).to.equal(grpc.status.UNAVAILABLE);
    expect(calls).to.have.length(1);
    expect((await place('91')).status).to.equal(503);
    expect(calls).to.have.length(2);
    leader = stack.services.matching.address;
    expect((await place('92')).status).to.equal(200);
    expect(calls).to.have.length(3);
    expect(await openPrices()).to.deep.equal(['100', '101', '92']);
  });

  it('passes a refusal naming the follower itself through as 503 NOT_LEADER, without calling it again', async () => {
    let self = '';
    const { place, calls, address } = await behindFollower(() => self);
    self = address;
    const refused = await place('80');
    expect(refused.status).to.equal(503);
    const body = (await refused.json()) as { code: number; details: { '@type': string; reason?: string }[] };
    expect(body.code).to.equal(grpc.status.UNAVAILABLE);
    expect(body.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo')).to.include({ reason: 'NOT_LEADER' });
    expect(calls).to.have.length(1);
  });
});
