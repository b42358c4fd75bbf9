import { invalidArgument } from './validation';

/**
 * ListOrders pages run newest first, so the cursor is the id of the last (oldest) order of a page:
 * the next page holds the orders below it. The token is that id in decimal; clients treat it as
 * opaque.
 */
export function encodePageToken(lastOrderId: number): string {
  return String(lastOrderId);
}

/** The cursor of a page token; undefined (the first page) for an empty one. */
export function decodePageToken(token: string, field = 'page_token'): number | undefined {
  if (token === '') return undefined;
  const id = /^[1-9][0-9]{0,15}$/.test(token) ? Number(token) : NaN;
  if (!Number.isSafeInteger(id)) throw invalidArgument(field, 'not a next_page_token from a previous ListOrders response');
  return id;
}
