import { expect } from 'chai';
import { splitHostPort } from '../src/address';

describe('splitHostPort', () => {
  it('cuts a name, an IPv4 and a bracketed IPv6 address at the port', () => {
    expect(splitHostPort('auth.internal:50051')).to.deep.equal({ host: 'auth.internal', port: 50051 });
    expect(splitHostPort('127.0.0.1:1')).to.deep.equal({ host: '127.0.0.1', port: 1 });
    expect(splitHostPort('[::1]:50052')).to.deep.equal({ host: '::1', port: 50052 });
  });
});
