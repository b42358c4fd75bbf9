export { OrderbookClient, type OrderbookClientOptions } from './orderbook-client';
export { OrderbookError } from './errors';
export { decodeStatusDetails, STATUS_DETAILS_KEY, type FieldViolation, type StatusDetails } from './status-details';
export { LiveOrderBook, type BookEvent, type BookLevel, type LiveOrderBookOptions, type ResyncCounts } from './live-order-book';
export { type CancelledOrder, type LimitOrder, type MarketOrder, type OcoOrder, type PlacedOco, type PlacedOrder } from './order-entry';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, isRetryable, type RetryClock, type RetryPolicy } from './retry';
export { NOT_LEADER, LEADER_ADDRESS_KEY } from './leader';
export { type SignInOptions } from './token-keeper';
export { auth, matching } from '@orderbook/proto';
