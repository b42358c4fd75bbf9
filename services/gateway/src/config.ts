import { clientTlsVariables, ConfigError, ConfigReader, readClientTls, readTrustedProxies, type ClientTlsFiles, type ConfigVariable, type Env, type LogLevel } from '@orderbook/server-kit';

const AUTH_DIALLING = { client: 'the gateway', server: 'auth', addressVariable: 'GATEWAY_AUTH_ADDRESS' } as const;
const MATCHING_DIALLING = { client: 'the gateway', server: 'matching', addressVariable: 'GATEWAY_MATCHING_ADDRESS' } as const;

/** Every environment variable the gateway reads: the README's configuration table shows the same rows. */
export const CONFIG_VARIABLES = [
  { name: 'GATEWAY_HOST', default: '127.0.0.1', meaning: 'Interface the HTTP server listens on (0.0.0.0 for all).' },
  { name: 'GATEWAY_PORT', default: '8080', meaning: 'HTTP port; 0 picks a free one.' },
  { name: 'GATEWAY_AUTH_ADDRESS', default: '127.0.0.1:50051', meaning: 'host:port of the auth service (orderbook.auth.v1 calls go there).' },
  { name: 'GATEWAY_MATCHING_ADDRESS', default: '127.0.0.1:50052', meaning: 'host:port of the matching service (orderbook.matching.v1 calls go there).' },
  { name: 'GATEWAY_MAX_BODY_BYTES', default: '65536', meaning: 'Largest request body; a larger one is refused with 413 before it is read to the end.' },
  { name: 'GATEWAY_RATE_PER_SECOND', default: '50', meaning: 'Requests per second each client address may make on average (token bucket); past it 429 with Retry-After.' },
  { name: 'GATEWAY_RATE_BURST', default: '100', meaning: 'Requests a client address may make at once before GATEWAY_RATE_PER_SECOND applies.' },
  { name: 'GATEWAY_SSE_MAX_PER_PEER', default: '10', meaning: 'Open event streams per client address; past it 429 with Retry-After.' },
  { name: 'GATEWAY_SSE_MAX_TOTAL', default: '400', meaning: 'Open event streams in total (each is one gRPC stream to a service: keep it below matching\'s MATCHING_MAX_STREAMS_PER_PEER); past it 503 with Retry-After.' },
  { name: 'GATEWAY_SSE_RESUME_SECONDS', default: '30', meaning: 'How long the stream of a disconnected event-stream client is kept open, buffering, so that a reconnect with Last-Event-ID resumes without loss.' },
  { name: 'GATEWAY_SSE_RESUME_BUFFER', default: '1000', meaning: 'Events kept per stream for resuming; a client further behind is resynchronised (a fresh stream, announced by a `resync` event).' },
  { name: 'GATEWAY_CORS_ORIGINS', default: '', meaning: 'Comma-separated origins (https://app.example.com) whose pages may call the gateway from a browser; unset allows none (same-origin only, as the console is served).' },
  { name: 'GATEWAY_TRUSTED_PROXIES', default: '', meaning: 'Comma-separated IP addresses of the reverse proxies in front of the gateway: from them the last X-Forwarded-For entry is the client address (the per-address limits count it, the services are told it); from anyone else the header is ignored. Unset: none, the TCP peer is the client.' },
  { name: 'GATEWAY_MAX_CONNECTIONS', default: '10000', meaning: 'Open HTTP connections in total; a connection past it is closed at once, unanswered.' },
  { name: 'GATEWAY_MAX_CONNECTIONS_PER_PEER', default: '256', meaning: 'Open HTTP connections per client IP address (the TCP peer; GATEWAY_TRUSTED_PROXIES are not counted); a connection past it is closed at once, unanswered.' },
  { name: 'GATEWAY_HEADERS_TIMEOUT_SECONDS', default: '10', meaning: 'Time a connection has to send a request\'s headers once it opens (so one that sends nothing, or sends them byte by byte, is dropped); then 408 and the connection is closed.' },
  { name: 'GATEWAY_REQUEST_TIMEOUT_SECONDS', default: '30', meaning: 'Time a client has to send a whole request, body included; then 408 and the connection is closed.' },
  { name: 'GATEWAY_IDLE_TIMEOUT_SECONDS', default: '5', meaning: 'A kept-alive connection that starts no new request this long after an answer is closed.' },
  { name: 'GATEWAY_CALL_TIMEOUT_SECONDS', default: '10', meaning: 'Deadline of each call to a service, and of a service accepting an event stream; past it 504 DEADLINE_EXCEEDED (a write may still have taken effect: retry it with the same client_order_id or request_id).' },
  { name: 'GATEWAY_METRICS_PORT', default: '', meaning: 'Port of the Prometheus /metrics HTTP endpoint on GATEWAY_HOST (gateway_http_answers_total by status, gateway_connections_refused_total by limit, gateway_upstream_calls_total by service and gRPC code, gateway_event_streams_open, process metrics); 0 picks a free one; unset: no endpoint.' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino log level: fatal, error, warn, info, debug, trace or silent.' },
  ...clientTlsVariables('GATEWAY_AUTH', AUTH_DIALLING),
  ...clientTlsVariables('GATEWAY_MATCHING', MATCHING_DIALLING),
] as const satisfies readonly ConfigVariable[];

type VariableName = (typeof CONFIG_VARIABLES)[number]['name'];

/** A service the gateway forwards to: its address, and TLS files unless it is dialled in plaintext (loopback, or allowed). */
export interface Upstream {
  readonly address: string;
  readonly tls?: ClientTlsFiles;
}

export interface GatewayConfig {
  readonly host: string;
  readonly port: number;
  readonly upstreams: { readonly auth: Upstream; readonly matching: Upstream };
  readonly maxBodyBytes: number;
  readonly ratePerSecond: number;
  readonly rateBurst: number;
  readonly sseMaxPerPeer: number;
  readonly sseMaxTotal: number;
  readonly sseResumeMs: number;
  readonly sseResumeBuffer: number;
  readonly corsOrigins: readonly string[];
  readonly trustedProxies: ReadonlySet<string>;
  readonly maxConnections: number;
  readonly maxConnectionsPerPeer: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly metricsPort?: number;
  readonly logLevel: LogLevel;
}

/** Variables of earlier versions whose meaning changed: set, they stop start-up rather than be ignored. */
const RENAMED: Readonly<Record<string, string>> = {
  GATEWAY_TRUST_PROXY: 'GATEWAY_TRUSTED_PROXIES (the addresses of the proxies whose X-Forwarded-For is believed; from anyone else it is ignored)',
};

/** Reads the configuration; throws ConfigError naming the variable for any bad value. */
export function loadConfig(env: Env): GatewayConfig {
  for (const [old, replacement] of Object.entries(RENAMED)) {
    if ((env[old] ?? '') !== '') throw new ConfigError(`${old}: no longer read; see ${replacement}`);
  }
  const read = new ConfigReader<VariableName>(CONFIG_VARIABLES, env);
  const headersTimeoutMs = read.int('GATEWAY_HEADERS_TIMEOUT_SECONDS', 1, 3600) * 1000;
  const requestTimeoutMs = read.int('GATEWAY_REQUEST_TIMEOUT_SECONDS', 1, 3600) * 1000;
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('GATEWAY_HEADERS_TIMEOUT_SECONDS: must not be more than GATEWAY_REQUEST_TIMEOUT_SECONDS (the headers are part of the request)');
  return {
    host: read.string('GATEWAY_HOST'),
    port: read.int('GATEWAY_PORT', 0, 65535),
    upstreams: {
      auth: upstream(read.string('GATEWAY_AUTH_ADDRESS'), readClientTls('GATEWAY_AUTH', AUTH_DIALLING, read.string('GATEWAY_AUTH_ADDRESS'), env)),
      matching: upstream(read.string('GATEWAY_MATCHING_ADDRESS'), readClientTls('GATEWAY_MATCHING', MATCHING_DIALLING, read.string('GATEWAY_MATCHING_ADDRESS'), env)),
    },
    maxBodyBytes: read.int('GATEWAY_MAX_BODY_BYTES', 1024, 16 * 1024 * 1024),
    ratePerSecond: read.int('GATEWAY_RATE_PER_SECOND', 1, 1_000_000),
    rateBurst: read.int('GATEWAY_RATE_BURST', 1, 1_000_000),
    sseMaxPerPeer: read.int('GATEWAY_SSE_MAX_PER_PEER', 1, 100_000),
    sseMaxTotal: read.int('GATEWAY_SSE_MAX_TOTAL', 1, 1_000_000),
    sseResumeMs: read.int('GATEWAY_SSE_RESUME_SECONDS', 0, 3600) * 1000,
    sseResumeBuffer: read.int('GATEWAY_SSE_RESUME_BUFFER', 1, 1_000_000),
    corsOrigins: (read.optionalString('GATEWAY_CORS_ORIGINS') ?? '').split(',').map((o: string) => o.trim()).filter((o: string) => o !== ''),
    trustedProxies: readTrustedProxies(read, 'GATEWAY_TRUSTED_PROXIES'),
    maxConnections: read.int('GATEWAY_MAX_CONNECTIONS', 1, 1_000_000),
    maxConnectionsPerPeer: read.int('GATEWAY_MAX_CONNECTIONS_PER_PEER', 1, 1_000_000),
    headersTimeoutMs,
    requestTimeoutMs,
    idleTimeoutMs: read.int('GATEWAY_IDLE_TIMEOUT_SECONDS', 1, 3600) * 1000,
    callTimeoutMs: read.int('GATEWAY_CALL_TIMEOUT_SECONDS', 1, 3600) * 1000,
    ...(read.optionalString('GATEWAY_METRICS_PORT') === undefined ? {} : { metricsPort: read.int('GATEWAY_METRICS_PORT', 0, 65_535) }),
    logLevel: read.logLevel('LOG_LEVEL'),
  };
}

function upstream(address: string, tls: ClientTlsFiles | undefined): Upstream {
  return tls === undefined ? { address } : { address, tls };
}
