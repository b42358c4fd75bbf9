import type * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';
import { StreamReader } from './stream-reader';
import type { TestStack, Trader } from './test-stack';

/**
 * Places `total` small bids over 500 price levels of a market through one OrderSession and waits
 * for every answer: far more level changes than HTTP/2's 64 KiB window holds while a book reader
 * is paused, so that the reader falls behind.
 */
export async function floodBookLevels(stack: TestStack, trader: Trader, market: string, total = 3000): Promise<void> {
  const session = stack.client.raw.orderSession(trader.metadata);
  const answered = new StreamReader(session as unknown as grpc.ClientReadableStream<matching.OrderSessionResponse>);
  for (let i = 0; i < total; i++) {
    session.write(matching.OrderSessionRequest.fromPartial({ requestId: BigInt(i), placeLimitOrder: { market, side: matching.Side.SIDE_BUY, price: `${1 + (i % 500)}`, quantity: '0.01' } }));
  }
  await answered.until((m) => m.length >= total);
  session.end();
}
