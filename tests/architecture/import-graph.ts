// The project's import graph, read with the TypeScript compiler's parser (no type check, so it is quick): every
// static import/export-from, dynamic import() and require() with a literal specifier, marked type-only or runtime.
// Relative specifiers resolve to project files; bare ones stay package names.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const ROOT = path.join(__dirname, '..', '..');

export interface Edge {
  /** A project file relative to the root (src/…/x.ts), or a package name (`@tensorflow/tfjs`, `node:fs`). */
  to: string;
  /** Erased at compile time (`import type`, `export type`, or every named binding marked `type`). */
  typeOnly: boolean;
}

const graphCache = new Map<string, Edge[]>();

function resolveRelative(fromFile: string, spec: string): string | null {
  const base = path.resolve(path.dirname(path.join(ROOT, fromFile)), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return path.relative(ROOT, candidate);
  }
  return null;
}

function packageName(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The imports of one project file (relative to the root). */
export function importsOf(file: string): Edge[] {
  const cached = graphCache.get(file);
  if (cached) return cached;
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edges: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (spec.startsWith('.')) {
      const to = resolveRelative(file, spec);
      if (to) edges.push({ to, typeOnly });
      // JSON and other non-TS files (package.json, generated assets) are no module of ours.
    } else {
      edges.push({ to: packageName(spec), typeOnly });
    }
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, allTypes);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : undefined;
      add(node.moduleSpecifier.text, node.isTypeOnly || (!!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node.moduleReference.expression.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length >= 1 && ts.isStringLiteralLike(node.arguments[0]!)) {
      const isDynamicImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      if (isDynamicImport || isRequire) add((node.arguments[0] as ts.StringLiteralLike).text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true); // `typeof import('…')`
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  graphCache.set(file, edges);
  return edges;
}

/** Every .ts file under a project folder (relative to the root), generated code included. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (/\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * The shortest import chain from `from` to a target matching `isTarget` (a file or a package), or null. With
 * `runtimeOnly`, type-only edges are not followed: they are erased and load nothing.
 */
export function findPath(from: string, isTarget: (to: string) => boolean, opts: { runtimeOnly: boolean }): string[] | null {
  const prev = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length) {
    const at = queue.shift()!;
    if (at !== from && isTarget(at)) {
      const chain = [at];
      for (let p = prev.get(at); p; p = prev.get(p)) chain.unshift(p);
      return chain;
    }
    if (!at.startsWith('src/') && !at.startsWith('bench/') && !at.startsWith('tests/')) continue; // a package: a leaf here
    for (const e of importsOf(at)) {
      if (opts.runtimeOnly && e.typeOnly) continue;
      if (!prev.has(e.to)) {
        prev.set(e.to, at);
        queue.push(e.to);
      }
    }
  }
  return null;
}

/**
 * The order Node evaluates the project files `from` loads (CommonJS): a depth-first walk of runtime imports in
 * source order, each file once, a file counted when its own imports are done (`from` itself last).
 */
export function loadOrder(from: string): string[] {
  const seen = new Set<string>([from]);
  const order: string[] = [];
  const visit = (file: string) => {
    for (const e of importsOf(file)) {
      if (e.typeOnly || !e.to.startsWith('src/') || seen.has(e.to)) continue;
      seen.add(e.to);
      visit(e.to);
    }
    order.push(file);
  };
  visit(from);
  return order;
}
