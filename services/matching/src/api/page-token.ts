import { invalidArgument } from './validation';

/**
 * List pages run newest first, so the cursor is the id of the last (oldest) item of a page — an
 * order id (ListOrders), a trade id (ListTrades), a sequence number (ListLedgerEntries): the next
 * page holds the items below it. The token is that number in decimal; clients treat it as opaque.
 */
export function encodePageToken(lastId: number): string {
  return String(lastId);
}

/** The cursor of a page token of `rpc`; undefined (the first page) for an empty one. */
export function decodePageToken(token: string, field: string, rpc: string): number | undefined {
  if (token === '') return undefined;
  const id = /^[1-9][0-9]{0,15}$/.test(token) ? Number(token) : NaN;
  if (!Number.isSafeInteger(id)) throw invalidArgument(field, `not a next_page_token from a previous ${rpc} response`);
  return id;
}
