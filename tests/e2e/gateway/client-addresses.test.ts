import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { FORWARDED_FOR } from '@orderbook/server-kit';
import { AuthClient, expectStatus } from '@orderbook/test-support';
import { startInProcessServices, type InProcessServices } from '../../support/in-process-services';
import { ADMIN_PASSWORD, HttpStack } from './http-stack';
import { SseReader } from './sse-reader';

const LOOPBACK = '127.0.0.1,::1';

function signUp(username: string) {
  return { body: { username, email: `${username}@example.com`, password: `${username}-password-long` } };
}

describe('the services count each HTTP client behind the gateway by the address it forwards', () => {
  let stack: HttpStack;
  before(async () => {
    stack = await HttpStack.start('gateway-client-addresses', { GATEWAY_TRUSTED_PROXIES: '127.0.0.1' }, ADMIN_PASSWORD, {
      auth: { AUTH_SIGNUP_MAX_PER_PEER: '2', AUTH_TRUSTED_PROXIES: LOOPBACK },
      matching: { MATCHING_MAX_STREAMS_PER_PEER: '1', MATCHING_TRUSTED_PROXIES: LOOPBACK },
    });
  });
  after(() => stack.stop());

  it("auth's sign-up limit per address: one client's budget spent leaves another's whole", async () => {
    const first = { headers: { 'x-forwarded-for': '203.0.113.1' } };
    const statuses = [];
    for (const name of ['fwd-a1', 'fwd-a2', 'fwd-a3']) statuses.push((await stack.call('POST', '/v1/auth/sign-up', { ...signUp(name), ...first })).status);
    expect(statuses).to.deep.equal([200, 200, 429]);
    const other = await stack.call('POST', '/v1/auth/sign-up', { ...signUp('fwd-b1'), headers: { 'x-forwarded-for': '203.0.113.2' } });
    expect(other.status).to.equal(200);
  });

  it("matching's stream limit per address: each client gets its own streams, a second one from the same client is refused", async () => {
    const a = await SseReader.open(`${stack.url}/v1/markets/BTC-USD/trades/events`, { 'x-forwarded-for': '198.51.100.1' });
    const b = await SseReader.open(`${stack.url}/v1/markets/ETH-USD/trades/events`, { 'x-forwarded-for': '198.51.100.2' });
    const again = await SseReader.open(`${stack.url}/v1/markets/SOL-USD/trades/events`, { 'x-forwarded-for': '198.51.100.1' });
    try {
      expect([a.status, b.status, again.status]).to.deep.equal([200, 200, 429]);
      expect(again.errorJson.details[0]).to.include({ reason: 'TOO_MANY_STREAMS_FROM_PEER' });
      expect(again.errorJson.details[0].metadata).to.include({ peer: '198.51.100.1' });
    } finally {
      for (const reader of [a, b, again]) reader.close();
    }
  });
});

describe('x-forwarded-for from a caller that is not a trusted proxy', () => {
  let services: InProcessServices;
  let client: AuthClient;
  before(async () => {
    services = await startInProcessServices('untrusted-forwarded-for', ADMIN_PASSWORD, { auth: { AUTH_SIGNUP_MAX_PER_PEER: '2' } });
    client = new AuthClient(services.auth.address);
  });
  after(() => services.stop());

  it('is ignored: forged addresses do not buy a fresh sign-up budget', async () => {
    const forged = (address: string): grpc.Metadata => {
      const metadata = new grpc.Metadata();
      metadata.set(FORWARDED_FOR, address);
      return metadata;
    };
    for (const [i, address] of ['192.0.2.1', '192.0.2.2'].entries()) {
      await client.signUp({ username: `forger${i}`, email: `forger${i}@example.com`, password: 'forger-password-long' }, forged(address));
    }
    await expectStatus(client.signUp({ username: 'forger2', email: 'forger2@example.com', password: 'forger-password-long' }, forged('192.0.2.3')), grpc.status.RESOURCE_EXHAUSTED);
  });
});
