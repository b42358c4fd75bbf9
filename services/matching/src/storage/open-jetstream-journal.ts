import { randomUUID } from 'node:crypto';
import type { Logger } from '@orderbook/server-kit';
import type { FileJournal } from './file-journal';
import { JetStreamJournal } from './jetstream-journal';
import { JetStreamLog } from './jetstream-log';

/** The stream that holds the journal (MATCHING_JOURNAL, MATCHING_JOURNAL_STREAM, MATCHING_JOURNAL_REPLICAS). */
export interface JetStreamJournalConfig {
  readonly servers: readonly string[];
  readonly stream: string;
  readonly replicas: number;
  /** MATCHING_NATS_USER and MATCHING_NATS_PASSWORD, when the servers require them. */
  readonly user?: string;
  readonly password?: string;
}

/** Connects to the stream (creating it if missing) and pairs it with the local file journal of dataDir. */
export async function openJetStreamJournal(config: JetStreamJournalConfig, dataDir: string, local: FileJournal, logger: Logger, writerId: string = randomUUID()): Promise<JetStreamJournal> {
  const log = await JetStreamLog.open(config);
  logger.info({ servers: config.servers, stream: config.stream, replicas: config.replicas }, 'journal: JetStream stream plus the local file copy');
  return new JetStreamJournal({ log, local, dir: dataDir, writerId, logger });
}
