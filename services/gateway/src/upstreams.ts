import * as grpc from '@grpc/grpc-js';
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

const passBytes = { serialize: (bytes: Uint8Array) => Buffer.from(bytes), deserialize: (bytes: Buffer) => bytes };

/**
 * One gRPC channel per service; calls carry encoded messages as they are (the gateway encodes
 * and decodes with the descriptors), so any RPC of the contract can be forwarded.
 */
export class Upstreams {
  private readonly clients: Record<UpstreamName, grpc.Client>;

  constructor(upstreams: Readonly<Record<UpstreamName, Upstream>>, logger: Logger) {
    this.clients = { auth: dial(upstreams.auth, logger), matching: dial(upstreams.matching, logger) };
  }

  unary(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.clients[rpc.upstream].makeUnaryRequest(rpc.grpcPath, passBytes.serialize, passBytes.deserialize, request, metadata, (err, response) => {
        if (err) reject(callFailure(err));
        else resolve(response!);
      });
    });
  }

  serverStream(rpc: Rpc, request: Uint8Array, metadata: grpc.Metadata): grpc.ClientReadableStream<Buffer> {
    return this.clients[rpc.upstream].makeServerStreamRequest(rpc.grpcPath, passBytes.serialize, passBytes.deserialize, request, metadata);
  }

  close(): void {
    for (const client of Object.values(this.clients)) client.close();
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
