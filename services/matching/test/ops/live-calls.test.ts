import { status, type ServiceError } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';
import { expect } from 'chai';
import { LiveCalls } from '../../src/ops/live-calls';

const revokedStatus = (): ServiceError => grpcError(status.UNAUTHENTICATED, 'revoked', { reason: 'SESSION_REVOKED' });
const shutdown = grpcError(status.UNAVAILABLE, 'shutting down', { reason: 'SHUTTING_DOWN' });

/** A closer that records the status it was closed with. */
function closer(): { close: (reason: ServiceError) => void; closedWith: ServiceError[] } {
  const closedWith: ServiceError[] = [];
  return { close: (reason) => closedWith.push(reason), closedWith };
}

describe('LiveCalls', () => {
  it('closes the streams of the revoked sessions only, each once', () => {
    const calls = new LiveCalls();
    const [a1, a2, b, market] = [closer(), closer(), closer(), closer()];
    calls.register(a1.close, 'session-a');
    calls.register(a2.close, 'session-a');
    calls.register(b.close, 'session-b');
    calls.register(market.close);

    expect(calls.closeSessions(['session-a', 'session-unknown'], revokedStatus)).to.equal(2);
    expect(calls.closeSessions(['session-a'], revokedStatus)).to.equal(0);
    expect(a1.closedWith.map((e) => e.code)).to.deep.equal([status.UNAUTHENTICATED]);
    expect(a2.closedWith.map((e) => e.code)).to.deep.equal([status.UNAUTHENTICATED]);
    expect(b.closedWith).to.deep.equal([]);
    expect(market.closedWith).to.deep.equal([]);

    calls.closeAll(shutdown);
    expect(b.closedWith).to.deep.equal([shutdown]);
    expect(market.closedWith).to.deep.equal([shutdown]);
    expect(a1.closedWith, 'a closed stream is not closed again at shutdown').to.have.length(1);
  });

  it('forgets a stream that ended by itself', () => {
    const calls = new LiveCalls();
    const stream = closer();
    const unregister = calls.register(stream.close, 'session-a');
    unregister();
    expect(calls.closeSessions(['session-a'], revokedStatus)).to.equal(0);
    calls.closeAll(shutdown);
    expect(stream.closedWith).to.deep.equal([]);
  });

  it('closes at once a stream whose session was revoked between its token check and its registration', () => {
    const calls = new LiveCalls((sessionId) => (sessionId === 'gone' ? revokedStatus() : undefined));
    const late = closer();
    const fine = closer();
    calls.register(late.close, 'gone');
    calls.register(fine.close, 'live');
    expect(late.closedWith.map((e) => e.code)).to.deep.equal([status.UNAUTHENTICATED]);
    expect(fine.closedWith).to.deep.equal([]);
    expect(calls.closeSessions(['gone'], revokedStatus)).to.equal(0);
  });

  it('closes at once what registers after shutdown began', () => {
    const calls = new LiveCalls();
    calls.closeAll(shutdown);
    const late = closer();
    calls.register(late.close, 'session-a');
    expect(late.closedWith).to.deep.equal([shutdown]);
  });
});
