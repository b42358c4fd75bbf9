import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { grpcError } from '../src/grpc-errors';
import { decodeStatusDetails, STATUS_DETAILS_TRAILER, statusDetailsOf } from '../src/status-details';

describe('google.rpc.Status details in the grpc-status-details-bin trailer', () => {
  it('carries code, message, ErrorInfo (reason, domain, metadata), BadRequest and RetryInfo, in that order', () => {
    const error = grpcError(status.RESOURCE_EXHAUSTED, 'quantity: too many', {
      reason: 'SOMETHING_FULL',
      metadata: { limit: '5' },
      fieldViolations: [{ field: 'quantity', description: 'too many' }, { field: 'price', description: 'too high' }],
      retryDelayMs: 1500,
    });
    const [bytes] = error.metadata.get(STATUS_DETAILS_TRAILER);
    const decoded = decodeStatusDetails(bytes as Buffer);
    expect(decoded).to.deep.include({ code: status.RESOURCE_EXHAUSTED, message: 'quantity: too many' });
    expect(decoded.types).to.deep.equal(['ErrorInfo', 'BadRequest', 'RetryInfo'].map((t) => `type.googleapis.com/google.rpc.${t}`));
    expect(decoded.errorInfo).to.deep.equal({ reason: 'SOMETHING_FULL', domain: 'orderbook', metadata: { limit: '5' } });
    expect(decoded.badRequest?.fieldViolations.map((v) => [v.field, v.description])).to.deep.equal([['quantity', 'too many'], ['price', 'too high']]);
    expect(decoded.retryInfo?.retryDelay).to.deep.equal({ seconds: 1n, nanos: 500_000_000 });
    expect(statusDetailsOf(error)?.details).to.have.length(3);
  });

  it('has ErrorInfo alone when there is nothing more to say', () => {
    const decoded = decodeStatusDetails(grpcError(status.NOT_FOUND, 'order_id: no order 5', { reason: 'ORDER_NOT_FOUND' }).metadata.get(STATUS_DETAILS_TRAILER)[0] as Buffer);
    expect(decoded.types).to.deep.equal(['type.googleapis.com/google.rpc.ErrorInfo']);
    expect(decoded.errorInfo?.metadata).to.deep.equal({});
  });
});
