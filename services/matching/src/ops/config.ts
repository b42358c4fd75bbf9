import { resolve } from 'node:path';
import type { MarketConfig } from '@orderbook/engine';
import type { LeaseConfig } from '../storage/leader-lease';
import { MARKET_SYMBOL, readMarketsFile } from './markets-file';
import type { JetStreamJournalConfig } from '../storage/open-jetstream-journal';
import { clientTlsVariables, ConfigError, ConfigReader, readClientTls, readServerTransport, readTrustedProxies, serverTransportVariables, type ClientTlsFiles, type ConfigVariable, type Env, type LogLevel, type ServerTransport } from '@orderbook/server-kit';

const AUTH_DIALLING = { client: 'matching', server: 'auth', addressVariable: 'AUTH_ADDRESS' } as const;

/** Every environment variable the matching service reads: the README's configuration table is generated from this. */
export const CONFIG_VARIABLES = [
  { name: 'MATCHING_HOST', default: '127.0.0.1', meaning: 'Interface the gRPC and metrics servers listen on (0.0.0.0 for all).' },
  { name: 'MATCHING_PORT', default: '50052', meaning: 'gRPC port; 0 picks a free one.' },
  { name: 'MATCHING_DATA_DIR', default: './data/matching', meaning: 'Directory of the command journal and the engine snapshots.' },
  { name: 'MATCHING_JOURNAL', default: 'file', meaning: '`file`: the command journal is the fsync\'d segment files of MATCHING_DATA_DIR. `nats://host:port[,nats://host:port…]`: it is a NATS JetStream stream (the truth that recovery reads), and the data directory keeps an fsync\'d local copy; a command is acknowledged once both the local fsync and the stream\'s quorum ack are done (see High availability).' },
  { name: 'MATCHING_JOURNAL_STREAM', default: 'ORDERBOOK_COMMANDS', meaning: 'JetStream stream holding the journal (created with file storage if missing; subject `<stream>.commands`). Used when MATCHING_JOURNAL is nats://.' },
  { name: 'MATCHING_JOURNAL_REPLICAS', default: '1', meaning: 'Replicas of the JetStream stream when this service creates it: 3 in production (a quorum of 2 stores each message before it is acknowledged), 1 for a single NATS server. Start-up refuses an existing stream with another count.' },
  { name: 'MATCHING_JOURNAL_RETAIN_COMMANDS', default: '0', meaning: 'Stream retention with the JetStream journal: 0 keeps every message; N > 0 makes the leader drop, after each snapshot it saved at seq S, the messages holding only commands up to S - N (never what no snapshot covers). A replica whose own newest snapshot is older than that cannot restart from it: seed it with a copy of a newer snapshot.' },
  { name: 'MATCHING_NATS_USER', default: '', meaning: 'User name the JetStream journal connects to NATS with, when the servers require one (authorization { user, password }); unset: no credentials.' },
  { name: 'MATCHING_NATS_PASSWORD', default: '', meaning: 'Password of MATCHING_NATS_USER.' },
  { name: 'MATCHING_LEASE_BUCKET', default: 'ORDERBOOK_LEADER', meaning: 'With the JetStream journal: NATS KV bucket holding the leader lease (created if missing, with MATCHING_JOURNAL_REPLICAS replicas and the lease TTL as its max age).' },
  { name: 'MATCHING_LEASE_KEY', default: 'matching', meaning: 'Key of the leader lease in MATCHING_LEASE_BUCKET; its value names the holder and its MATCHING_ADVERTISED_ADDRESS.' },
  { name: 'MATCHING_LEASE_TTL_MS', default: '3000', meaning: 'A lease not renewed for this long expires and a follower takes over; the holder stops accepting commands once a renewal has not been confirmed within 80 % of it.' },
  { name: 'MATCHING_LEASE_RENEW_MS', default: '1000', meaning: 'How often the leader renews its lease, and how often a follower asks whether the lease is free. At most a third of MATCHING_LEASE_TTL_MS.' },
  { name: 'MATCHING_ADVERTISED_ADDRESS', default: '', meaning: 'host:port at which clients reach this instance\'s gRPC server; the leader writes it into the lease, and followers answer commands with it (UNAVAILABLE, reason NOT_LEADER, metadata leader_address). Unset: MATCHING_HOST and the bound port.' },
  { name: 'MATCHING_MARKETS', default: 'BTC-USD,ETH-USD,SOL-USD', meaning: 'Comma-separated markets, each BASE-QUOTE (upper-case letters and digits), without fees or instrument rules. Ignored when MATCHING_MARKETS_FILE is set.' },
  { name: 'MATCHING_MARKETS_FILE', default: '', meaning: 'JSON file of the markets with their fees and instrument rules (see Markets, fees and instrument rules), checked entirely at start; replaces MATCHING_MARKETS. A market\'s fees and rules cannot change over the life of a data directory: start-up refuses a change. Unset: MATCHING_MARKETS.' },
  { name: 'AUTH_ADDRESS', default: '127.0.0.1:50051', meaning: 'host:port of the auth service, whose public keys verify access tokens.' },
  { name: 'AUTH_ISSUER', default: 'orderbook-auth', meaning: 'Expected `iss` claim of access tokens.' },
  { name: 'AUTH_AUDIENCE', default: 'orderbook', meaning: 'Expected `aud` claim of access tokens.' },
  { name: 'MATCHING_AUTH_KEY_SET_MAX_AGE_SECONDS', default: '300', meaning: 'The auth service\'s public keys are fetched again when older than this (and, at most this often, for a token with an unknown kid); keep it below auth\'s AUTH_KEY_PUBLISH_LEAD_SECONDS.' },
  { name: 'MATCHING_REVOCATION_FALLBACK_SECONDS', default: '60', meaning: 'While the revocation feed from auth (WatchRevocations) is down, a token is refused (UNAUTHENTICATED: refresh it) once both it and the feed\'s last message are older than this, so a revocation takes effect at most this late; 0 trusts tokens until they expire. Shown by matching_revocation_feed_up and the "revocation-feed" health check.' },
  { name: 'MATCHING_MAX_QUEUE_DEPTH', default: '10000', meaning: 'Commands waiting for the engine beyond which new ones are refused with RESOURCE_EXHAUSTED.' },
  { name: 'MATCHING_SNAPSHOT_EVERY', default: '100000', meaning: 'Commands between two engine snapshots; bounds the journal replayed at start.' },
  { name: 'MATCHING_STREAM_BUFFER', default: '4096', meaning: 'Trades or order updates a stream subscriber may fall behind; past it the stream ends with RESOURCE_EXHAUSTED (reason STREAM_CONSUMER_TOO_SLOW). Book readers are never cut: they are conflated (a fresh snapshot).' },
  { name: 'MATCHING_STREAM_MEMORY_BUDGET_BYTES', default: '268435456', meaning: 'Bytes of stream messages written and not yet taken by clients, over all subscribers (256 MiB); at the budget no stream gets more until clients read: book readers are conflated, trades and order updates readers fall behind and are cut.' },
  { name: 'MATCHING_MAX_STREAMS', default: '10000', meaning: 'Open StreamOrderBook, StreamTrades, StreamOrderUpdates and OrderSession streams in total; past it new ones get RESOURCE_EXHAUSTED (reason TOO_MANY_STREAMS, RetryInfo 1 s).' },
  { name: 'MATCHING_TRUSTED_PROXIES', default: '', meaning: 'Comma-separated IP addresses of proxies (the HTTP gateway) whose x-forwarded-for metadata names the client that MATCHING_MAX_STREAMS_PER_PEER counts; from anyone else it is ignored. Unset: none.' },
  { name: 'MATCHING_MAX_STREAMS_PER_PEER', default: '500', meaning: 'The same per client IP address (any number of connections); past it RESOURCE_EXHAUSTED (reason TOO_MANY_STREAMS_FROM_PEER, RetryInfo 1 s).' },
  { name: 'MATCHING_DISK_RESERVE_BYTES', default: '67108864', meaning: 'Free space the data directory\'s file system must keep (64 MiB); below it commands get UNAVAILABLE (reason DISK_SPACE_LOW, RetryInfo) while reads and streams go on, until space returns. 0 turns the check off.' },
  { name: 'MATCHING_DISK_CHECK_INTERVAL_MS', default: '1000', meaning: 'How often free space is measured while serving (between measurements it is estimated from what the journal wrote).' },
  { name: 'MATCHING_TRUNCATE_DAMAGED_TAIL', default: '0', meaning: 'Operator flag: 1 lets recovery cut a complete but damaged last journal record (checksum mismatch), losing the commands in it; by default start-up refuses and names the file and offset. A torn (short) last record is always cut.' },
  { name: 'MATCHING_SESSION_MAX_IN_FLIGHT', default: '256', meaning: 'Commands of one OrderSession stream awaiting their result; at the bound the stream stops reading (flow control) until one completes.' },
  { name: 'MATCHING_CLOSED_ORDERS_RETAINED', default: '1000', meaning: 'Filled or cancelled orders kept per user for GetOrder and ListOrders; the oldest are forgotten first. Also the retry window: a client_order_id is retained while its order is open or kept, and the request_ids of the last this-many AddFunds (and WithdrawFunds) to the user that had one. Lowered, what lies beyond it is forgotten at once. An engine limit (see Operations, "Changing an engine limit"): a new value takes effect at start-up through a journaled configure command, never on the journal replayed before it.' },
  { name: 'MATCHING_FILLS_RETAINED_PER_USER', default: '100', meaning: 'Fills (trades as maker or taker) kept per user for ListTrades, newest; the oldest are forgotten first. Part of the engine state (snapshot, state hash): 64 bytes per kept fill (a row of 8 numbers: the user\'s side of the trade; every user\'s rows in one pool of 16-fill chunks, taken as fills come). Lowered, each user\'s oldest fills beyond it are forgotten at once. An engine limit (see Operations, "Changing an engine limit"): a new value takes effect at start-up through a journaled configure command, never on the journal replayed before it.' },
  { name: 'MATCHING_TRADES_RETAINED_PER_MARKET', default: '1000', meaning: 'Trades kept per market for GetRecentTrades, newest. Part of the engine state, 96 bytes per kept trade (a row of 12 numbers), like MATCHING_FILLS_RETAINED_PER_USER. The ticker and candles need none of them: they come from per-minute buckets (1440 per market, about 100 KB each market). Lowered, the oldest trades beyond it are forgotten at once. An engine limit (see Operations, "Changing an engine limit"): a new value takes effect at start-up through a journaled configure command, never on the journal replayed before it.' },
  { name: 'MATCHING_MAX_STOPS_PER_USER_MARKET', default: '1000', meaning: 'Stop orders (an OCO pair\'s stop included) one user may have waiting for their trigger in one market; past it a new one is FAILED_PRECONDITION (reason TOO_MANY_STOP_ORDERS): cancel one first. Lowered, the stops already waiting stay. An engine limit (see Operations, "Changing an engine limit"): a new value takes effect at start-up through a journaled configure command, never on the journal replayed before it.' },
  { name: 'MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET', default: '10000', meaning: 'Orders one user may have resting on one market\'s book; past it a GTC or GTD limit order (an OCO pair too) is FAILED_PRECONDITION (reason TOO_MANY_OPEN_ORDERS), counted at entry even if it would fill at once: cancel one first. IOC, FOK and market orders never rest and are not bounded by it; a stop-limit is bounded by MATCHING_MAX_STOPS_PER_USER_MARKET while it waits and rests beyond this bound when it triggers. It bounds the memory one funded user can fill (about 130 bytes per resting order). Lowered, the orders already resting stay. An engine limit (see Operations, "Changing an engine limit"): a new value takes effect at start-up through a journaled configure command, never on the journal replayed before it.' },
  { name: 'MATCHING_SHUTDOWN_GRACE_MS', default: '10000', meaning: 'On SIGTERM, how long in-flight calls may finish before they are cancelled.' },
  { name: 'MATCHING_METRICS_PORT', default: '9464', meaning: 'Port of the Prometheus /metrics HTTP endpoint; 0 picks a free one.' },
  { name: 'LOG_LEVEL', default: 'info', meaning: 'pino log level: fatal, error, warn, info, debug, trace or silent.' },
  ...clientTlsVariables('MATCHING_AUTH', AUTH_DIALLING),
  ...serverTransportVariables('MATCHING'),
] as const satisfies readonly ConfigVariable[];

