import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
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

function unaryCall(client: grpc.Client, grpcPath: string, request: Uint8Array, metadata: grpc.Metadata, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(grpcPath, passBytes.serialize, passBytes.deserialize, request, metadata, { deadline: Date.now() + timeoutMs }, (err, response) => {
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

/** What a service's grpc.health.v1 Check answered, or why it did not. */
export type Health = { readonly serving: true } | { readonly serving: false; readonly cause: string };

/** Codes that say the service did not answer (rather than refused the request). */
const UNANSWERED = new Set([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

export class Upstreams {
  private readonly clients: Record<UpstreamName, grpc.Client>;
  private leader: Leader | undefined;
  /** Services whose last call went unanswered: logged once when they go, once when they are back. */
  private readonly down = new Set<UpstreamName>();

  constructor(
    private readonly upstreams: Readonly<Record<UpstreamName, Upstream>>,
    private readonly callTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.clients = { auth: dial(upstreams.auth, logger), matching: dial(upstreams.matching, logger) };
  }

  async unary(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): Promise<Buffer> {
    try {
      const response = await this.forward(rpc, request, metadata);
      this.answered(rpc.upstream);
      return response;
    } catch (err) {
      const failure = err as CallFailure;
      if (UNANSWERED.has(failure.code)) this.unavailable(rpc.upstream, failure.message);
      else this.answered(rpc.upstream);
      throw failure;
    }
  }

  /** grpc.health.v1 Check of a service (the whole server), within the call timeout. */
  async health(upstream: UpstreamName): Promise<Health> {
    try {
      const response = await unaryCall(this.clients[upstream], HEALTH_CHECK.path, new Uint8Array(0), new grpc.Metadata(), this.callTimeoutMs);
      const { status } = HEALTH_CHECK.responseDeserialize(response) as { readonly status: string };
      return status === 'SERVING' ? { serving: true } : { serving: false, cause: `health check: ${status}` };
    } catch (err) {
      const failure = err as CallFailure;
      return { serving: false, cause: `${grpc.status[failure.code]}: ${failure.message}` };
    }
  }

  private async forward(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): Promise<Buffer> {
    if (rpc.upstream !== 'matching') return unaryCall(this.clients[rpc.upstream], rpc.grpcPath, request, metadata, this.callTimeoutMs);
    const first = this.leader;
    try {
      return await unaryCall(first?.client ?? this.clients.matching, rpc.grpcPath, request, metadata, this.callTimeoutMs);
    } catch (err) {
      const named = leaderAddressOf(err as CallFailure);
      if (named === undefined || named === (first?.address ?? this.upstreams.matching.address)) throw this.unanswered(first, err as CallFailure);
      const leader = this.follow(named);
      try {
        return await unaryCall(leader.client, rpc.grpcPath, request, metadata.clone(), this.callTimeoutMs);
      } catch (again) {
        throw this.unanswered(leader, again as CallFailure);
      }
    }
  }

  private unavailable(upstream: UpstreamName, cause: string): void {
    if (this.down.has(upstream)) return;
    this.down.add(upstream);
    this.logger.warn({ upstream, address: this.upstreams[upstream].address, cause }, `${upstream} does not answer: calls to it are answered 503 or 504 until it does`);
  }

  private answered(upstream: UpstreamName): void {
    if (this.down.delete(upstream)) this.logger.info({ upstream, address: this.upstreams[upstream].address }, `${upstream} answers again`);
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

  /** A server stream; its caller bounds how long the service may take to accept it. */
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

/** grpc.health.v1 Check as grpc-health-check defines it (its path and its response's decoding; the empty request means the whole server). */
const HEALTH_CHECK = healthService.Check;

/**
 * Reconnection attempts to a service that went away back off to at most this: the gateway serves
 * again within about that long after the service returns (grpc-js's default ceiling is two minutes).
 */
const MAX_RECONNECT_BACKOFF_MS = 2000;

/** Over TLS when the upstream has TLS files (no plaintext fallback), else plaintext. */
function dial(upstream: Upstream, logger: Logger): grpc.Client {
  const backoff = { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS };
  if (upstream.tls === undefined) return new grpc.Client(upstream.address, grpc.credentials.createInsecure(), backoff);
  const channel = clientTlsChannel(upstream.tls, logger);
  return new grpc.Client(upstream.address, channel.credentials, { ...channel.options, ...backoff });
}
