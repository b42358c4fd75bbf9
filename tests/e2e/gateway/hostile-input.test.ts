import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { mintAccessToken, unsignedToken } from '../support/tokens';
import { ADMIN_PASSWORD, HttpStack, type Answer } from './http-stack';

/** Sends raw bytes as a request body (fetch would re-encode a string as UTF-8). */
function rawPost(url: string, path: string, body: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: new Headers(res.headers as Record<string, string>), json: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bad input through HTTP: a clear 4xx naming what is wrong, and nothing changed. */
describe('gateway: hostile input', () => {
  let stack: HttpStack;
  let dir: string;
  let signingKey: ReturnType<typeof generateKeyPairSync>['privateKey'];
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };
  let admin: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-gateway-hostile-'));
    signingKey = generateKeyPairSync('ed25519').privateKey;
    const keyFile = join(dir, 'signing-key.pem');
    await writeFile(keyFile, signingKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    stack = await HttpStack.start('gateway-hostile', { GATEWAY_RATE_BURST: '10000' }, ADMIN_PASSWORD, { auth: { AUTH_SIGNING_KEY_FILE: keyFile } });
    admin = await stack.admin();
    alice = await stack.trader('alice');
    bob = await stack.trader('bob');
    expect((await stack.call('POST', `/v1/users/${alice.userId}/funds`, { token: admin, body: { asset: 'USD', amount: '1000' } })).status).to.equal(200);
  });
  after(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function balances(): Promise<unknown> {
    return (await stack.call('GET', '/v1/balances', { token: alice.token })).json;
  }

  const order = { market: 'BTC-USD', side: 'SIDE_BUY', price: '100', quantity: '1' };

  /** Sends a body as given (a string is sent as it is) as alice and expects 400 naming field; her balances do not change. */
  async function refused(body: unknown, field: string, path = '/v1/orders', verb = 'POST'): Promise<Answer> {
    const before = await balances();
    const answer = await stack.call(verb, path, { token: alice.token, body });
    expect(answer.status, JSON.stringify(answer.json)).to.equal(400);
    expect(answer.json.code).to.equal(3);
    expect(answer.json.message.startsWith(`${field}: `), answer.json.message).to.equal(true);
    expect(await balances()).to.deep.equal(before);
    return answer;
  }

  it('answers malformed, nested, huge and odd JSON 400 naming the field, and places nothing', async () => {
    await refused('{"market":', 'body');
    await refused('[1,2]', 'body');
    await refused('null', 'body');
    await refused(`{"market":${'['.repeat(30_000)}${']'.repeat(30_000)}}`, 'market');
    await refused(`{"market":"BTC-USD","x":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`, 'x');
    await refused({ ...order, quantity: '9'.repeat(10_000) }, 'quantity');
    await refused(`{"market":"BTC-USD","side":"SIDE_BUY","price":"100","quantity":${'9'.repeat(10_000)}}`, 'quantity');
    await refused({ ...order, price: `1.${'0'.repeat(10_000)}` }, 'price');
    await refused({ ...order, market: 'x'.repeat(60_000) }, 'market');
    for (const quantity of ['-1', '1e2', '0.000000001', 'NaN', 'Infinity', ' 1', '0x10', '']) await refused({ ...order, quantity }, 'quantity');
    await refused(`{"market":"BTC-USD","side":"SIDE_BUY","price":"100","quantity":1}`, 'quantity');
    await refused({ ...order, market: 'BTC\u0000USD' }, 'market');
    await refused({ ...order, clientOrderId: 'a\u0000b' }, 'client_order_id');
  });

  it('refuses a key given twice, or one field under both its names: a proxy in front may have read the other one', async () => {
    const twice = await refused('{"market":"BTC-USD","side":"SIDE_SELL","side":"SIDE_BUY","price":"100","quantity":"1"}', 'side');
    expect(twice.json.details).to.deep.include({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'side', description: 'given more than once' }] });
    await refused({ ...order, client_order_id: 'a', clientOrderId: 'b' }, 'client_order_id');
  });

  it('refuses a body that is not UTF-8 instead of reading U+FFFD into a username', async () => {
    const body = Buffer.concat([Buffer.from('{"username":"mallory'), Buffer.from([0xff, 0xfe]), Buffer.from('","email":"m@example.com","password":"mallory-password-long"}')]);
    const answer = await rawPost(stack.url, '/v1/auth/sign-up', body);
    expect([answer.status, answer.json.message]).to.deep.equal([400, 'body: not UTF-8']);
    expect((await stack.call('POST', '/v1/auth/sign-in', { body: { login: 'mallory\ufffd\ufffd', password: 'mallory-password-long' } })).status).to.equal(401);
  });

  it('reads the body as JSON whatever the Content-Type says (curl -d sends a form type)', async () => {
    const placed = await stack.call('POST', '/v1/orders', { token: alice.token, body: JSON.stringify({ ...order, price: '1' }), headers: { 'content-type': 'text/plain' } });
    expect(placed.status).to.equal(200);
    expect((await stack.call('DELETE', `/v1/orders/${placed.json.order.orderId}`, { token: alice.token })).status).to.equal(200);
  });

  it('answers hostile paths 400 naming the field or 404, never a file or another route', async () => {
    for (const path of ['/v1/orders/..%2F..%2Fadmin', '/v1/orders/%00', '/v1/orders/a%00b', `/v1/orders/${'9'.repeat(5000)}`]) {
      for (const verb of ['GET', 'DELETE']) {
        const answer = await stack.call(verb, path, { token: alice.token });
        expect([answer.status, answer.json.message.split(':')[0]], `${verb} ${path.slice(0, 40)}`).to.deep.equal([400, 'orderId']);
      }
    }
    const badEscape = await stack.call('GET', '/v1/orders/%ff', { token: alice.token });
    expect([badEscape.status, badEscape.json.details[1].fieldViolations[0].field]).to.deep.equal([400, 'path']);
    expect((await stack.call('DELETE', '/v1/orders/by-client-id/%00', { token: alice.token })).json.message).to.match(/^client_order_id: /);
    for (const path of ['/v1/orders/%2e%2e', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/console.js/..%2f..%2fpackage.json']) {
      const answer = await fetch(`${stack.url}${path}`);
      expect(answer.status, path).to.be.oneOf([400, 404]);
      expect(answer.headers.get('content-type'), path).to.match(/^application\/json/);
    }
  });

  it('answers a request line or headers past 16 KiB 431, and serves the next client', async () => {
    const manyHeaders: Record<string, string> = {};
    for (let i = 0; i < 3000; i += 1) manyHeaders[`x-h${i}`] = 'v';
    expect((await fetch(`${stack.url}/v1/markets?x=${'a'.repeat(100_000)}`)).status).to.equal(431);
    expect((await fetch(`${stack.url}/v1/markets`, { headers: { 'x-junk': 'a'.repeat(100_000) } })).status).to.equal(431);
    expect((await fetch(`${stack.url}/v1/markets`, { headers: manyHeaders })).status).to.equal(431);
    expect((await stack.call('GET', '/v1/markets')).status).to.equal(200);
  });

  it('takes the access token only from Authorization: Bearer; forged, unsigned, expired, Basic or in the query string is 401 (or 400)', async () => {
    const kid = (await stack.call('GET', '/v1/auth/keys')).json.keys[0].kid as string;
    const { issuer, audience } = stack.services.auth;
    const expired = await mintAccessToken({ key: signingKey, kid, issuer, audience, subject: alice.userId, roles: ['trader'], expiresInSeconds: -600 });
    const unsigned = unsignedToken(kid, issuer, audience, alice.userId, ['admin']);
    const refusals: [string, Record<string, string>, RegExp][] = [
      ['none', {}, /^authorization: expected/],
      ['forged', { authorization: 'Bearer forged' }, /^authorization: token is not a signed JWT/],
      ['alg none', { authorization: `Bearer ${unsigned}` }, /^authorization: /],
      ['expired', { authorization: `Bearer ${expired}` }, /^authorization: token has expired/],
      ['basic', { authorization: `Basic ${alice.token}` }, /^authorization: expected/],
    ];
    for (const [name, headers, message] of refusals) {
      const answer = await stack.call('GET', '/v1/balances', { headers });
      expect([answer.status, answer.json.code], name).to.deep.equal([401, 16]);
      expect(answer.json.message, name).to.match(message);
    }
    expect((await stack.call('POST', `/v1/users/${bob.userId}/funds`, { headers: { authorization: `Bearer ${unsigned}` }, body: { asset: 'USD', amount: '1' } })).status).to.equal(401);
    const inQuery = await stack.call('GET', `/v1/balances?access_token=${alice.token}`);
    expect([inQuery.status, inQuery.json.message.split(':')[0]]).to.deep.equal([400, 'access_token']);
    expect((await stack.call('POST', `/v1/orders?access_token=${alice.token}`, { body: order })).status).to.equal(401);
  });

  it("lets the path name the order or user: a body naming another is refused, and nobody reaches another user's order by any route", async () => {
    const mine = (await stack.call('POST', '/v1/orders', { token: alice.token, body: { ...order, price: '10', clientOrderId: 'alice-1' } })).json.order.orderId as string;
    const conflict = await refused({ orderId: '999', price: '11' }, 'order_id', `/v1/orders/${mine}`, 'PATCH');
    expect(conflict.json.message).to.match(/the path says/);
    const same = await stack.call('PATCH', `/v1/orders/${mine}`, { token: alice.token, body: { orderId: mine, price: '11' } });
    expect([same.status, same.json.order.price]).to.deep.equal([200, '11']);
    await refused({ userId: bob.userId, asset: 'USD', amount: '1' }, 'user_id', `/v1/users/${alice.userId}/funds`);
    const funds = await stack.call('POST', `/v1/users/${alice.userId}/funds`, { token: admin, body: { user_id: bob.userId, asset: 'USD', amount: '1' } });
    expect([funds.status, funds.json.message.split(':')[0]]).to.deep.equal([400, 'user_id']);
    for (const [verb, path, body] of [
      ['GET', `/v1/orders/${mine}`, undefined],
      ['DELETE', `/v1/orders/${mine}`, undefined],
      ['PATCH', `/v1/orders/${mine}`, { price: '12' }],
      ['DELETE', '/v1/orders/by-client-id/alice-1', undefined],
      ['PATCH', '/v1/orders/by-client-id/alice-1', { price: '12' }],
    ] as const) {
      const answer = await stack.call(verb, path, { token: bob.token, ...(body === undefined ? {} : { body }) });
      expect(answer.status, `${verb} ${path}`).to.equal(404);
    }
    const still = await stack.call('GET', `/v1/orders/${mine}`, { token: alice.token });
    expect(still.json.order).to.include({ price: '11', status: 'ORDER_STATUS_OPEN' });
  });
});
