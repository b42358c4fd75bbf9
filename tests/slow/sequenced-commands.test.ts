import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { startMatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

const ADMIN_PASSWORD = 'admin-password-for-tests';
/** Every fdatasync of the matching process is held this long (strace fault injection, in µs). */
const FSYNC_DELAY_US = 1_500_000;
/** The order's deadline: far shorter than the held fdatasync, so it passes after the order was sequenced. */
const DEADLINE_MS = 300;

/**
 * A command already sequenced is executed and journaled whatever its caller does. The matching
 * process runs under strace with every fdatasync held 1.5 s, so an order whose deadline is 300 ms is
 * sequenced and executed, then its caller gives up (DEADLINE_EXCEEDED) while the journal syncs. The
 * order must be there all the same: in the book at once, and after a SIGKILL and a restart (it was
 * journaled, not merely applied in memory).
 */
describe('a sequenced command outlives its caller (fdatasync held by strace)', function () {
  this.timeout(180_000);
  let dir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let service: ServingMatchingProcess | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-sequenced-'));
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
  });
  after(async () => {
    service?.child.kill('SIGKILL');
    await service?.exited;
    authClient.close();
    await auth.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps and journals an order whose caller gave up (DEADLINE_EXCEEDED) after it was sequenced', async () => {
    const env = { ...testMatchingEnv(dir, auth), LOG_LEVEL: 'info' };
    service = await startMatchingProcess(env, {
      wrapper: ['strace', '-f', '-qq', '-o', '/dev/null', '--seccomp-bpf', '-e', 'trace=fdatasync,fsync', '-e', `inject=fdatasync,fsync:delay_enter=${FSYNC_DELAY_US}`, '--'],
    });
    let client = new MatchingClient(service.address);
    await authClient.signUp({ username: 'patient', email: 'patient@example.com', password: 'patient-password' });
    const { user, tokens } = await authClient.signIn({ login: 'patient', password: 'patient-password' });
    const me = bearer(tokens!.accessToken);
    const admin = bearer((await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD })).tokens!.accessToken);
    await client.addFunds({ userId: user!.id, asset: 'USD', amount: '1000' }, admin);

    const order = { market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '10', quantity: '2', clientOrderId: 'caller-gave-up' };
    const call = new Promise<grpc.ServiceError | undefined>((resolve) => {
      client.raw.placeLimitOrder(matching.PlaceLimitOrderRequest.fromPartial(order), me, { deadline: Date.now() + DEADLINE_MS }, (err) => resolve(err ?? undefined));
    });
    const error = await call;
    expect(error && grpc.status[error.code], 'the caller gave up before the journal synced').to.equal('DEADLINE_EXCEEDED');

    // A later order's acknowledgement means every earlier seq is durable (group commit in seq order).
    await client.placeLimitOrder({ ...order, price: '1', quantity: '1', clientOrderId: 'after' }, me);
    const before = await client.listOrders({ pageSize: 10 }, me);
    const kept = before.orders.find((o) => o.clientOrderId === 'caller-gave-up');
    expect(kept?.status).to.equal(matching.OrderStatus.ORDER_STATUS_OPEN);
    expect((await client.getBalances(me)).balances).to.deep.equal([{ asset: 'USD', available: '979', locked: '21' }]);

    client.close();
    // SIGKILL the service itself (strace's child): strace then exits with it.
    for (const pid of readFileSync(`/proc/${service.child.pid}/task/${service.child.pid}/children`, 'utf8').trim().split(' ')) process.kill(Number(pid), 'SIGKILL');
    await service.exited;
    service = await startMatchingProcess(env);
    client = new MatchingClient(service.address);
    try {
      const after = await client.listOrders({ pageSize: 10 }, me);
      expect(after.orders).to.deep.equal(before.orders);
      // The caller's retry gets the order that was kept, and places nothing more.
      expect((await client.placeLimitOrder(order, me)).order).to.deep.equal(kept);
      expect((await client.listOrders({ pageSize: 10 }, me)).orders).to.deep.equal(before.orders);
    } finally {
      client.close();
    }
  });
});
