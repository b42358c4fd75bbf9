/** Messages between the market-data bench and its subscriber fleet (a child process, so that its CPU and memory are its own). */

export interface OpenFleet {
  readonly type: 'open';
  readonly address: string;
  readonly market: string;
  /** Book subscribers that read every message as fast as they can. */
  readonly readers: number;
  /** Book subscribers that stop reading after their snapshot (their streams stay paused). */
  readonly idle: number;
  /** HTTP/2 connections the subscribers are spread over, as many clients would be. */
  readonly channels: number;
}

export type FleetCommand = OpenFleet | { readonly type: 'stats' } | { readonly type: 'close' };

export interface FleetStats {
  readonly type: 'stats';
  /** Readers that got their first message (the snapshot). */
  readonly readersStarted: number;
  /** Readers whose stream ended, by status code name. */
  readonly ended: Readonly<Record<string, number>>;
  readonly messages: number;
  /** Head samples (the book's sequence from GetOrderBook, once a second) every reader had reached. */
  readonly samples: number;
  /** For each sample, the time until the slowest reader got a message at or past it, in ms: p50 / p99 / max over samples. */
  readonly catchUpMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Samples older than 1 s that some reader had not reached yet when stats were asked: how many readers were behind by more than a second. */
  readonly readersBehindOneSecond: number;
  readonly fleetRssMiB: number;
}
