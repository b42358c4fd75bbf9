import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** A port the OS just handed out (and took back): free unless another process grabs it meanwhile. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface NatsNode {
  readonly name: string;
  readonly url: string;
  readonly configPath: string;
  child: ChildProcess | undefined;
}

/**
 * A JetStream cluster of `nats-server` processes (Debian's 2.9) on free ports and a temp dir, for
 * tests. Each node has a server_name, as JetStream clustering requires.
 */
export class NatsCluster {
  private constructor(
    private readonly dir: string,
    private readonly nodes: readonly NatsNode[],
  ) {}

  static async start(size = 3): Promise<NatsCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'nats-cluster-'));
    const ports = await Promise.all(Array.from({ length: size * 2 }, freePort));
    const routes = Array.from({ length: size }, (_, i) => `nats-route://127.0.0.1:${ports[size + i]}`);
    const nodes = Array.from({ length: size }, (_, i): NatsNode => {
      const name = `n${i + 1}`;
      const configPath = join(dir, `${name}.conf`);
      writeFileSync(
        configPath,
        [
          `server_name: ${name}`,
          `listen: 127.0.0.1:${ports[i]}`,
          `jetstream { store_dir: "${join(dir, name)}" }`,
          `cluster { name: test, listen: 127.0.0.1:${ports[size + i]}, routes: [${routes.filter((_, j) => j !== i).join(', ')}] }`,
        ].join('\n'),
      );
      return { name, url: `nats://127.0.0.1:${ports[i]}`, configPath, child: undefined };
    });
    const cluster = new NatsCluster(dir, nodes);
    for (let i = 0; i < size; i++) cluster.startNode(i);
    await cluster.waitForJetStream();
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  startNode(index: number): void {
    const node = this.nodes[index];
    node.child = spawn('nats-server', ['-c', node.configPath], { stdio: 'ignore' });
  }

  /** SIGKILLs the node and resolves once it is gone. */
  async killNode(index: number): Promise<void> {
    const { child } = this.nodes[index];
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** Index of the node that leads the stream (its writes go through it). */
  async streamLeader(stream: string): Promise<number> {
    const nc = await connect({ servers: this.urls });
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream);
      const index = this.nodes.findIndex((node) => node.name === info.cluster?.leader);
      if (index === -1) throw new Error(`stream ${stream} has no leader among ${this.nodes.map((n) => n.name).join(', ')}`);
      return index;
    } finally {
      await nc.close();
    }
  }

  /** Until the cluster has a JetStream meta leader: a replicated stream can be created and deleted. */
  private async waitForJetStream(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const nc = await connect({ servers: this.urls, timeout: 2_000 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 2_000 });
          await jsm.streams.add({ name: 'READY_PROBE', subjects: ['ready.probe'], num_replicas: this.nodes.length });
          await jsm.streams.delete('READY_PROBE');
          return;
        } finally {
          await nc.close();
        }
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the NATS cluster did not get ready: ${String(err)}`);
        await sleep(250);
      }
    }
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.killNode(i);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
