import { status } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';
import type { CommandLoop } from '../loop/command-loop-api';
import type { MarketData } from '../api/market-data';

/** What handlers work with once the journal has been replayed. */
export interface Serving {
  readonly loop: CommandLoop;
  readonly marketData: MarketData;
}

/**
 * The engine as handlers see it. The gRPC server listens (and answers health checks) while the
 * journal replays, so calls can arrive before there is an engine: they get UNAVAILABLE, which
 * clients retry. (At shutdown the server stops accepting calls and the loop refuses commands
 * once closed, both UNAVAILABLE as well.)
 */
export class ServiceState {
  private serving: Serving | undefined;
  private stopped: Error | undefined;

  serve(serving: Serving): void {
    this.serving = serving;
  }

  /**
   * The engine stopped for good (memory may be ahead of the journal): from now on every call is
   * answered with this error (the status adapter makes it UNAVAILABLE naming the cause) while the
   * process stops, rather than with state that a restart would not have.
   */
  stop(cause: Error): void {
    this.stopped ??= cause;
  }

  /** The engine to use for this call, or UNAVAILABLE. */
  current(): Serving {
    if (this.stopped !== undefined) throw this.stopped;
    if (this.serving === undefined) throw grpcError(status.UNAVAILABLE, 'the matching service is starting (replaying its journal): retry shortly', { reason: 'STARTING', retryDelayMs: 1000 });
    return this.serving;
  }
}
