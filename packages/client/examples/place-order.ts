import { matching, OrderbookClient, OrderbookError } from '@orderbook/client';

/** Signs in, buys 0.01 BTC at 25,000 USD or better, cancels what rests, signs out. */
export async function placeAndCancel(authAddress: string, matchingAddress: string, login: string, password: string): Promise<matching.Order> {
  const client = new OrderbookClient({ authAddress, matchingAddress });
  try {
    await client.signIn({ login, password });
    // A client_order_id is added for you: a retry after a lost answer cannot place twice.
    const { order, trades } = await client.placeLimitOrder({ market: 'BTC-USD', side: matching.Side.SIDE_BUY, price: '25000', quantity: '0.01' });
    console.log(`order ${order.orderId} ${order.clientOrderId}: ${trades.length} fills, ${order.remainingQuantity} resting`);
    try {
      return (await client.cancelOrder(order.orderId)).order;
    } catch (err) {
      // Typed errors: the gRPC code, and the ErrorInfo reason and field violations when sent.
      if (err instanceof OrderbookError) console.error(err.codeName, err.reason, err.fieldViolations);
      throw err;
    } finally {
      await client.signOut();
    }
  } finally {
    client.close();
  }
}
