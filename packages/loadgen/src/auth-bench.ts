/**
 * make bench-auth: what auth costs a user, measured on the real services as separate processes
 * (SQLite, bcrypt at the production cost, 12 unless ARGS say otherwise):
 * - sign-in latency: a right password, a wrong one, an unknown user (they must cost the same),
 *   one at a time, then sign-ins per second with several in flight;
 * - revocation delay: from SignOutEverywhere returning to matching refusing the session's token,
 *   which matching had verified (and cached) just before.
 *
 *   make bench-auth                 # cost 12, 30 sign-ins per kind, 30 revocations
 *   make bench-auth ARGS="--cost 10 --n 50"
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { auth, matching } from '@orderbook/proto';
import { formatMs } from './format';
import { Histogram } from './histogram';
import { machineFacts } from './machine';
import { packageDir } from '@orderbook/server-kit';
import { freePort, spawnNode, waitUntilReady, type ChildServer } from './processes';
import { isServing } from './readiness';
import { callUnary } from './unary-call';

const ROOT = join(packageDir(__dirname), '..', '..');
const CONCURRENCY = 8;

interface Options {
  readonly cost: number;
  readonly n: number;
}

function parseOptions(args: readonly string[]): Options {
  const options = { cost: 12, n: 30 };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], Number(args[i + 1])];
    if (flag === '--cost' && Number.isInteger(value) && value >= 4 && value <= 16) options.cost = value;
    else if (flag === '--n' && Number.isInteger(value) && value > 0) options.n = value;
    else throw new Error(`usage: auth-bench [--cost 4..16] [--n count]; got ${flag} ${args[i + 1]}`);
  }
  return options;
}

function bearer(token: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

async function timed(histogram: Histogram, work: () => Promise<unknown>): Promise<void> {
  const started = process.hrtime.bigint();
  await work();
  histogram.record(Number((process.hrtime.bigint() - started) / 1000n));
}

function line(label: string, histogram: Histogram): string {
  const s = histogram.summary();
  return `${label.padEnd(34)} p50 ${formatMs(s.p50Us).padStart(10)}  p90 ${formatMs(s.p90Us).padStart(10)}  max ${formatMs(s.maxUs).padStart(10)}  (n=${s.count})`;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const machine = await machineFacts();
  console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, commit ${machine.commit}, busy before ${machine.busyBeforePercent} %`);
  const workDir = await mkdtemp(join(tmpdir(), 'orderbook-auth-bench-'));
  const servers: ChildServer[] = [];
  try {
    const [authPort, matchingPort] = [await freePort(), await freePort()];
    const authAddress = `127.0.0.1:${authPort}`;
    const matchingAddress = `127.0.0.1:${matchingPort}`;
    const authServer = spawnNode(
      'auth',
      join(ROOT, 'services', 'auth'),
      'src/main',
      {
        AUTH_PORT: String(authPort),
        AUTH_DATA_DIR: join(workDir, 'auth'),
        AUTH_BCRYPT_COST: String(options.cost),
        // The measurement signs in and fails from one address: no throttling in the way.
        AUTH_SIGNIN_FREE_FAILURES_PER_ACCOUNT: '1000',
        AUTH_SIGNIN_FREE_FAILURES_PER_PEER: '1000000',
      },
      join(workDir, 'auth.log'),
    );
    servers.push(authServer);
    await waitUntilReady(authServer, () => isServing(authAddress), 60_000);
    const matchingServer = spawnNode(
      'matching',
      join(ROOT, 'services', 'matching'),
      'src/main',
      { MATCHING_PORT: String(matchingPort), MATCHING_METRICS_PORT: '0', MATCHING_DATA_DIR: join(workDir, 'matching'), AUTH_ADDRESS: authAddress },
      join(workDir, 'matching.log'),
    );
    servers.push(matchingServer);
    await waitUntilReady(matchingServer, () => isServing(matchingAddress), 60_000);

    const authClient = new auth.AuthServiceClient(authAddress, grpc.credentials.createInsecure());
    const matchingClient = new matching.MatchingServiceClient(matchingAddress, grpc.credentials.createInsecure());
    const person = { username: 'bench-user', email: 'bench-user@example.com', password: 'a bench password' };
    await callUnary(authClient.signUp.bind(authClient), person);
    const signIn = (login: string, password: string) => callUnary(authClient.signIn.bind(authClient), { login, password });
    // Warm-up: connections, JIT, SQLite pages.
    await signIn(person.username, person.password);

    const right = new Histogram();
    const wrong = new Histogram();
    const unknown = new Histogram();
    for (let i = 0; i < options.n; i += 1) {
      await timed(right, () => signIn(person.username, person.password));
      await timed(wrong, () => signIn(person.username, 'not the password').catch(() => undefined));
      await timed(unknown, () => signIn(`nobody-${i}`, 'not the password').catch(() => undefined));
    }
    const rounds = Math.max(1, Math.ceil(options.n / CONCURRENCY));
    const started = process.hrtime.bigint();
    for (let round = 0; round < rounds; round += 1) {
      await Promise.all(Array.from({ length: CONCURRENCY }, () => signIn(person.username, person.password)));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;

    const revocation = new Histogram();
    for (let i = 0; i < options.n; i += 1) {
      const { tokens } = await signIn(person.username, person.password);
      const metadata = bearer(tokens?.accessToken ?? '');
      await callUnary(matchingClient.getBalances.bind(matchingClient), {}, metadata);
      await callUnary(authClient.signOutEverywhere.bind(authClient), {}, metadata);
      const returned = process.hrtime.bigint();
      for (;;) {
        const refused = await callUnary(matchingClient.getBalances.bind(matchingClient), {}, metadata).then(
          () => false,
          (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
        );
        if (refused) break;
      }
      revocation.record(Number((process.hrtime.bigint() - returned) / 1000n));
    }
    authClient.close();
    matchingClient.close();

    console.log(`\nsign-in at bcrypt cost ${options.cost} (auth as its own process, SQLite, one call at a time):`);
    console.log(line('  right password', right));
    console.log(line('  wrong password', wrong));
    console.log(line('  unknown user', unknown));
    console.log(`  ${CONCURRENCY} in flight: ${((rounds * CONCURRENCY) / seconds).toFixed(1)} sign-ins/s`);
    console.log('\nrevocation delay: SignOutEverywhere returned → matching answers UNAUTHENTICATED (token verified and cached before):');
    console.log(line('  delay', revocation));
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
