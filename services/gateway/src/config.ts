import { clientTlsVariables, ConfigReader, readClientTls, type ClientTlsFiles, type ConfigVariable, type Env, type LogLevel } from '@orderbook/server-kit';

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
  { name: 'GATEWAY_TRUST_PROXY', default: '0', meaning: '1 takes the client address from the last X-Forwarded-For entry (behind a reverse proxy); 0 uses the TCP peer.' },
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
  readonly trustProxy: boolean;
  readonly logLevel: LogLevel;
}

/** Reads the configuration; throws ConfigError naming the variable for any bad value. */
export function loadConfig(env: Env): GatewayConfig {
  const read = new ConfigReader<VariableName>(CONFIG_VARIABLES, env);
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
    trustProxy: read.oneOf('GATEWAY_TRUST_PROXY', ['0', '1']) === '1',
    logLevel: read.logLevel('LOG_LEVEL'),
  };
}

function upstream(address: string, tls: ClientTlsFiles | undefined): Upstream {
  return tls === undefined ? { address } : { address, tls };
}
