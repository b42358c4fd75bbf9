import { GeneratorPool } from './generator-pool';
import type { EntryKind, PhaseCommand } from './generator-thread';
import { runPhase, type PhaseResult, type PhaseSpec } from './phase';
import type { ProcessStats } from './proc-stats';
import { runSequential, type SequentialResult } from './sequential';
import { startBare, startOurs, type Target } from './targets';
import type { Mix } from './workload';

export interface BenchOptions {
  readonly seed: number;
  readonly users: number;
  /** Generator threads; each has its own share of the workers and its own connections. */
  readonly threads: number;
  /** HTTP/2 connections per generator thread and order entry (unary, session). */
  readonly channels: number;
  /** Closed-loop concurrency of each sweep step; the largest is also that of the warm-up and of the OrderSession phase. */
  readonly levels: readonly number[];
  readonly warmupSeconds: number;
  readonly stepSeconds: number;
  readonly openSeconds: number;
  readonly sessionSeconds: number;
  readonly markets: readonly string[];
  readonly mix: Mix;
  readonly maxOpenOrders: number;
  /** Bound on the requests of any one phase. */
  readonly maxRequestsPerPhase: number;
  readonly deadlineMs: number;
  /** Measured rounds of the sequential phase (one call at a time; see sequential.ts). */
  readonly sequentialRounds: number;
  /** Scratch space for data directories and server logs. */
  readonly workDir: string;
  /** Progress lines and phase announcements; undefined for silence. */
  readonly progress?: NodeJS.WritableStream;
}

export interface TargetResult {
  readonly name: string;
  /** One call at a time, before the load phases. */
  readonly sequential: SequentialResult;
  readonly warmup: PhaseResult;
  readonly sweep: readonly PhaseResult[];
  /** The sweep step with the highest throughput. */
  readonly best: PhaseResult;
  /** Open loop at half of our maximum unary throughput (the same rate for both targets). */
  readonly halfLoad: PhaseResult;
  readonly session: PhaseResult;
  /** VmRSS / VmHWM / CPU of each server process at the end of its runs. */
  readonly processes: Readonly<Record<string, ProcessStats>>;
}

/** The unary sweep against matching serving TLS (same data, traders and flows), after ours in plaintext. */
export interface TlsResult {
  readonly warmup: PhaseResult;
  readonly sweep: readonly PhaseResult[];
  readonly best: PhaseResult;
  /** TLS / plaintext at their best sweep steps. */
  readonly ratio: number;
}

export interface BenchResult {
  readonly ours: TargetResult;
  readonly tls: TlsResult;
  readonly bare: TargetResult;
  /** Ours / bare at their best sweep steps, unary and OrderSession. */
  readonly unaryRatio: number;
  readonly sessionRatio: number;
  readonly halfLoadRate: number;
  readonly accessTokenLength: number;
}

/** In-flight requests allowed in open loop before sends are held back (memory bound if the server stalls). */
const OPEN_LOOP_MAX_IN_FLIGHT = 10_000;
/** Rounds of the sequential phase run before it measures (connection set up, code paths compiled): at least this many. */
const SEQUENTIAL_MIN_WARMUP_ROUNDS = 100;
/** Answers still awaited at the end of a phase get this long. */
const DRAIN_MS = 15_000;

/** Every asset of the markets, funded generously so that no order of the workload is short of funds. */
export function fundingFor(markets: readonly string[]): Record<string, string> {
  const funding: Record<string, string> = {};
  for (const symbol of markets) {
    const [base = '', quote = ''] = symbol.split('-');
    funding[base] = '100000';
    funding[quote] = '10000000';
  }
  return funding;
}

function maxLevel(options: BenchOptions): number {
  return Math.max(...options.levels);
}

/** The generator threads for a target, and how its phases are labelled and run. */
function phasesOf(target: Target, options: BenchOptions) {
  const workers = maxLevel(options);
  const pool = new GeneratorPool(
    {
      workers,
      seed: options.seed,
      workload: { markets: options.markets, mix: options.mix, maxOpenOrders: options.maxOpenOrders },
      entry: {
        address: target.address,
        channels: options.channels,
        tokens: target.tokens,
        deadlineMs: options.deadlineMs,
        ...(target.tlsCaFile === undefined ? {} : { tlsCaFile: target.tlsCaFile }),
      },
    },
    options.threads,
  );
  const spec = (label: string): PhaseSpec => ({
    label: `${target.name} ${label}`,
    serverPid: target.loaded.pid,
    server: { pid: target.loaded.pid, rssKiB: () => target.loaded.stats().rssKiB, gcPauseMs: () => target.loaded.gcPauseMs(), heapAfterGcKiB: () => target.loaded.heapAfterGcKiB() },
    ...(target.metricsUrl === undefined ? {} : { metricsUrl: target.metricsUrl }),
    ...(options.progress === undefined ? {} : { progress: options.progress }),
  });
  const closed = (entry: EntryKind, concurrency: number, seconds: number): PhaseCommand => ({
    entry,
    mode: 'closed-loop',
    loop: { concurrency, durationMs: seconds * 1000, maxRequests: options.maxRequestsPerPhase, drainMs: DRAIN_MS },
  });
  /** Warm-up at the largest concurrency, then one closed-loop step per level. */
  const unarySweep = async (): Promise<{ warmup: PhaseResult; sweep: PhaseResult[] }> => {
    const warmup = await runPhase(pool, spec(`unary warm-up c=${workers}`), closed('unary', workers, options.warmupSeconds));
    const sweep: PhaseResult[] = [];
    for (const level of options.levels) sweep.push(await runPhase(pool, spec(`unary c=${level}`), closed('unary', level, options.stepSeconds)));
    return { warmup, sweep };
  };
  return { pool, spec, closed, unarySweep, workers };
}

