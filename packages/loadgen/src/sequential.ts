import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { bearer } from './clients';
import { Histogram, type LatencySummary } from './histogram';
import { readProcessStats } from './proc-stats';
import { latencyBetween, scrapeServerFigures, type ServerLatency } from './server-latency';
import type { Target } from './targets';
import type { UnaryMethod } from './unary-call';

/**
 * Latency of one call at a time: one client (this process, the server in its own), one connection,
 * each call sent only when the previous one was answered, so that every figure is a bare round trip
 * through the transport and the service with no queueing. Each round runs every kind once, in the
 * same order (reads, a resting order and its cancel, the same over an OrderSession stream), so that
 * whatever else the shared machine does falls on all kinds alike and their differences mean something.
 */
export const SEQUENTIAL_CALLS = ['GetBalances', 'GetOrderBook', 'PlaceLimitOrder', 'CancelOrder', 'OrderSession place', 'OrderSession cancel'] as const;
export type SequentialCallName = (typeof SEQUENTIAL_CALLS)[number];

export interface SequentialCall {
  readonly name: SequentialCallName;
  /** Client side: from the send to the answer, microseconds. */
  readonly latency: LatencySummary;
  /** Answers that were not OK. */
  readonly errors: number;
  /** Inside matching (arrival to status), from its call histogram; unary RPCs of a target with metrics only. */
  readonly serverLatency?: ServerLatency;
}

export interface SequentialResult {
  readonly label: string;
  /** Measured rounds (each runs every call once), after the warm-up rounds. */
  readonly rounds: number;
  readonly seconds: number;
  readonly calls: readonly SequentialCall[];
  /** CPU seconds of the loaded server over the measured rounds. */
  readonly serverCpuSeconds: number;
  /** Milliseconds its garbage collections paused it over the measured rounds. */
  readonly serverGcPauseMs: number;
  /** matching's journal syncs (fdatasync) over the measured rounds and their mean duration: the disk's share of a write. */
  readonly journalSyncs?: { readonly count: number; readonly meanUs: number };
}

export interface SequentialOptions {
  readonly rounds: number;
  readonly warmupRounds: number;
  readonly market: string;
  readonly deadlineMs: number;
}

/** Far below the mid of the bench's flow (100.00) and of the smallest quantity: it rests, never fills, and locks next to nothing. */
const RESTING_ORDER = { side: matching.Side.SIDE_BUY, price: '1', quantity: '0.001', timeInForce: matching.TimeInForce.TIME_IN_FORCE_GTC } as const;

/** One round trip of the session stream: the next response answers the request just written. */
class SessionRoundTrips {
  private answer: ((response: matching.OrderSessionResponse | Error) => void) | undefined;
  private nextId = 1n;

  constructor(private readonly stream: grpc.ClientDuplexStream<matching.OrderSessionRequest, matching.OrderSessionResponse>) {
    stream.on('data', (response: matching.OrderSessionResponse) => this.settle(response));
    stream.on('error', (err: Error) => this.settle(err));
    stream.on('end', () => this.settle(new Error('OrderSession stream ended by the server')));
  }

  send(command: Omit<matching.OrderSessionRequest, 'requestId'>): Promise<matching.OrderSessionResponse | Error> {
    return new Promise((resolve) => {
      this.answer = resolve;
      this.stream.write({ requestId: this.nextId++, ...command });
    });
  }

  close(): void {
    this.stream.end();
    this.stream.cancel();
  }

  private settle(response: matching.OrderSessionResponse | Error): void {
    const answer = this.answer;
    this.answer = undefined;
    answer?.(response);
  }
}

