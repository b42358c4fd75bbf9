import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { loadConfig, startGateway, type RunningGateway } from '@orderbook/gateway-service';
import { eventually, unusedPort } from '@orderbook/test-support';
import type { Answer } from '../e2e/gateway/http-stack';
import { SseReader } from '../e2e/gateway/sse-reader';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * The HTTP gateway in front of a matching process that is SIGKILLed under a load of orders placed
 * over HTTP, restarted, then SIGSTOPped and continued; and of an auth service that stops. Every
 * call must end with an answer (no hang): 200, or 503/504 naming the cause; every order the gateway
 * answered 200 must be there after the restart; the gateway serves again once the service is back.
 */

const ADMIN_PASSWORD = 'admin-password-for-gateway-outage';
const TRADERS = 4;
const ACKS_BEFORE_KILL = 300;
const FAILURES_PER_TRADER = 5;

interface Acked {
  readonly token: string;
  readonly orderId: string;
  readonly clientOrderId: string;
}

describe('gateway: matching killed, restarted and stalled under it; auth stopped', function () {
  this.timeout(180_000);
  let dir: string;
  let auth: RunningAuthServer;
  let matchingEnv: NodeJS.ProcessEnv;
  let service: ServingMatchingProcess | undefined;
  let gateway: RunningGateway;
  let authStopped = false;
  const log: { level: number; msg: string; upstream?: string; cause?: string }[] = [];

  async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Answer> {
    const response = await fetch(`http://${gateway.address}${path}`, {
      method,
      headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? undefined : JSON.parse(text) };
  }

  async function signIn(login: string, password: string): Promise<{ token: string; userId: string }> {
    const answer = await call('POST', '/v1/auth/sign-in', { body: { login, password } });
    expect(answer.status, JSON.stringify(answer.json)).to.equal(200);
    return { token: answer.json.tokens.accessToken, userId: answer.json.user.id };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-gateway-outage-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    matchingEnv = { ...testMatchingEnv(dir, auth), MATCHING_PORT: String(await unusedPort()), MATCHING_SNAPSHOT_EVERY: '100', LOG_LEVEL: 'info' };
    service = await startMatchingProcess(matchingEnv);
    const logger = pino({ level: 'info' }, { write: (line: string) => void log.push(JSON.parse(line)) });
    gateway = await startGateway(
      loadConfig({
        GATEWAY_PORT: '0',
        GATEWAY_AUTH_ADDRESS: auth.address,
        GATEWAY_MATCHING_ADDRESS: service.address,
        GATEWAY_CALL_TIMEOUT_SECONDS: '2',
        GATEWAY_RATE_BURST: '1000000',
        GATEWAY_RATE_PER_SECOND: '1000000',
      }),
      logger,
    );
  });

  after(async () => {
    service?.child.kill('SIGKILL');
    await gateway.stop();
    if (!authStopped) await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers 503 with a cause while matching is killed, loses no order it acknowledged, and serves again after the restart', async () => {
    const admin = await signIn('admin', ADMIN_PASSWORD);
    const traders: { token: string; name: string }[] = [];
    for (let i = 0; i < TRADERS; i += 1) {
      const name = `outage-${i}`;
      expect((await call('POST', '/v1/auth/sign-up', { body: { username: name, email: `${name}@example.com`, password: `${name}-password` } })).status).to.equal(200);
      const trader = await signIn(name, `${name}-password`);
      for (const [asset, amount] of [['USD', '10000000'], ['BTC', '10000']]) {
        expect((await call('POST', `/v1/users/${trader.userId}/funds`, { token: admin.token, body: { asset, amount } })).status).to.equal(200);
      }
      traders.push({ token: trader.token, name });
    }
    const book = await SseReader.open(`http://${gateway.address}/v1/markets/BTC-USD/book/events`);
    expect(book.status).to.equal(200);

    const acked: Acked[] = [];
    const failures: Answer[] = [];
    let killed = false;
    const load = async (trader: { token: string; name: string }): Promise<void> => {
      let failed = 0;
      for (let i = 0; failed < FAILURES_PER_TRADER; i += 1) {
        const clientOrderId = `${trader.name}-${i}`;
        // Buys at 100-109, sells at 200-209: nothing crosses, every order rests.
        const body = { market: 'BTC-USD', side: i % 2 === 0 ? 'SIDE_BUY' : 'SIDE_SELL', price: String((i % 2 === 0 ? 100 : 200) + (i % 10)), quantity: '0.01', clientOrderId };
        const answer = await call('POST', '/v1/orders', { token: trader.token, body });
        if (answer.status === 200) acked.push({ token: trader.token, orderId: answer.json.order.orderId, clientOrderId });
        else {
          failures.push(answer);
          if (killed) failed += 1;
        }
        if (!killed && acked.length >= ACKS_BEFORE_KILL) {
          killed = true;
          service!.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(traders.map(load));
    await service!.exited;

    expect(failures.length).to.be.at.least(TRADERS * FAILURES_PER_TRADER);
    for (const failure of failures) {
      expect(failure.status, JSON.stringify(failure.json)).to.be.oneOf([503, 504]);
      expect(failure.json.code).to.be.oneOf([14, 4]);
      expect(failure.json.message).to.be.a('string').and.not.equal('');
    }
    const ended = await book.take(Number.MAX_SAFE_INTEGER, 30_000);
    expect(ended.at(-1)!.event).to.equal('error');
    const ready = await call('GET', '/readyz');
    expect([ready.status, ready.json.auth]).to.deep.equal([503, 'SERVING']);
    expect(ready.json.matching).to.match(/^UNAVAILABLE: /);
    expect(log.filter((l) => l.upstream === 'matching' && l.level === 40)).to.have.length(1);

    service = await startMatchingProcess(matchingEnv);
    await eventually(async () => ((await call('GET', '/readyz')).status === 200 ? true : undefined), 'the gateway ready again', 60_000, 200);
    for (const order of acked) {
      const found = await call('GET', `/v1/orders/${order.orderId}`, { token: order.token });
      expect([found.status, found.json.order?.clientOrderId], order.clientOrderId).to.deep.equal([200, order.clientOrderId]);
    }
    expect(log.filter((l) => l.upstream === 'matching' && l.level === 30).map((l) => l.msg)).to.deep.equal(['matching answers again']);
  });

  it('answers 504 while matching is stopped (SIGSTOP), calls and new event streams alike, and serves again on SIGCONT', async () => {
    service!.child.kill('SIGSTOP');
    try {
      const markets = await call('GET', '/v1/markets');
      expect([markets.status, markets.json.code]).to.deep.equal([504, 4]);
      const stream = await SseReader.open(`http://${gateway.address}/v1/markets/BTC-USD/trades/events`);
      expect([stream.status, stream.errorJson.code]).to.deep.equal([504, 4]);
      const ready = await call('GET', '/readyz');
      expect(ready.status).to.equal(503);
      expect(ready.json.matching).to.match(/^DEADLINE_EXCEEDED: /);
    } finally {
      service!.child.kill('SIGCONT');
    }
    await eventually(async () => ((await call('GET', '/v1/markets')).status === 200 ? true : undefined), 'matching answering again', 30_000, 200);
  });

  it('goes on serving matching with the tokens callers hold while auth is stopped; sign-in answers 503 and /readyz names auth', async () => {
    const trader = await signIn('outage-0', 'outage-0-password');
    authStopped = true;
    await auth.stop();
    const signIn503 = await call('POST', '/v1/auth/sign-in', { body: { login: 'outage-0', password: 'outage-0-password' } });
    expect([signIn503.status, signIn503.json.code, signIn503.headers.get('retry-after')]).to.deep.equal([503, 14, '1']);
    expect((await call('GET', '/v1/balances', { token: trader.token })).status).to.equal(200);
    const ready = await call('GET', '/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.json.auth).to.match(/^UNAVAILABLE: /);
  });
});