type VariableName = (typeof CONFIG_VARIABLES)[number]['name'];

export interface MatchingConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Absent: the file journal alone. */
  readonly jetstream?: JetStreamJournalConfig;
  /** MATCHING_JOURNAL_RETAIN_COMMANDS (with jetstream; 0 or absent: the stream keeps everything). */
  readonly retainCommands?: number;
  /** The leader lease beside the stream (used with jetstream). */
  readonly lease: LeaseConfig;
  /** host:port clients reach this instance at; undefined: MATCHING_HOST and the bound port. */
  readonly advertisedAddress?: string;
  readonly markets: readonly MarketConfig[];
  readonly authAddress: string;
  /** TLS to auth; plaintext when absent. */
  readonly authTls?: ClientTlsFiles;
  readonly transport: ServerTransport;
  readonly issuer: string;
  readonly audience: string;
  readonly keySetMaxAgeSeconds: number;
  readonly revocationFallbackSeconds: number;
  readonly maxQueueDepth: number;
  readonly snapshotEvery: number;
  readonly streamBuffer: number;
  readonly streamMemoryBudgetBytes: number;
  readonly maxStreams: number;
  readonly maxStreamsPerPeer: number;
  /** Peers whose x-forwarded-for names the client (MATCHING_TRUSTED_PROXIES). */
  readonly trustedProxies: ReadonlySet<string>;
  readonly diskReserveBytes: number;
  readonly diskCheckIntervalMs: number;
  readonly truncateDamagedTail: boolean;
  readonly sessionMaxInFlight: number;
  readonly closedOrdersRetained: number;
  readonly fillsRetainedPerUser: number;
  readonly tradesRetainedPerMarket: number;
  readonly maxStopsPerUserMarket: number;
  readonly maxOpenOrdersPerUserMarket: number;
  readonly shutdownGraceMs: number;
  readonly metricsPort: number;
  readonly logLevel: LogLevel;
}

