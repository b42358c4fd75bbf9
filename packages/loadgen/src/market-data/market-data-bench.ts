import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { RUNNING_COMPILED, TYPESCRIPT_NODE_ARGS } from '@orderbook/server-kit';
import { fundingFor } from '../bench';
import { unaryEntry } from '../clients';
import type { Recorder } from '../driving';
import { Histogram, type LatencySummary } from '../histogram';
import { machineFacts } from '../machine';
import { driveOpenLoop } from '../open-loop';
import { Random } from '../prng';
import type { ChildServer } from '../processes';
import { startOurs } from '../targets';
import { OrderFlow, type Mix } from '../workload';
import type { FleetCommand, FleetStats } from './fleet-protocol';

/**
 * `make bench-subscribers`: order entry at a fixed rate with and without thousands of book
 * subscribers on the same machine. Phases: (1) order entry alone; (2) the same with `readers`
 * reading subscribers and `idle` never-reading ones; (3) the same with `flood` never-reading
 * subscribers. Reports order-entry latency, matching's RSS and how far behind the readers were.
 */
interface Options {
  readonly rate: number;
  readonly seconds: number;
  readonly readers: number;
  readonly idle: number;
  readonly flood: number;
  readonly channels: number;
  readonly users: number;
}

const DEFAULTS: Options = { rate: 150, seconds: 30, readers: 2000, idle: 50, flood: 10_000, channels: 50, users: 8 };
const MARKET = 'BTC-USD';
const MIX: Mix = { resting: 45, crossing: 25, market: 10, cancel: 20 };
const DRAIN_MS = 30_000;
const SETTLE_MS = 5_000;

function parse(argv: readonly string[]): Options {
  const options: Record<string, number> = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') ?? '';
    const value = Number(argv[i + 1]);
    if (!(key in DEFAULTS) || !Number.isSafeInteger(value) || value < 0) {
      throw new Error(`bench-subscribers: unknown option or bad value ${argv[i]} ${argv[i + 1]}; options: ${Object.keys(DEFAULTS).map((k) => `--${k}`).join(' ')}`);
    }
    options[key] = value;
  }
  return options as unknown as Options;
}

interface PhaseResult {
  readonly label: string;
  readonly latency: LatencySummary;
  readonly errors: Readonly<Record<string, number>>;
  readonly matchingPeakRssMiB: number;
  readonly matchingEndRssMiB: number;
  readonly matchingAlive: boolean;
  /** matching's CPU time during the phase, in % of one core. */
  readonly matchingCpuPercent: number;
  /** matching's own event-loop delay over the phase (prom-client's monitorEventLoopDelay, reset at each scrape), ms. */
  readonly matchingLoopLag?: { readonly p99: number; readonly max: number };
  /** Why the phase did not complete (e.g. answers that never came). */
  readonly failure?: string;
  readonly fleet?: FleetStats;
}

class LatencyRecorder implements Recorder {
  inFlight = 0;
  readonly histogram = new Histogram();
  readonly errors: Record<string, number> = {};
  record(_kind: string, outcome: { code: status }, micros: number): void {
    this.histogram.record(micros);
    const expected = outcome.code === status.OK || outcome.code === status.FAILED_PRECONDITION || outcome.code === status.NOT_FOUND;
    if (!expected) this.errors[status[outcome.code] ?? String(outcome.code)] = (this.errors[status[outcome.code] ?? ''] ?? 0) + 1;
  }
}

class FleetProcess {
  private readonly child: ChildProcess;
  private readonly waiting: Array<(message: { type: string }) => void> = [];

  constructor() {
    const script = join(__dirname, RUNNING_COMPILED ? 'subscriber-fleet.js' : 'subscriber-fleet.ts');
    this.child = fork(script, [], { execArgv: [...(RUNNING_COMPILED ? [] : TYPESCRIPT_NODE_ARGS), '--max-old-space-size=4096'], stdio: 'inherit' });
    this.child.on('message', (message: { type: string }) => this.waiting.shift()?.(message));
  }

