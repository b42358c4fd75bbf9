import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { RunningAuthServer } from '@orderbook/auth-service';
import { matching } from '@orderbook/proto';
import { AuthClient, bearer, expectStatus, MatchingClient } from '@orderbook/test-support';
import { startTestAuth, testMatchingEnv } from '../support/in-process-services';
import { describeLog, startMatchingProcess, type MatchingProcess, type ServingMatchingProcess } from '../support/matching-process';

/**
 * The matching service on a 2 MiB tmpfs: below the free-space reserve it refuses commands and
 * keeps serving reads and streams, and takes commands again when space returns; with no reserve,
 * a journal write that hits ENOSPC is answered UNAVAILABLE naming the cause, the process exits by
 * itself, and a restart on the still-full disk serves reads and refuses writes instead of
 * crash-looping. Every acknowledged command is there once space returns. (Tests run as root.)
 */
const ADMIN_PASSWORD = 'admin-password-for-tests';
const RESERVE = 256 * 1024;
const CHECK_MS = 100;
const FILLER = 'filler.bin';

function freeBytes(dir: string): number {
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/** Writes a file until only `leave` bytes are free (or the disk is full), in 4 KiB pages. */
function fill(dir: string, leave: number): void {
  const fd = openSync(join(dir, FILLER), 'a');
  const page = Buffer.alloc(4096, 0x55);
  try {
    while (freeBytes(dir) > leave) writeSync(fd, page);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('full disk (2 MiB tmpfs)', function () {
  this.timeout(180_000);
  let dir: string;
  let dataDir: string;
  let auth: RunningAuthServer;
  let authClient: AuthClient;
  let admin: grpc.Metadata;
  const processes: MatchingProcess[] = [];
  /** Order ids acknowledged to the clients, with their owner's deposits. */
  const acknowledged: bigint[] = [];
  let credited = 0n;
  const userId = '3f0c2b1a-9d8e-4f7a-8b6c-5d4e3f2a1b0c';

  const envWith = (reserve: number): NodeJS.ProcessEnv => ({
    ...testMatchingEnv(dir, auth),
    MATCHING_DATA_DIR: dataDir,
    MATCHING_DISK_RESERVE_BYTES: String(reserve),
    MATCHING_DISK_CHECK_INTERVAL_MS: String(CHECK_MS),
    LOG_LEVEL: 'info',
  });

  async function start(reserve: number): Promise<ServingMatchingProcess> {
    const service = await startMatchingProcess(envWith(reserve));
    processes.push(service);
    return service;
  }

  async function stop(service: MatchingProcess): Promise<void> {
    service.child.kill('SIGTERM');
    await service.exited;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orderbook-disk-full-'));
    dataDir = join(dir, 'matching');
    mkdirSync(dataDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dataDir]);
    auth = await startTestAuth(dir, ADMIN_PASSWORD);
    authClient = new AuthClient(auth.address);
    admin = bearer((await authClient.signIn({ login: 'admin', password: ADMIN_PASSWORD })).tokens!.accessToken);
  });

  after(async () => {
    for (const service of processes) service.child.kill('SIGKILL');
    await Promise.all(processes.map((s) => s.exited));
    authClient.close();
    await auth.stop();
    execFileSync('umount', [dataDir]);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses commands below the reserve while reads and streams go on, and takes them again when space returns', async () => {
    const service = await start(RESERVE);
    const client = new MatchingClient(service.address);
    try {
      await client.addFunds({ userId, asset: 'USD', amount: '100' }, admin);
      credited += 100n;
      const stream = client.raw.streamOrderBook({ market: 'BTC-USD', depth: 10 });
      const received: matching.StreamOrderBookResponse[] = [];
      let streamError: grpc.ServiceError | undefined;
      stream.on('data', (m: matching.StreamOrderBookResponse) => received.push(m));
      stream.on('error', (err: grpc.ServiceError) => (streamError = err));
      while (received.length === 0) await sleep(10);

      fill(dataDir, RESERVE / 2);
      await sleep(CHECK_MS * 3);
      await expectStatus(client.addFunds({ userId, asset: 'USD', amount: '1' }, admin), grpc.status.UNAVAILABLE, /below the reserve of 262144 \(MATCHING_DISK_RESERVE_BYTES\)/);
      expect((await client.getOrderBook({ market: 'BTC-USD' })).market, 'reads go on').to.equal('BTC-USD');
      expect(received.length, 'the stream got its snapshot').to.equal(1);
      expect(streamError, 'and stays open').to.equal(undefined);

      unlinkSync(join(dataDir, FILLER));
      await sleep(CHECK_MS * 3);
      await client.addFunds({ userId, asset: 'USD', amount: '1' }, admin);
      credited += 1n;
      stream.cancel();
    } finally {
      client.close();
      await stop(service);
    }
  });

  it('answers UNAVAILABLE naming ENOSPC and exits when a journal write fails; a restart on the full disk refuses writes, serves reads, and keeps every acknowledged command', async () => {
    const service = await start(0); // no reserve: the journal runs into ENOSPC
    let client = new MatchingClient(service.address);
    await authClient.signUp({ username: 'diskfull', email: 'diskfull@example.com', password: 'diskfull-password' });
    const { user, tokens } = await authClient.signIn({ login: 'diskfull', password: 'diskfull-password' });
    const me = bearer(tokens!.accessToken);
    await client.addFunds({ userId: user!.id, asset: 'USD', amount: '1000000' }, admin);

    fill(dataDir, 24 * 1024);
    const failures: grpc.ServiceError[] = [];
    const worker = async (offset: number): Promise<void> => {
      for (let i = 0; failures.length === 0 && i < 2000; i++) {
        try {
          const { order } = await client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: `${1 + ((i * 4 + offset) % 50)}`, quantity: '0.01' }, me);
          acknowledged.push(order!.orderId);
        } catch (err) {
          failures.push(err as grpc.ServiceError);
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(worker));
    expect(await service.exited, 'the process exits by itself, for a restart to recover').to.equal(1);
    expect(failures.length).to.be.greaterThan(0);
    for (const failure of failures) {
      expect(grpc.status[failure.code], failure.details).to.equal('UNAVAILABLE');
      expect(failure.details, 'no caller sees a reset connection').to.not.match(/ECONNRESET|RST_STREAM/);
    }
    expect(failures[0]?.details).to.match(/journal write failed \(ENOSPC: no space left on device/);
    expect(describeLog(service)).to.match(/"reason":"DISK_FULL"/);
    client.close();

    const restarted = await start(RESERVE);
    client = new MatchingClient(restarted.address);
    try {
      await expectStatus(client.addFunds({ userId, asset: 'USD', amount: '1' }, admin), grpc.status.UNAVAILABLE, /below the reserve/);
      const book = await client.getOrderBook({ market: 'BTC-USD', depth: 100 });
      expect(book.bids.length, 'reads are served from the recovered state').to.be.greaterThan(0);
      await sleep(CHECK_MS * 5);
      expect(restarted.child.exitCode, 'no crash loop: it keeps serving').to.equal(null);

      rmSync(join(dataDir, FILLER));
      await sleep(CHECK_MS * 3);
      const { balance } = await client.addFunds({ userId, asset: 'USD', amount: '1' }, admin);
      expect(balance?.available).to.equal(String(credited + 1n));
      for (const orderId of acknowledged) {
        const { order } = await client.getOrder({ orderId }, me);
        expect(order?.orderId, `acknowledged order ${orderId}`).to.equal(orderId);
      }
      expect(acknowledged.length).to.be.greaterThan(10);
    } finally {
      client.close();
      await stop(restarted);
    }
  });
});