/** Reads the configuration; throws ConfigError naming the variable for any bad value. */
export function loadConfig(env: Env = process.env): MatchingConfig {
  const vars = new ConfigReader<VariableName>(CONFIG_VARIABLES, env);
  const host = vars.string('MATCHING_HOST');
  const authAddress = hostPort(vars.string('AUTH_ADDRESS'), 'AUTH_ADDRESS');
  const authTls = readClientTls('MATCHING_AUTH', AUTH_DIALLING, authAddress, env);
  return {
    host,
    port: vars.int('MATCHING_PORT', 0, 65_535),
    dataDir: resolve(vars.string('MATCHING_DATA_DIR')),
    ...journalConfig(vars),
    lease: leaseConfig(vars),
    ...advertised(vars),
    markets: marketsOf(vars),
    authAddress,
    ...(authTls === undefined ? {} : { authTls }),
    transport: readServerTransport('MATCHING', host, 'MATCHING_HOST', env),
    issuer: vars.string('AUTH_ISSUER'),
    audience: vars.string('AUTH_AUDIENCE'),
    keySetMaxAgeSeconds: vars.int('MATCHING_AUTH_KEY_SET_MAX_AGE_SECONDS', 1, 86_400),
    revocationFallbackSeconds: vars.int('MATCHING_REVOCATION_FALLBACK_SECONDS', 0, 86_400),
    maxQueueDepth: vars.int('MATCHING_MAX_QUEUE_DEPTH', 1, 10_000_000),
    snapshotEvery: vars.int('MATCHING_SNAPSHOT_EVERY', 1, 1_000_000_000),
    streamBuffer: vars.int('MATCHING_STREAM_BUFFER', 1, 1_000_000),
    streamMemoryBudgetBytes: vars.int('MATCHING_STREAM_MEMORY_BUDGET_BYTES', 1 << 20, 2 ** 40),
    maxStreams: vars.int('MATCHING_MAX_STREAMS', 1, 10_000_000),
    maxStreamsPerPeer: vars.int('MATCHING_MAX_STREAMS_PER_PEER', 1, 10_000_000),
    trustedProxies: readTrustedProxies(vars, 'MATCHING_TRUSTED_PROXIES'),
    diskReserveBytes: vars.int('MATCHING_DISK_RESERVE_BYTES', 0, 2 ** 50),
    diskCheckIntervalMs: vars.int('MATCHING_DISK_CHECK_INTERVAL_MS', 10, 600_000),
    truncateDamagedTail: vars.oneOf('MATCHING_TRUNCATE_DAMAGED_TAIL', ['0', '1']) === '1',
    sessionMaxInFlight: vars.int('MATCHING_SESSION_MAX_IN_FLIGHT', 1, 100_000),
    closedOrdersRetained: vars.int('MATCHING_CLOSED_ORDERS_RETAINED', 0, 1_000_000),
    fillsRetainedPerUser: vars.int('MATCHING_FILLS_RETAINED_PER_USER', 0, 100_000),
    tradesRetainedPerMarket: vars.int('MATCHING_TRADES_RETAINED_PER_MARKET', 0, 1_000_000),
    maxStopsPerUserMarket: vars.int('MATCHING_MAX_STOPS_PER_USER_MARKET', 0, 1_000_000),
    maxOpenOrdersPerUserMarket: vars.int('MATCHING_MAX_OPEN_ORDERS_PER_USER_MARKET', 0, 10_000_000),
    shutdownGraceMs: vars.int('MATCHING_SHUTDOWN_GRACE_MS', 0, 600_000),
    metricsPort: vars.int('MATCHING_METRICS_PORT', 0, 65_535),
    logLevel: vars.logLevel('LOG_LEVEL'),
  };
}

