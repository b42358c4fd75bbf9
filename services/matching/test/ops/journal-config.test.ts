import { ConfigError } from '@orderbook/server-kit';
import { expect } from 'chai';
import { loadConfig } from '../../src/ops/config';

describe('journal configuration', () => {
  it('uses the file journal alone by default', () => {
    expect(loadConfig({}).jetstream).to.equal(undefined);
  });

  it('reads the JetStream stream, its servers and replicas', () => {
    const config = loadConfig({ MATCHING_JOURNAL: 'nats://10.0.0.1:4222, nats://nats-2:4222', MATCHING_JOURNAL_STREAM: 'BOOK', MATCHING_JOURNAL_REPLICAS: '3' });
    expect(config.jetstream).to.deep.equal({ servers: ['nats://10.0.0.1:4222', 'nats://nats-2:4222'], stream: 'BOOK', replicas: 3 });
    expect(loadConfig({ MATCHING_JOURNAL: 'nats://127.0.0.1:4222' }).jetstream).to.deep.equal({ servers: ['nats://127.0.0.1:4222'], stream: 'ORDERBOOK_COMMANDS', replicas: 1 });
  });

  it('reads the leader lease, the advertised address, NATS credentials and stream retention', () => {
    const config = loadConfig({
      MATCHING_JOURNAL: 'nats://127.0.0.1:4222',
      MATCHING_JOURNAL_REPLICAS: '3',
      MATCHING_LEASE_BUCKET: 'LEADER',
      MATCHING_LEASE_KEY: 'book',
      MATCHING_LEASE_TTL_MS: '2000',
      MATCHING_LEASE_RENEW_MS: '500',
      MATCHING_ADVERTISED_ADDRESS: 'matching-1.internal:50052',
      MATCHING_NATS_USER: 'orderbook',
      MATCHING_NATS_PASSWORD: 'secret',
      MATCHING_JOURNAL_RETAIN_COMMANDS: '100000',
    });
    expect(config.lease).to.deep.equal({ bucket: 'LEADER', key: 'book', ttlMs: 2000, renewEveryMs: 500, replicas: 3 });
    expect(config.advertisedAddress).to.equal('matching-1.internal:50052');
    expect(config.jetstream).to.deep.include({ user: 'orderbook', password: 'secret' });
    expect(config.retainCommands).to.equal(100_000);
    const defaults = loadConfig({ MATCHING_JOURNAL: 'nats://127.0.0.1:4222' });
    expect(defaults.lease).to.deep.equal({ bucket: 'ORDERBOOK_LEADER', key: 'matching', ttlMs: 3000, renewEveryMs: 1000, replicas: 1 });
    expect(defaults.advertisedAddress).to.equal(undefined);
    expect(defaults.retainCommands).to.equal(0);
  });

  for (const [env, variable] of [
    [{ MATCHING_JOURNAL: 'http://127.0.0.1:4222' }, 'MATCHING_JOURNAL'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1' }, 'MATCHING_JOURNAL'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1:4222', MATCHING_JOURNAL_STREAM: 'a.b' }, 'MATCHING_JOURNAL_STREAM'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1:4222', MATCHING_JOURNAL_REPLICAS: '0' }, 'MATCHING_JOURNAL_REPLICAS'],
    [{ MATCHING_LEASE_TTL_MS: '3000', MATCHING_LEASE_RENEW_MS: '1500' }, 'MATCHING_LEASE_RENEW_MS'],
    [{ MATCHING_LEASE_TTL_MS: '100' }, 'MATCHING_LEASE_TTL_MS'],
    [{ MATCHING_LEASE_BUCKET: 'a.b' }, 'MATCHING_LEASE_BUCKET'],
    [{ MATCHING_LEASE_KEY: 'a b' }, 'MATCHING_LEASE_KEY'],
    [{ MATCHING_ADVERTISED_ADDRESS: 'no-port' }, 'MATCHING_ADVERTISED_ADDRESS'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1:4222', MATCHING_JOURNAL_RETAIN_COMMANDS: '-1' }, 'MATCHING_JOURNAL_RETAIN_COMMANDS'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, variable);
    });
  }
});
