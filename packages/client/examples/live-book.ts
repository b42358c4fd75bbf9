import { OrderbookClient, type BookLevel } from '@orderbook/client';

/** Follows a market's book until both sides have a level, and returns the best bid and ask. */
export async function bestPrices(authAddress: string, matchingAddress: string, market: string): Promise<{ bid: BookLevel; ask: BookLevel }> {
  const client = new OrderbookClient({ authAddress, matchingAddress });
  // Resolves with the first snapshot in; then it applies every change, and resynchronises by
  // itself after a sequence gap, a conflated snapshot or a restart of the service.
  const book = await client.liveBook(market, {
    depth: 50,
    onChange: (b) => console.log(`${market} #${b.sequence}: ${b.bestBid()?.price ?? '-'} / ${b.bestAsk()?.price ?? '-'}`),
  });
  try {
    await book.until((b) => b.bestBid() !== undefined && b.bestAsk() !== undefined);
    console.log(book.depth(5), book.resyncs);
    return { bid: book.bestBid()!, ask: book.bestAsk()! };
  } finally {
    book.close();
    client.close();
  }
}
