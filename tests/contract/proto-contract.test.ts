import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createFileRegistry, fromBinary, ScalarType, toBinary, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { expect } from 'chai';
import { auth, descriptorSetPath, matching } from '@orderbook/proto';

const root = join(__dirname, '..', '..');
const buf = join(root, 'node_modules', '.bin', 'buf');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

interface GeneratedCodec {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromPartial(value: unknown): unknown;
}

const generatedModules: Record<string, Record<string, unknown>> = {
  'orderbook.auth.v1': auth,
  'orderbook.matching.v1': matching,
};

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath)));
/** The contract's own files; the descriptor set also holds the google.rpc and google.protobuf files they import. */
const contractFiles = [...registry.files].filter((f) => f.proto.package.startsWith('orderbook.'));
const messages = [...registry].filter((d): d is DescMessage => d.kind === 'message' && d.file.proto.package.startsWith('orderbook.'));

/** A value for every field, at the edges of each type's range, in ts-proto's shape (camelCase, oneof members flattened). */
function fullValue(message: DescMessage, depth = 0): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  const oneofsDone = new Set<string>();
  for (const field of message.fields) {
    if (field.oneof) {
      if (oneofsDone.has(field.oneof.name)) continue;
      oneofsDone.add(field.oneof.name);
    }
    const one = fieldValue(field, depth);
    if (one === undefined) continue;
    value[field.localName] = field.fieldKind === 'list' ? [one, one] : one;
  }
  return value;
}

function fieldValue(field: DescField, depth: number): unknown {
  switch (field.fieldKind) {
    case 'scalar':
    case 'list':
      if (field.fieldKind === 'list' && field.listKind === 'message') {
        return depth < 3 ? fullValue(field.message, depth + 1) : undefined;
      }
      if (field.fieldKind === 'list' && field.listKind === 'enum') return Math.max(...field.enum.values.map((v) => v.number));
      return scalarValue(field.scalar!);
    case 'enum':
      return Math.max(...field.enum.values.map((v) => v.number));
    case 'message':
      return depth < 3 ? fullValue(field.message, depth + 1) : undefined;
    default:
      throw new Error(`unexpected field kind in ${field.name}`);
  }
}

function scalarValue(type: ScalarType): unknown {
  switch (type) {
    case ScalarType.STRING:
      return 'héllo ✓ 98.5 \u0000 end';
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return 2n ** 64n - 1n;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return -(2n ** 63n);
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return 2 ** 32 - 1;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return -(2 ** 31);
    case ScalarType.BOOL:
      return true;
    case ScalarType.BYTES:
      return Buffer.from([0, 1, 0xfe, 0xff]);
    default:
      throw new Error(`no sample for scalar type ${type}: add one`);
  }
}

function codecFor(message: DescMessage): GeneratedCodec {
  const module = generatedModules[message.file.proto.package];
  const codec = module?.[message.name] as GeneratedCodec | undefined;
  if (!codec) throw new Error(`no generated codec for ${message.typeName}`);
  return codec;
}

describe('gRPC contract (proto/)', () => {
  it('passes buf lint (STANDARD)', () => {
    execFileSync(buf, ['lint'], { cwd: root, stdio: 'pipe' });
  });

  it('has generated TypeScript and descriptors that match proto/ (run `make proto` if this fails)', function () {
    this.timeout(60_000);
    const scratch = mkdtempSync(join(tmpdir(), 'proto-fresh-'));
    try {
      execFileSync(buf, ['generate', '-o', scratch], { cwd: root, stdio: 'pipe' });
      const committedDir = join(root, 'packages/proto/src/gen');
      const freshDir = join(scratch, 'packages/proto/src/gen');
      const committed = filesUnder(committedDir).map((f) => relative(committedDir, f)).sort();
      const fresh = filesUnder(freshDir).map((f) => relative(freshDir, f)).sort();
      expect(committed).to.deep.equal(fresh);
      for (const file of fresh) {
        expect(readFileSync(join(committedDir, file), 'utf8'), file).to.equal(readFileSync(join(freshDir, file), 'utf8'));
      }
      const descriptors = join(scratch, 'descriptors.binpb');
      execFileSync(buf, ['build', '-o', descriptors], { cwd: root, stdio: 'pipe' });
      expect(Buffer.compare(readFileSync(descriptors), readFileSync(descriptorSetPath))).to.equal(0);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('documents every service, method, message, field, oneof, enum and enum value', () => {
    const undocumented: string[] = [];
    for (const file of contractFiles) {
      const documented = new Set(
        (file.proto.sourceCodeInfo?.location ?? [])
          .filter((l) => (l.leadingComments ?? '').trim() !== '')
          .map((l) => l.path.join('.')),
      );
      const check = (path: number[], name: string) => {
        if (!documented.has(path.join('.'))) undocumented.push(name);
      };
      // Paths are FileDescriptorProto field numbers: message_type 4 (field 2, nested 3, enum 4, oneof 8), enum_type 5 (value 2), service 6 (method 2).
      const messageTree = (m: (typeof file.proto.messageType)[number], path: number[], prefix: string) => {
        const name = `${prefix}.${m.name}`;
        check(path, name);
        m.field.forEach((f, i) => check([...path, 2, i], `${name}.${f.name}`));
        m.oneofDecl.forEach((o, i) => check([...path, 8, i], `${name}.${o.name}`));
        m.nestedType.forEach((n, i) => messageTree(n, [...path, 3, i], name));
        m.enumType.forEach((e, i) => enumTree(e, [...path, 4, i], name));
      };
      const enumTree = (e: (typeof file.proto.enumType)[number], path: number[], prefix: string) => {
        check(path, `${prefix}.${e.name}`);
        e.value.forEach((v, i) => check([...path, 2, i], `${prefix}.${e.name}.${v.name}`));
      };
      file.proto.messageType.forEach((m, i) => messageTree(m, [4, i], file.proto.package));
      file.proto.enumType.forEach((e, i) => enumTree(e, [5, i], file.proto.package));
      file.proto.service.forEach((svc, i) => {
        check([6, i], `${file.proto.package}.${svc.name}`);
        svc.method.forEach((m, j) => check([6, i, 2, j], `${file.proto.package}.${svc.name}.${m.name}`));
      });
    }
    expect(contractFiles.map((f) => f.proto.package).sort()).to.deep.equal(['orderbook.auth.v1', 'orderbook.matching.v1']);
    expect(undocumented).to.deep.equal([]);
  });

  describe('round-trips every message through the generated codec', () => {
    it('covers every message of both packages', () => {
      expect(messages.length).to.be.greaterThan(40);
    });
    for (const message of messages) {
      it(`${message.typeName}: full-range values survive encode → decode, and another protobuf implementation reads the same bytes`, () => {
        const codec = codecFor(message);
        const original = codec.fromPartial(fullValue(message));
        const bytes = codec.encode(original).finish();
        expect(codec.decode(bytes)).to.deep.equal(original);
        // @bufbuild/protobuf decodes and re-encodes with its own reflection-based codec: same bytes back.
        expect(Buffer.from(toBinary(message, fromBinary(message, bytes)))).to.deep.equal(Buffer.from(bytes));
        expect(codec.decode(codec.encode(codec.fromPartial({})).finish())).to.deep.equal(codec.fromPartial({}));
      });
    }
  });

  it('rejects a uint64 above 2^64-1 instead of silently wrapping', () => {
    expect(() => matching.Order.encode(matching.Order.fromPartial({ orderId: 2n ** 64n })).finish()).to.throw();
  });
});
