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

  for (const [env, variable] of [
    [{ MATCHING_JOURNAL: 'http://127.0.0.1:4222' }, 'MATCHING_JOURNAL'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1' }, 'MATCHING_JOURNAL'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1:4222', MATCHING_JOURNAL_STREAM: 'a.b' }, 'MATCHING_JOURNAL_STREAM'],
    [{ MATCHING_JOURNAL: 'nats://127.0.0.1:4222', MATCHING_JOURNAL_REPLICAS: '0' }, 'MATCHING_JOURNAL_REPLICAS'],
  ] as const) {
    it(`refuses ${JSON.stringify(env)} naming ${variable}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, variable);
    });
  }
});
