import type { MethodDefinition, ServerWritableStream, ServiceDefinition } from '@grpc/grpc-js';

/**
 * A response message encoded once, to be written as these same bytes to every subscriber.
 * grpc-js runs a method's responseSerialize on every write; the streaming methods of the
 * definition that acceptEncodedResponses returns pass a Buffer through untouched, so a fan-out
 * encodes an update once however many subscribers get it. Clients see the same protobuf bytes
 * (reflection, grpcurl and generated clients in any language are unaffected).
 */
export type EncodedMessage = Buffer & { readonly __encodedMessage: unique symbol };

interface Encoder<T> {
  encode(message: T): { finish(): Uint8Array };
}

export function encodeMessage<T>(type: Encoder<T>, message: T): EncodedMessage {
  const bytes = type.encode(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as EncodedMessage;
}

/** The definition with every server-streaming method's serializer also accepting an EncodedMessage. */
export function acceptEncodedResponses<D extends ServiceDefinition>(definition: D): D {
  const methods: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition) as [string, MethodDefinition<unknown, unknown>][]) {
    const serialize = method.responseSerialize;
    methods[name] = method.responseStream
      ? { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) }
      : method;
  }
  return methods as D;
}

/** Writes encoded bytes on a stream whose method was given acceptEncodedResponses. */
export function writeEncoded(call: ServerWritableStream<unknown, unknown>, message: EncodedMessage, written: () => void): void {
  call.write(message, written);
}
