import { expect } from 'chai';
import { ConfigError } from '@orderbook/server-kit';
import { loadConfig } from '../src/config';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  return expect.fail('accepted');
}

describe('gateway configuration: how it dials the services', () => {
  it('dials loopback services in plaintext with no set-up', () => {
    const { upstreams } = loadConfig({});
    expect(upstreams).to.deep.equal({ auth: { address: '127.0.0.1:50051' }, matching: { address: '127.0.0.1:50052' } });
  });

  it('refuses plaintext to any other address, naming the variables, unless explicitly allowed', () => {
    expect(refusal({ GATEWAY_MATCHING_ADDRESS: 'matching.internal:50052' })).to.match(
      /GATEWAY_MATCHING_ADDRESS matching\.internal:50052 is not a loopback address: set GATEWAY_MATCHING_TLS_CA_FILE .* or GATEWAY_MATCHING_ALLOW_PLAINTEXT=true/,
    );
    expect(refusal({ GATEWAY_AUTH_ADDRESS: '10.0.0.5:50051' })).to.match(/GATEWAY_AUTH_ADDRESS 10\.0\.0\.5:50051 is not a loopback address: set GATEWAY_AUTH_TLS_CA_FILE/);
    expect(loadConfig({ GATEWAY_AUTH_ADDRESS: '10.0.0.5:50051', GATEWAY_AUTH_ALLOW_PLAINTEXT: 'true' }).upstreams.auth).to.deep.equal({ address: '10.0.0.5:50051' });
  });

  it('dials over TLS with a CA, and with a client certificate only as a pair', () => {
    const tls = loadConfig({
      GATEWAY_MATCHING_ADDRESS: 'matching.internal:50052',
      GATEWAY_MATCHING_TLS_CA_FILE: '/etc/orderbook/ca.crt',
      GATEWAY_MATCHING_TLS_CERT_FILE: '/etc/orderbook/gateway.crt',
      GATEWAY_MATCHING_TLS_KEY_FILE: '/etc/orderbook/gateway.key',
    }).upstreams.matching;
    expect(tls).to.deep.equal({
      address: 'matching.internal:50052',
      tls: { caFile: '/etc/orderbook/ca.crt', certFile: '/etc/orderbook/gateway.crt', keyFile: '/etc/orderbook/gateway.key' },
    });
    expect(refusal({ GATEWAY_AUTH_TLS_CA_FILE: '/ca.crt', GATEWAY_AUTH_TLS_CERT_FILE: '/gateway.crt' })).to.match(/GATEWAY_AUTH_TLS_CERT_FILE and GATEWAY_AUTH_TLS_KEY_FILE: set both or neither/);
    expect(refusal({ GATEWAY_AUTH_TLS_SERVER_NAME: 'auth.internal' })).to.match(/GATEWAY_AUTH_TLS_CA_FILE: required with the other GATEWAY_AUTH_TLS_ variables/);
  });
});

describe('gateway configuration: client addresses and timeouts', () => {
  it('believes X-Forwarded-For only from the listed proxies; the retired GATEWAY_TRUST_PROXY stops start-up naming its replacement', () => {
    expect([...loadConfig({}).trustedProxies]).to.deep.equal([]);
    expect([...loadConfig({ GATEWAY_TRUSTED_PROXIES: '10.0.0.5, ::ffff:10.0.0.6' }).trustedProxies]).to.deep.equal(['10.0.0.5', '10.0.0.6']);
    expect(refusal({ GATEWAY_TRUSTED_PROXIES: 'proxy.internal' })).to.match(/GATEWAY_TRUSTED_PROXIES: "proxy.internal" is not an IP address/);
    expect(refusal({ GATEWAY_TRUST_PROXY: '1' })).to.match(/GATEWAY_TRUST_PROXY: no longer read; see GATEWAY_TRUSTED_PROXIES/);
  });

  it('refuses a headers timeout longer than the request timeout', () => {
    expect(loadConfig({}).headersTimeoutMs).to.equal(10_000);
    expect(refusal({ GATEWAY_HEADERS_TIMEOUT_SECONDS: '31' })).to.match(/GATEWAY_HEADERS_TIMEOUT_SECONDS: must not be more than GATEWAY_REQUEST_TIMEOUT_SECONDS/);
  });
});
