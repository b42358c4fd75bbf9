// Workspace packages resolve to their TypeScript sources under the "orderbook-ts" export condition
// (plain node gets the compiled dist/). Mocha runs with it (.mocharc.json node-option); this passes it
// on to every process a test starts (services, crash children, the grpcurl shim) through NODE_OPTIONS.
const flag = '--conditions=orderbook-ts';
if (!(process.env.NODE_OPTIONS ?? '').includes(flag)) process.env.NODE_OPTIONS = [process.env.NODE_OPTIONS, flag].filter(Boolean).join(' ');
