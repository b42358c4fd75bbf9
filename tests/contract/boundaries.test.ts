import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { cycles, imports, ROOT, sourceFiles, workspaceOf, workspaces, type Import } from './import-graph';

const all = workspaces();
const files = sourceFiles();
const edges = imports(files, all);
const byName = new Map(all.map((w) => [w.name, w]));

const show = (edge: Import): string => `${edge.from} imports '${edge.specifier}'`;

describe('declared boundaries', () => {
  it('each workspace package lists exactly the workspace packages it imports (the engine none)', () => {
    for (const workspace of all) {
      const used = new Set<string>();
      for (const edge of edges) {
        const target = edge.to === undefined ? undefined : workspaceOf(edge.to, all);
        if (workspaceOf(edge.from, all) === workspace && target !== undefined && target !== workspace) used.add(target.name);
      }
      expect([...workspace.declared].sort(), `${workspace.dir}/package.json`).to.deep.equal([...used].sort());
    }
    expect(byName.get('@orderbook/engine')?.declared).to.deep.equal([]);
  });

  it('crosses into another package only by its name, never by a relative path', () => {
    const crossing = edges.filter((edge) => {
      if (!edge.specifier.startsWith('.') || edge.to === undefined) return false;
      return workspaceOf(edge.from, all) !== workspaceOf(edge.to, all);
    });
    expect(crossing.map(show)).to.deep.equal([]);
  });

  it('has tsconfig project references that mirror the declared dependencies', () => {
    const references = (dir: string): string[] => {
      const config = JSON.parse(readFileSync(join(ROOT, dir, 'tsconfig.json'), 'utf8')) as { references?: Array<{ path: string }> };
      return (config.references ?? []).map((r) => join(dir, r.path)).sort();
    };
    for (const workspace of all) {
      const declared = workspace.declared.map((name) => byName.get(name)?.dir ?? name).sort();
      expect(references(workspace.dir), `${workspace.dir}/tsconfig.json`).to.deep.equal(declared);
    }
    expect(references('tests'), 'tests/tsconfig.json: the end-to-end suites use every package').to.deep.equal(all.map((w) => w.dir).sort());
    expect(references('.'), 'tsconfig.json builds everything').to.deep.equal([...all.map((w) => w.dir), 'tests'].sort());
  });
});

describe('the matching service rooms', () => {
  const room = (name: string): Import[] => edges.filter((edge) => edge.from.startsWith(`services/matching/src/${name}/`));

  for (const name of ['loop', 'storage']) {
    it(`${name}/ imports nothing of gRPC: the loop and its storage stay transport-free`, () => {
      const grpc = room(name).filter(
        (edge) =>
          /^@grpc\//.test(edge.specifier) ||
          edge.specifier === '@orderbook/proto' ||
          edge.specifier === 'grpc-health-check' ||
          // server-kit's entry point loads grpc-js: types only.
          (edge.specifier === '@orderbook/server-kit' && !edge.typeOnly),
      );
      expect(grpc.map(show)).to.deep.equal([]);
    });
  }

  it('storage/ depends on no other room, and loop/ only on storage/', () => {
    const upward = [
      ...room('storage').filter((edge) => /^\.\.\/(api|auth|loop|ops)\//.test(edge.specifier)),
      ...room('loop').filter((edge) => /^\.\.\/(api|auth|ops)\//.test(edge.specifier)),
    ];
    expect(upward.map(show)).to.deep.equal([]);
  });
});

describe('import cycles', () => {
  it('none anywhere, the engine included', () => {
    expect(cycles(files, edges)).to.deep.equal([]);
  });
});
