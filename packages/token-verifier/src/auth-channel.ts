import type * as grpc from '@grpc/grpc-js';

/** How a verifier dials the auth service. */
export interface AuthChannel {
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
  /** Why a connection to address fails, when the transport can tell (TLS: the certificate error). */
  diagnose?(address: string): Promise<string | undefined>;
}
