import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { JetStreamLog, LogReadStalledError } from '@orderbook/matching-service/src/storage/jetstream-log';
import { NatsCluster } from '@orderbook/matching-service/test/nats-cluster';

const STREAM = 'LOG_READ';
/** Far past the read's own bound on silence: what a read that never ends would show. */
const GIVE_UP_MS = 60_000;

/**
 * A follower's read of the stream when the NATS server it reads through, and that holds its
 * consumer, is killed while a fetch is pending: the read must end with an error (the follower then
 * reads again through a new consumer), not wait in silence for as long as that server is down.
 */
describe('JetStreamLog.read on a 3-node NATS cluster', function () {
  this.timeout(GIVE_UP_MS + 60_000);
  let cluster: NatsCluster | undefined;
  const logs: JetStreamLog[] = [];
  after(async () => {
    for (const log of logs) await log.close().catch(() => undefined);
    await cluster?.stop();
  });

  it('ends with LogReadStalledError when the server holding its consumer is killed during a fetch', async () => {
    cluster = await NatsCluster.start(3);
    // One replica: the stream and every consumer of it live on one server, the one the reader connects to.
    const writer = await JetStreamLog.open({ servers: cluster.urls, stream: STREAM, replicas: 1 });
    logs.push(writer);
    await writer.append(new TextEncoder().encode('first'), 0, 'first');
    const home = await cluster.streamLeader(STREAM);
    const reader = await JetStreamLog.open({ servers: [cluster.urls[home]], stream: STREAM, replicas: 1 });
    logs.push(reader);

    // Up to seq 2, which is not there yet: after the first message the fetch stays pending at the server.
    const read = reader.read(1, 2);
    const first = await read.next();
    expect(first.value).to.include({ streamSeq: 1 });
    await cluster.killNode(home);
    const started = performance.now();
    const outcome = await Promise.race([
      read.next().then(
        (step) => `resolved with ${JSON.stringify(step)}`,
        (err: unknown) => err,
      ),
      sleep(GIVE_UP_MS).then(() => `no answer after ${GIVE_UP_MS} ms`),
    ]);
    expect(outcome).to.be.instanceOf(LogReadStalledError);
    expect((outcome as Error).message).to.include(`stream ${STREAM}`).and.include('after seq 1');
    console.log(`      the read ended ${((performance.now() - started) / 1000).toFixed(1)} s after the kill: ${(outcome as Error).message}`);
  });
});
