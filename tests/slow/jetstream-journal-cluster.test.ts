import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import type { CommandLoop } from '@orderbook/matching-service/src/loop/command-loop-api';
import { CommandLoopFailedError } from '@orderbook/matching-service/src/loop/errors';
import { openCommandLoop } from '@orderbook/matching-service/src/loop/open-command-loop';
import { silentLogger } from '@orderbook/matching-service/test/helpers';
import { LOAD_ENGINE_CONFIG } from '@orderbook/matching-service/test/random-load';
import { NatsCluster } from '@orderbook/matching-service/test/nats-cluster';

const CLIENTS = 20;
const STREAM = 'CLUSTER_JOURNAL';

/** What one client saw: deposits acknowledged, and deposits whose outcome it could not know. */
interface ClientTally {
  acked: bigint;
  unknown: bigint;
  errors: number;
}

function usdOf(loop: CommandLoop, userId: string): bigint {
  return loop.queries.balances(userId).find((b) => b.asset === 'USD')?.available ?? 0n;
}

/**
 * The journal on a 3-node JetStream cluster (replicas 3): the stream's leader is SIGKILLed while 20
 * clients deposit. A failed or timed-out publish stops the loop (outcome unknown): the service is
 * "restarted" (a new loop on the same data directory, recovering from the stream) and trading goes
 * on. Every acknowledged deposit must be in the stream, exactly once.
 */
describe('JetStream journal on a 3-node NATS cluster', function () {
  this.timeout(150_000);
  let cluster: NatsCluster | undefined;
  const dirs: string[] = [];
  after(async () => {
    await cluster?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged command when the NATS server leading the stream is killed under load, and trading goes on', async () => {
    cluster = await NatsCluster.start(3);
    const jetstream = { servers: cluster.urls, stream: STREAM, replicas: 3 };
    const newDir = (): string => {
      const dir = mkdtempSync(join(tmpdir(), 'cluster-journal-'));
      dirs.push(dir);
      return dir;
    };
    const dataDir = newDir();
    let failedStarts = 0;
    /** Starts a loop on dir as a supervisor would: again after a failed start (NATS may still be electing a leader). */
    const open = async (dir: string): Promise<CommandLoop> => {
      for (;;) {
        try {
          return await openCommandLoop({ dataDir: dir, engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 10_000, snapshotEvery: 500, logger: silentLogger, jetstream });
        } catch {
          failedStarts += 1;
          await sleep(200);
        }
      }
    };

    let loop = await open(dataDir);
    let restarts = 0;
    let reopening: Promise<void> | undefined;
    const restart = (failed: CommandLoop): Promise<void> => {
      reopening ??= (async () => {
        await failed.close();
        loop = await open(dataDir);
        restarts += 1;
      })().finally(() => (reopening = undefined));
      return reopening;
    };

    let running = true;
    let killedAt: number | undefined;
    let firstAckAfterKill: number | undefined;
    const tallies = Array.from({ length: CLIENTS }, (): ClientTally => ({ acked: 0n, unknown: 0n, errors: 0 }));
    const clients = tallies.map(async (tally, c) => {
      for (let i = 1; running; i++) {
        await reopening;
        const current = loop;
        const amount = BigInt(i);
        try {
          await current.submit({ kind: 'deposit', userId: `client-${c}`, asset: 'USD', amount });
          tally.acked += amount;
          if (killedAt !== undefined) firstAckAfterKill ??= performance.now() - killedAt;
        } catch (err) {
          if (!(err instanceof CommandLoopFailedError)) throw err;
          tally.unknown += amount;
          tally.errors += 1;
          await restart(current);
        }
      }
    });

    await sleep(1_500);
    const ackedBeforeKill = tallies.reduce((sum, t) => sum + t.acked, 0n);
    const leader = await cluster.streamLeader(STREAM);
    await cluster.killNode(leader);
    killedAt = performance.now();
    const acked = (): bigint => tallies.reduce((sum, t) => sum + t.acked, 0n);
    // Trading goes on: deposits are acknowledged after the kill (NATS elects a leader, the loop restarts).
    const atKill = acked();
    await sleep(3_000);
    for (const deadline = Date.now() + 60_000; acked() === atKill && Date.now() < deadline; ) await sleep(250);
    await sleep(1_000);
    const ackedAfterKill = acked();
    running = false;
    await Promise.all(clients);
    await reopening;
    await loop.close();

    expect(ackedBeforeKill > 0n, 'deposits acknowledged before the kill').to.equal(true);
    expect(ackedAfterKill > atKill, 'deposits acknowledged after the kill (trading went on)').to.equal(true);
    // A node with no data directory of its own rebuilds the state from the stream alone.
    const fromStream = await open(newDir());
    const sameDir = await open(dataDir);
    for (const [c, tally] of tallies.entries()) {
      const balance = usdOf(fromStream, `client-${c}`);
      expect(balance >= tally.acked && balance <= tally.acked + tally.unknown, `client-${c}: ${balance} vs acked ${tally.acked} (+${tally.unknown} unknown)`).to.equal(true);
      expect(usdOf(sameDir, `client-${c}`)).to.equal(balance);
    }
    expect(sameDir.queries.lastSeq()).to.equal(fromStream.queries.lastSeq());
    await fromStream.close();
    await sameDir.close();
    console.log(
      `    killed the stream's leader (1 of 3 NATS servers): ${restarts} loop restart(s), ${failedStarts} failed start(s), ${tallies.reduce((n, t) => n + t.errors, 0)} unknown-outcome answers, ` +
        `first ack ${Math.round(firstAckAfterKill ?? -1)} ms after the kill, ` +
        `acked ${ackedBeforeKill} before / ${ackedAfterKill} by the end (sum of amounts)`,
    );
  });
});
