import type { ClientReadableStream } from '@grpc/grpc-js';
import { toOrderbookError } from './errors';

/**
 * A server stream as an async iterable: reading is paced by the consumer (a slow one is a slow
 * reader to the service), leaving the loop cancels the call, and an error ending the stream is
 * thrown as an OrderbookError.
 */
export function iterate<T, U>(call: ClientReadableStream<T>, pick: (message: T) => U | undefined): AsyncGenerator<U, void, undefined> {
  // Until the loop starts, an error ending the stream is kept by the stream for the loop to throw.
  call.on('error', () => undefined);
  return messages(call, pick);
}

async function* messages<T, U>(call: ClientReadableStream<T>, pick: (message: T) => U | undefined): AsyncGenerator<U, void, undefined> {
  try {
    for await (const message of call as AsyncIterable<T>) {
      const item = pick(message);
      if (item !== undefined) yield item;
    }
  } catch (err) {
    throw toOrderbookError(err);
  } finally {
    call.cancel();
  }
}
