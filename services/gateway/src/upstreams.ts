import * as grpc from '@grpc/grpc-js';
import { decodeStatusDetails, LEADER_ADDRESS_KEY, NOT_LEADER } from '@orderbook/client';
import { clientTlsChannel, FORWARDED_FOR, type Logger } from '@orderbook/server-kit';
import type { Upstream } from './config';
import type { Rpc, UpstreamName } from './contract';

/** A failed call as the service answered it (or as grpc-js reports an unreachable one). */
export interface CallFailure {
  readonly code: grpc.status;
  readonly message: string;
  /** The `grpc-status-details-bin` trailer (a google.rpc.Status), when the service sent one. */
  readonly detailsBin?: Uint8Array;
}

export function callFailure(err: grpc.ServiceError): CallFailure {
  const [details] = err.metadata?.get('grpc-status-details-bin') ?? [];
  return { code: err.code, message: err.details, ...(Buffer.isBuffer(details) ? { detailsBin: details } : {}) };
}

/** The leader a matching follower names when it refuses a write (UNAVAILABLE, reason NOT_LEADER), if the failure is that. */
export function leaderAddressOf(failure: CallFailure): string | undefined {
  if (failure.code !== grpc.status.UNAVAILABLE || failure.detailsBin === undefined) return undefined;
  try {
    const details = decodeStatusDetails(failure.detailsBin);
    const address = details.reason === NOT_LEADER ? details.metadata[LEADER_ADDRESS_KEY] : undefined;
    return address === '' ? undefined : address;
  } catch {
    return undefined;
  }
}

const passBytes = { serialize: (bytes: Uint8Array) => Buffer.from(bytes), deserialize: (bytes: Buffer) => bytes };

function unaryCall(client: grpc.Client, rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(rpc.grpcPath, passBytes.serialize, passBytes.deserialize, request, metadata, (err, response) => {
      if (err) reject(callFailure(err));
      else resolve(response!);
    });
  });
}

/**
 * One gRPC channel per service; calls carry encoded messages as they are (the gateway encodes
 * and decodes with the descriptors), so any RPC of the contract can be forwarded.
 *
 * Matching may run as a leader with followers (high availability): every replica serves reads and
 * streams, only the leader takes writes. Unary calls go to the configured address until a
 * follower's NOT_LEADER refusal names the leader; the call is then sent there once more (the
 * refusal changed nothing) and so are the next ones. When that leader stops answering, the next
 * calls go to the configured address again, to learn the new leader from its answer.
 */
interface Leader {
  readonly address: string;
  readonly client: grpc.Client;
}

export class Upstreams {
  private readonly clients: Record<UpstreamName, grpc.Client>;
  private leader: Leader | undefined;

  constructor(
    private readonly upstreams: Readonly<Record<UpstreamName, Upstream>>,
    private readonly logger: Logger,
  ) {
    this.clients = { auth: dial(upstreams.auth, logger), matching: dial(upstreams.matching, logger) };
  }

  async unary(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): Promise<Buffer> {
    if (rpc.upstream !== 'matching') return unaryCall(this.clients[rpc.upstream], rpc, request, metadata);
    const first = this.leader;
    try {
      return await unaryCall(first?.client ?? this.clients.matching, rpc, request, metadata);
    } catch (err) {
      const named = leaderAddressOf(err as CallFailure);
      if (named === undefined || named === (first?.address ?? this.upstreams.matching.address)) throw this.unanswered(first, err as CallFailure);
      const leader = this.follow(named);
      try {
        return await unaryCall(leader.client, rpc, request, metadata.clone());
      } catch (again) {
        throw this.unanswered(leader, again as CallFailure);
      }
    }
  }

  private follow(address: string): Leader {
    this.leader?.client.close();
    this.leader = { address, client: dial({ ...this.upstreams.matching, address }, this.logger) };
    this.logger.info({ leader: address }, 'matching writes go to the leader a follower named');
    return this.leader;
  }

  /** `failure` of a call to `leader` (undefined: to the configured address); a leader that is unreachable is forgotten. */
  private unanswered(leader: Leader | undefined, failure: CallFailure): CallFailure {
    if (leader !== undefined && this.leader === leader && failure.code === grpc.status.UNAVAILABLE) {
      this.logger.warn({ leader: leader.address, message: failure.message }, 'the matching leader is unavailable: the next calls ask the configured address');
      leader.client.close();
      this.leader = undefined;
    }
    return failure;
  }

  serverStream(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): grpc.ClientReadableStream<Buffer> {
    return this.clients[rpc.upstream].makeServerStreamRequest(rpc.grpcPath, passBytes.serialize, passBytes.deserialize, request, metadata);
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.close();
    this.leader?.client.close();
  }
}

/**
 * The gRPC metadata of a forwarded call: the caller's Authorization header and its address (for the
 * services' per-client limits, which read it when AUTH_/MATCHING_TRUSTED_PROXIES name the gateway).
 */
export function forwardedMetadata(authorization: string | undefined, client: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined && authorization !== '') metadata.set('authorization', authorization);
  metadata.set(FORWARDED_FOR, client);
  return metadata;
}

/** Over TLS when the upstream has TLS files (no plaintext fallback), else plaintext. */
function dial(upstream: Upstream, logger: Logger): grpc.Client {
  if (upstream.tls === undefined) return new grpc.Client(upstream.address, grpc.credentials.createInsecure());
  const channel = clientTlsChannel(upstream.tls, logger);
  return new grpc.Client(upstream.address, channel.credentials, channel.options);
}
