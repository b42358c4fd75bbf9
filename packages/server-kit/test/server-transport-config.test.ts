import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ConfigError } from '../src/config-table';
import { isLoopback, readServerTransport } from '../src/server-transport-config';

function refusal(host: string, env: Record<string, string>): string {
  try {
    readServerTransport('SVC', host, 'SVC_HOST', env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  return expect.fail('accepted');
}

describe('server transport configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orderbook-transport-'));
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  writeFileSync(cert, 'not read here');
  writeFileSync(key, 'not read here');

  it('serves plaintext on loopback addresses with no set-up', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) {
      expect(readServerTransport('SVC', host, 'SVC_HOST', {}).tls, host).to.equal(undefined);
    }
  });

  it('refuses plaintext on any other address, naming the variables, unless explicitly allowed', () => {
    for (const host of ['0.0.0.0', '::', '10.0.0.5', 'exchange.example.com']) {
      expect(refusal(host, {}), host).to.match(/SVC_HOST is .* not a loopback address.*SVC_TLS_CERT_FILE and SVC_TLS_KEY_FILE, or SVC_ALLOW_PLAINTEXT=true/);
      expect(readServerTransport('SVC', host, 'SVC_HOST', { SVC_ALLOW_PLAINTEXT: 'true' }).tls).to.equal(undefined);
    }
    expect(readServerTransport('SVC', '0.0.0.0', 'SVC_HOST', { SVC_TLS_CERT_FILE: cert, SVC_TLS_KEY_FILE: key }).tls).to.deep.equal({ certFile: cert, keyFile: key });
  });

  it('needs certificate and key together, a certificate for mutual TLS, and readable files', () => {
    expect(refusal('127.0.0.1', { SVC_TLS_CERT_FILE: cert })).to.match(/SVC_TLS_CERT_FILE and SVC_TLS_KEY_FILE: set both or neither/);
    expect(refusal('127.0.0.1', { SVC_TLS_CLIENT_CA_FILE: cert })).to.match(/SVC_TLS_CLIENT_CA_FILE: mutual TLS needs/);
    expect(refusal('127.0.0.1', { SVC_TLS_CERT_FILE: join(dir, 'missing.crt'), SVC_TLS_KEY_FILE: key })).to.match(/SVC_TLS_CERT_FILE: cannot read .*missing\.crt \(ENOENT\)/);
  });

  it('turns the connection variables into grpc-js server options (0 leaves a limit off)', () => {
    expect(readServerTransport('SVC', '127.0.0.1', 'SVC_HOST', {}).options).to.deep.equal({
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      'grpc.max_send_message_length': 4 * 1024 * 1024,
      'grpc.keepalive_time_ms': 60_000,
      'grpc.keepalive_timeout_ms': 20_000,
      'grpc.max_concurrent_streams': 1000,
    });
    const options = readServerTransport('SVC', '127.0.0.1', 'SVC_HOST', {
      SVC_GRPC_MAX_CONNECTION_IDLE_MS: '300000',
      SVC_GRPC_MAX_CONNECTION_AGE_MS: '1800000',
      SVC_GRPC_MAX_CONNECTION_AGE_GRACE_MS: '30000',
    }).options;
    expect(options).to.include({ 'grpc.max_connection_idle_ms': 300_000, 'grpc.max_connection_age_ms': 1_800_000, 'grpc.max_connection_age_grace_ms': 30_000 });
    expect(refusal('127.0.0.1', { SVC_GRPC_MAX_CONCURRENT_STREAMS: '0' })).to.match(/SVC_GRPC_MAX_CONCURRENT_STREAMS: must be between 1/);
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '::1', 'localhost'].map(isLoopback)).to.deep.equal([true, true, true]);
    expect(['0.0.0.0', '128.0.0.1', '::', '::ffff:127.0.0.1x', 'localhost.example.com'].map(isLoopback)).to.deep.equal([false, false, false, false, false]);
  });
});
