import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import { grpcError, withoutStackTrace } from '../src/grpc-errors';

describe('errors made without a stack trace', () => {
  it('grpcError: code, message and metadata as before, the stack only its first line', () => {
    const error = grpcError(status.FAILED_PRECONDITION, 'quantity: insufficient liquidity', { reason: 'INSUFFICIENT_LIQUIDITY' });
    expect(error).to.be.instanceOf(Error);
    expect([error.code, error.details, error.message]).to.deep.equal([status.FAILED_PRECONDITION, 'quantity: insufficient liquidity', 'quantity: insufficient liquidity']);
    expect(error.metadata.get('grpc-status-details-bin')).to.have.length(1);
    expect(error.stack).to.equal('Error: quantity: insufficient liquidity');
  });

  it('gives Error.stackTraceLimit back, also when making the error throws', () => {
    const limit = Error.stackTraceLimit;
    class Named extends Error {
      override readonly name = 'Named';
    }
    expect(withoutStackTrace(() => new Named('no trace')).stack).to.equal('Named: no trace');
    expect(() =>
      withoutStackTrace(() => {
        throw new TypeError('while making it');
      }),
    ).to.throw(TypeError);
    expect(Error.stackTraceLimit).to.equal(limit);
    expect(new Error('traced').stack).to.contain('\n    at ');
  });
});
