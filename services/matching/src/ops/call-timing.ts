import * as grpc from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';

/** Told of each finished unary call: its method's short name, final status code and time in the service. */
export type CallFinished = (method: string, code: grpc.status, seconds: number) => void;

/**
 * The listener that checks a call before its handler runs (the access check, auth/auth-interceptor.ts),
 * undefined when the method needs none; `answer` sends a status through this interceptor.
 */
export type CallCheck = (method: grpc.ServerMethodDefinition<unknown, unknown>, answer: (status: Parameters<grpc.ServerInterceptingCall['sendStatus']>[0]) => void) => grpc.ServerListener | undefined;

/**
 * The service's one server interceptor, since each interceptor is a layer that every call's
 * metadata, messages and status pass through in grpc-js, at a cost per call:
 * - times each unary call from its arrival (the server creates the call's interceptors when its
 *   headers are read) to its status being sent: the service's own share of a call's latency, token
 *   check included. Streams are left out: their duration is the subscriber's choice, not ours;
 * - hands every call's response headers, streams' too, to `onHeaders` on their way out (the
 *   sequence stamp);
 * - runs `check`'s listener on the incoming call (the access token), whose refusals go out through
 *   this same call, so that they are timed too.
 */
export function createCallInterceptor(onFinished: CallFinished, onHeaders: (metadata: grpc.Metadata) => void, check: CallCheck): grpc.ServerInterceptor {
  const sendMetadata = (metadata: grpc.Metadata, next: (metadata: grpc.Metadata) => void): void => {
    onHeaders(metadata);
    next(metadata);
  };
  return (method, call) => {
    let intercepting: grpc.ServerInterceptingCall | undefined;
    const listener = check(method, (status) => intercepting?.sendStatus(status));
    const responder = new grpc.ResponderBuilder().withSendMetadata(sendMetadata);
    if (listener !== undefined) responder.withStart((next) => next(listener));
    if (!method.requestStream && !method.responseStream) {
      const arrived = performance.now();
      const name = method.path.slice(method.path.lastIndexOf('/') + 1);
      responder.withSendStatus((status, next) => {
        onFinished(name, status.code, (performance.now() - arrived) / 1000);
        next(status);
      });
    }
    intercepting = new grpc.ServerInterceptingCall(call, responder.build());
    return intercepting;
  };
}
