/**
 * The file journal against the JetStream journal, in the same run: CLIENTS concurrent callers
 * each deposit in a loop for SECONDS through the command loop (no gRPC), and the acknowledged
 * commands per second and the p50/p99 time to acknowledgement are printed for
 *   file        the fsync'd file journal alone
 *   nats-r1     the JetStream journal on the NATS server at NATS_URL (1 replica) + the local copy
 *   nats-r3     the same on a 3-node cluster started from nats-server (3 replicas), when --cluster
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
import { openCommandLoop } from '../src/loop/open-command-loop';
import type { JetStreamJournalConfig } from '../src/storage/open-jetstream-journal';
import { silentLogger } from '../test/helpers';
import { LOAD_ENGINE_CONFIG } from '../test/random-load';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, clients: { type: 'string', default: '50' }, cluster: { type: 'boolean', default: false } },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

interface Outcome {
  readonly acked: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function measure(jetstream: JetStreamJournalConfig | undefined): Promise<Outcome> {
  const dataDir = mkdtempSync(join(tmpdir(), 'journal-bench-'));
  try {
    const loop = await openCommandLoop({
      dataDir,
      engineConfig: LOAD_ENGINE_CONFIG,
      maxQueueDepth: 100_000,
      snapshotEvery: 1_000_000_000,
      logger: silentLogger,
      ...(jetstream && { jetstream }),
    });
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
    await loop.close();
    latencies.sort((a, b) => a - b);
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    return { acked: latencies.length, p50Ms: at(0.5), p99Ms: at(0.99) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
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
    } finally {
      await cluster.stop();
    }
  }
}

void main();
