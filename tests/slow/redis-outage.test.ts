import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { loadConfig, startAuthServer, type RunningAuthServer } from '@orderbook/auth-service';
import { AuthClient, expectStatus, unusedPort } from '@orderbook/test-support';

/**
 * Redis, which holds the sign-in counters of every auth instance, stops while auth serves: sign-in
 * and sign-up must answer UNAVAILABLE naming the cause (never skip the limits, never hang), and
 * work again by themselves once Redis is back. The test runs its own redis-server on a free port.
 */

function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve(child);
    });
  });
}

async function stopRedis(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('auth when Redis (the shared sign-in counters) stops and comes back', () => {
  let dir: string;
  let port: number;
  let redis: ChildProcess | undefined;
  let auth: RunningAuthServer | undefined;
  let client: AuthClient;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-redis-outage-'));
    port = await unusedPort();
    redis = await startRedis(port, dir);
    auth = await startAuthServer(
      loadConfig({ AUTH_PORT: '0', AUTH_DATA_DIR: join(dir, 'auth'), AUTH_BCRYPT_COST: '4', LOG_LEVEL: 'silent', AUTH_REDIS_URL: `redis://127.0.0.1:${port}` }),
    );
    client = new AuthClient(auth.address);
  });
  after(async () => {
    client?.close();
    await auth?.stop();
    if (redis !== undefined && redis.exitCode === null) await stopRedis(redis);
    await rm(dir, { recursive: true, force: true });
  });

  it('answers UNAVAILABLE (not a skipped limit, not a hang) while Redis is down, and recovers by itself', async () => {
    const person = { username: 'outage-user', email: 'outage@example.com', password: 'a long password' };
    await client.signUp(person);
    await client.signIn({ login: person.username, password: person.password });

    await stopRedis(redis!);
    // A call stuck waiting for Redis would end DEADLINE_EXCEEDED instead.
    await expectStatus(
      client.signIn({ login: person.username, password: person.password }, new grpc.Metadata(), { deadline: Date.now() + 10_000 }),
      grpc.status.UNAVAILABLE,
      /Redis\) is unreachable/,
    );
    await expectStatus(client.signUp({ username: 'other-user', email: 'other@example.com', password: 'a long password' }), grpc.status.UNAVAILABLE, /Redis/);
    // Calls that need no counter go on.
    expect((await client.getPublicKeys()).keys).to.have.length(1);

    redis = await startRedis(port, dir);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const signedIn = await client.signIn({ login: person.username, password: person.password }).then(
        () => true,
        (err: grpc.ServiceError) => {
          expect(grpc.status[err.code]).to.equal('UNAVAILABLE');
          return false;
        },
      );
      if (signedIn) break;
      if (Date.now() > deadline) expect.fail('sign-in did not recover after Redis came back');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
