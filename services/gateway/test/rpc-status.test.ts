import { create, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { status as Code } from '@grpc/grpc-js';
import { expect } from 'chai';
import { descriptorSetPath } from '@orderbook/proto';
import { Contract } from '../src/contract';
import { HTTP_STATUS_OF, RpcStatuses } from '../src/rpc-status';

describe('gateway: gRPC status → HTTP answer', () => {
  const { registry } = Contract.load(descriptorSetPath);
  const statuses = new RpcStatuses(registry);
  const type = (name: string): DescMessage => registry.getMessage(name)!;

  it('maps every gRPC code the standard way (google.rpc.Code)', () => {
    expect(HTTP_STATUS_OF).to.deep.equal({
      0: 200, 1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
    });
  });

  it('answers code and message as google.rpc.Status JSON when the service sent no details', () => {
    expect(statuses.answer(Code.NOT_FOUND, 'order_id: order 7 not found')).to.deep.equal({ httpStatus: 404, body: { code: 5, message: 'order_id: order 7 not found' } });
    expect(statuses.answer(Code.RESOURCE_EXHAUSTED, 'slow down')).to.deep.equal({ httpStatus: 429, body: { code: 8, message: 'slow down' }, retryAfterSeconds: 1 });
    expect(statuses.answer(Code.UNAVAILABLE, 'down').retryAfterSeconds).to.equal(1);
  });

  it('passes the details of grpc-status-details-bin through as JSON, Retry-After from RetryInfo', () => {
    const details = [
      anyPack(type('google.rpc.ErrorInfo'), create(type('google.rpc.ErrorInfo'), { reason: 'SIGN_IN_THROTTLED', domain: 'orderbook.auth.v1', metadata: { retry: 'later' } })),
      anyPack(type('google.rpc.RetryInfo'), create(type('google.rpc.RetryInfo'), { retryDelay: { seconds: 2n, nanos: 500_000_000 } })),
      anyPack(type('google.rpc.BadRequest'), create(type('google.rpc.BadRequest'), { fieldViolations: [{ field: 'login', description: 'wait' }] })),
    ];
    const trailer = toBinary(type('google.rpc.Status'), create(type('google.rpc.Status'), { code: Code.RESOURCE_EXHAUSTED, message: 'wait', details }));
    const answer = statuses.answer(Code.RESOURCE_EXHAUSTED, 'wait', trailer);
    expect(answer).to.deep.equal({
      httpStatus: 429,
      retryAfterSeconds: 3,
      body: {
        code: 8,
        message: 'wait',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'SIGN_IN_THROTTLED', domain: 'orderbook.auth.v1', metadata: { retry: 'later' } },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2.500s' },
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'login', description: 'wait' }] },
        ],
      },
    });
  });

  it('keeps code and message when the trailer does not decode', () => {
    expect(statuses.answer(Code.INTERNAL, 'boom', Uint8Array.from([0xff, 0xff, 0xff]))).to.deep.equal({ httpStatus: 500, body: { code: 13, message: 'boom' } });
  });
});
