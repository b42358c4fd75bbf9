import { expect } from 'chai';
import { descriptorSetPath } from '@orderbook/proto';
import { Contract } from '@orderbook/gateway-service/src/contract';
import { HttpStack, type Answer } from './http-stack';

/** Every google.api.http route over HTTP, as curl would call it, against real auth and matching. */
describe('gateway: every HTTP route reaches its RPC', () => {
  const contract = Contract.load(descriptorSetPath);
  const covered = new Set<string>();
  let stack: HttpStack;
  let admin: string;
  let alice: { token: string; userId: string };
  let bob: { token: string; userId: string };

  /** Calls a route and records it as covered (by its template, e.g. DELETE /v1/orders/{order_id}). */
  async function route(verb: string, template: string, path: string, options: Parameters<HttpStack['call']>[2] = {}): Promise<Answer> {
    covered.add(`${verb} ${template}`);
    return stack.call(verb, path, options);
  }

  before(async () => {
    // Every route and its refusals from one address: more calls than the default burst allows (limits.test.ts covers the limit).
    stack = await HttpStack.start('gateway-routes', { GATEWAY_RATE_BURST: '10000' });
    admin = await stack.admin();
  });
  after(() => stack.stop());

  describe('auth', () => {
    it('signs up (POST /v1/auth/sign-up) and answers a taken name 409 ALREADY_EXISTS', async () => {
      const body = { username: 'alice', email: 'alice@example.com', password: 'alice-password-long' };
      const created = await route('POST', '/v1/auth/sign-up', '/v1/auth/sign-up', { body });
      expect(created.status).to.equal(200);
      expect(created.json.user).to.include({ username: 'alice', email: 'alice@example.com' });
      expect(created.json.user.roles).to.deep.equal(['ROLE_TRADER']);
      const again = await stack.call('POST', '/v1/auth/sign-up', { body });
      expect(again.status).to.equal(409);
      expect(again.json).to.include({ code: 6 });
      expect(again.json.message).to.match(/already taken/);
      // The service's google.rpc.Status details (grpc-status-details-bin) pass through as JSON.
      expect(again.json.details.find((d: { '@type': string }) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo')).to.include({ reason: 'USER_EXISTS' });
    });

    it('signs in (POST /v1/auth/sign-in), 401 UNAUTHENTICATED for a wrong password', async () => {
      const signedIn = await route('POST', '/v1/auth/sign-in', '/v1/auth/sign-in', { body: { login: 'alice', password: 'alice-password-long' } });
      expect(signedIn.status).to.equal(200);
      expect(signedIn.json.tokens.accessToken).to.be.a('string');
      expect(signedIn.json.tokens.tokenType).to.equal('Bearer');
      alice = { token: signedIn.json.tokens.accessToken, userId: signedIn.json.user.id };
      const wrong = await stack.call('POST', '/v1/auth/sign-in', { body: { login: 'alice', password: 'not-her-password' } });
      expect(wrong.status).to.equal(401);
      expect(wrong.json.code).to.equal(16);
    });

    it('completes a sign-in (POST /v1/auth/sign-in/complete): a forged ticket is 401', async () => {
      const answer = await route('POST', '/v1/auth/sign-in/complete', '/v1/auth/sign-in/complete', { body: { ticket: 'forged', code: '123456' } });
      expect(answer.status).to.equal(401);
    });

    it('reads the caller (GET /v1/auth/me) with the bearer token, 401 without', async () => {
      const me = await route('GET', '/v1/auth/me', '/v1/auth/me', { token: alice.token });
      expect(me.status).to.equal(200);
      expect(me.json.user).to.include({ id: alice.userId, username: 'alice' });
      expect((await stack.call('GET', '/v1/auth/me')).status).to.equal(401);
    });

    it('publishes the signing keys (GET /v1/auth/keys)', async () => {
      const keys = await route('GET', '/v1/auth/keys', '/v1/auth/keys');
      expect(keys.status).to.equal(200);
      expect(keys.json.keys[0]).to.include({ kty: 'OKP' });
    });

    it('lists sessions (GET /v1/auth/sessions) and revokes one (DELETE /v1/auth/sessions/{session_id}), 404 once revoked, 400 for a malformed id', async () => {
      const second = await stack.signIn('alice', 'alice-password-long');
      const sessions = await route('GET', '/v1/auth/sessions', '/v1/auth/sessions', { token: alice.token });
      expect(sessions.status).to.equal(200);
      expect(sessions.json.sessions).to.have.length(2);
      const other = sessions.json.sessions.find((s: { current?: boolean }) => s.current !== true);
      const revoked = await route('DELETE', '/v1/auth/sessions/{session_id}', `/v1/auth/sessions/${other.sessionId}`, { token: alice.token });
      expect(revoked.status).to.equal(200);
      expect((await stack.call('GET', '/v1/auth/me', { token: second.token })).status).to.equal(401);
      const gone = await stack.call('DELETE', `/v1/auth/sessions/${other.sessionId}`, { token: alice.token });
      expect(gone.status).to.equal(404);
      expect(gone.json.code).to.equal(5);
      const malformed = await stack.call('DELETE', '/v1/auth/sessions/no-such-session', { token: alice.token });
      expect(malformed.status).to.equal(400);
      expect(malformed.json.message).to.match(/^session_id: /);
    });

    it('refreshes (POST /v1/auth/refresh) and signs out (POST /v1/auth/sign-out)', async () => {
      const signedIn = await stack.call('POST', '/v1/auth/sign-in', { body: { login: 'alice', password: 'alice-password-long' } });
      const refreshed = await route('POST', '/v1/auth/refresh', '/v1/auth/refresh', { body: { refreshToken: signedIn.json.tokens.refreshToken } });
      expect(refreshed.status).to.equal(200);
      const signedOut = await route('POST', '/v1/auth/sign-out', '/v1/auth/sign-out', { body: { refreshToken: refreshed.json.tokens.refreshToken } });
      expect(signedOut.status).to.equal(200);
      expect(signedOut.json).to.deep.equal({});
      expect((await stack.call('POST', '/v1/auth/refresh', { body: { refreshToken: refreshed.json.tokens.refreshToken } })).status).to.equal(401);
    });

    it('starts a TOTP enrolment (POST /v1/auth/totp/enrollment), refuses a wrong code (…/confirm: 401) and a disable without a factor (…/disable)', async () => {
      const begun = await route('POST', '/v1/auth/totp/enrollment', '/v1/auth/totp/enrollment', { token: alice.token, body: { currentPassword: 'alice-password-long' } });
      expect(begun.status).to.equal(200);
      expect(begun.json.secret).to.be.a('string');
      expect(begun.json.digits).to.equal(6);
      const confirmed = await route('POST', '/v1/auth/totp/enrollment/confirm', '/v1/auth/totp/enrollment/confirm', { token: alice.token, body: { code: '000000' } });
      expect(confirmed.status).to.equal(401);
      const disabled = await route('POST', '/v1/auth/totp/disable', '/v1/auth/totp/disable', { token: alice.token, body: { currentPassword: 'alice-password-long', code: '000000' } });
      expect(disabled.status).to.be.oneOf([400, 401]);
      expect(disabled.json.code).to.be.oneOf([9, 16]);
    });

    it('changes the password (POST /v1/auth/password): 401 for a wrong current one, 200 and the other sessions end', async () => {
      const wrong = await route('POST', '/v1/auth/password', '/v1/auth/password', { token: alice.token, body: { currentPassword: 'wrong-password-xx', newPassword: 'alice-new-password' } });
      expect(wrong.status).to.equal(401);
      const changed = await stack.call('POST', '/v1/auth/password', { token: alice.token, body: { currentPassword: 'alice-password-long', newPassword: 'alice-new-password' } });
      expect(changed.status).to.equal(200);
      alice = await stack.signIn('alice', 'alice-new-password');
    });

    it('looks users up (GET /v1/users/lookup?login=) for admins: 200, 403 PERMISSION_DENIED for a trader, 404 for nobody', async () => {
      const found = await route('GET', '/v1/users/lookup', '/v1/users/lookup?login=alice', { token: admin });
      expect(found.status).to.equal(200);
      expect(found.json.user.id).to.equal(alice.userId);
      const denied = await stack.call('GET', '/v1/users/lookup?login=alice', { token: alice.token });
      expect(denied.status).to.equal(403);
      expect(denied.json.code).to.equal(7);
      expect((await stack.call('GET', '/v1/users/lookup?login=nobody-here', { token: admin })).status).to.equal(404);
    });

    it('sets roles (PUT /v1/users/{user_id}/roles) and reads the audit log (GET /v1/audit-events?pageSize=)', async () => {
      bob = await stack.trader('bob');
      const roles = await route('PUT', '/v1/users/{user_id}/roles', `/v1/users/${bob.userId}/roles`, { token: admin, body: { roles: ['ROLE_TRADER'] } });
      expect(roles.status).to.equal(200);
      expect(roles.json.user.roles).to.deep.equal(['ROLE_TRADER']);
      bob = await stack.signIn('bob', 'bob-password-long');
      const events = await route('GET', '/v1/audit-events', '/v1/audit-events?pageSize=3', { token: admin });
      expect(events.status).to.equal(200);
      expect(events.json.events).to.have.length(3);
      expect(events.json.nextPageToken).to.be.a('string');
    });

    it('signs out everywhere (POST /v1/auth/sign-out-everywhere)', async () => {
      const carol = await stack.trader('carol');
      const answer = await route('POST', '/v1/auth/sign-out-everywhere', '/v1/auth/sign-out-everywhere', { token: carol.token, body: {} });
      expect(answer.status).to.equal(200);
      expect(answer.json.sessionsRevoked).to.equal(1);
    });
  });

  describe('matching', () => {
    let ask: string;

    it('lists markets (GET /v1/markets)', async () => {
      const markets = await route('GET', '/v1/markets', '/v1/markets');
      expect(markets.status).to.equal(200);
      expect(markets.json.markets.map((m: { symbol: string }) => m.symbol)).to.deep.equal(['BTC-USD', 'ETH-USD', 'SOL-USD']);
    });

    it('adds funds (POST /v1/users/{user_id}/funds) as admin, 403 for a trader', async () => {
      const funded = await route('POST', '/v1/users/{user_id}/funds', `/v1/users/${bob.userId}/funds`, { token: admin, body: { asset: 'BTC', amount: '2' } });
      expect(funded.status).to.equal(200);
      expect(funded.json).to.deep.equal({ userId: bob.userId, balance: { asset: 'BTC', available: '2', locked: '0' } });
      await stack.call('POST', `/v1/users/${alice.userId}/funds`, { token: admin, body: { asset: 'USD', amount: '100000' } });
      expect((await stack.call('POST', `/v1/users/${bob.userId}/funds`, { token: bob.token, body: { asset: 'BTC', amount: '2' } })).status).to.equal(403);
    });

    it('reads the fee account (GET /v1/fees/balances) as admin, 403 for a trader; funds it (POST /v1/users/exchange:fees/funds) and reads its ledger', async () => {
      await stack.call('POST', '/v1/users/exchange:fees/funds', { token: admin, body: { asset: 'USD', amount: '1.5', reference: 'rebate float' } });
      const ledger = await stack.call('GET', '/v1/users/exchange:fees/ledger', { token: admin });
      expect(ledger.json.entries.map((e: Record<string, string>) => [e['kind'], e['amount'], e['reference']])).to.deep.equal([['LEDGER_ENTRY_KIND_DEPOSIT', '1.5', 'rebate float']]);
      const fees = await route('GET', '/v1/fees/balances', '/v1/fees/balances', { token: admin });
      expect(fees.status).to.equal(200);
      expect(fees.json.accountId).to.equal('exchange:fees');
      expect(fees.json.balances.find((b: { asset: string }) => b.asset === 'USD')).to.deep.equal({ asset: 'USD', available: '1.5', locked: '0' });
      expect((await stack.call('GET', '/v1/fees/balances', { token: bob.token })).status).to.equal(403);
    });

    it('places a limit order (POST /v1/orders): it rests and the book shows it (GET /v1/markets/{market}/book?depth=)', async () => {
      const placed = await route('POST', '/v1/orders', '/v1/orders', { token: bob.token, body: { market: 'BTC-USD', side: 'SIDE_SELL', price: '30000', quantity: '0.5' } });
      expect(placed.status).to.equal(200);
      expect(placed.json.order).to.include({ market: 'BTC-USD', side: 'SIDE_SELL', status: 'ORDER_STATUS_OPEN', price: '30000', quantity: '0.5', lockedAmount: '0.5' });
      ask = placed.json.order.orderId;
      expect(ask).to.match(/^\d+$/);
      const book = await route('GET', '/v1/markets/{market}/book', '/v1/markets/BTC-USD/book?depth=5');
      expect(book.status).to.equal(200);
      expect(book.json.asks).to.deep.equal([{ price: '30000', quantity: '0.5', orderCount: 1 }]);
      expect(book.json.sequence).to.match(/^\d+$/);
    });

    it('answers bad input 400 naming the field, and insufficient funds 400 FAILED_PRECONDITION', async () => {
      const badPrice = await stack.call('POST', '/v1/orders', { token: alice.token, body: { market: 'BTC-USD', side: 'SIDE_BUY', price: '1e5', quantity: '1' } });
      expect(badPrice.status).to.equal(400);
      expect(badPrice.json).to.include({ code: 3 });
      expect(badPrice.json.message).to.match(/^price: /);
      const badEnum = await stack.call('POST', '/v1/orders', { token: alice.token, body: { market: 'BTC-USD', side: 'SIDEWAYS', price: '1', quantity: '1' } });
      expect(badEnum.status).to.equal(400);
      expect(badEnum.json.details).to.deep.include({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'side', description: badEnum.json.details[1].fieldViolations[0].description }] });
      const unknownField = await stack.call('POST', '/v1/orders', { token: alice.token, body: { market: 'BTC-USD', colour: 'red' } });
      expect(unknownField.status).to.equal(400);
      expect(unknownField.json.message).to.match(/^colour: /);
      const notJson = await stack.call('POST', '/v1/orders', { token: alice.token, body: '{"market":' });
      expect(notJson.status).to.equal(400);
      expect(notJson.json.message).to.match(/^body: not JSON/);
      const poor = await stack.call('POST', '/v1/orders', { token: alice.token, body: { market: 'BTC-USD', side: 'SIDE_BUY', price: '30000', quantity: '100' } });
      expect(poor.status).to.equal(400);
      expect(poor.json.code).to.equal(9);
    });

    it('places a market order (POST /v1/orders/market) that trades at the maker price', async () => {
      const placed = await route('POST', '/v1/orders/market', '/v1/orders/market', { token: alice.token, body: { market: 'BTC-USD', side: 'SIDE_BUY', quantity: '0.2' } });
      expect(placed.status).to.equal(200);
      expect(placed.json.order).to.include({ type: 'ORDER_TYPE_MARKET', status: 'ORDER_STATUS_FILLED' });
      expect(placed.json.trades.map((t: { price: string; quantity: string }) => [t.price, t.quantity])).to.deep.equal([['30000', '0.2']]);
    });

    it('reads balances (GET /v1/balances)', async () => {
      const balances = await route('GET', '/v1/balances', '/v1/balances', { token: alice.token });
      expect(balances.status).to.equal(200);
      expect(balances.json.balances).to.deep.equal([
        { asset: 'BTC', available: '0.2', locked: '0' },
        { asset: 'USD', available: '94000', locked: '0' },
      ]);
    });

    it('reads one order (GET /v1/orders/{order_id}) and lists orders (GET /v1/orders?status=&market=), 404 for another user\'s order', async () => {
      const one = await route('GET', '/v1/orders/{order_id}', `/v1/orders/${ask}`, { token: bob.token });
      expect(one.status).to.equal(200);
      expect(one.json.order).to.include({ orderId: ask, status: 'ORDER_STATUS_PARTIALLY_FILLED', filledQuantity: '0.2' });
      expect((await stack.call('GET', `/v1/orders/${ask}`, { token: alice.token })).status).to.equal(404);
      const open = await route('GET', '/v1/orders', '/v1/orders?status=ORDER_STATUS_FILTER_OPEN&market=BTC-USD&pageSize=10', { token: bob.token });
      expect(open.status).to.equal(200);
      expect(open.json.orders.map((o: { orderId: string }) => o.orderId)).to.deep.equal([ask]);
      expect((await stack.call('GET', '/v1/orders?pageSize=many', { token: bob.token })).status).to.equal(400);
    });

    it('cancels (DELETE /v1/orders/{order_id}); a repeat answers the cancelled order, releasing nothing', async () => {
      const cancelled = await route('DELETE', '/v1/orders/{order_id}', `/v1/orders/${ask}`, { token: bob.token });
      expect(cancelled.status).to.equal(200);
      expect(cancelled.json).to.deep.include({ releasedAmount: '0.3', releasedAsset: 'BTC' });
      expect(cancelled.json.order.status).to.equal('ORDER_STATUS_CANCELLED');
      const again = await stack.call('DELETE', `/v1/orders/${ask}`, { token: bob.token });
      expect(again.status).to.equal(200);
      expect(again.json).to.deep.include({ releasedAmount: '0', releasedAsset: 'BTC', order: cancelled.json.order });
    });

    it('cancels by client order id (DELETE /v1/orders/by-client-id/{client_order_id}), 404 for another user\'s', async () => {
      const body = { market: 'BTC-USD', side: 'SIDE_SELL', price: '40000', quantity: '0.1', clientOrderId: 'bob ask/1' };
      const placed = await stack.call('POST', '/v1/orders', { token: bob.token, body });
      expect(placed.status).to.equal(200);
      const path = `/v1/orders/by-client-id/${encodeURIComponent('bob ask/1')}`;
      expect((await stack.call('DELETE', path, { token: alice.token })).status).to.equal(404);
      const cancelled = await route('DELETE', '/v1/orders/by-client-id/{client_order_id}', path, { token: bob.token });
      expect(cancelled.status).to.equal(200);
      expect(cancelled.json).to.deep.include({ releasedAmount: '0.1', releasedAsset: 'BTC' });
      expect(cancelled.json.order).to.include({ orderId: placed.json.order.orderId, clientOrderId: 'bob ask/1', status: 'ORDER_STATUS_CANCELLED' });
    });

    it('amends (PATCH /v1/orders/{order_id}, PATCH /v1/orders/by-client-id/{client_order_id}), 404 for another user\'s, 400 for a bad field', async () => {
      const body = { market: 'BTC-USD', side: 'SIDE_SELL', price: '45000', quantity: '0.1', clientOrderId: 'bob-amend' };
      const placed = await stack.call('POST', '/v1/orders', { token: bob.token, body });
      const id = placed.json.order.orderId;
      const byId = await route('PATCH', '/v1/orders/{order_id}', `/v1/orders/${id}`, { token: bob.token, body: { price: '46000' } });
      expect(byId.status).to.equal(200);
      expect(byId.json.order).to.include({ orderId: id, price: '46000', quantity: '0.1' });
      const byClientId = await route('PATCH', '/v1/orders/by-client-id/{client_order_id}', '/v1/orders/by-client-id/bob-amend', { token: bob.token, body: { quantity: '0.05' } });
      expect(byClientId.status).to.equal(200);
      expect(byClientId.json.order).to.include({ orderId: id, price: '46000', quantity: '0.05', lockedAmount: '0.05' });
      expect((await stack.call('PATCH', `/v1/orders/${id}`, { token: alice.token, body: { price: '1' } })).status).to.equal(404);
      const bad = await stack.call('PATCH', `/v1/orders/${id}`, { token: bob.token, body: { quantity: '-1' } });
      expect([bad.status, bad.json.message]).to.satisfy(([code, message]: [number, string]) => code === 400 && message.startsWith('quantity: '));
      expect((await stack.call('DELETE', '/v1/orders/by-client-id/bob-amend', { token: bob.token })).status).to.equal(200);
    });

    it('places stop orders (stop_price on POST /v1/orders and /v1/orders/market) and an OCO pair (POST /v1/orders/oco), 400 naming a bad stop price', async () => {
      const stopLimit = await stack.call('POST', '/v1/orders', {
        token: alice.token, body: { market: 'ETH-USD', side: 'SIDE_BUY', price: '1500', quantity: '0.1', stopPrice: '1400' },
      });
      expect(stopLimit.json.order).to.include({ status: 'ORDER_STATUS_UNTRIGGERED', type: 'ORDER_TYPE_STOP_LIMIT', stopPrice: '1400', lockedAmount: '150' });
      const pairBody = { market: 'ETH-USD', side: 'SIDE_BUY', quantity: '1', price: '1000', stopPrice: '2000', clientOrderId: 'alice-pair' };
      const pair = await route('POST', '/v1/orders/oco', '/v1/orders/oco', { token: alice.token, body: pairBody });
      expect(pair.status).to.equal(200);
      expect(pair.json.order).to.include({ status: 'ORDER_STATUS_OPEN', ocoOrderId: pair.json.stopOrder.orderId, clientOrderId: 'alice-pair' });
      // A retry (the same client_order_id and body) answers with the same pair.
      expect((await stack.call('POST', '/v1/orders/oco', { token: alice.token, body: pairBody })).json).to.deep.equal(pair.json);
      expect(pair.json.stopOrder).to.include({ status: 'ORDER_STATUS_UNTRIGGERED', type: 'ORDER_TYPE_STOP_MARKET', lockedAmount: '2200' });
      const bad = await stack.call('POST', '/v1/orders/market', { token: alice.token, body: { market: 'ETH-USD', side: 'SIDE_BUY', quantity: '1', stopPrice: '0' } });
      expect([bad.status, bad.json.message]).to.satisfy(([code, message]: [number, string]) => code === 400 && message.startsWith('stop_price: '));
      const wrongSide = await stack.call('POST', '/v1/orders/oco', { token: alice.token, body: { market: 'ETH-USD', side: 'SIDE_BUY', quantity: '1', price: '1000', stopPrice: '900' } });
      expect([wrongSide.status, wrongSide.json.message]).to.satisfy(([code, message]: [number, string]) => code === 400 && message.startsWith('stop_price: '));
      await stack.call('DELETE', `/v1/orders/${stopLimit.json.order.orderId}`, { token: alice.token });
      await stack.call('DELETE', `/v1/orders/${pair.json.order.orderId}`, { token: alice.token });
    });

    it('cancels all of the caller\'s open orders of a market (DELETE /v1/orders?market=), 400 for an unknown one', async () => {
      await stack.call('POST', '/v1/orders', { token: bob.token, body: { market: 'BTC-USD', side: 'SIDE_SELL', price: '47000', quantity: '0.1' } });
      const all = await route('DELETE', '/v1/orders', '/v1/orders?market=BTC-USD&side=SIDE_SELL', { token: bob.token });
      expect(all.status).to.equal(200);
      expect(all.json).to.deep.equal({ cancelledCount: 1, released: [{ asset: 'BTC', amount: '0.1' }] });
      expect((await stack.call('DELETE', '/v1/orders?market=NOPE', { token: bob.token })).status).to.equal(400);
    });

    it('places a GTD order (POST /v1/orders with expireAtUnixMs) and arms the dead-man switch (POST /v1/orders/cancel-all-after), 400 out of bounds', async () => {
      const expireAt = String(Date.now() + 3_600_000);
      const body = { market: 'BTC-USD', side: 'SIDE_SELL', price: '48000', quantity: '0.1', timeInForce: 'TIME_IN_FORCE_GTD', expireAtUnixMs: expireAt };
      const gtd = await stack.call('POST', '/v1/orders', { token: bob.token, body });
      expect(gtd.status).to.equal(200);
      expect(gtd.json.order).to.include({ timeInForce: 'TIME_IN_FORCE_GTD', expireAtUnixMs: expireAt, status: 'ORDER_STATUS_OPEN' });
      const missing = await stack.call('POST', '/v1/orders', { token: bob.token, body: { ...body, expireAtUnixMs: '0' } });
      expect([missing.status, missing.json.message]).to.deep.equal([400, 'expire_at_unix_ms: is required with time_in_force GTD']);
      const armed = await route('POST', '/v1/orders/cancel-all-after', '/v1/orders/cancel-all-after', { token: bob.token, body: { timeoutSeconds: 60 } });
      expect(armed.status).to.equal(200);
      expect(Number(armed.json.triggerTimeUnixMs) - Number(armed.json.currentTimeUnixMs)).to.equal(60_000);
      const disarmed = await stack.call('POST', '/v1/orders/cancel-all-after', { token: bob.token, body: { timeoutSeconds: 0 } });
      expect(disarmed.json.triggerTimeUnixMs ?? '0').to.equal('0');
      const tooLong = await stack.call('POST', '/v1/orders/cancel-all-after', { token: bob.token, body: { timeoutSeconds: 86_401 } });
      expect([tooLong.status, tooLong.json.message]).to.satisfy(([code, message]: [number, string]) => code === 400 && message.startsWith('timeout_seconds: '));
      expect((await stack.call('DELETE', '/v1/orders?market=BTC-USD', { token: bob.token })).json.cancelledCount).to.equal(1);
    });
  });

  describe('history', () => {
    it('withdraws (POST /v1/users/{user_id}/withdrawals) as admin, 403 for a trader, 400 FAILED_PRECONDITION past available', async () => {
      const body = { asset: 'USD', amount: '1000', requestId: 'w-http-1', reference: 'wire 77' };
      const done = await route('POST', '/v1/users/{user_id}/withdrawals', `/v1/users/${alice.userId}/withdrawals`, { token: admin, body });
      expect(done.status).to.equal(200);
      expect(done.json.balance).to.deep.equal({ asset: 'USD', available: '93000', locked: '0' });
      expect(done.json.entry).to.include({ kind: 'LEDGER_ENTRY_KIND_WITHDRAWAL', amount: '1000', reference: 'wire 77', balanceAfter: '93000' });
      expect((await stack.call('POST', `/v1/users/${alice.userId}/withdrawals`, { token: alice.token, body })).status).to.equal(403);
      const over = await stack.call('POST', `/v1/users/${alice.userId}/withdrawals`, { token: admin, body: { ...body, requestId: 'w-http-2', amount: '93000.1' } });
      expect([over.status, over.json.code]).to.deep.equal([400, 9]);
      expect(over.json.message).to.match(/^amount: /);
    });

    it('lists a user\'s ledger (GET /v1/users/{user_id}/ledger?pageSize=) as admin, 403 for a trader', async () => {
      const ledger = await route('GET', '/v1/users/{user_id}/ledger', `/v1/users/${alice.userId}/ledger?pageSize=1`, { token: admin });
      expect(ledger.status).to.equal(200);
      expect(ledger.json.entries.map((e: { kind: string; amount: string }) => [e.kind, e.amount])).to.deep.equal([['LEDGER_ENTRY_KIND_WITHDRAWAL', '1000']]);
      expect(ledger.json.nextPageToken).to.match(/^\d+$/);
      expect((await stack.call('GET', `/v1/users/${alice.userId}/ledger`, { token: alice.token })).status).to.equal(403);
    });

    it('lists the caller\'s fills (GET /v1/trades?market=), the public recent trades (GET /v1/markets/{market}/trades?limit=)', async () => {
      const fills = await route('GET', '/v1/trades', '/v1/trades?market=BTC-USD&pageSize=10', { token: alice.token });
      expect(fills.status).to.equal(200);
      expect(fills.json.fills.map((f: { side: string; liquidity: string; price: string }) => [f.side, f.liquidity, f.price])).to.deep.equal([['SIDE_BUY', 'LIQUIDITY_TAKER', '30000']]);
      expect((await stack.call('GET', '/v1/trades?pageToken=abc', { token: alice.token })).status).to.equal(400);
      expect((await stack.call('GET', '/v1/trades')).status).to.equal(401);
      const recent = await route('GET', '/v1/markets/{market}/trades', '/v1/markets/BTC-USD/trades?limit=5');
      expect(recent.status).to.equal(200);
      expect(recent.json.trades).to.have.length(1);
      expect(Object.keys(recent.json.trades[0]).sort()).to.deep.equal(['executedAtUnixMs', 'market', 'price', 'quantity', 'quoteAmount', 'sequence', 'takerSide', 'tradeId']);
    });

    it('gives the ticker (GET /v1/markets/{market}/ticker) and candles (GET /v1/markets/{market}/candles?interval=)', async () => {
      const ticker = await route('GET', '/v1/markets/{market}/ticker', '/v1/markets/BTC-USD/ticker');
      expect(ticker.status).to.equal(200);
      expect(ticker.json).to.include({ market: 'BTC-USD', lastPrice: '30000', volume: '0.2', tradeCount: '1' });
      const candles = await route('GET', '/v1/markets/{market}/candles', '/v1/markets/BTC-USD/candles?interval=CANDLE_INTERVAL_ONE_MINUTE&limit=5');
      expect(candles.status).to.equal(200);
      expect(candles.json.candles[0]).to.include({ open: '30000', close: '30000', volume: '0.2', tradeCount: '1' });
      expect((await stack.call('GET', '/v1/markets/BTC-USD/candles')).status).to.equal(400);
    });
  });

  describe('the gateway itself', () => {
    it('serves POST /<package>.<Service>/<Method> for every unary RPC (the body is the whole request)', async () => {
      for (const rpc of contract.rpcs.filter((r) => r.method.methodKind === 'unary')) {
        const answer = await stack.call('POST', rpc.grpcPath, { body: {} });
        // Reached the service: its own answer (any status), never the gateway's "no such route".
        expect(answer.json?.details?.[0]?.reason, rpc.grpcPath).to.not.equal('ROUTE_NOT_FOUND');
        expect(answer.status, rpc.grpcPath).to.not.equal(404);
      }
      const book = await stack.call('POST', '/orderbook.matching.v1.MatchingService/GetOrderBook', { body: { market: 'BTC-USD', depth: 1 } });
      expect(book.status).to.equal(200);
      expect(book.json.market).to.equal('BTC-USD');
      const balances = await stack.call('POST', '/orderbook.matching.v1.MatchingService/GetBalances', { token: alice.token });
      expect(balances.json.balances).to.have.length(2);
    });

    it('answers the bidirectional OrderSession 501, an unknown path 404 and a wrong verb 405 with Allow', async () => {
      const session = await stack.call('POST', '/orderbook.matching.v1.MatchingService/OrderSession', { body: {} });
      expect(session.status).to.equal(501);
      expect(session.json.code).to.equal(12);
      const missing = await stack.call('GET', '/v1/nothing-here');
      expect(missing.status).to.equal(404);
      expect(missing.json.details[0]).to.include({ reason: 'ROUTE_NOT_FOUND' });
      const verb = await stack.call('PATCH', '/v1/orders');
      expect(verb.status).to.equal(405);
      expect(verb.headers.get('allow')).to.equal('POST, DELETE, GET');
    });

    it('answers 503 UNAVAILABLE with Retry-After when a service is down', async () => {
      const down = await HttpStack.start('gateway-down');
      await down.services.matching.stop();
      try {
        const answer = await down.call('GET', '/v1/markets');
        expect(answer.status).to.equal(503);
        expect(answer.json.code).to.equal(14);
        expect(answer.headers.get('retry-after')).to.equal('1');
      } finally {
        await down.stop();
      }
    });

    it('covered every route of the contract in this file', () => {
      const all = contract.bindings.filter((b) => b.rpc.method.methodKind === 'unary').map((b) => `${b.verb.toUpperCase()} ${b.path.toString()}`);
      expect(all.filter((r) => !covered.has(r))).to.deep.equal([]);
    });
  });
});
