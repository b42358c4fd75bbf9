import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';

/** Told of each finished unary call: its method's short name, final status code and time in the service. */
export type CallFinished = (method: string, code: grpc.status, seconds: number) => void;

/**
 * Times each unary call from its arrival (the server creates the call's interceptors when its
 * headers are read) to its status being sent: the service's own share of a call's latency, token
 * check included. Streams are left out: their duration is the subscriber's choice, not ours.
 * Every call's response headers, streams' too, go through `onHeaders` on their way out (the
 * sequence stamp): in this same interceptor, since each interceptor is a layer that every call's
 * metadata, messages and status pass through in grpc-js, at a cost per call.
 *
 * It must come first in the server's interceptor list: grpc-js wraps the list in order, so the
 * first one is nearest the transport and sees every status, also one another interceptor sends
 * without calling the handler (a refused token).
 */
export function createCallTimingInterceptor(onFinished: CallFinished, onHeaders: (metadata: grpc.Metadata) => void): grpc.ServerInterceptor {
  const sendMetadata = (metadata: grpc.Metadata, next: (metadata: grpc.Metadata) => void): void => {
    onHeaders(metadata);
    next(metadata);
  };
  return (method, call) => {
    const responder = new grpc.ResponderBuilder().withSendMetadata(sendMetadata);
    if (method.requestStream || method.responseStream) return new grpc.ServerInterceptingCall(call, responder.build());
    const arrived = performance.now();
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    return new grpc.ServerInterceptingCall(
      call,
      responder
        .withSendStatus((status, next) => {
          onFinished(name, status.code, (performance.now() - arrived) / 1000);
          next(status);
        })
        .build(),
    );
  };
}
