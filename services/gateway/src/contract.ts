import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary, getOption, hasOption, type DescExtension, type DescMethod, type DescService, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { PathTemplate } from './path-template';

/** Which service process answers each proto package. */
export const UPSTREAM_OF_PACKAGE = {
  'orderbook.auth.v1': 'auth',
  'orderbook.matching.v1': 'matching',
} as const;

export type UpstreamName = (typeof UPSTREAM_OF_PACKAGE)[keyof typeof UPSTREAM_OF_PACKAGE];

export type HttpVerb = 'get' | 'post' | 'put' | 'delete' | 'patch';

/** One RPC as the gateway serves it. */
export interface Rpc {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly upstream: UpstreamName;
  /** `/<package>.<Service>/<Method>`: the gRPC path, also served as a POST route. */
  readonly grpcPath: string;
}

/** One google.api.http rule of an RPC. */
export interface HttpBinding {
  readonly rpc: Rpc;
  readonly verb: HttpVerb;
  readonly path: PathTemplate;
  /** `*` (the whole request is the body), a top-level field name, or '' (no body: query parameters). */
  readonly body: string;
  /** 0 for the rule itself, 1... for its additional_bindings in order. */
  readonly ordinal: number;
}

/** A google.api.HttpRule as @bufbuild/protobuf reads it. */
interface HttpRule {
  readonly pattern: { case: string | undefined; value?: unknown };
  readonly body: string;
}

/**
 * The API the gateway serves, read from the descriptor set that `make proto` builds: every RPC of
 * the project's services and their google.api.http rules.
 */
export class Contract {
  readonly rpcs: readonly Rpc[];
  readonly bindings: readonly HttpBinding[];

  constructor(readonly registry: FileRegistry) {
    const http = registry.getExtension('google.api.http') as DescExtension | undefined;
    if (http === undefined) throw new Error('descriptor set without google.api.http: run make proto');
    const rpcs: Rpc[] = [];
    const bindings: HttpBinding[] = [];
    for (const file of registry.files) {
      const upstream = UPSTREAM_OF_PACKAGE[file.proto.package as keyof typeof UPSTREAM_OF_PACKAGE];
      if (upstream === undefined) continue;
      for (const service of file.services) {
        for (const method of service.methods) {
          const rpc: Rpc = { method, service, upstream, grpcPath: `/${service.typeName}/${method.name}` };
          rpcs.push(rpc);
          if (!hasOption(method, http)) continue;
          const rule = getOption(method, http) as HttpRule & { additionalBindings: HttpRule[] };
          [rule, ...rule.additionalBindings].forEach((r, ordinal) => {
            const verb = r.pattern.case;
            if (verb !== 'get' && verb !== 'post' && verb !== 'put' && verb !== 'delete' && verb !== 'patch') {
              throw new Error(`${rpc.grpcPath}: unsupported google.api.http pattern ${String(verb)}`);
            }
            bindings.push({ rpc, verb, path: PathTemplate.parse(String(r.pattern.value)), body: r.body, ordinal });
          });
        }
      }
    }
    this.rpcs = rpcs;
    // Most literal templates first, so that /v1/orders/market is not taken for /v1/orders/{order_id}.
    this.bindings = bindings.sort((a, b) => b.path.specificity - a.path.specificity);
  }

  static load(descriptorSetPath: string): Contract {
    return new Contract(createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetPath))));
  }

  rpcAt(grpcPath: string): Rpc | undefined {
    return this.rpcs.find((rpc) => rpc.grpcPath === grpcPath);
  }

  /** The binding for a verb and path with its variables, or, if only the verb is wrong, the verbs the path allows. */
  route(verb: string, path: string): { binding: HttpBinding; variables: Map<string, string> } | { allowed: HttpVerb[] } {
    const allowed: HttpVerb[] = [];
    for (const binding of this.bindings) {
      const variables = binding.path.match(path);
      if (variables === undefined) continue;
      if (binding.verb === verb) return { binding, variables };
      allowed.push(binding.verb);
    }
    return { allowed };
  }
}