const NATS_URL = /^nats:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function journalConfig(vars: ConfigReader<VariableName>): { jetstream?: JetStreamJournalConfig; retainCommands?: number } {
  const journal = vars.string('MATCHING_JOURNAL');
  if (journal === 'file') return {};
  const servers = journal.split(',').map((s) => s.trim());
  const bad = servers.find((url) => !NATS_URL.test(url));
  if (bad !== undefined) throw new ConfigError(`MATCHING_JOURNAL: expected "file" or nats://host:port[,nats://host:port…], got "${bad}"`);
  const stream = vars.string('MATCHING_JOURNAL_STREAM');
  if (!STREAM_NAME.test(stream)) throw new ConfigError(`MATCHING_JOURNAL_STREAM: "${stream}" is not 1-64 letters, digits, _ or -`);
  const user = vars.optionalString('MATCHING_NATS_USER');
  const credentials = user === undefined || user === '' ? {} : { user, password: vars.optionalString('MATCHING_NATS_PASSWORD') ?? '' };
  return { jetstream: { servers, stream, replicas: vars.int('MATCHING_JOURNAL_REPLICAS', 1, 5), ...credentials }, retainCommands: vars.int('MATCHING_JOURNAL_RETAIN_COMMANDS', 0, 2 ** 50) };
}

