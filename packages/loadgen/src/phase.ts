import { performance } from 'node:perf_hooks';
import type { GeneratorPool } from './generator-pool';
import type { PhaseCommand } from './generator-thread';
import { readMachineBusySeconds, readProcessStats } from './proc-stats';
import { startProgress, type InFlight } from './progress';
import { latencyBetween, orderCalls, scrapeServerFigures, type ServerLatency } from './server-latency';
import { Tally, type TallySnapshot } from './tally';

/** One second of a phase: answers per second, latency, and the loaded server's memory and GC. */
export interface TimelinePoint {
  /** Seconds since the phase started, at the end of this interval. */
  readonly atSeconds: number;
  readonly throughput: number;
  /** Latency of the answers of the interval; absent when none came. */
  readonly p50Us?: number;
  readonly p99Us?: number;
  readonly rssKiB?: number;
  /** The server's heap and Buffer memory in use after its last full GC, as of this second. */
  readonly heapAfterGcKiB?: number;
  /** Milliseconds of GC pause in the server during the interval. */
  readonly gcPauseMs?: number;
}

/** The loaded server as the timeline samples it. */
export interface ServerProbe {
  readonly pid: number;
  rssKiB(): number;
  gcPauseMs(): number;
  heapAfterGcKiB(): number | undefined;
}

/** What a phase is called and who watches it. */
export interface PhaseSpec {
  readonly label: string;
  /** The server process under load, for its CPU use during the phase. */
  readonly serverPid?: number;
  /** The server process sampled each second for the timeline (memory, GC). */
  readonly server?: ServerProbe;
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
  /** Once a second while the phase ran (the HTML report charts it). */
  readonly timeline: readonly TimelinePoint[];
  /** Unary phases of a server with metrics: the order RPCs' time inside it (arrival to status). */
  readonly serverLatency?: ServerLatency;
  /** The same, per RPC (PlaceLimitOrder, PlaceMarketOrder, CancelOrder). */
  readonly serverLatencyByMethod?: Readonly<Record<string, ServerLatency>>;
  /** Milliseconds the server's garbage collections paused it during the phase. */
  readonly serverGcPauseMs?: number;
}

const TIMELINE_PERIOD_MS = 1000;

/** Samples the tally (and the server) once a period; returns the function that stops it and gives the points. */
function startTimeline(tally: Tally, server: ServerProbe | undefined, startedAt: number): () => TimelinePoint[] {
  const points: TimelinePoint[] = [];
  let lastAnswered = 0;
  let lastAt = startedAt;
  let lastGcMs = server?.gcPauseMs() ?? 0;
  const sample = (): void => {
    const now = performance.now();
    const answered = tally.answered;
    const gcMs = server?.gcPauseMs() ?? 0;
    const heap = server?.heapAfterGcKiB();
    points.push({
      atSeconds: (now - startedAt) / 1000,
      throughput: ((answered - lastAnswered) * 1000) / Math.max(1, now - lastAt),
      ...(tally.interval.count === 0 ? {} : { p50Us: tally.interval.quantile(0.5), p99Us: tally.interval.quantile(0.99) }),
      ...(server === undefined ? {} : { rssKiB: server.rssKiB(), gcPauseMs: Math.max(0, gcMs - lastGcMs) }),
      ...(heap === undefined ? {} : { heapAfterGcKiB: heap }),
    });
    tally.interval.reset();
    lastAnswered = answered;
    lastAt = now;
    lastGcMs = gcMs;
  };
  const timer = setInterval(sample, TIMELINE_PERIOD_MS);
  return () => {
    clearInterval(timer);
    return points;
  };
}

/** Runs one phase on the generator's threads with the progress line on, and measures it: answers, latency, CPU of both sides and of the rest. */
export async function runPhase(pool: GeneratorPool, spec: PhaseSpec, command: PhaseCommand): Promise<PhaseResult> {
  const tally = new Tally();
  const callsBefore = spec.metricsUrl === undefined ? undefined : (await scrapeServerFigures(spec.metricsUrl)).calls;
  const gcBefore = spec.server?.gcPauseMs();
  const inFlight: InFlight = { count: 0 };
  const serverCpuBefore = spec.serverPid === undefined ? 0 : readProcessStats(spec.serverPid).cpuSeconds;
  // process.cpuUsage covers every thread of the process: the generator threads included.
  const generatorCpuBefore = process.cpuUsage();
  const machineBusyBefore = readMachineBusySeconds();
  const startedAt = performance.now();
  const stopProgress = startProgress(spec.label, tally, inFlight, spec.progress);
  const stopTimeline = startTimeline(tally, spec.server, startedAt);
  let unsent: number;
  let timeline: TimelinePoint[];
  try {
    ({ unsent } = await pool.run(command, {
      record: (kind, outcome, micros) => tally.record(kind, outcome, micros),
      setInFlight: (count) => (inFlight.count = count),
    }));
  } finally {
    stopProgress();
    timeline = stopTimeline();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const generatorCpu = process.cpuUsage(generatorCpuBefore);
  const generatorCpuSeconds = (generatorCpu.user + generatorCpu.system) / 1e6;
  const serverCpuSeconds = spec.serverPid === undefined ? 0 : readProcessStats(spec.serverPid).cpuSeconds - serverCpuBefore;
  const machineBusySeconds = readMachineBusySeconds() - machineBusyBefore;
  const snapshot = tally.snapshot();
  const serverGcPauseMs = spec.server === undefined || gcBefore === undefined ? undefined : spec.server.gcPauseMs() - gcBefore;
  const callsAfter = spec.metricsUrl === undefined || callsBefore === undefined ? undefined : (await scrapeServerFigures(spec.metricsUrl)).calls;
  const serverLatency = callsBefore === undefined || callsAfter === undefined ? undefined : latencyBetween(orderCalls(callsBefore), orderCalls(callsAfter));
  const serverLatencyByMethod =
    callsBefore === undefined || callsAfter === undefined
      ? undefined
      : Object.fromEntries(
          [...callsAfter].flatMap(([method, after]) => {
            const latency = latencyBetween(callsBefore.get(method), after);
            return latency.count === 0 ? [] : [[method, latency]];
          }),
        );
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
    timeline,
    ...(serverLatency === undefined || serverLatency.count === 0 ? {} : { serverLatency, serverLatencyByMethod }),
    ...(serverGcPauseMs === undefined ? {} : { serverGcPauseMs }),
  };
}
