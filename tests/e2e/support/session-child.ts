/**
 * A client process for the cancel-on-disconnect test: opens an OrderSession with
 * `cancel-on-disconnect: true`, places one limit order, prints its id, and waits to be killed.
 * Arguments: matching address, access token, market, price, quantity.
 */
import * as grpc from '@grpc/grpc-js';
import { matching } from '@orderbook/proto';

const [address, token, market, price, quantity] = process.argv.slice(2) as [string, string, string, string, string];
const client = new matching.MatchingServiceClient(address, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
metadata.set('authorization', `Bearer ${token}`);
metadata.set('cancel-on-disconnect', 'true');
const call = client.orderSession(metadata);
call.on('data', (response: matching.OrderSessionResponse) => process.stdout.write(`${response.placeLimitOrder?.order?.orderId ?? 'error'}\n`));
call.on('error', (err) => process.stderr.write(`${String(err)}\n`));
call.write(matching.OrderSessionRequest.fromPartial({ requestId: 1n, placeLimitOrder: { market, side: matching.Side.SIDE_BUY, price, quantity } }));
