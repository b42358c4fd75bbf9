import { expect } from 'chai';
import { ConfigError } from '@orderbook/server-kit';
import { loadConfig } from '../../src/ops/config';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  return expect.fail('accepted');
}

describe('matching configuration: the way to auth', () => {
  it('dials a loopback auth in plaintext with no set-up', () => {
    expect(loadConfig({}).authTls).to.equal(undefined);
  });

  it('refuses a plaintext non-loopback auth unless explicitly allowed, since a forged key set would let anyone mint tokens', () => {
    expect(refusal({ AUTH_ADDRESS: 'auth.internal:50051' })).to.match(/AUTH_ADDRESS auth\.internal:50051 is not a loopback address: set MATCHING_AUTH_TLS_CA_FILE .* or MATCHING_AUTH_ALLOW_PLAINTEXT=true/);
    expect(loadConfig({ AUTH_ADDRESS: 'auth.internal:50051', MATCHING_AUTH_ALLOW_PLAINTEXT: 'true' }).authTls).to.equal(undefined);
  });

  it('dials over TLS with a CA file, with a client certificate for mutual TLS', () => {
    const config = loadConfig({
      AUTH_ADDRESS: 'auth.internal:50051',
      MATCHING_AUTH_TLS_CA_FILE: '/etc/orderbook/ca.crt',
      MATCHING_AUTH_TLS_CERT_FILE: '/etc/orderbook/matching.crt',
      MATCHING_AUTH_TLS_KEY_FILE: '/etc/orderbook/matching.key',
      MATCHING_AUTH_TLS_SERVER_NAME: 'auth',
    });
    expect(config.authTls).to.deep.equal({ caFile: '/etc/orderbook/ca.crt', certFile: '/etc/orderbook/matching.crt', keyFile: '/etc/orderbook/matching.key', serverName: 'auth' });
    expect(refusal({ MATCHING_AUTH_TLS_CERT_FILE: '/etc/orderbook/matching.crt' })).to.match(/MATCHING_AUTH_TLS_CERT_FILE and MATCHING_AUTH_TLS_KEY_FILE: set both or neither/);
    expect(refusal({ MATCHING_AUTH_TLS_SERVER_NAME: 'auth' })).to.match(/MATCHING_AUTH_TLS_CA_FILE: required/);
  });

  it('refuses a plaintext gRPC server on a non-loopback address, naming the variable', () => {
    expect(refusal({ MATCHING_HOST: '0.0.0.0' })).to.match(/MATCHING_ALLOW_PLAINTEXT=true/);
  });
});
