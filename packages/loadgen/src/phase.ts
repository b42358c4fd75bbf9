import { performance } from 'node:perf_hooks';
import type { GeneratorPool } from './generator-pool';
import type { PhaseCommand } from './generator-thread';
import { readMachineBusySeconds, readProcessStats } from './proc-stats';
import { startProgress, type InFlight } from './progress';
import { latencyBetween, scrapeCallBuckets, type ServerLatency } from './server-latency';
import { Tally, type TallySnapshot } from './tally';

/** What a phase is called and who watches it. */
export interface PhaseSpec {
  readonly label: string;
  /** The server process under load, for its CPU use during the phase. */
  readonly serverPid?: number;
  /** Progress lines go here (stderr in the CLI); undefined for none. */
  readonly progress?: NodeJS.WritableStream;
  /** The server's /metrics, scraped before and after for the time calls spent inside it. */
  readonly metricsUrl?: string;
}

/** A phase's answers as the tally counted them (its latency: closed loop, from send to answer; open loop, from the scheduled send time, so no coordinated omission), and how it ran. */
export interface PhaseResult extends TallySnapshot {
  readonly label: string;
  readonly entry: string;
  readonly mode: 'closed-loop' | 'open-loop';
  /** Closed loop: requests each kept in flight. */
  readonly concurrency?: number;
  /** Open loop: the requests per second the schedule asked for. */
  readonly targetRate?: number;
  readonly seconds: number;
  readonly answered: number;
  /** Correct answers (OK plus expected rejections) per second: the figure the ratios are made of. */
  readonly throughput: number;
  /** CPU use in percent of one core during the phase (200 = both cores of a 2-core machine). */
  readonly serverCpuPercent?: number;
  /** CPU seconds the server process used during the phase (all its threads). */
  readonly serverCpuSeconds?: number;
  readonly generatorCpuPercent: number;
  /** CPU use of everything else on the machine (other processes, networking work not charged to ours): a measure of interference. */
  readonly otherCpuPercent: number;
  /** Open loop: scheduled requests never sent because too many were still unanswered. */
  readonly unsent?: number;
  /** Unary phases of a server with metrics: the order RPCs' time inside it (arrival to status). */
  readonly serverLatency?: ServerLatency;
}

/** Runs one phase on the generator's threads with the progress line on, and measures it: answers, latency, CPU of both sides and of the rest. */
export async function runPhase(pool: GeneratorPool, spec: PhaseSpec, command: PhaseCommand): Promise<PhaseResult> {
  const tally = new Tally();
  const bucketsBefore = spec.metricsUrl === undefined ? undefined : await scrapeCallBuckets(spec.metricsUrl);
  const inFlight: InFlight = { count: 0 };
  const serverCpuBefore = spec.serverPid === undefined ? 0 : readProcessStats(spec.serverPid).cpuSeconds;
  // process.cpuUsage covers every thread of the process: the generator threads included.
  const generatorCpuBefore = process.cpuUsage();
  const machineBusyBefore = readMachineBusySeconds();
  const startedAt = performance.now();
  const stopProgress = startProgress(spec.label, tally, inFlight, spec.progress);
  let unsent: number;
  try {
    ({ unsent } = await pool.run(command, {
      record: (kind, outcome, micros) => tally.record(kind, outcome, micros),
      setInFlight: (count) => (inFlight.count = count),
    }));
  } finally {
    stopProgress();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const generatorCpuSeconds = (generatorCpu.user + generatorCpu.system) / 1e6;
  const serverCpuSeconds = spec.serverPid === undefined ? 0 : readProcessStats(spec.serverPid).cpuSeconds - serverCpuBefore;
  const machineBusySeconds = readMachineBusySeconds() - machineBusyBefore;
  const snapshot = tally.snapshot();
  const serverLatency = spec.metricsUrl === undefined || bucketsBefore === undefined ? undefined : latencyBetween(bucketsBefore, await scrapeCallBuckets(spec.metricsUrl));
  return {
    label: spec.label,
    entry: command.entry,
    mode: command.mode,
    ...(command.mode === 'closed-loop' ? { concurrency: command.loop.concurrency } : { targetRate: command.loop.ratePerSecond, unsent }),
    seconds,
    answered: tally.answered,
    throughput: (snapshot.ok + snapshot.rejected) / seconds,
    ...snapshot,
    ...(spec.serverPid === undefined ? {} : { serverCpuPercent: (serverCpuSeconds / seconds) * 100, serverCpuSeconds }),
    generatorCpuPercent: (generatorCpuSeconds / seconds) * 100,
    otherCpuPercent: (Math.max(0, machineBusySeconds - serverCpuSeconds - generatorCpuSeconds) / seconds) * 100,
    ...(serverLatency === undefined || serverLatency.count === 0 ? {} : { serverLatency }),
  };
}
