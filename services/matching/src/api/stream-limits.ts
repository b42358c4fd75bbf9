import { status } from '@grpc/grpc-js';
import { grpcError } from '@orderbook/server-kit';

export interface StreamLimitsConfig {
  /** Open subscription streams allowed in total. */
  readonly maxStreams: number;
  /** Open subscription streams allowed from one client address. */
  readonly maxStreamsPerPeer: number;
  /** Bytes of stream messages written and not yet taken by the transport, over all subscribers. */
  readonly memoryBudgetBytes: number;
}

/** How long a client refused for too many streams is told to wait before it tries again. */
export const STREAM_RETRY_DELAY_MS = 1000;
/**
 * What one queued message costs beyond its bytes (the framed copy, the write request and stream
 * bookkeeping of grpc-js and Node's HTTP/2), counted so that many small messages cannot slip
 * under the budget.
 */
export const MESSAGE_OVERHEAD_BYTES = 256;

/**
 * What market-data and order-update streams may claim of the service, bounded twice as every
 * resource a stranger can claim: the number of open streams (in total and per client address)
 * and the memory of the messages they have not yet taken (over all subscribers; each subscriber
 * also has its own bound, see Subscriber).
 */
export class StreamLimits {
  private open = 0;
  private readonly perPeer = new Map<string, number>();
  private bufferedBytes = 0;

  constructor(private readonly config: StreamLimitsConfig) {}

  /**
   * Counts a new stream from the client at address (ClientAddresses.of the call); returns what
   * uncounts it. Throws RESOURCE_EXHAUSTED, with RetryInfo, past either limit.
   */
  admit(address: string): () => void {
    const fromPeer = this.perPeer.get(address) ?? 0;
    if (this.open >= this.config.maxStreams) {
      throw grpcError(status.RESOURCE_EXHAUSTED, `the service already serves ${this.open} streams (MATCHING_MAX_STREAMS): retry later`, {
        reason: 'TOO_MANY_STREAMS',
        metadata: { limit: String(this.config.maxStreams) },
        retryDelayMs: STREAM_RETRY_DELAY_MS,
      });
    }
    if (fromPeer >= this.config.maxStreamsPerPeer) {
      throw grpcError(
        status.RESOURCE_EXHAUSTED,
        `${address} already has ${fromPeer} open streams (MATCHING_MAX_STREAMS_PER_PEER): close one or retry later`,
        { reason: 'TOO_MANY_STREAMS_FROM_PEER', metadata: { limit: String(this.config.maxStreamsPerPeer), peer: address }, retryDelayMs: STREAM_RETRY_DELAY_MS },
      );
    }
    this.open += 1;
    this.perPeer.set(address, fromPeer + 1);
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.open -= 1;
      const left = (this.perPeer.get(address) ?? 1) - 1;
      if (left === 0) this.perPeer.delete(address);
      else this.perPeer.set(address, left);
    };
  }

  /** True while the buffered messages of all subscribers are within the budget: no new writes otherwise. */
  hasRoom(): boolean {
    return this.bufferedBytes < this.config.memoryBudgetBytes;
  }

  reserve(bytes: number): void {
    this.bufferedBytes += bytes;
  }

  release(bytes: number): void {
    this.bufferedBytes -= bytes;
  }

  openStreams(): number {
    return this.open;
  }

  buffered(): number {
    return this.bufferedBytes;
  }
}
