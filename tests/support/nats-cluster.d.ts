/**
 * A JetStream cluster of `nats-server` processes (Debian's 2.9) on free ports and a temp dir, for
 * tests. Each node has a server_name, as JetStream clustering requires.
 */
export declare class NatsCluster {
    private readonly dir;
    private readonly nodes;
    private constructor();
    static start(size?: number): Promise<NatsCluster>;
    get urls(): string[];
    startNode(index: number): void;
    /** SIGKILLs the node and resolves once it is gone. */
    killNode(index: number): Promise<void>;
    /** Index of the node that leads the stream (its writes go through it). */
    streamLeader(stream: string): Promise<number>;
    /** Until the cluster has a JetStream meta leader: a replicated stream can be created and deleted. */
    private waitForJetStream;
    stop(): Promise<void>;
}
