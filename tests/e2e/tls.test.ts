import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig as loadAuthConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { loadConfig as loadGatewayConfig, startGateway } from '@orderbook/gateway-service';
import { loadConfig as loadMatchingConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';
import { AuthClient, bearer, eventually, expectStatus, MatchingClient, TestPki, unusedPort, type PemFiles } from '@orderbook/test-support';

/** A logger whose JSON lines the test reads. */
function capturedLogger(name: string): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ name, level: 'info' }, sink), lines };
}

function tlsCredentials(ca: string, client?: PemFiles): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(readFileSync(ca), client === undefined ? null : readFileSync(client.keyFile), client === undefined ? null : readFileSync(client.certFile));
}

describe('TLS and mutual TLS (certificates made in the test)', function () {
  this.timeout(60_000);
  let dir: string;
  let pki: TestPki;
  let otherPki: TestPki;
  let auth: RunningAuthServer;
  let matchingServer: RunningMatchingServer;
  let trader: PemFiles;
  let matchingLogs: Record<string, unknown>[];
  let authLogs: Record<string, unknown>[];
  let token: string;
  const stops: Array<() => Promise<void>> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-tls-'));
    pki = TestPki.createCa(dir, 'orderbook');
    otherPki = TestPki.createCa(dir, 'other');
    const authCert = pki.issue('auth');
    const matchingCert = pki.issue('matching');
    const matchingClientCert = pki.issue('matching-to-auth');
    trader = pki.issue('trader-7');

    const authLog = capturedLogger('auth');
    authLogs = authLog.lines;
    auth = await startAuthServer(
      loadAuthConfig({
        AUTH_PORT: '0',
        AUTH_DATA_DIR: join(dir, 'auth'),
        AUTH_BCRYPT_COST: '4',
        AUTH_TLS_CERT_FILE: authCert.certFile,
        AUTH_TLS_KEY_FILE: authCert.keyFile,
        AUTH_TLS_CLIENT_CA_FILE: pki.ca.certFile,
      }),
      { logger: authLog.logger },
    );
    stops.push(() => auth.stop());
    const matchingLog = capturedLogger('matching');
    matchingLogs = matchingLog.lines;
    matchingServer = await startMatchingServer(
      loadMatchingConfig({
        MATCHING_PORT: '0',
        MATCHING_METRICS_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching'),
        AUTH_ADDRESS: auth.address,
        MATCHING_AUTH_TLS_CA_FILE: pki.ca.certFile,
        MATCHING_AUTH_TLS_CERT_FILE: matchingClientCert.certFile,
        MATCHING_AUTH_TLS_KEY_FILE: matchingClientCert.keyFile,
        MATCHING_TLS_CERT_FILE: matchingCert.certFile,
        MATCHING_TLS_KEY_FILE: matchingCert.keyFile,
        MATCHING_TLS_CLIENT_CA_FILE: pki.ca.certFile,
        MATCHING_SHUTDOWN_GRACE_MS: '1000',
      }),
      { logger: matchingLog.logger },
    );
    stops.push(() => matchingServer.stop());

    const authClient = new AuthClient(auth.address, {}, tlsCredentials(pki.ca.certFile, trader));
    await authClient.signUp({ username: 'tls-trader', email: 'tls-trader@example.com', password: 'tls-trader-password' });
    token = (await authClient.signIn({ login: 'tls-trader', password: 'tls-trader-password' })).tokens!.accessToken;
    authClient.close();
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a trader with a client certificate over mutual TLS, matching verifying tokens with keys fetched from auth over mutual TLS, and logs each peer certificate subject', async () => {
    const client = new MatchingClient(matchingServer.address, tlsCredentials(pki.ca.certFile, trader));
    try {
      const { balances } = await client.getBalances(bearer(token));
      expect(balances).to.deep.equal([]);
    } finally {
      client.close();
    }
    const subjects = (lines: Record<string, unknown>[]): unknown[] => lines.filter((l) => l['msg'] === 'client certificate authenticated').map((l) => l['subject']);
    expect(subjects(matchingLogs).some((s) => String(s).includes('CN=trader-7'))).to.equal(true);
    expect(subjects(authLogs).some((s) => String(s).includes('CN=matching-to-auth'))).to.equal(true);
  });

  it('refuses a client that trusts another CA, a client without a certificate, a client with a certificate of another CA, and a plaintext client', async () => {
    const clients = {
      'wrong CA': new MatchingClient(matchingServer.address, tlsCredentials(otherPki.ca.certFile, trader)),
      'no client certificate': new MatchingClient(matchingServer.address, tlsCredentials(pki.ca.certFile)),
      'certificate of another CA': new MatchingClient(matchingServer.address, tlsCredentials(pki.ca.certFile, otherPki.issue('intruder'))),
      plaintext: new MatchingClient(matchingServer.address),
    };
    for (const [what, client] of Object.entries(clients)) {
      try {
        const error = await expectStatus(client.getBalances(bearer(token)), grpc.status.UNAVAILABLE);
        expect(error.details, what).to.be.a('string');
      } finally {
        client.close();
      }
    }
  });

  it('a matching that does not trust auth\'s certificate never falls back to plaintext: tokens cannot be checked (UNAVAILABLE) and the log says why', async () => {
    const log = capturedLogger('matching');
    const distrustful = await startMatchingServer(
      loadMatchingConfig({
        MATCHING_PORT: '0',
        MATCHING_METRICS_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching-distrustful'),
        AUTH_ADDRESS: auth.address,
        MATCHING_AUTH_TLS_CA_FILE: otherPki.ca.certFile,
        MATCHING_SHUTDOWN_GRACE_MS: '1000',
      }),
      { logger: log.logger },
    );
    const client = new MatchingClient(distrustful.address);
    try {
      await expectStatus(client.getBalances(bearer(token)), grpc.status.UNAVAILABLE, /signing keys/);
      const failure = log.lines.find((l) => String(l['msg']).startsWith('fetching signing keys failed'));
      expect(String(failure?.['msg'])).to.match(/fetching signing keys failed: cannot connect to auth: .*certificate/);
    } finally {
      client.close();
      await distrustful.stop();
    }
  });

  it('the HTTP gateway forwards to auth and matching over mutual TLS, and never in plaintext to a server it cannot verify', async () => {
    const gatewayCert = pki.issue('gateway');
    const gatewayEnv = (ca: string): Record<string, string> => ({
      GATEWAY_PORT: '0',
      LOG_LEVEL: 'silent',
      GATEWAY_AUTH_ADDRESS: auth.address,
      GATEWAY_MATCHING_ADDRESS: matchingServer.address,
      GATEWAY_AUTH_TLS_CA_FILE: ca,
      GATEWAY_AUTH_TLS_CERT_FILE: gatewayCert.certFile,
      GATEWAY_AUTH_TLS_KEY_FILE: gatewayCert.keyFile,
      GATEWAY_MATCHING_TLS_CA_FILE: ca,
      GATEWAY_MATCHING_TLS_CERT_FILE: gatewayCert.certFile,
      GATEWAY_MATCHING_TLS_KEY_FILE: gatewayCert.keyFile,
    });
    const trusting = await startGateway(loadGatewayConfig(gatewayEnv(pki.ca.certFile)));
    const distrusting = await startGateway(loadGatewayConfig(gatewayEnv(otherPki.ca.certFile)));
    try {
      const signIn = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: 'tls-trader', password: 'tls-trader-password' }) };
      const signedIn = await fetch(`http://${trusting.address}/v1/auth/sign-in`, signIn);
      expect(signedIn.status).to.equal(200);
      const httpToken = ((await signedIn.json()) as { tokens: { accessToken: string } }).tokens.accessToken;
      const balances = await fetch(`http://${trusting.address}/v1/balances`, { headers: { authorization: `Bearer ${httpToken}` } });
      expect(balances.status, await balances.clone().text()).to.equal(200);
      // A trader with no funds: the proto3 JSON mapping leaves the empty list out.
      expect(await balances.json()).to.deep.equal({});
      const markets = (await (await fetch(`http://${trusting.address}/v1/markets`)).json()) as { markets: { symbol: string }[] };
      expect(markets.markets.map((m) => m.symbol)).to.deep.equal(['BTC-USD', 'ETH-USD', 'SOL-USD']);

      const refused = await fetch(`http://${distrusting.address}/v1/auth/sign-in`, signIn);
      expect(refused.status).to.equal(503);
      const market = await fetch(`http://${distrusting.address}/v1/balances`, { headers: { authorization: `Bearer ${token}` } });
      expect(market.status).to.equal(503);
    } finally {
      await trusting.stop();
      await distrusting.stop();
    }
  });

  it('serves a replaced certificate to new connections without a restart, while an open connection goes on', async () => {
    const next = TestPki.createCa(dir, 'next');
    const live = join(dir, 'live');
    mkdirSync(live);
    const first = pki.issue('rotating-1');
    const second = next.issue('rotating-2');
    const certFile = join(live, 'server.crt');
    const keyFile = join(live, 'server.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    const log = capturedLogger('auth');
    const rotating = await startAuthServer(
      loadAuthConfig({ AUTH_PORT: '0', AUTH_DATA_DIR: join(dir, 'auth-rotating'), AUTH_BCRYPT_COST: '4', AUTH_TLS_CERT_FILE: certFile, AUTH_TLS_KEY_FILE: keyFile }),
      { logger: log.logger },
    );
    const open = new AuthClient(rotating.address, {}, tlsCredentials(pki.ca.certFile));
    try {
      await open.getPublicKeys();
      copyFileSync(second.keyFile, keyFile);
      copyFileSync(second.certFile, certFile);
      await eventually(async () => {
        const fresh = new AuthClient(rotating.address, {}, tlsCredentials(next.ca.certFile));
        try {
          await fresh.getPublicKeys();
          return true;
        } catch {
          return undefined;
        } finally {
          fresh.close();
        }
      }, 'a new connection to get the replaced certificate');
      expect(log.lines.some((l) => l['msg'] === 'TLS certificate reloaded: new connections use it')).to.equal(true);
      await open.getPublicKeys();
      const old = new AuthClient(rotating.address, {}, tlsCredentials(pki.ca.certFile));
      try {
        await expectStatus(old.getPublicKeys(), grpc.status.UNAVAILABLE);
      } finally {
        old.close();
      }
    } finally {
      open.close();
      await rotating.stop();
    }
  });

  it("matching dials auth with a replaced client certificate without a restart: a new connection presents it", async () => {
    const next = TestPki.createCa(dir, 'next-client');
    const live = join(dir, 'live-client');
    mkdirSync(live);
    const first = pki.issue('to-auth-1');
    const second = next.issue('to-auth-2');
    const files = { certFile: join(live, 'client.crt'), keyFile: join(live, 'client.key') };
    copyFileSync(first.certFile, files.certFile);
    copyFileSync(first.keyFile, files.keyFile);
    const authCert = pki.issue('auth-restarting');
    const port = await unusedPort();
    const authAt = async (clientCa: string) => {
      const log = capturedLogger('auth');
      const server = await startAuthServer(
        loadAuthConfig({
          AUTH_PORT: String(port),
          AUTH_DATA_DIR: join(dir, 'auth-restarting'),
          AUTH_BCRYPT_COST: '4',
          AUTH_TLS_CERT_FILE: authCert.certFile,
          AUTH_TLS_KEY_FILE: authCert.keyFile,
          AUTH_TLS_CLIENT_CA_FILE: clientCa,
        }),
        { logger: log.logger },
      );
      return { server, lines: log.lines };
    };
    const presented = (lines: Record<string, unknown>[], name: string) => lines.some((l) => l['msg'] === 'client certificate authenticated' && String(l['subject']).includes(`CN=${name}`));
    let auth = await authAt(pki.ca.certFile);
    const matchingLog = capturedLogger('matching');
    const dialling = await startMatchingServer(
      loadMatchingConfig({
        MATCHING_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching-dialling'),
        AUTH_ADDRESS: auth.server.address,
        MATCHING_AUTH_TLS_CA_FILE: pki.ca.certFile,
        MATCHING_AUTH_TLS_CERT_FILE: files.certFile,
        MATCHING_AUTH_TLS_KEY_FILE: files.keyFile,
        MATCHING_SHUTDOWN_GRACE_MS: '1000',
      }),
      { logger: matchingLog.logger },
    );
    try {
      await eventually(() => (presented(auth.lines, 'to-auth-1') ? true : undefined), 'matching to present its first client certificate');
      // A half-written replacement (a key that is not the certificate's) is refused; the first pair stays.
      copyFileSync(second.keyFile, files.keyFile);
      await eventually(() => (matchingLog.lines.some((l) => l['msg'] === 'client TLS files could not be reloaded: new connections keep the previous certificates') ? true : undefined), 'the broken pair to be refused');
      copyFileSync(second.certFile, files.certFile);
      await eventually(() => (matchingLog.lines.some((l) => l['msg'] === 'client TLS certificates reloaded: new connections use them') ? true : undefined), 'the new pair to be taken');
      // Auth comes back trusting only the new CA: matching reconnects with the new certificate.
      await auth.server.stop();
      auth = await authAt(next.ca.certFile);
      await eventually(() => (presented(auth.lines, 'to-auth-2') ? true : undefined), 'matching to reconnect with the replaced certificate', 30_000);
    } finally {
      await dialling.stop();
      await auth.server.stop();
    }
  });
});
