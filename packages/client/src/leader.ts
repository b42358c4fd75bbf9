import { status, type ChannelCredentials, type ClientOptions } from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { OrderbookError } from './errors';

/** ErrorInfo reason of a write sent to a follower; its metadata names the leader. */
export const NOT_LEADER = 'NOT_LEADER';
export const LEADER_ADDRESS_KEY = 'leader_address';

/** The leader's address (host:port) when the error is a follower's refusal of a write. */
export function leaderAddressOf(err: unknown): string | undefined {
  if (!(err instanceof OrderbookError) || err.code !== status.UNAVAILABLE || err.reason !== NOT_LEADER) return undefined;
  const address = err.metadata[LEADER_ADDRESS_KEY];
  return address === undefined || address === '' ? undefined : address;
}

/**
 * The matching channels of one client: reads (and streams) stay on the configured address, which
 * any replica answers; writes go to the leader, first assumed to be the configured address and
 * then wherever a follower's NOT_LEADER answer points.
 */
export class MatchingChannels {
  readonly reads: matching.MatchingServiceClient;
  private writer: matching.MatchingServiceClient;
  private writerAddress: string;

  constructor(
    address: string,
    private readonly credentials: ChannelCredentials,
    private readonly options: Partial<ClientOptions> = {},
  ) {
    this.reads = new matching.MatchingServiceClient(address, credentials, options);
    this.writer = this.reads;
    this.writerAddress = address;
  }

  get writes(): matching.MatchingServiceClient {
    return this.writer;
  }

  get leaderAddress(): string {
    return this.writerAddress;
  }

  /** Points writes at the leader the error names; false when it names none (or the current one). */
  follow(err: unknown): boolean {
    const address = leaderAddressOf(err);
    if (address === undefined || address === this.writerAddress) return false;
    if (this.writer !== this.reads) this.writer.close();
    this.writer = new matching.MatchingServiceClient(address, this.credentials, this.options);
    this.writerAddress = address;
    return true;
  }

  close(): void {
    if (this.writer !== this.reads) this.writer.close();
    this.reads.close();
  }
}
