import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The repository's TypeScript files and the imports between them, read with the compiler's own
 * parser: what the boundary and cycle checks of the contract tests walk.
 */

export const ROOT = resolve(__dirname, '..', '..');

/** A workspace package: its directory (relative to the root) and the workspace packages its package.json lists. */
export interface Workspace {
  readonly name: string;
  readonly dir: string;
  readonly declared: readonly string[];
}

export interface Import {
  /** The file that imports, relative to the root. */
  readonly from: string;
  readonly specifier: string;
  /** `import type` / `export type`: erased when compiled. */
  readonly typeOnly: boolean;
  /** The imported file relative to the root, when it is one of the repository's own. */
  readonly to?: string;
}

interface PackageJson {
  readonly name: string;
  readonly main?: string;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

function readPackage(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageJson;
}

export function workspaces(): Workspace[] {
  return ['packages', 'services'].flatMap((group) =>
    readdirSync(join(ROOT, group))
      .map((name) => `${group}/${name}`)
      .filter((dir) => existsSync(join(ROOT, dir, 'package.json')))
      .map((dir) => {
        const pkg = readPackage(dir);
        const declared = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter((dep) => dep.startsWith('@orderbook/'));
        return { name: pkg.name, dir, declared };
      }),
  );
}

/** The workspace a file belongs to; undefined for the root package (tests/). */
export function workspaceOf(file: string, all: readonly Workspace[]): Workspace | undefined {
  return all.find((w) => file.startsWith(`${w.dir}/`));
}

const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git', 'data']);

/** Every .ts file of the repository (generated code included), relative to the root. */
export function sourceFiles(dir = ''): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    if (SKIPPED_DIRS.has(name) || name.startsWith('.')) return [];
    const path = dir === '' ? name : `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveFile(base: string): string | undefined {
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    if (existsSync(join(ROOT, candidate)) && statSync(join(ROOT, candidate)).isFile()) return candidate;
  }
  return undefined;
}

function resolveSpecifier(from: string, specifier: string, all: readonly Workspace[]): string | undefined {
  if (specifier.startsWith('.')) return resolveFile(relative(ROOT, resolve(ROOT, dirname(from), specifier)));
  const workspace = all.find((w) => specifier === w.name || specifier.startsWith(`${w.name}/`));
  if (workspace === undefined) return undefined;
  if (specifier === workspace.name) return resolveFile(join(workspace.dir, readPackage(workspace.dir).main ?? 'index.ts').replace(/\.ts$/, ''));
  return resolveFile(join(workspace.dir, specifier.slice(workspace.name.length + 1)));
}

/** The static imports and re-exports of every file. */
export function imports(files: readonly string[], all: readonly Workspace[]): Import[] {
  return files.flatMap((from) => {
    const source = ts.createSourceFile(from, readFileSync(join(ROOT, from), 'utf8'), ts.ScriptTarget.Latest);
    return source.statements.flatMap((statement): Import[] => {
      let specifier: ts.Expression | undefined;
      let typeOnly = false;
      if (ts.isImportDeclaration(statement)) {
        specifier = statement.moduleSpecifier;
        const clause = statement.importClause;
        const named = clause?.namedBindings;
        typeOnly =
          clause !== undefined &&
          (clause.isTypeOnly ||
            (clause.name === undefined && named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)));
      } else if (ts.isExportDeclaration(statement)) {
        specifier = statement.moduleSpecifier;
        typeOnly = statement.isTypeOnly;
      } else if (ts.isImportEqualsDeclaration(statement) && ts.isExternalModuleReference(statement.moduleReference)) {
        specifier = statement.moduleReference.expression;
      }
      if (specifier === undefined || !ts.isStringLiteral(specifier)) return [];
      const to = resolveSpecifier(from, specifier.text, all);
      return [{ from, specifier: specifier.text, typeOnly, ...(to === undefined ? {} : { to }) }];
    });
  });
}

/** The import cycles among the given files: each a strongly connected set of files, sorted, that import each other. */
export function cycles(files: readonly string[], edges: readonly Import[]): string[][] {
  const inScope = new Set(files);
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const edge of edges) if (edge.to !== undefined && inScope.has(edge.from) && inScope.has(edge.to)) next.get(edge.from)?.push(edge.to);
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const component: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      onStack.delete(member);
      component.push(member);
      if (member === file) break;
    }
    const selfImport = (next.get(file) ?? []).includes(file);
    if (component.length > 1 || selfImport) found.push(component.sort());
  };
  for (const file of files) if (!index.has(file)) visit(file);
  return found.sort((a, b) => a[0].localeCompare(b[0]));
}
