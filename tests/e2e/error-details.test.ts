import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching, rpcStatus } from '@orderbook/proto';
import { decodeStatusDetails, STATUS_DETAILS_KEY, type StatusDetails } from '@orderbook/client';
import { collectStream, expectStatus } from '@orderbook/test-support';
import { Session } from './support/session';
import { TestStack, type Trader } from './support/test-stack';

/** What a client decodes from an error's `grpc-status-details-bin` trailer, with the type URLs of its details in order. */
type Trailer = StatusDetails & { readonly types: readonly string[] };

function trailerOf(error: { readonly metadata?: grpc.Metadata }): Trailer {
  const [bytes] = error.metadata?.get(STATUS_DETAILS_KEY) ?? [];
  expect(bytes, `${STATUS_DETAILS_KEY} trailer`).to.be.instanceOf(Buffer);
  return decoded(bytes as Buffer);
}

function decoded(bytes: Uint8Array): Trailer {
  return { ...decodeStatusDetails(bytes), types: rpcStatus.Status.decode(bytes).details.map((d) => d.typeUrl) };
}

async function failure(promise: Promise<unknown>, code: grpc.status): Promise<Trailer> {
  const error = await expectStatus(promise, code);
  const details = trailerOf(error);
  expect(details.code).to.equal(code);
  expect(details.message).to.equal(error.details);
  expect(details.domain).to.equal('orderbook');
  return details;
}

describe('rich errors: google.rpc.Status in the grpc-status-details-bin trailer', () => {
  let stack: TestStack;
  let trader: Trader;

  before(async () => {
    stack = await TestStack.start({ matchingEnv: { MATCHING_MAX_STREAMS_PER_PEER: '1' } });
    trader = await stack.newTrader();
    await stack.fund(trader, 'USD', '100');
  });
  after(() => stack.stop());

  it('INVALID_ARGUMENT: ErrorInfo INVALID_FIELD and a BadRequest field violation naming the field', async () => {
    const details = await failure(stack.client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1.1234567', quantity: '1' }, trader.metadata), grpc.status.INVALID_ARGUMENT);
    expect(details.reason).to.equal('INVALID_FIELD');
    expect(details.fieldViolations.map((v) => v.field)).to.deep.equal(['price']);
    expect(details.fieldViolations[0]?.description).to.match(/decimals/);
    expect(details.types).to.deep.equal(['type.googleapis.com/google.rpc.ErrorInfo', 'type.googleapis.com/google.rpc.BadRequest']);
  });

  it('INVALID_ARGUMENT lists every bad field, not only the first, in request order', async () => {
    const order = { market: 'NOPE-USD', side: matching.Side.SIDE_BUY, price: '1.1234567', quantity: '-1' };
    const details = await failure(stack.client.placeLimitOrder(order, trader.metadata), grpc.status.INVALID_ARGUMENT);
    expect(details.fieldViolations.map((v) => v.field)).to.deep.equal(['market', 'price', 'quantity']);
    expect(details.message).to.match(/^market: .*; price: .*; quantity: /);
    const deposit = await failure(stack.client.addFunds({ userId: 'not-a-uuid', asset: 'XXX', amount: '0' }, stack.admin.metadata), grpc.status.INVALID_ARGUMENT);
    expect(deposit.fieldViolations.map((v) => v.field)).to.deep.equal(['user_id', 'asset', 'amount']);
  });

  it('FAILED_PRECONDITION and NOT_FOUND from the engine carry their reasons', async () => {
    const cases: Array<[Promise<unknown>, grpc.status, string]> = [
      [stack.client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1000', quantity: '1' }, trader.metadata), grpc.status.FAILED_PRECONDITION, 'INSUFFICIENT_FUNDS'],
      [stack.client.placeMarketOrder({ market: 'ETH-USD', side: matching.Side.SIDE_BUY, quantity: '1' }, trader.metadata), grpc.status.FAILED_PRECONDITION, 'INSUFFICIENT_LIQUIDITY'],
      [stack.client.cancelOrder({ orderId: 999_999n }, trader.metadata), grpc.status.NOT_FOUND, 'ORDER_NOT_FOUND'],
      [stack.client.getOrder({ orderId: 999_999n }, trader.metadata), grpc.status.NOT_FOUND, 'ORDER_NOT_FOUND'],
    ];
    for (const [call, code, reason] of cases) expect((await failure(call, code)).reason).to.equal(reason);
  });

  it('a refusal by the token interceptor carries the trailer too', async () => {
    const details = await failure(stack.client.getBalances(), grpc.status.UNAUTHENTICATED);
    expect(details.reason).to.equal('ACCESS_TOKEN_MISSING');
    const admin = await failure(stack.client.addFunds({ userId: trader.userId, asset: 'USD', amount: '1' }, trader.metadata), grpc.status.PERMISSION_DENIED);
    expect(admin.reason).to.equal('ADMIN_ROLE_REQUIRED');
  });

  it('RESOURCE_EXHAUSTED carries RetryInfo and the ErrorInfo metadata', async () => {
    const first = stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 1 });
    const firstEnded = collectStream(first);
    try {
      const second = await collectStream(stack.client.raw.streamOrderBook({ market: 'BTC-USD', depth: 1 }));
      expect(second.status.code).to.equal(grpc.status.RESOURCE_EXHAUSTED);
      const details = trailerOf(second.status);
      expect(details.reason).to.equal('TOO_MANY_STREAMS_FROM_PEER');
      expect(details.metadata).to.include({ limit: '1' });
      expect(details.retryDelayMs).to.equal(1000);
    } finally {
      first.cancel();
      await firstEnded;
    }
  });

  it('auth answers with the reasons it always had (USER_EXISTS, SIGN_IN_FAILED), now in the trailer', async () => {
    const taken = await failure(stack.authClient.signUp({ username: trader.username, email: `${trader.username}@example.com`, password: 'another-password-1' }), grpc.status.ALREADY_EXISTS);
    expect(taken.reason).to.equal('USER_EXISTS');
    const wrong = await failure(stack.authClient.signIn({ login: trader.username, password: 'not-the-password' }), grpc.status.UNAUTHENTICATED);
    expect(wrong.reason).to.equal('SIGN_IN_FAILED');
  });

  it('an OrderSession command that fails carries the same google.rpc.Status as the unary call', async () => {
    const session = new Session(stack.client.raw, trader.metadata);
    try {
      const response = await session.request({ requestId: 1n, placeLimitOrder: { market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '1000', quantity: '1' } });
      expect(response.error?.code).to.equal(grpc.status.FAILED_PRECONDITION);
      const status = response.error?.status;
      expect(status?.code).to.equal(grpc.status.FAILED_PRECONDITION);
      expect(status?.message).to.equal(response.error?.message);
      const details = decoded(matchingStatusBytes(status));
      expect(details).to.deep.include({ reason: 'INSUFFICIENT_FUNDS', domain: 'orderbook' });
      const invalid = await session.request({ requestId: 2n });
      expect(decoded(matchingStatusBytes(invalid.error?.status)).fieldViolations.map((v) => v.field)).to.deep.equal(['command']);
    } finally {
      await session.end();
    }
  });
});

/** The Status message of an OrderSessionError as the bytes a trailer would carry. */
function matchingStatusBytes(status: matching.OrderSessionError['status']): Uint8Array {
  expect(status, 'OrderSessionError.status').to.not.equal(undefined);
  return rpcStatus.Status.encode(status!).finish();
}
