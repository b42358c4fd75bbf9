import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { rpcErrorDetails } from '@orderbook/proto';
import { grpcError } from '../src/grpc-errors';
import { statusDetailsOf } from '../src/status-details';

describe('google.rpc.Status details in the grpc-status-details-bin trailer', () => {
  it('carries code, message, ErrorInfo (reason, domain, metadata), BadRequest and RetryInfo, in that order', () => {
    const error = grpcError(status.RESOURCE_EXHAUSTED, 'quantity: too many', {
      reason: 'SOMETHING_FULL',
      metadata: { limit: '5' },
      fieldViolations: [{ field: 'quantity', description: 'too many' }, { field: 'price', description: 'too high' }],
      retryDelayMs: 1500,
    });
    const decoded = statusDetailsOf(error);
    expect(decoded).to.deep.include({ code: status.RESOURCE_EXHAUSTED, message: 'quantity: too many' });
    const [errorInfo, badRequest, retryInfo] = decoded?.details ?? [];
    expect(decoded?.details.map((d) => d.typeUrl)).to.deep.equal(['ErrorInfo', 'BadRequest', 'RetryInfo'].map((t) => `type.googleapis.com/google.rpc.${t}`));
    expect(rpcErrorDetails.ErrorInfo.decode(errorInfo!.value)).to.deep.equal({ reason: 'SOMETHING_FULL', domain: 'orderbook', metadata: { limit: '5' } });
    expect(rpcErrorDetails.BadRequest.decode(badRequest!.value).fieldViolations.map((v) => [v.field, v.description])).to.deep.equal([['quantity', 'too many'], ['price', 'too high']]);
    expect(rpcErrorDetails.RetryInfo.decode(retryInfo!.value).retryDelay).to.deep.equal({ seconds: 1n, nanos: 500_000_000 });
  });

  it('has ErrorInfo alone when there is nothing more to say', () => {
    const details = statusDetailsOf(grpcError(status.NOT_FOUND, 'order_id: no order 5', { reason: 'ORDER_NOT_FOUND' }))?.details ?? [];
    expect(details.map((d) => d.typeUrl)).to.deep.equal(['type.googleapis.com/google.rpc.ErrorInfo']);
    expect(rpcErrorDetails.ErrorInfo.decode(details[0]!.value).metadata).to.deep.equal({});
  });

  it('is undefined for an error that carries no trailer', () => {
    expect(statusDetailsOf(Object.assign(new Error('plain'), { metadata: undefined }))).to.equal(undefined);
  });
});