  ask<T>(command: FleetCommand): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push((message) => resolve(message as T));
      this.child.send(command);
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    await exited;
  }
}

const MiB = 1024;

/** matching's metrics port, from its "serving" log line. */
function metricsPortOf(matching: ChildServer): number {
  const line = readFileSync(matching.logPath, 'utf8').split('\n').find((l) => l.includes('"matching service serving"'));
  return (JSON.parse(line ?? '{}') as { metricsPort?: number }).metricsPort ?? 0;
}

/** Scrapes matching's /metrics: its event-loop delay since the last scrape, in ms. */
async function loopLag(matching: ChildServer): Promise<{ p99: number; max: number } | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPortOf(matching)}/metrics`)).text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
    return { p99: Math.round(value('nodejs_eventloop_lag_p99_seconds')), max: Math.round(value('nodejs_eventloop_lag_max_seconds')) };
  } catch {
    return undefined;
  }
}

async function orderEntryPhase(
  label: string,
  address: string,
  tokens: readonly string[],
  matching: ChildServer,
  options: Options,
  seed: number,
  fleet?: FleetProcess,
): Promise<PhaseResult> {
  const entry = unaryEntry({ address, channels: 4, tokens, deadlineMs: 60_000 });
  const flows = tokens.map((_, i) => new OrderFlow(new Random(Random.derive(seed, i)), { markets: [MARKET], mix: MIX, maxOpenOrders: 200 }));
  const slots = tokens.map((_, i) => ({ user: i, channel: i }));
  const recorder = new LatencyRecorder();
  let peak = matching.isRunning() ? matching.stats().rssKiB : 0;
  const cpuBefore = matching.isRunning() ? matching.stats().cpuSeconds : 0;
  await loopLag(matching);
  const startedAt = performance.now();
  const sampler = setInterval(() => {
    if (matching.isRunning()) peak = Math.max(peak, matching.stats().rssKiB);
  }, 250);
  let failure: string | undefined;
  try {
    await driveOpenLoop({ entry, flows, slots }, recorder, {
      ratePerSecond: options.rate,
      durationMs: options.seconds * 1000,
      maxRequests: options.rate * options.seconds,
      maxInFlight: 10_000,
      drainMs: DRAIN_MS,
    });
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    clearInterval(sampler);
    entry.close();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const cpuPercent = matching.isRunning() ? Math.round(((matching.stats().cpuSeconds - cpuBefore) / seconds) * 100) : 0;
  const lag = await loopLag(matching);
  const fleetStats = fleet === undefined ? undefined : await fleet.ask<FleetStats>({ type: 'stats' });
  const alive = matching.isRunning();
  return {
    label,
    latency: recorder.histogram.summary(),
    errors: recorder.errors,
    matchingPeakRssMiB: Math.round(peak / MiB),
    matchingEndRssMiB: alive ? Math.round(matching.stats().rssKiB / MiB) : 0,
    matchingAlive: alive,
    matchingCpuPercent: cpuPercent,
    ...(lag === undefined ? {} : { matchingLoopLag: lag }),
    ...(failure === undefined ? {} : { failure }),
    ...(fleetStats === undefined ? {} : { fleet: fleetStats }),
  };
}

async function withFleet(address: string, readers: number, idle: number, channels: number): Promise<FleetProcess> {
  const fleet = new FleetProcess();
  await fleet.ask({ type: 'open', address, market: MARKET, readers, idle, channels });
  // Let the streams open and the snapshots arrive before measuring.
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  return fleet;
}

function ms(us: number): string {
  return (us / 1000).toFixed(1);
}

function render(phases: readonly PhaseResult[], base: PhaseResult, command: string, machine: string): string {
  const lines = [`# ${command}`, `# ${machine}`, ''];
  lines.push('| phase | p50 ms | p99 ms | p99 / alone | max ms | errors | matching RSS peak / end MiB | matching CPU % | matching loop lag p99 / max ms | alive | readers started | catch-up p50 / p99 / max ms | readers >1 s behind | streams ended |');
  lines.push('|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|');
  for (const p of phases) {
    const f = p.fleet;
    lines.push(
      `| ${p.label}${p.failure === undefined ? '' : ` (FAILED: ${p.failure})`} | ${ms(p.latency.p50Us)} | ${ms(p.latency.p99Us)} | ${(p.latency.p99Us / Math.max(1, base.latency.p99Us)).toFixed(2)} | ${ms(p.latency.maxUs)} | ${JSON.stringify(p.errors)} | ${p.matchingPeakRssMiB} / ${p.matchingEndRssMiB} | ${p.matchingCpuPercent} | ${p.matchingLoopLag === undefined ? '-' : `${p.matchingLoopLag.p99} / ${p.matchingLoopLag.max}`} | ${p.matchingAlive} | ` +
        (f === undefined ? '- | - | - | - |' : `${f.readersStarted} | ${f.catchUpMs.p50} / ${f.catchUpMs.p99} / ${f.catchUpMs.max} | ${f.readersBehindOneSecond} | ${JSON.stringify(f.ended)} |`),
    );
  }
  return `${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = parse(argv);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const machine = await machineFacts();
  const workDir = mkdtempSync(join(tmpdir(), 'orderbook-bench-md-'));
  const say = (line: string): void => void process.stderr.write(`== ${line}\n`);
  say(`starting auth + matching (data and logs in ${workDir})`);
  // Every subscriber of the bench comes from 127.0.0.1: one peer, allowed all of them unless set otherwise.
  const streams = String(Math.max(options.readers + options.idle, options.flood) + 100);
  const matchingEnv = { MATCHING_MAX_STREAMS: process.env.MATCHING_MAX_STREAMS ?? streams, MATCHING_MAX_STREAMS_PER_PEER: process.env.MATCHING_MAX_STREAMS_PER_PEER ?? streams };
  const ours = await startOurs({ workDir, markets: [MARKET], users: options.users, funding: fundingFor([MARKET]), matchingEnv });
  const matching = ours.loaded;
  const phases: PhaseResult[] = [];
  const done = (phase: PhaseResult): void => {
    phases.push(phase);
    process.stderr.write(`${JSON.stringify(phase)}\n`);
  };
  try {
    say(`order entry alone: ${options.rate}/s for ${options.seconds} s`);
    done(await orderEntryPhase('alone', ours.address, ours.tokens, matching, options, 1));
    say(`${options.readers} reading + ${options.idle} idle book subscribers`);
    let fleet = await withFleet(ours.address, options.readers, options.idle, options.channels);
    done(await orderEntryPhase(`${options.readers} readers + ${options.idle} idle`, ours.address, ours.tokens, matching, options, 2, fleet));
    await fleet.close();
    if (options.flood > 0 && matching.isRunning()) {
      say(`${options.flood} idle book subscribers`);
      fleet = await withFleet(ours.address, 0, options.flood, options.channels * 4);
      done(await orderEntryPhase(`${options.flood} idle`, ours.address, ours.tokens, matching, options, 3, fleet));
      await fleet.close();
    }
  } finally {
    await Promise.all(ours.servers.map((server) => server.stop()));
  }
  const base = phases[0];
  if (base === undefined) throw new Error('bench-subscribers: no phase ran');
  const command = ['make bench-subscribers', ...(argv.length > 0 ? [`ARGS="${argv.join(' ')}"`] : [])].join(' ');
  const env = Object.entries(process.env).filter(([k]) => k.startsWith('MATCHING_')).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(render(phases, base, env === '' ? command : `${env} ${command}`, JSON.stringify(machine)));
  rmSync(workDir, { recursive: true, force: true });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`bench-subscribers: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