function leaseConfig(vars: ConfigReader<VariableName>): LeaseConfig {
  const ttlMs = vars.int('MATCHING_LEASE_TTL_MS', 300, 600_000);
  const renewEveryMs = vars.int('MATCHING_LEASE_RENEW_MS', 50, 200_000);
  if (renewEveryMs * 3 > ttlMs) throw new ConfigError(`MATCHING_LEASE_RENEW_MS: ${renewEveryMs} is more than a third of MATCHING_LEASE_TTL_MS (${ttlMs})`);
  const bucket = vars.string('MATCHING_LEASE_BUCKET');
  if (!STREAM_NAME.test(bucket)) throw new ConfigError(`MATCHING_LEASE_BUCKET: "${bucket}" is not 1-64 letters, digits, _ or -`);
  const key = vars.string('MATCHING_LEASE_KEY');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw new ConfigError(`MATCHING_LEASE_KEY: "${key}" is not 1-64 letters, digits, _ or -`);
  return { bucket, key, ttlMs, renewEveryMs, replicas: vars.int('MATCHING_JOURNAL_REPLICAS', 1, 5) };
}

function advertised(vars: ConfigReader<VariableName>): { advertisedAddress?: string } {
  const value = vars.optionalString('MATCHING_ADVERTISED_ADDRESS');
  return value === undefined || value === '' ? {} : { advertisedAddress: hostPort(value, 'MATCHING_ADVERTISED_ADDRESS') };
}

function marketsOf(vars: ConfigReader<VariableName>): MarketConfig[] {
  const file = vars.optionalString('MATCHING_MARKETS_FILE');
  return file === undefined || file === '' ? parseMarkets(vars.string('MATCHING_MARKETS')) : readMarketsFile(resolve(file));
}

function parseMarkets(text: string): MarketConfig[] {
  const markets: MarketConfig[] = [];
  for (const symbol of text.split(',').map((s) => s.trim())) {
    const match = MARKET_SYMBOL.exec(symbol);
    if (match === null) throw new ConfigError(`MATCHING_MARKETS: "${symbol}" is not BASE-QUOTE in upper-case letters and digits`);
    const [, base, quote] = match;
    if (base === quote) throw new ConfigError(`MATCHING_MARKETS: "${symbol}" trades an asset against itself`);
    if (markets.some((m) => m.symbol === symbol)) throw new ConfigError(`MATCHING_MARKETS: "${symbol}" is listed twice`);
    markets.push({ symbol, base, quote });
  }
  return markets;
}

function hostPort(value: string, name: VariableName): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value)) throw new ConfigError(`${name}: expected host:port, got "${value}"`);
  return value;
}

