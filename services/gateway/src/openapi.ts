import { ScalarType, type DescEnum, type DescField, type DescFile, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import type { Contract, HttpBinding, Rpc } from './contract';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The leading comment of a descriptor element, from the file's source info (path per descriptor.proto field numbers). */
function comment(file: DescFile, path: readonly number[]): string {
  const location = file.proto.sourceCodeInfo?.location.find((l) => l.path.length === path.length && l.path.every((p, i) => p === path[i]));
  return (location?.leadingComments ?? '').replace(/\s*\n\s*/g, ' ').trim();
}

function messagePath(message: DescMessage): number[] {
  return [4, message.file.messages.indexOf(message)];
}

function methodComment(method: DescMethod): string {
  const file = method.parent.file;
  return comment(file, [6, file.services.indexOf(method.parent), 2, method.parent.methods.indexOf(method)]);
}

function schemaRef(typeName: string): Json {
  return { $ref: `#/components/schemas/${typeName}` };
}

function scalarSchema(scalar: ScalarType): { [key: string]: Json } {
  switch (scalar) {
    case ScalarType.STRING:
      return { type: 'string' };
    case ScalarType.BOOL:
      return { type: 'boolean' };
    case ScalarType.BYTES:
      return { type: 'string', format: 'byte' };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: 'number' };
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return { type: 'integer', format: 'int32' };
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return { type: 'integer', format: 'int64', minimum: 0 };
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      // The proto3 JSON mapping writes 64-bit integers as strings.
      return { type: 'string', format: 'int64' };
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return { type: 'string', format: 'uint64' };
  }
}

function enumSchema(desc: DescEnum): { [key: string]: Json } {
  return { type: 'string', enum: desc.values.map((v) => v.name) };
}

function fieldSchema(field: DescField): { [key: string]: Json } {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarSchema(field.scalar);
    case 'enum':
      return enumSchema(field.enum);
    case 'message':
      return { allOf: [schemaRef(field.message.typeName)] };
    case 'list':
      return {
        type: 'array',
        items: field.listKind === 'scalar' ? scalarSchema(field.scalar) : field.listKind === 'enum' ? enumSchema(field.enum) : schemaRef(field.message.typeName),
      };
    case 'map':
      return { type: 'object', additionalProperties: field.mapKind === 'scalar' ? scalarSchema(field.scalar) : field.mapKind === 'enum' ? enumSchema(field.enum) : schemaRef(field.message.typeName) };
  }
}

function messageSchema(message: DescMessage): Json {
  const path = messagePath(message);
  const properties: { [key: string]: Json } = {};
  message.fields.forEach((field, i) => {
    const description = comment(message.file, [...path, 2, i]);
    properties[field.jsonName] = { ...fieldSchema(field), ...(description === '' ? {} : { description }) };
  });
  const description = comment(message.file, path);
  return { type: 'object', ...(description === '' ? {} : { description }), properties };
}

/** Every message reachable from the given ones through their fields. */
function reachable(roots: readonly DescMessage[]): DescMessage[] {
  const seen = new Map<string, DescMessage>();
  const visit = (message: DescMessage): void => {
    if (seen.has(message.typeName)) return;
    seen.set(message.typeName, message);
    for (const field of message.fields) if (field.message !== undefined) visit(field.message);
  };
  roots.forEach(visit);
  return [...seen.values()].sort((a, b) => a.typeName.localeCompare(b.typeName));
}

const ERROR_RESPONSE: Json = {
  description: 'The error as google.rpc.Status JSON (code, message, details such as google.rpc.ErrorInfo, BadRequest, RetryInfo). 429 and 503 carry Retry-After.',
  content: { 'application/json': { schema: schemaRef('google.rpc.Status') } },
};

function successResponse(rpc: Rpc): Json {
  if (rpc.method.methodKind === 'server_streaming') {
    return {
      description: `Server-Sent Events: one \`message\` event per ${rpc.method.output.typeName} (JSON), with the sequence number as its id; \`error\` (google.rpc.Status JSON) or \`end\` closes the stream. Reconnect with Last-Event-ID to resume, or get a \`resync\` event and a fresh stream.`,
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    };
  }
  return { description: rpc.method.output.typeName, content: { 'application/json': { schema: schemaRef(rpc.method.output.typeName) } } };
}

function parameters(binding: HttpBinding): Json[] {
  const input = binding.rpc.method.input;
  const variables = binding.path.variables;
  const inPath = variables.map((name) => {
    const field = input.fields.find((f) => f.name === name)!;
    return { name, in: 'path', required: true, schema: fieldSchema(field) };
  });
  if (binding.body !== '') return inPath;
  const inQuery = input.fields
    .filter((f) => !variables.includes(f.name) && f.fieldKind !== 'message' && f.fieldKind !== 'map')
    .map((f) => ({ name: f.jsonName, in: 'query', required: false, schema: fieldSchema(f) }));
  return [...inPath, ...inQuery];
}

function operation(rpc: Rpc, operationId: string, binding: HttpBinding | undefined): Json {
  return {
    operationId,
    tags: [rpc.service.typeName],
    summary: `${rpc.service.name}.${rpc.method.name}`,
    description: methodComment(rpc.method),
    ...(binding === undefined ? {} : { parameters: parameters(binding) }),
    ...(binding !== undefined && binding.body === '' ? {} : { requestBody: { required: binding === undefined ? false : true, content: { 'application/json': { schema: schemaRef(rpc.method.input.typeName) } } } }),
    responses: { '200': successResponse(rpc), default: ERROR_RESPONSE },
    // The token is optional here: the service says (401) when a method needs one.
    security: [{ bearer: [] }, {}],
  };
}

/** The OpenAPI 3 document of the gateway, from the proto's descriptors and google.api.http rules. */
export function openApiDocument(contract: Contract): Json {
  const paths: { [path: string]: { [verb: string]: Json } } = {};
  for (const binding of contract.bindings) {
    const item = (paths[binding.path.toString()] ??= {});
    // Operation ids are unique: an additional binding of an RPC gets its ordinal.
    const suffix = binding.ordinal === 0 ? '' : `_${binding.ordinal}`;
    item[binding.verb] = operation(binding.rpc, `${binding.rpc.service.name}_${binding.rpc.method.name}${suffix}`, binding);
  }
  const rpcs = contract.rpcs.filter((rpc) => rpc.method.methodKind === 'unary' || rpc.method.methodKind === 'server_streaming');
  for (const rpc of rpcs) paths[rpc.grpcPath] = { post: operation(rpc, `${rpc.service.name}_${rpc.method.name}_plain`, undefined) };
  const status = contract.registry.getMessage('google.rpc.Status')!;
  const schemas: { [name: string]: Json } = {};
  for (const message of reachable([...rpcs.flatMap((r) => [r.method.input, r.method.output]), status])) {
    schemas[message.typeName] =
      message.typeName === 'google.protobuf.Any'
        ? { type: 'object', description: 'A detail message in its JSON form, named by @type.', properties: { '@type': { type: 'string' } }, additionalProperties: true }
        : messageSchema(message);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Orderbook HTTP API',
      version: 'v1',
      description:
        'The gRPC services of Orderbook over HTTP/JSON (the proto3 canonical JSON mapping): REST routes from the google.api.http annotations and `POST /<package>.<Service>/<Method>` for every RPC. Send the access token as `Authorization: Bearer <token>`.',
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}
