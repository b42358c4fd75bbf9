import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { calculateJwkThumbprint, exportJWK } from 'jose';
import { loadConfig, startMatchingServer, type RunningMatchingServer } from '@orderbook/matching-service';
import { auth } from '@orderbook/proto';
import { bearer, MatchingClient } from '@orderbook/test-support';
import { mintAccessToken } from './support/tokens';

const ISSUER = 'deadline-test-issuer';
const AUDIENCE = 'deadline-test-audience';

/** A stand-in auth service whose GetPublicKeys answers only once the test opens the gate. */
class GatedKeyServer {
  private readonly server = new grpc.Server();
  private open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));
  port = 0;

  constructor(private readonly jwk: auth.JsonWebKey) {}

  async start(): Promise<void> {
    this.server.addService(auth.AuthServiceService, {
      getPublicKeys: (_call: grpc.ServerUnaryCall<unknown, auth.GetPublicKeysResponse>, callback: grpc.sendUnaryData<auth.GetPublicKeysResponse>) => {
        void this.gate.then(() => callback(null, { keys: [this.jwk], issuer: ISSUER, audience: AUDIENCE }));
      },
      // A revocation feed that stays open and silent: fresh tokens are trusted meanwhile.
      watchRevocations: () => undefined,
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
  }

  release(): void {
    this.open();
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('deadlines and cancellation before a command reaches the engine', function () {
  this.timeout(30_000);
  let dir: string;
  let keys: GatedKeyServer;
  let server: RunningMatchingServer;
  let client: MatchingClient;
  let adminToken: string;
  let traderToken: string;
  const traderId = randomUUID();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-deadlines-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const { x } = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: x ?? '' });
    keys = new GatedKeyServer({ kid, kty: 'OKP', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', x: x ?? '', n: '', e: '' });
    await keys.start();
    server = await startMatchingServer(
      loadConfig({
        MATCHING_PORT: '0',
        MATCHING_METRICS_PORT: '0',
        MATCHING_DATA_DIR: join(dir, 'matching'),
        AUTH_ADDRESS: `127.0.0.1:${keys.port}`,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        MATCHING_SHUTDOWN_GRACE_MS: '1000',
        LOG_LEVEL: 'silent',
      }),
    );
    client = new MatchingClient(server.address);
    const mint = (subject: string, roles: string[]): Promise<string> => mintAccessToken({ key: privateKey, kid, issuer: ISSUER, audience: AUDIENCE, subject, roles });
    adminToken = await mint(randomUUID(), ['admin']);
    traderToken = await mint(traderId, ['trader']);
  });
  after(async () => {
    client?.close();
    await server?.stop();
    keys?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  // grpc-js runs no handler for a call that was cancelled or timed out while the interceptor held
  // it, and a handler submits synchronously (the loop applies at submit), so no command is queued
  // where its caller's departure could go unnoticed.
  it('a command whose deadline passes, or whose client cancels, while its token is being verified is answered DEADLINE_EXCEEDED / CANCELLED and changes nothing; a later one is executed', async () => {
    const deposit = { userId: traderId, asset: 'USD', amount: '5', requestId: '', reference: '' };
    // The keys are held back: both calls wait in the token interceptor.
    const late = client.raw.addFunds(deposit, bearer(adminToken), { deadline: Date.now() + 300 }, () => undefined);
    const lateStatus = new Promise<grpc.StatusObject>((resolve) => late.on('status', resolve));
    const cancelled = client.raw.addFunds(deposit, bearer(adminToken), () => undefined);
    const cancelledStatus = new Promise<grpc.StatusObject>((resolve) => cancelled.on('status', resolve));
    expect((await lateStatus).code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    cancelled.cancel();
    expect((await cancelledStatus).code).to.equal(grpc.status.CANCELLED);

    keys.release();
    // Their handlers would run as soon as the keys arrive, before this later call's (which waits for the same fetch).
    expect((await client.getBalances(bearer(traderToken))).balances).to.deep.equal([]);

    await client.addFunds(deposit, bearer(adminToken));
    expect((await client.getBalances(bearer(traderToken))).balances.map((b) => [b.asset, b.available])).to.deep.equal([['USD', '5']]);
  });
});
