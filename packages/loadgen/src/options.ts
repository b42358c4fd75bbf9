import { parseArgs } from 'node:util';
import type { BenchOptions } from './bench';
import { OPERATION_KINDS, type Mix } from './workload';

export const USAGE = `usage: make bench [ARGS="options"]   (or node packages/loadgen/dist/src/main.js [options] after make build)

Starts auth + matching (child processes, journaling on), signs up and funds traders, measures one
call at a time (GetBalances, GetOrderBook, PlaceLimitOrder, CancelOrder, OrderSession), sweeps the
closed-loop concurrency to find the maximum unary order rate, measures open loop at half of it,
then OrderSession streams; then matching restarted serving TLS (a certificate made for the run) for
the unary sweep again (TLS vs plaintext); then the same against a bare grpc-js server (the ceiling).

  --seed N             PRNG seed of the order flow (default 1)
  --users N            traders signed up and funded (default 16)
  --threads N          generator threads (default 2)
  --channels N         HTTP/2 connections per generator thread (default 2)
  --levels A,B,C       closed-loop concurrency of the sweep steps (default 16,64,256)
  --warmup S           seconds of warm-up before the sweep (default 3)
  --step S             seconds per sweep step (default 8)
  --open S             seconds of open loop at half load (default 15)
  --session S          seconds of OrderSession streaming (default 8)
  --markets LIST       markets (default BTC-USD,ETH-USD,SOL-USD)
  --mix R,C,M,X        weights of resting, crossing, market, cancel (default 45,25,10,20)
  --max-open N         resting orders a worker keeps before it cancels (default 200)
  --max-requests N     bound on the requests of any one phase (default 5000000)
  --deadline-ms N      deadline of each unary call (default 10000)
  --sequential N       rounds of the sequential phase, each call kind once per round (default 500)
  --out DIR            directory of the JSON result (default bench-results)
  --quiet              no progress lines

Environment: BENCH_CPU_PROF_DIR=DIR makes every server process write a V8 CPU profile (node
--cpu-prof) into DIR/<server>/ when it stops (matching twice: plaintext, then TLS); open it in
Chrome DevTools or speedscope.
`;

/** A bad command line: reported with the usage hint, without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CliOptions {
  readonly bench: Omit<BenchOptions, 'workDir' | 'progress'>;
  readonly outDir: string;
  readonly quiet: boolean;
  readonly help: boolean;
}

function positiveInt(name: string, text: string, max = 1e9): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new UsageError(`--${name}: expected an integer from 1 to ${max}, got "${text}"`);
  return Number(text);
}

function intList(name: string, text: string): number[] {
  return text.split(',').map((part) => positiveInt(name, part.trim(), 100_000));
}

function mixOf(text: string): Mix {
  const weights = text.split(',').map((part) => Number(part.trim()));
  if (weights.length !== OPERATION_KINDS.length || weights.some((w) => !Number.isFinite(w) || w < 0) || weights.every((w) => w === 0)) {
    throw new UsageError(`--mix: expected ${OPERATION_KINDS.length} non-negative weights (${OPERATION_KINDS.join(', ')}), got "${text}"`);
  }
  return Object.fromEntries(OPERATION_KINDS.map((kind, index) => [kind, weights[index] ?? 0])) as unknown as Mix;
}

export function parseOptions(argv: readonly string[]): CliOptions {
  try {
    return optionsOf(argv);
  } catch (err) {
    // parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS_* code.
    if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) throw new UsageError(err.message);
    throw err;
  }
}

function optionsOf(argv: readonly string[]): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      seed: { type: 'string', default: '1' },
      users: { type: 'string', default: '16' },
      threads: { type: 'string', default: '2' },
      channels: { type: 'string', default: '2' },
      levels: { type: 'string', default: '16,64,256' },
      warmup: { type: 'string', default: '3' },
      step: { type: 'string', default: '8' },
      open: { type: 'string', default: '15' },
      session: { type: 'string', default: '8' },
      markets: { type: 'string', default: 'BTC-USD,ETH-USD,SOL-USD' },
      mix: { type: 'string', default: '45,25,10,20' },
      'max-open': { type: 'string', default: '200' },
      'max-requests': { type: 'string', default: '5000000' },
      'deadline-ms': { type: 'string', default: '10000' },
      sequential: { type: 'string', default: '500' },
      out: { type: 'string', default: 'bench-results' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const markets = values.markets.split(',').map((m) => m.trim());
  if (markets.some((m) => !/^[A-Z0-9]{1,16}-[A-Z0-9]{1,16}$/.test(m))) throw new UsageError(`--markets: expected BASE-QUOTE symbols, got "${values.markets}"`);
  return {
    bench: {
      seed: positiveInt('seed', values.seed, 0xffffffff),
      users: positiveInt('users', values.users, 10_000),
      threads: positiveInt('threads', values.threads, 64),
      channels: positiveInt('channels', values.channels, 1000),
      levels: intList('levels', values.levels),
      warmupSeconds: positiveInt('warmup', values.warmup, 3600),
      stepSeconds: positiveInt('step', values.step, 3600),
      openSeconds: positiveInt('open', values.open, 3600),
      sessionSeconds: positiveInt('session', values.session, 3600),
      markets,
      mix: mixOf(values.mix),
      maxOpenOrders: positiveInt('max-open', values['max-open'], 100_000),
      maxRequestsPerPhase: positiveInt('max-requests', values['max-requests']),
      deadlineMs: positiveInt('deadline-ms', values['deadline-ms'], 600_000),
      sequentialRounds: positiveInt('sequential', values.sequential, 1_000_000),
    },
    outDir: values.out,
    quiet: values.quiet,
    help: values.help,
  };
}
