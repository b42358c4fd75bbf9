import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';

/** Told of each finished unary call: its method's short name, final status code and time in the service. */
export type CallFinished = (method: string, code: grpc.status, seconds: number) => void;

/**
 * Times each unary call from its arrival (the server creates the call's interceptors when its
 * headers are read) to its status being sent: the service's own share of a call's latency, token
 * check included. Streams are left out: their duration is the subscriber's choice, not ours.
 *
 * It must come first in the server's interceptor list: grpc-js wraps the list in order, so the
 * first one is nearest the transport and sees every status, also one another interceptor sends
 * without calling the handler (a refused token).
 */
export function createCallTimingInterceptor(onFinished: CallFinished): grpc.ServerInterceptor {
  return (method, call) => {
    if (method.requestStream || method.responseStream) return new grpc.ServerInterceptingCall(call);
    const arrived = performance.now();
    const name = method.path.slice(method.path.lastIndexOf('/') + 1);
    return new grpc.ServerInterceptingCall(
      call,
      new grpc.ResponderBuilder()
        .withSendStatus((status, next) => {
          onFinished(name, status.code, (performance.now() - arrived) / 1000);
          next(status);
        })
        .build(),
    );
  };
}
