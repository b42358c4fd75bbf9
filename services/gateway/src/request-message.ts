import { fromJson, ScalarType, toBinary, type DescField, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import type { HttpBinding } from './contract';

/** The request cannot be turned into the RPC's input message: answered 400 (INVALID_ARGUMENT). */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** What an HTTP request carries towards an RPC's input. */
export interface HttpInput {
  /** The parsed JSON body; undefined without one. */
  readonly body: JsonValue | undefined;
  readonly variables: ReadonlyMap<string, string>;
  readonly query: URLSearchParams;
}

function fieldNamed(message: DescMessage, name: string): DescField | undefined {
  return message.fields.find((f) => f.name === name || f.jsonName === name);
}

/** A path or query string as the JSON value of a singular or repeated scalar or enum field. */
function textAsJson(field: DescField, text: string): JsonValue {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  if (kind === 'enum') return /^\d+$/.test(text) ? Number(text) : text;
  if (kind !== 'scalar') throw new BadRequestError(field.name, 'cannot be given in the path or query string');
  const scalar = field.fieldKind === 'list' ? field.scalar : field.fieldKind === 'scalar' ? field.scalar : undefined;
  if (scalar === ScalarType.BOOL) {
    if (text === 'true' || text === 'false') return text === 'true';
    throw new BadRequestError(field.name, `must be true or false, got "${text}"`);
  }
  // The proto3 JSON mapping accepts numbers of every width as strings.
  return text;
}

/** Sets a (dotted) field path of a JSON object from a path variable or query parameter. */
function assign(target: JsonObject, message: DescMessage, fieldPath: string, texts: readonly string[]): void {
  const [head, ...rest] = fieldPath.split('.');
  const field = fieldNamed(message, head!);
  if (field === undefined) throw new BadRequestError(fieldPath, `no such field in ${message.typeName}`);
  if (rest.length > 0) {
    if (field.fieldKind !== 'message') throw new BadRequestError(fieldPath, `${field.name} is not a message`);
    const inner = (target[field.jsonName] ??= {}) as JsonObject;
    assign(inner, field.message, rest.join('.'), texts);
    return;
  }
  if (field.fieldKind === 'list') target[field.jsonName] = texts.map((t) => textAsJson(field, t));
  else if (texts.length > 1) throw new BadRequestError(fieldPath, 'given more than once');
  else target[field.jsonName] = textAsJson(field, texts[0]!);
}

/**
 * Each field once in a whole-request body: not under both its names (client_order_id and
 * clientOrderId), and not differently from the path (the URL a proxy or log saw must be what
 * the service does).
 */
function checkBodyFields(body: JsonObject, message: DescMessage, variables: ReadonlyMap<string, string>): void {
  const seen = new Set<DescField>();
  for (const key of Object.keys(body)) {
    const field = fieldNamed(message, key);
    if (field === undefined) continue;
    if (seen.has(field)) throw new BadRequestError(field.name, `given more than once (as ${field.name} and ${field.jsonName})`);
    seen.add(field);
    const inPath = variables.get(field.name) ?? variables.get(field.jsonName);
    if (inPath !== undefined && String(body[key]) !== inPath) throw new BadRequestError(field.name, `the path says "${inPath}", the body something else: leave it out of the body`);
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The RPC's input message in the proto3 JSON mapping, assembled as google.api.http says: the body
 * (all of it for `*`, or one field), then path variables, then, for fields not bound otherwise,
 * query parameters.
 */
export function requestJson(binding: HttpBinding | undefined, input: HttpInput, message: DescMessage): JsonObject {
  const bodyRule = binding === undefined ? '*' : binding.body;
  let json: JsonObject = {};
  if (bodyRule === '*') {
    if (input.body !== undefined && !isObject(input.body)) throw new BadRequestError('body', 'must be a JSON object');
    json = { ...(input.body ?? {}) };
    checkBodyFields(json, message, input.variables);
  } else if (bodyRule !== '') {
    const field = fieldNamed(message, bodyRule);
    if (field === undefined) throw new Error(`${message.typeName}: google.api.http body names no field: ${bodyRule}`);
    if (input.body !== undefined) json[field.jsonName] = input.body;
  } else if (input.body !== undefined) {
    throw new BadRequestError('body', 'this route takes no body (use the query string)');
  }
  for (const [fieldPath, value] of input.variables) assign(json, message, fieldPath, [value]);
  if (bodyRule !== '*') {
    for (const name of new Set(input.query.keys())) assign(json, message, name, input.query.getAll(name));
  }
  return json;
}

/** The input message's wire bytes, or a BadRequestError naming the field the JSON got wrong. */
export function encodeRequest(message: DescMessage, json: JsonObject): Uint8Array {
  try {
    return toBinary(message, fromJson(message, json));
  } catch (err) {
    const problem = (err instanceof Error ? err.message : String(err)).replace(/^cannot decode /, 'cannot read ');
    throw new BadRequestError(failingKey(message, json) ?? 'body', problem);
  }
}

/** The first top-level key whose value alone does not decode (the errors of @bufbuild/protobuf do not always name it). */
function failingKey(message: DescMessage, json: JsonObject): string | undefined {
  return Object.keys(json).find((key) => {
    try {
      fromJson(message, { [key]: json[key] ?? null });
      return false;
    } catch {
      return true;
    }
  });
}
