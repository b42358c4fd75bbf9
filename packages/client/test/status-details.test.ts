import { credentials, Metadata, status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { matching } from '@orderbook/proto';
import { decodeStatusDetails } from '../src/status-details';
import { OrderbookError } from '../src/errors';
import { callUnary } from '../src/unary';
import { startFakeMatching } from './support/fake-matching';
import { encodeStatus, richServiceError } from './support/status-encoding';

describe('google.rpc.Status details', () => {
  it('decodes ErrorInfo (reason, domain, metadata), BadRequest field violations and RetryInfo, skipping unknown details', () => {
    const bytes = encodeStatus({
      code: status.INVALID_ARGUMENT,
      message: 'price: must be positive',
      reason: 'INVALID_PRICE',
      domain: 'matching.orderbook',
      metadata: { field: 'price', market: 'BTC-USD' },
      unknownDetails: [{ typeUrl: 'type.googleapis.com/google.rpc.DebugInfo', value: new Uint8Array([10, 3, 97, 98, 99]) }],
      fieldViolations: [
        { field: 'price', description: 'must be positive' },
        { field: 'quantity', description: 'at most 8 decimals' },
      ],
      retryDelay: { seconds: 1, nanos: 500_000_000 },
    });
    expect(decodeStatusDetails(bytes)).to.deep.equal({
      code: status.INVALID_ARGUMENT,
      message: 'price: must be positive',
      reason: 'INVALID_PRICE',
      domain: 'matching.orderbook',
      metadata: { field: 'price', market: 'BTC-USD' },
      fieldViolations: [
        { field: 'price', description: 'must be positive' },
        { field: 'quantity', description: 'at most 8 decimals' },
      ],
      retryDelayMs: 1500,
    });
  });

  it('decodes a status with no details to its code and message alone', () => {
    expect(decodeStatusDetails(encodeStatus({ code: status.NOT_FOUND, message: 'order_id: no such order' }))).to.deep.equal({
      code: status.NOT_FOUND,
      message: 'order_id: no such order',
      metadata: {},
      fieldViolations: [],
    });
  });

  it('throws on bytes that are not a protobuf message', () => {
    expect(() => decodeStatusDetails(new Uint8Array([0x0a, 0x05, 0x41]))).to.throw();
  });

  it('turns a call failure carrying the grpc-status-details-bin trailer into a typed OrderbookError', async () => {
    const server = await startFakeMatching({
      getOrderBook: (_call, callback) =>
        callback(richServiceError({ code: status.RESOURCE_EXHAUSTED, message: 'queue full', reason: 'QUEUE_FULL', metadata: { queue_depth: '1024' }, retryDelay: { seconds: 0, nanos: 250_000_000 } })),
    });
    const client = new matching.MatchingServiceClient(server.address, credentials.createInsecure());
    try {
      const failure = await callUnary(client, client.getOrderBook, { market: 'BTC-USD', depth: 1 }, new Metadata(), 5_000).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(failure).to.be.instanceOf(OrderbookError);
      const error = failure as OrderbookError;
      expect([error.code, error.codeName, error.message, error.reason, error.metadata, error.retryDelayMs]).to.deep.equal([
        status.RESOURCE_EXHAUSTED,
        'RESOURCE_EXHAUSTED',
        'queue full',
        'QUEUE_FULL',
        { queue_depth: '1024' },
        250,
      ]);
    } finally {
      client.close();
      await server.stop();
    }
  });
});
