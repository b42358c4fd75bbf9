import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { OPENAPI_PATH } from '@orderbook/gateway-service/src/openapi-main';
import { eventually } from '@orderbook/test-support';
import { HttpStack } from './http-stack';
import { SseReader } from './sse-reader';

describe('gateway: limits, CORS, security headers, the OpenAPI document', () => {
  describe('with small limits', () => {
    let stack: HttpStack;
    before(async () => {
      stack = await HttpStack.start('gateway-limits', {
        GATEWAY_MAX_BODY_BYTES: '1024',
        GATEWAY_RATE_PER_SECOND: '1',
        GATEWAY_RATE_BURST: '1000',
        GATEWAY_SSE_MAX_PER_PEER: '2',
        GATEWAY_SSE_MAX_TOTAL: '3',
        GATEWAY_SSE_RESUME_SECONDS: '0',
        GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
      });
    });
    after(() => stack.stop());

    it('refuses a body over GATEWAY_MAX_BODY_BYTES with 413', async () => {
      const answer = await stack.call('POST', '/v1/auth/sign-in', { body: { login: 'x'.repeat(2000), password: 'y' } });
      expect(answer.status).to.equal(413);
      expect(answer.json.details[0]).to.include({ reason: 'BODY_TOO_LARGE' });
    });

    it('refuses a third event stream from one address with 429 and a fourth in total with 503, both with Retry-After; closing gives the place back', async () => {
      const first = await SseReader.open(`${stack.url}/v1/markets/BTC-USD/trades/events`);
      const second = await SseReader.open(`${stack.url}/v1/markets/ETH-USD/trades/events`);
      const third = await SseReader.open(`${stack.url}/v1/markets/SOL-USD/trades/events`);
      expect([first.status, second.status, third.status]).to.deep.equal([200, 200, 429]);
      expect(third.headers.get('retry-after')).to.equal('1');
      expect(third.errorJson.details[0]).to.include({ reason: 'TOO_MANY_STREAMS_FROM_PEER' });
      // Another address (as the trusted proxy says) takes the last place in total, then none is left.
      const elsewhere = await SseReader.open(`${stack.url}/v1/markets/SOL-USD/trades/events`, { 'x-forwarded-for': '198.51.100.7, 192.0.2.1' });
      expect(elsewhere.status).to.equal(200);
      const full = await SseReader.open(`${stack.url}/v1/markets/SOL-USD/trades/events`, { 'x-forwarded-for': '192.0.2.2' });
      expect(full.status).to.equal(503);
      expect(full.headers.get('retry-after')).to.equal('1');
      expect(full.errorJson).to.deep.include({ code: 14 });
      first.close();
      const again = await eventually(async () => {
        const reader = await SseReader.open(`${stack.url}/v1/markets/BTC-USD/trades/events`);
        return reader.status === 200 ? reader : undefined;
      }, 'a place to come back once a stream is closed');
      for (const reader of [again, second, elsewhere]) reader.close();
    });

    it('answers past the request rate 429 RESOURCE_EXHAUSTED with Retry-After', async () => {
      const limited = await HttpStack.start('gateway-rate', { GATEWAY_RATE_PER_SECOND: '1', GATEWAY_RATE_BURST: '3' });
      try {
        const statuses: number[] = [];
        let last;
        for (let i = 0; i < 4; i += 1) {
          last = await limited.call('GET', '/v1/markets');
          statuses.push(last.status);
        }
        expect(statuses).to.deep.equal([200, 200, 200, 429]);
        expect(last!.headers.get('retry-after')).to.equal('1');
        expect(last!.json).to.deep.include({ code: 8 });
        expect(last!.json.details).to.deep.include({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' });
      } finally {
        await limited.stop();
      }
    });

    it('sets the security headers on every answer', async () => {
      for (const path of ['/', '/v1/markets', '/v1/nothing']) {
        const answer = await fetch(`${stack.url}${path}`);
        expect(answer.headers.get('x-content-type-options'), path).to.equal('nosniff');
        expect(answer.headers.get('x-frame-options'), path).to.equal('DENY');
        expect(answer.headers.get('referrer-policy'), path).to.equal('no-referrer');
        expect(answer.headers.get('content-security-policy'), path).to.match(/default-src 'self'.*frame-ancestors 'none'/);
      }
    });

    it('is closed to other origins by default: 403, no CORS headers, a preflight too', async () => {
      const answer = await stack.call('GET', '/v1/markets', { headers: { origin: 'https://evil.example' } });
      expect(answer.status).to.equal(403);
      expect(answer.headers.get('access-control-allow-origin')).to.equal(null);
      const preflight = await fetch(`${stack.url}/v1/orders`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(preflight.status).to.equal(403);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal(null);
      const same = await stack.call('GET', '/v1/markets', { headers: { origin: stack.url } });
      expect(same.status).to.equal(200);
    });

    it('serves the OpenAPI document generated from the proto', async () => {
      const answer = await stack.call('GET', '/openapi.json');
      expect(answer.status).to.equal(200);
      expect(answer.json).to.deep.equal(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')));
    });
  });

  describe('with GATEWAY_CORS_ORIGINS set', () => {
    let stack: HttpStack;
    before(async () => {
      stack = await HttpStack.start('gateway-cors', { GATEWAY_CORS_ORIGINS: 'https://app.example, https://other.example' });
    });
    after(() => stack.stop());

    it('answers a preflight from a listed origin and lets its calls through with Access-Control-Allow-Origin', async () => {
      const preflight = await fetch(`${stack.url}/v1/orders`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers.get('access-control-allow-origin')).to.equal('https://app.example');
      expect(preflight.headers.get('access-control-allow-headers')).to.match(/authorization/);
      const call = await stack.call('GET', '/v1/markets', { headers: { origin: 'https://other.example' } });
      expect(call.status).to.equal(200);
      expect(call.headers.get('access-control-allow-origin')).to.equal('https://other.example');
      expect(call.headers.get('vary')).to.equal('Origin');
      expect((await stack.call('GET', '/v1/markets', { headers: { origin: 'https://third.example' } })).status).to.equal(403);
    });
  });
});
