import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { loadConfig, startMatchingServer } from '@orderbook/matching-service';
import { matching } from '@orderbook/proto';
import { bearer, collectStream, expectStatus, MatchingClient, unusedPort } from '@orderbook/test-support';
import { TestStack, type Trader } from './support/test-stack';
import { mintAccessToken, unsignedToken } from './support/tokens';

/** A bidi OrderSession opened with the metadata and closed at once: resolves with its final status. */
function sessionStatus(client: MatchingClient, metadata: grpc.Metadata): Promise<grpc.StatusObject> {
  const call = client.raw.orderSession(metadata);
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => undefined);
  call.on('data', () => undefined);
  call.end();
  return status;
}

describe('matching authentication and authorization (interceptor)', () => {
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start();
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '1000');
  });
  after(() => stack.stop());

  /** Every account and order RPC, to be called with the given metadata. */
  function accountCalls(metadata: grpc.Metadata): Record<string, () => Promise<unknown>> {
    const c = stack.client;
    return {
      PlaceLimitOrder: () => c.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1' }, metadata),
      PlaceMarketOrder: () => c.placeMarketOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, quantity: '1' }, metadata),
      CancelOrder: () => c.cancelOrder({ orderId: 1n }, metadata),
      GetOrder: () => c.getOrder({ orderId: 1n }, metadata),
      ListOrders: () => c.listOrders({}, metadata),
      GetBalances: () => c.getBalances(metadata),
      AddFunds: () => c.addFunds({ userId: trader.userId, asset: 'USD', amount: '1' }, metadata),
      PlaceStopLimit: () => c.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1', quantity: '1', stopPrice: '2' }, metadata),
      PlaceOcoOrder: () => c.placeOcoOrder({ market: 'BTC-USD', side: matching.Side.SIDE_SELL, quantity: '1', price: '2', stopPrice: '1' }, metadata),
      AmendOrder: () => c.amendOrder({ orderId: 1n, price: '2' }, metadata),
      CancelAllOrders: () => c.cancelAllOrders({}, metadata),
      CancelAllOrdersAfter: () => c.cancelAllOrdersAfter({ timeoutSeconds: 60 }, metadata),
      ListTrades: () => c.listTrades({}, metadata),
      GetFeeBalances: () => c.getFeeBalances(metadata),
      WithdrawFunds: () => c.withdrawFunds({ userId: trader.userId, asset: 'USD', amount: '1', reference: 'r' }, metadata),
      ListLedgerEntries: () => c.listLedgerEntries({ userId: trader.userId }, metadata),
    };
  }

  async function expectAllUnauthenticated(metadata: grpc.Metadata, message: RegExp): Promise<void> {
    for (const [method, call] of Object.entries(accountCalls(metadata))) {
      const error = await expectStatus(call(), grpc.status.UNAUTHENTICATED, message).catch((err: Error) => {
        throw new Error(`${method}: ${err.message}`);
      });
      expect(error.details, method).to.match(/^authorization: /);
    }
    const updates = await collectStream(stack.client.raw.streamOrderUpdates({ market: '' }, metadata));
    expect(grpc.status[updates.status.code], 'StreamOrderUpdates').to.equal('UNAUTHENTICATED');
    expect(updates.messages).to.have.length(0);
    const session = await sessionStatus(stack.client, metadata);
    expect(grpc.status[session.code], 'OrderSession').to.equal('UNAUTHENTICATED');
  }

  it('accepts the token the auth service issued (the control for every refusal below)', async () => {
    const { balances } = await stack.client.getBalances(trader.metadata);
    expect(balances.map((b) => [b.asset, b.available])).to.deep.equal([['USD', '1000']]);
  });

  it('refuses every account RPC, stream and OrderSession without a token: UNAUTHENTICATED', async () => {
    await expectAllUnauthenticated(new grpc.Metadata(), /Bearer <access token>/);
  });

  it('refuses a garbage token', async () => {
    await expectAllUnauthenticated(bearer('not-a-jwt'), /not a signed JWT/);
  });

  it('refuses a credential that is not a Bearer one', async () => {
    const basic = new grpc.Metadata();
    basic.set('authorization', `Basic ${trader.token}`);
    await expectStatus(stack.client.getBalances(basic), grpc.status.UNAUTHENTICATED);
  });

  it('accepts a token minted with the auth key (so the minted refusals below test only what differs)', async () => {
    const token = await mintAccessToken({ key: stack.signingKey, kid: stack.kid, issuer: stack.auth.issuer, audience: stack.auth.audience, subject: trader.userId, roles: ['trader'] });
    const { balances } = await stack.client.getBalances(bearer(token));
    expect(balances.map((b) => b.asset)).to.deep.equal(['USD']);
  });

  it('refuses an expired token', async () => {
    const token = await mintAccessToken({
      key: stack.signingKey,
      kid: stack.kid,
      issuer: stack.auth.issuer,
      audience: stack.auth.audience,
      subject: trader.userId,
      roles: ['trader'],
      expiresInSeconds: -600,
    });
    await expectAllUnauthenticated(bearer(token), /expired/);
  });

  it('refuses an unsigned token (alg "none")', async () => {
    await expectAllUnauthenticated(bearer(unsignedToken(stack.kid, stack.auth.issuer, stack.auth.audience, trader.userId, ['admin'])), /authorization: /);
  });

  it('refuses a token signed with another key under the real kid', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const token = await mintAccessToken({ key: privateKey, kid: stack.kid, issuer: stack.auth.issuer, audience: stack.auth.audience, subject: trader.userId, roles: ['admin'] });
    await expectAllUnauthenticated(bearer(token), /signature/);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const base = { key: stack.signingKey, kid: stack.kid, subject: trader.userId, roles: ['trader'] };
    const otherAudience = await mintAccessToken({ ...base, issuer: stack.auth.issuer, audience: 'another-service' });
    await expectStatus(stack.client.getBalances(bearer(otherAudience)), grpc.status.UNAUTHENTICATED, /aud/);
    const otherIssuer = await mintAccessToken({ ...base, issuer: 'someone-else', audience: stack.auth.audience });
    await expectStatus(stack.client.getBalances(bearer(otherIssuer)), grpc.status.UNAUTHENTICATED, /iss/);
  });

  it('answers AddFunds from a trader with PERMISSION_DENIED and changes nothing; an admin may', async () => {
    await expectStatus(stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '5' }, trader.metadata), grpc.status.PERMISSION_DENIED, /admin/);
    expect((await stack.balances(trader))['USD']).to.deep.equal(['1000', '0']);
    const response = await stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '5' }, stack.admin.metadata);
    expect(response.balance?.available).to.equal('1005');
    await stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '0.00000001' }, stack.admin.metadata);
    expect((await stack.balances(trader))['USD']).to.deep.equal(['1005.00000001', '0']);
  });

  it('takes the acting user from the token only: identity metadata a client adds is ignored', async () => {
    const other = await stack.newTrader();
    const metadata = bearer(other.token);
    for (const header of ['x-user-id', 'user-id', 'x-orderbook-user-id', 'x-identity', 'x-verified-identity']) metadata.set(header, trader.userId);
    expect(await stack.client.getBalances(metadata)).to.deep.equal({ balances: [] });

    const anonymous = new grpc.Metadata();
    anonymous.set('x-user-id', trader.userId);
    await expectStatus(stack.client.getBalances(anonymous), grpc.status.UNAUTHENTICATED);
  });

  it('serves the public market data RPCs without a token', async () => {
    const { markets } = await stack.client.listMarkets();
    expect(markets.map((m) => m.symbol)).to.deep.equal(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    const book = await stack.client.getOrderBook({ market: 'ETH-USD' });
    expect(book.market).to.equal('ETH-USD');
    const stream = stack.client.raw.streamOrderBook({ market: 'ETH-USD', depth: 0 });
    stream.on('error', () => undefined);
    const first = await new Promise<matching.StreamOrderBookResponse>((resolve) => stream.once('data', resolve));
    expect(first.snapshot?.market).to.equal('ETH-USD');
    stream.cancel();
  });

  it('answers UNAVAILABLE, not UNAUTHENTICATED, when the signing keys cannot be fetched', async () => {
    const port = await unusedPort();
    const dir = `${stack.dir}/matching-without-auth`;
    const isolated = await startMatchingServer(
      loadConfig({ ...stack.matchingConfigEnv(), MATCHING_DATA_DIR: dir, AUTH_ADDRESS: `127.0.0.1:${port}` }),
    );
    const client = new MatchingClient(isolated.address);
    try {
      await expectStatus(client.getBalances(trader.metadata), grpc.status.UNAVAILABLE, /keys/);
      const session = await sessionStatus(client, trader.metadata);
      expect(grpc.status[session.code]).to.equal('UNAVAILABLE');
      expect((await client.listMarkets()).markets).to.have.length(3);
    } finally {
      client.close();
      await isolated.stop();
    }
  });
});
