export * from './config-table';
export * from './logger';
export * from './grpc-errors';
export * from './grpc-server';
export * from './run-main';
export * from './signals';
export * from './status-adapter';
export * from './metrics-http';
