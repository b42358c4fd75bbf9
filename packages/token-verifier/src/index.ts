export * from './identity';
export * from './access-token';
export * from './bearer';
export * from './jwks-verifier';
export * from './verification-cache';
export * from './revocation-watcher';
export * from './revocation-check';
export * from './auth-channel';
