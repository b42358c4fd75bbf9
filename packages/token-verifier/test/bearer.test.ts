import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { bearerToken } from '../src';

function metadataWith(...values: string[]): Metadata {
  const metadata = new Metadata();
  for (const value of values) metadata.add('authorization', value);
  return metadata;
}

describe('bearerToken', () => {
  it('reads the token of "authorization: Bearer <token>"', () => {
    expect(bearerToken(metadataWith('Bearer abc.def-ghi_jkl'))).to.equal('abc.def-ghi_jkl');
  });

  it('accepts the scheme in any case and surrounding blanks', () => {
    expect(bearerToken(metadataWith('bearer t0k'))).to.equal('t0k');
    expect(bearerToken(metadataWith('BEARER t0k'))).to.equal('t0k');
    expect(bearerToken(metadataWith('  Bearer   t0k  '))).to.equal('t0k');
  });

  it('is undefined without the header, with another scheme, or with no token', () => {
    expect(bearerToken(new Metadata())).to.equal(undefined);
    expect(bearerToken(metadataWith('Basic dXNlcjpwYXNz'))).to.equal(undefined);
    expect(bearerToken(metadataWith('Bearer'))).to.equal(undefined);
    expect(bearerToken(metadataWith('Bearer '))).to.equal(undefined);
    expect(bearerToken(metadataWith('t0k'))).to.equal(undefined);
  });

  it('is undefined for tokens with characters outside RFC 6750 or with several parts', () => {
    expect(bearerToken(metadataWith('Bearer a b'))).to.equal(undefined);
    expect(bearerToken(metadataWith('Bearer a,b'))).to.equal(undefined);
    expect(bearerToken(metadataWith('Bearer a;b'))).to.equal(undefined);
    expect(bearerToken(metadataWith('Bearer a"b'))).to.equal(undefined);
  });

  it('is undefined when the header is sent twice (ambiguous)', () => {
    expect(bearerToken(metadataWith('Bearer one', 'Bearer two'))).to.equal(undefined);
  });
});
