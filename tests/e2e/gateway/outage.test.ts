import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig, startGateway, type RunningGateway } from '@orderbook/gateway-service';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';
import { matching } from '@orderbook/proto';
import { eventually } from '@orderbook/test-support';
import { startInProcessServices, testMatchingEnv, type InProcessServices } from '../../support/in-process-services';
import { ADMIN_PASSWORD } from './http-stack';
import { SseReader } from './sse-reader';

/** The gateway's log lines, as a test reads them. */
function capturingLogger(): { logger: pino.Logger; lines: { level: number; msg: string; upstream?: string; cause?: string }[] } {
  const lines: { level: number; msg: string; upstream?: string; cause?: string }[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) }) };
}

function gatewayFor(authAddress: string, matchingAddress: string, env: Record<string, string>, logger: pino.Logger): Promise<RunningGateway> {
  return startGateway(loadConfig({ GATEWAY_PORT: '0', GATEWAY_AUTH_ADDRESS: authAddress, GATEWAY_MATCHING_ADDRESS: matchingAddress, ...env }), logger);
}

async function get(gateway: RunningGateway, path: string): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(`http://${gateway.address}${path}`);
  return { status: response.status, headers: response.headers, json: await response.json() };
}

describe('gateway: a service that is down or does not answer', () => {
  let services: InProcessServices;
  before(async () => {
    services = await startInProcessServices('gateway-outage', ADMIN_PASSWORD);
  });
  after(() => services.stop());

  it('answers 503 naming the cause while matching is down, says so in /readyz, the log (once) and the metrics, and serves again when it returns', async () => {
    const { logger, lines } = capturingLogger();
    const gateway = await gatewayFor(services.auth.address, services.matching.address, { GATEWAY_METRICS_PORT: '0' }, logger);
    let restarted: RunningMatchingServer | undefined;
    try {
      expect((await get(gateway, '/healthz')).status).to.equal(200);
      expect(await get(gateway, '/readyz')).to.deep.include({ status: 200, json: { status: 'SERVING', auth: 'SERVING', matching: 'SERVING' } });
      const port = services.matching.address.split(':').pop()!;
      await services.matching.stop();

      for (let i = 0; i < 3; i += 1) {
        const down = await get(gateway, '/v1/markets');
        expect([down.status, down.json.code, down.headers.get('retry-after')]).to.deep.equal([503, 14, '1']);
        expect(down.json.message).to.be.a('string').and.not.equal('');
      }
      const ready = await get(gateway, '/readyz');
      expect([ready.status, ready.json.status, ready.json.auth]).to.deep.equal([503, 'NOT_SERVING', 'SERVING']);
      expect(ready.json.matching).to.match(/^UNAVAILABLE: /);
      expect((await get(gateway, '/healthz')).status).to.equal(200);
      // Auth is another service: signing in still works.
      const signIn = await fetch(`http://${gateway.address}/v1/auth/sign-in`, { method: 'POST', body: JSON.stringify({ login: 'admin', password: ADMIN_PASSWORD }) });
      expect(signIn.status).to.equal(200);
      const warnings = lines.filter((l) => l.upstream === 'matching' && l.level === 40);
      expect(warnings).to.have.length(1);
      expect(warnings[0]!.msg).to.match(/^matching does not answer/);
      expect(warnings[0]!.cause).to.be.a('string').and.not.equal('');
      const metrics = await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text();
      expect(metrics).to.match(/^gateway_upstream_calls_total\{upstream="matching",code="UNAVAILABLE"\} 3$/m);
      // The three calls and /readyz.
      expect(metrics).to.match(/^gateway_http_answers_total\{status="503"\} 4$/m);

      restarted = await startMatchingServer(loadMatchingConfig({ ...testMatchingEnv(services.dir, services.auth), MATCHING_PORT: port }));
      await eventually(async () => ((await get(gateway, '/v1/markets')).status === 200 ? true : undefined), 'the gateway serving matching again');
      expect((await get(gateway, '/readyz')).status).to.equal(200);
      expect(lines.filter((l) => l.upstream === 'matching' && l.level === 30).map((l) => l.msg)).to.deep.equal(['matching answers again']);
    } finally {
      await gateway.stop();
      await restarted?.stop();
    }
  });

  describe('matching that accepts connections but never answers', () => {
    let stalled: grpc.Server;
    let gateway: RunningGateway;
    before(async () => {
      stalled = new grpc.Server();
      const never = () => undefined;
      stalled.addService(matching.MatchingServiceService, { listMarkets: never, streamTrades: never } as unknown as grpc.UntypedServiceImplementation);
      const port = await new Promise<number>((resolve, reject) => stalled.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))));
      gateway = await gatewayFor(services.auth.address, `127.0.0.1:${port}`, { GATEWAY_CALL_TIMEOUT_SECONDS: '1', GATEWAY_SSE_MAX_PER_PEER: '1' }, capturingLogger().logger);
    });
    after(async () => {
      await gateway.stop();
      stalled.forceShutdown();
    });

    it('answers a call 504 DEADLINE_EXCEEDED after GATEWAY_CALL_TIMEOUT_SECONDS, and an event stream the service does not accept too', async () => {
      const call = await get(gateway, '/v1/markets');
      expect([call.status, call.json.code]).to.deep.equal([504, 4]);
      const stream = await SseReader.open(`http://${gateway.address}/v1/markets/BTC-USD/trades/events`);
      expect([stream.status, stream.errorJson.code]).to.deep.equal([504, 4]);
      expect(stream.errorJson.message).to.match(/GATEWAY_CALL_TIMEOUT_SECONDS/);
      expect((await get(gateway, '/readyz')).status).to.equal(503);
    });

    it('gives a stream place back as soon as its client leaves, before the service has accepted it', async () => {
      const controller = new AbortController();
      const first = fetch(`http://${gateway.address}/v1/markets/BTC-USD/trades/events`, { signal: controller.signal }).catch(() => undefined);
      // Past the per-address limit of 1 while the first waits: 429.
      const second = await eventually(async () => {
        const reader = await SseReader.open(`http://${gateway.address}/v1/markets/ETH-USD/trades/events`);
        return reader.status === 429 ? reader : undefined;
      }, 'the first stream holding the only place');
      expect(second.errorJson.details[0].reason).to.equal('TOO_MANY_STREAMS_FROM_PEER');
      controller.abort();
      await first;
      // The place is free again: this one waits for the service like the first, then times out (504, not 429).
      const third = await eventually(async () => {
        const reader = await SseReader.open(`http://${gateway.address}/v1/markets/SOL-USD/trades/events`);
        return reader.status === 429 ? undefined : reader;
      }, 'the place given back');
      expect(third.status).to.equal(504);
    });
  });
});
