import type * as grpc from '@grpc/grpc-js';

/** Response header naming the engine seq that an answer reflects (README "High availability"). */
export const SEQUENCE_HEADER = 'x-orderbook-sequence';

/**
 * Stamps an answer's initial metadata with the seq of the engine state it was read from, taken
 * when the headers go out (for unary calls, right after the handler computed the answer; for
 * streams, at their start: their messages carry sequence numbers of their own). On a follower it
 * says how far it has applied the leader's stream. Omitted while the engine is not ready.
 * Run by the call interceptor (ops/call-timing.ts) on every call's headers.
 */
export function sequenceStamp(lastSeq: () => number | undefined): (metadata: grpc.Metadata) => void {
  return (metadata) => {
    const seq = lastSeq();
    if (seq !== undefined) metadata.set(SEQUENCE_HEADER, String(seq));
  };
}
