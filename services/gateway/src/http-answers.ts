import type { ServerResponse } from 'node:http';
import type { JsonObject } from '@bufbuild/protobuf';
import type { ErrorAnswer } from './rpc-status';

/** Headers on every answer: nothing is sniffed, framed, cached or leaked through the Referer. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

export function sendJson(res: ServerResponse, httpStatus: number, body: unknown, headers: Record<string, string> = {}): void {
  // One document a line: what curl prints ends with a newline.
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(httpStatus, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, answer: ErrorAnswer, headers: Record<string, string> = {}): void {
  const retry: Record<string, string> = answer.retryAfterSeconds === undefined ? {} : { 'retry-after': String(answer.retryAfterSeconds) };
  sendJson(res, answer.httpStatus, answer.body, { ...retry, ...headers });
}

/**
 * A refusal by the gateway itself (not a service), in the same google.rpc.Status form: an ErrorInfo
 * reason in the "gateway" domain, RetryInfo when retrying later helps.
 */
export function gatewayError(httpStatus: number, code: number, message: string, reason: string, retryAfterSeconds?: number): ErrorAnswer {
  const details: JsonObject[] = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'gateway' }];
  if (retryAfterSeconds !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` });
  return { httpStatus, body: { code, message, details }, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
}
