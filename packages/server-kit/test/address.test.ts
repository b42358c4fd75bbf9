import { Metadata } from '@grpc/grpc-js';
import { expect } from 'chai';
import { splitHostPort } from '../src/address';
import { ClientAddresses, FORWARDED_FOR, peerAddress, readTrustedProxies } from '../src/client-address';
import { ConfigError, ConfigReader } from '../src/config-table';

describe('splitHostPort', () => {
  it('cuts a name, an IPv4 and a bracketed IPv6 address at the port', () => {
    expect(splitHostPort('auth.internal:50051')).to.deep.equal({ host: 'auth.internal', port: 50051 });
    expect(splitHostPort('127.0.0.1:1')).to.deep.equal({ host: '127.0.0.1', port: 1 });
    expect(splitHostPort('[::1]:50052')).to.deep.equal({ host: '::1', port: 50052 });
  });
});

describe('client addresses', () => {
  const call = (peer: string, forwarded?: string) => {
    const metadata = new Metadata();
    if (forwarded !== undefined) metadata.set(FORWARDED_FOR, forwarded);
    return { getPeer: () => peer, metadata };
  };

  it('reads the IP address out of every form of grpc-js peer string, IPv4-mapped IPv6 unmapped', () => {
    const peers = ['127.0.0.1:5000', 'ipv4:127.0.0.1:5000', '::1:5000', '[::1]:5000', 'ipv6:[2001:db8::1]:443', '[::ffff:10.1.2.3]:80'];
    expect(peers.map(peerAddress)).to.deep.equal(['127.0.0.1', '127.0.0.1', '::1', '::1', '2001:db8::1', '10.1.2.3']);
  });

  it("takes a trusted proxy's last forwarded address, and ignores anyone else's", () => {
    const clients = new ClientAddresses(new Set(['10.0.0.5']));
    expect(clients.of(call('10.0.0.5:4000', '198.51.100.9, 203.0.113.4'))).to.equal('203.0.113.4');
    expect(clients.of(call('10.0.0.5:4000', '::ffff:203.0.113.4'))).to.equal('203.0.113.4');
    expect(clients.of(call('10.0.0.6:4000', '203.0.113.4'))).to.equal('10.0.0.6');
  });

  it("falls back to the proxy's own address when what it forwards is missing or not an IP address", () => {
    const clients = new ClientAddresses(new Set(['10.0.0.5']));
    for (const forwarded of [undefined, '', 'unknown', '203.0.113.4:80', 'x'.repeat(10_000)]) expect(clients.of(call('10.0.0.5:4000', forwarded)), String(forwarded)).to.equal('10.0.0.5');
  });

  it('resolves an HTTP peer (a bare address, IPv4-mapped on a dual-stack socket) and its X-Forwarded-For header the same way', () => {
    const clients = new ClientAddresses(new Set(['10.0.0.5']));
    expect(clients.resolve('::ffff:10.0.0.5', '198.51.100.9, 203.0.113.4')).to.equal('203.0.113.4');
    expect(clients.resolve('::ffff:10.0.0.6', '203.0.113.4')).to.equal('10.0.0.6');
    expect(clients.resolve('::1', undefined)).to.equal('::1');
    expect(clients.resolve('10.0.0.5', 'x'.repeat(10_000))).to.equal('10.0.0.5');
  });

  it('reads the trusted proxies from a comma-separated list, refusing anything but IP addresses by the variable name', () => {
    const vars = (value: string) => new ConfigReader([{ name: 'X_TRUSTED_PROXIES', default: '', meaning: '' }], { X_TRUSTED_PROXIES: value });
    expect([...readTrustedProxies(vars(''), 'X_TRUSTED_PROXIES')]).to.deep.equal([]);
    expect([...readTrustedProxies(vars(' 127.0.0.1, ::1 ,'), 'X_TRUSTED_PROXIES')]).to.deep.equal(['127.0.0.1', '::1']);
    expect(() => readTrustedProxies(vars('127.0.0.1,gateway.internal'), 'X_TRUSTED_PROXIES')).to.throw(ConfigError, /X_TRUSTED_PROXIES: "gateway.internal" is not an IP address/);
  });
});