/** The closed-loop sweep, then open loop at halfLoadRate (or at half this target's own maximum when undefined), then OrderSession. */
async function measureTarget(target: Target, options: BenchOptions, halfLoadRate: number | undefined): Promise<TargetResult> {
  const { pool, spec, closed, unarySweep, workers } = phasesOf(target, options);
  try {
    announce(options, `${target.name}: ${options.sequentialRounds} sequential rounds (one call at a time)`);
    const sequential = await runSequential(target, {
      rounds: options.sequentialRounds,
      warmupRounds: Math.max(SEQUENTIAL_MIN_WARMUP_ROUNDS, Math.ceil(options.sequentialRounds / 5)),
      market: options.markets[0] ?? 'BTC-USD',
      deadlineMs: options.deadlineMs,
    });
    const { warmup, sweep } = await unarySweep();
    const rate = halfLoadRate ?? Math.max(1, Math.floor(bestOf(sweep).throughput / 2));
    const halfLoad = await runPhase(pool, spec(`unary open loop ${rate}/s`), {
      entry: 'unary',
      mode: 'open-loop',
      loop: { ratePerSecond: rate, durationMs: options.openSeconds * 1000, maxRequests: options.maxRequestsPerPhase, maxInFlight: OPEN_LOOP_MAX_IN_FLIGHT, drainMs: DRAIN_MS },
    });
    const session = await runPhase(pool, spec(`session c=${workers}`), closed('session', workers, options.sessionSeconds));
    const processes = Object.fromEntries(target.servers.map((server) => [server.name, server.stats()]));
    return { name: target.name, sequential, warmup, sweep, best: bestOf(sweep), halfLoad, session, processes };
  } finally {
    await pool.close();
  }
}

function bestOf(sweep: readonly PhaseResult[]): PhaseResult {
  const [first, ...rest] = sweep;
  if (first === undefined) throw new Error('loadgen: the sweep needs at least one concurrency level');
  return rest.reduce((best, step) => (step.throughput > best.throughput ? step : best), first);
}

function announce(options: BenchOptions, line: string): void {
  options.progress?.write(`== ${line}\n`);
}

/**
 * Ours first (auth + matching as child processes, traders signed up and funded), then the bare
 * ceiling, driven by the same generator, flows and seed. The bare server runs after the real
 * services are stopped, so that the two never share the machine.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  announce(options, `starting auth + matching, signing up and funding ${options.users} traders`);
  const ours = await startOurs({ workDir: options.workDir, markets: options.markets, users: options.users, funding: fundingFor(options.markets) });
  let oursResult: TargetResult;
  let tlsResult: TlsResult;
  try {
    oursResult = await measureTarget(ours, options, undefined);
    announce(options, 'restarting matching with TLS (same data and traders) for the unary sweep over TLS');
    const overTls = await ours.restartMatchingWithTls();
    const { pool, unarySweep } = phasesOf(overTls, options);
    try {
      const { warmup, sweep } = await unarySweep();
      tlsResult = { warmup, sweep, best: bestOf(sweep), ratio: bestOf(sweep).throughput / oursResult.best.throughput };
    } finally {
      await pool.close();
    }
  } finally {
    await Promise.all(ours.servers.map((server) => server.stop()));
  }

  announce(options, 'starting the bare grpc-js server');
  const bare = await startBare(options.workDir, ours.tokens);
  let bareResult: TargetResult;
  try {
    bareResult = await measureTarget(bare, options, oursResult.halfLoad.targetRate);
  } finally {
    await Promise.all(bare.servers.map((server) => server.stop()));
  }

  return {
    ours: oursResult,
    tls: tlsResult,
    bare: bareResult,
    unaryRatio: oursResult.best.throughput / bareResult.best.throughput,
    sessionRatio: oursResult.session.throughput / bareResult.session.throughput,
    halfLoadRate: oursResult.halfLoad.targetRate ?? 0,
    accessTokenLength: ours.tokens[0]?.length ?? 0,
  };
}
