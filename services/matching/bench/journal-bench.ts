/**
 * The file journal against the JetStream journal, in the same run: CLIENTS concurrent callers
 * each deposit in a loop for SECONDS through the command loop (no gRPC), and the acknowledged
 * commands per second and the p50/p99 time to acknowledgement are printed for
 *   file        the fsync'd file journal alone
 *   nats-r1     the JetStream journal on the NATS server at NATS_URL (1 replica) + the local copy
 *   nats-r3     the same on a 3-node cluster started from nats-server (3 replicas), when --cluster
 *   ha-r3       a leader with a follower on that cluster (lease, roles), and the follower's lag
 * Run: node --import tsx services/matching/bench/journal-bench.ts [--seconds 10] [--clients 50] [--cluster]
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NatsCluster } from '../test/nats-cluster';
import type { CommandLoop } from '../src/loop/command-loop-api';
import { openCommandLoop } from '../src/loop/open-command-loop';
import { openReplicatedLoop } from '../src/loop/open-replicated-loop';
import type { JetStreamJournalConfig } from '../src/storage/open-jetstream-journal';
import { silentLogger } from '../test/helpers';
import { LOAD_ENGINE_CONFIG } from '../test/random-load';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '50' }, cluster: { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const LOOP_OPTIONS = { engineConfig: LOAD_ENGINE_CONFIG, maxQueueDepth: 100_000, snapshotEvery: 1_000_000_000, logger: silentLogger };

interface Outcome {
  readonly acked: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** CLIENTS callers depositing through loop for SECONDS: their times to acknowledgement, sorted. */
async function drive(loop: CommandLoop): Promise<Outcome> {
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (performance.now() < until) {
        const started = performance.now();
        await loop.submit({ kind: 'deposit', userId: `u${c}`, asset: 'USD', amount: 1n });
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { acked: latencies.length, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) };
}

function quantile(values: number[], q: number): number {
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
}

async function measure(jetstream: JetStreamJournalConfig | undefined): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'journal-bench-'));
  try {
    const loop = await openCommandLoop({ ...LOOP_OPTIONS, dataDir, ...(jetstream && { jetstream }) });
    const outcome = await drive(loop);
    await loop.close();
    return outcome;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The same load on a leader with a follower (both replicated loops, in this one process, so they
 * share its CPU): the leader's throughput, and the follower's lag behind it in commands, sampled
 * every 20 ms.
 */
async function measureReplicated(jetstream: JetStreamJournalConfig): Promise<Outcome & { lag: { p50: number; p99: number; max: number } }> {
  const dirs = [mkdtempSync(join(tmpdir(), 'journal-bench-')), mkdtempSync(join(tmpdir(), 'journal-bench-'))];
  const lease = { bucket: `${jetstream.stream}_LEASE`, key: 'matching', ttlMs: 3_000, renewEveryMs: 1_000, replicas: jetstream.replicas };
  try {
    const leader = await openReplicatedLoop({ ...LOOP_OPTIONS, dataDir: dirs[0], jetstream, lease, advertisedAddress: 'leader:1' });
    const follower = await openReplicatedLoop({ ...LOOP_OPTIONS, dataDir: dirs[1], jetstream, lease, advertisedAddress: 'follower:2' });
    const lags: number[] = [];
    const sampler = setInterval(() => lags.push(leader.queries.lastSeq() - follower.queries.lastSeq()), 20);
    const outcome = await drive(leader);
    clearInterval(sampler);
    await follower.close();
    await leader.close();
    return { ...outcome, lag: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), max: Math.max(0, ...lags) } };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function deleteStream(servers: readonly string[], stream: string): Promise<void> {
  const nc = await connect({ servers: [...servers] });
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
  await nc.close();
}

function report(mode: string, outcome: Outcome, baseline: Outcome): void {
  const perSecond = outcome.acked / SECONDS;
  console.log(
    `${mode.padEnd(8)} ${Math.round(perSecond).toLocaleString('en').padStart(9)} acked/s (${(perSecond / (baseline.acked / SECONDS)).toFixed(2)}× file)` +
      `  p50 ${outcome.p50Ms.toFixed(1).padStart(6)} ms  p99 ${outcome.p99Ms.toFixed(1).padStart(6)} ms`,
  );
}

async function main(): Promise<void> {
  console.log(`${CLIENTS} clients depositing for ${SECONDS} s each run, node ${process.version}`);
  const file = await measure(undefined);
  report('file', file, file);
  const stream = `BENCH_${randomUUID().replaceAll('-', '')}`;
  try {
    report('nats-r1', await measure({ servers: [NATS_URL], stream, replicas: 1 }), file);
  } finally {
    await deleteStream([NATS_URL], stream);
  }
  if (values.cluster) {
    const cluster = await NatsCluster.start(3);
    try {
      report('nats-r3', await measure({ servers: cluster.urls, stream, replicas: 3 }), file);
      const replicated = await measureReplicated({ servers: cluster.urls, stream: `${stream}_HA`, replicas: 3 });
      report('ha-r3', replicated, file);
      console.log(`         follower lag behind the leader: p50 ${replicated.lag.p50}, p99 ${replicated.lag.p99}, max ${replicated.lag.max} commands`);
    } finally {
      await cluster.stop();
    }
  }
}

void main();
