import type { EngineConfig } from '@orderbook/engine';

/**
 * What a snapshot replica starts from: the engine's config and a state as Engine.snapshot() bytes
 * (undefined: an empty engine); the commands that follow come as `commands`.
 */
export interface ReplicaSeed {
  readonly config: EngineConfig;
  readonly state: Uint8Array | undefined;
}

/**
 * To the replica: its seed (the first message), commands to apply (encoded journal batches one
 * after another in `bytes`, each ending at its offset in `ends`), or a request for its snapshot at seq.
 */
export type ReplicaRequest =
  | ({ readonly kind: 'seed' } & ReplicaSeed)
  | { readonly kind: 'commands'; readonly bytes: Uint8Array; readonly ends: readonly number[] }
  | { readonly kind: 'take'; readonly seq: number; readonly timestamp: number; readonly dir: string };

/** From the replica: that it restored the seed, or that its snapshot at seq is written (or why not). */
export type ReplicaReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'written'; readonly seq: number; readonly encodeMs: number; readonly writeMs: number }
  | { readonly kind: 'notWritten'; readonly seq: number; readonly error: Error };
