import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, POST, PUT, DELETE, PATCH';
const ALLOWED_HEADERS = 'authorization, content-type, last-event-id';

/**
 * Cross-origin access: closed unless GATEWAY_CORS_ORIGINS lists the page's origin. A request from
 * another origin that is not listed is refused outright (not only hidden from the page), so a
 * foreign page cannot make a browser send even a "simple" request.
 */
export class Cors {
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.origins = new Set(origins);
  }

  /**
   * 'ok' to go on (CORS headers set when needed), 'preflight' when the answer was sent, 'refused'
   * for an origin that is neither this gateway's nor listed.
   */
  check(req: IncomingMessage, res: ServerResponse): 'ok' | 'preflight' | 'refused' {
    const origin = req.headers.origin;
    if (origin === undefined || origin === `http://${req.headers.host}` || origin === `https://${req.headers.host}`) return 'ok';
    if (!this.origins.has(origin)) return 'refused';
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', 'retry-after');
    if (req.method !== 'OPTIONS') return 'ok';
    res.writeHead(204, {
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    });
    res.end();
    return 'preflight';
  }
}