/** Runs the sequential rounds against a target with the first of its tokens. */
export async function runSequential(target: Target, options: SequentialOptions): Promise<SequentialResult> {
  const credentials = target.tlsCaFile === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(readFileSync(target.tlsCaFile));
  const client = new matching.MatchingServiceClient(target.address, credentials, { 'grpc.use_local_subchannel_pool': 1 });
  const token = target.tokens[0];
  if (token === undefined) throw new Error('loadgen: the sequential phase needs a token');
  const metadata = bearer(token);
  const session = new SessionRoundTrips(client.orderSession(bearer(token)));
  const histograms = new Map(SEQUENTIAL_CALLS.map((name) => [name, new Histogram()]));
  const errors = new Map<SequentialCallName, number>(SEQUENTIAL_CALLS.map((name) => [name, 0]));
  let measuring = false;
  const record = (name: SequentialCallName, startedAt: number, ok: boolean): void => {
    if (!measuring) return;
    histograms.get(name)?.record((performance.now() - startedAt) * 1000);
    if (!ok) errors.set(name, (errors.get(name) ?? 0) + 1);
  };
  const unary = <Request, Response>(name: SequentialCallName, method: UnaryMethod<Request, Response>, request: Request): Promise<Response | undefined> =>
    new Promise((resolve) => {
      const startedAt = performance.now();
      method.call(client, request, metadata, { deadline: Date.now() + options.deadlineMs }, (err, response) => {
        record(name, startedAt, err === null);
        resolve(err === null ? response : undefined);
      });
    });
  const viaSession = async (name: SequentialCallName, command: Omit<matching.OrderSessionRequest, 'requestId'>): Promise<matching.OrderSessionResponse | undefined> => {
    const startedAt = performance.now();
    const response = await session.send(command);
    const ok = !(response instanceof Error) && response.error === undefined;
    record(name, startedAt, ok);
    return ok ? response : undefined;
  };
  const order = { ...RESTING_ORDER, market: options.market, postOnly: false, selfTradePrevention: matching.SelfTradePrevention.SELF_TRADE_PREVENTION_UNSPECIFIED, clientOrderId: '', expireAtUnixMs: 0n, stopPrice: '' };
  const round = async (): Promise<void> => {
    await unary('GetBalances', client.getBalances, {});
    await unary('GetOrderBook', client.getOrderBook, { market: options.market, depth: 10 });
    const placed = await unary('PlaceLimitOrder', client.placeLimitOrder, order);
    if (placed?.order !== undefined) await unary('CancelOrder', client.cancelOrder, { orderId: placed.order.orderId, clientOrderId: '' });
    const viaStream = await viaSession('OrderSession place', { placeLimitOrder: order });
    const orderId = viaStream?.placeLimitOrder?.order?.orderId;
    if (orderId !== undefined) await viaSession('OrderSession cancel', { cancelOrder: { orderId, clientOrderId: '' } });
  };

  try {
    for (let i = 0; i < options.warmupRounds; i++) await round();
    measuring = true;
    const before = target.metricsUrl === undefined ? undefined : await scrapeServerFigures(target.metricsUrl);
    const cpuBefore = readProcessStats(target.loaded.pid).cpuSeconds;
    const gcBefore = target.loaded.gcPauseMs();
    const startedAt = performance.now();
    for (let i = 0; i < options.rounds; i++) await round();
    const seconds = (performance.now() - startedAt) / 1000;
    const serverCpuSeconds = readProcessStats(target.loaded.pid).cpuSeconds - cpuBefore;
    const serverGcPauseMs = target.loaded.gcPauseMs() - gcBefore;
    const after = target.metricsUrl === undefined ? undefined : await scrapeServerFigures(target.metricsUrl);
    const calls = SEQUENTIAL_CALLS.map((name): SequentialCall => {
      const calls = after?.calls.get(name);
      return {
        name,
        latency: histograms.get(name)?.summary() ?? new Histogram().summary(),
        errors: errors.get(name) ?? 0,
        ...(calls === undefined ? {} : { serverLatency: latencyBetween(before?.calls.get(name), calls) }),
      };
    });
    const syncs = before === undefined || after === undefined ? 0 : after.syncs.count - before.syncs.count;
    const journalSyncs = before === undefined || after === undefined || syncs === 0 ? undefined : { count: syncs, meanUs: ((after.syncs.sumSeconds - before.syncs.sumSeconds) * 1e6) / syncs };
    return { label: `${target.name} sequential`, rounds: options.rounds, seconds, calls, serverCpuSeconds, serverGcPauseMs, ...(journalSyncs === undefined ? {} : { journalSyncs }) };
  } finally {
    session.close();
    client.close();
  }
}
