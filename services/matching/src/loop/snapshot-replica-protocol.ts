import type { EngineConfig } from '@orderbook/engine';

/** What a snapshot replica starts from: the engine's config and its state as Engine.snapshot() bytes. */
export interface ReplicaSeed {
  readonly config: EngineConfig;
  readonly state: Uint8Array;
}

/** To the replica: commands to apply (one encoded journal batch), or a request for its snapshot at seq. */
export type ReplicaRequest = { readonly kind: 'commands'; readonly batch: Uint8Array } | { readonly kind: 'take'; readonly seq: number };

/** From the replica: that it restored the seed, or its snapshot at seq. */
export type ReplicaReply = { readonly kind: 'ready' } | { readonly kind: 'taken'; readonly seq: number; readonly state: Uint8Array };
