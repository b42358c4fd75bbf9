export * from './env';
export * from './logger';
export * from './grpc-errors';
export * from './grpc-server';
export * from './signals';
