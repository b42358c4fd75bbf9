/**
 * A stand-in for the grpcurl commands of the README (grpcurl cannot be installed here): the same
 * arguments (`-plaintext`, `-H`, `-d`, address, Service/Method), the same canonical protobuf JSON in
 * and out, and grpcurl's error report and exit status. Unary methods only.
 */
import { readFileSync } from 'node:fs';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, fromJson, toBinary, toJsonString, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { descriptorSetPath } from '@orderbook/proto';

function usage(message: string): never {
  process.stderr.write(`grpcurl-shim: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const headers: string[] = [];
let data = '{}';
const positional: string[] = [];
for (let i = 0; i < args.length; i++) {
  const arg = args[i]!;
  if (arg === '-plaintext') continue;
  if (arg === '-H') headers.push(args[++i] ?? usage('-H needs a value'));
  else if (arg === '-d') data = args[++i] ?? usage('-d needs a value');
  else if (arg.startsWith('-')) usage(`unsupported flag ${arg}`);
  else positional.push(arg);
}
const [address, fullMethod] = positional;
if (!address || !fullMethod || positional.length !== 2) usage('expected: [-plaintext] [-H "k: v"]... [-d JSON] ADDRESS SERVICE/METHOD');

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath)));
const [serviceName, methodName] = fullMethod.split('/');
const service = registry.getService(serviceName ?? '');
const method = service?.methods.find((m) => m.name === methodName);
if (!method) usage(`unknown method ${fullMethod}`);
if (method.methodKind !== 'unary') usage(`${fullMethod} is not unary`);

const metadata = new Metadata();
for (const header of headers) {
  const colon = header.indexOf(':');
  if (colon < 1) usage(`bad header ${header}`);
  metadata.add(header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim());
}

const request = toBinary(method.input, fromJson(method.input, JSON.parse(data) as JsonValue, { registry }));
const client = new Client(address, credentials.createInsecure());
client.makeUnaryRequest(
  `/${service!.typeName}/${method.name}`,
  (bytes: Uint8Array) => Buffer.from(bytes),
  (bytes: Buffer) => bytes,
  request,
  metadata,
  (err: ServiceError | null, response?: Buffer) => {
    client.close();
    if (err) {
      const code = status[err.code].split('_').map((w) => w[0] + w.slice(1).toLowerCase()).join('');
      process.stderr.write(`ERROR:\n  Code: ${code}\n  Message: ${err.details}\n`);
      process.exit(64 + err.code);
    }
    process.stdout.write(`${toJsonString(method.output, fromBinary(method.output, response!), { registry, prettySpaces: 2 })}\n`);
  },
);
