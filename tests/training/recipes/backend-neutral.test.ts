// Recipes name no backend: the pretext tasks, losses, augmentations, encoders and optimizers must run unchanged
// on every engine (webgpu, tensorflow, wasm, cpu), so their code (comments excluded) may not name a backend, pick
// or query one, import the engine's backend switch or its wasm kernel patches, or register kernels. Which engine
// runs is decided once, by src/training/engine (the accelerator a run asked for).
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../../..');
const RECIPE_DIRS = ['src/training/pretext', 'src/training/losses', 'src/training/augment', 'src/training/encoders', 'src/training/optim'];

const BACKEND_WORD = /\b(wasm|cpu|tensorflow|webgpu|webgl|cuda)\b/i;
/** Inside identifiers the names are camel-cased parts (useCuda, wasmOnly), so no word boundaries there. */
const BACKEND_PART = /wasm|cpu|tensorflow|webgpu|webgl|cuda/i;
const FORBIDDEN_IMPORT = /(^|\/)engine\/(backend|kernels|webgpu|device-probe)(\/|$)|(^|\/)trainer\/backend$|^@tensorflow\/tfjs-(backend-|node)/;
const FORBIDDEN_CALL = new Set(['setBackend', 'getBackend', 'backend', 'findBackend', 'findBackendFactory', 'registerBackend', 'registerKernel', 'registerGradient', 'getKernel', 'useBackend', 'initBackend']);

/** Every way `source` names a backend, with its line; comments are skipped by the TypeScript scanner. */
export function violations(fileName: string, source: string): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const at = (n: ts.Node) => `${fileName}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`;
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      if (FORBIDDEN_IMPORT.test(n.moduleSpecifier.text)) found.push(`${at(n)} imports ${n.moduleSpecifier.text}`);
      return;
    }
    if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0]) && FORBIDDEN_IMPORT.test(n.arguments[0].text)) {
      found.push(`${at(n)} imports ${n.arguments[0].text}`);
    }
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'require' && n.arguments[0] && ts.isStringLiteral(n.arguments[0]) && FORBIDDEN_IMPORT.test(n.arguments[0].text)) {
      found.push(`${at(n)} requires ${n.arguments[0].text}`);
    }
    if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) && BACKEND_WORD.test(n.text)) {
      found.push(`${at(n)} names a backend in "${n.text}"`);
    }
    if (ts.isPropertyAccessExpression(n) && FORBIDDEN_CALL.has(n.name.text)) found.push(`${at(n)} uses ${n.getText(sf)}`);
    if (ts.isIdentifier(n) && BACKEND_PART.test(n.text) && !ts.isPropertyAccessExpression(n.parent)) found.push(`${at(n)} names a backend: ${n.text}`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

test('the check catches each way of naming a backend, and ignores comments', () => {
  const bad = [
    `import { registerWasmKernels } from '../engine/kernels';`,
    `import { initBackend } from '../engine/backend';`,
    `import '@tensorflow/tfjs-backend-wasm';`,
    `const x = await import('../engine/webgpu');`,
    `if (tf.getBackend() === 'wasm') {}`,
    `tf.registerKernel({ kernelName: 'X', backendName: 'cpu', kernelFunc: () => null as never });`,
    'const t = `runs on ${name} tensorflow`;',
    `const useCuda = true;`,
  ];
  for (const line of bad) expect({ line, caught: violations('bad.ts', line).length > 0 }).toEqual({ line, caught: true });
  expect(violations('ok.ts', `// wasm lacks UnsortedSegmentSum, so this uses a one-hot matmul\n/* cpu */ const y = tf.matMul(a, b);`)).toEqual([]);
});

test('pretext tasks, losses, augmentations, encoders and optimizers name no backend', () => {
  const files = RECIPE_DIRS.flatMap(sources);
  expect(files.length).toBeGreaterThan(30); // the walk found the recipes
  const found = files.flatMap((f) => violations(f, fs.readFileSync(path.join(ROOT, f), 'utf8')));
  expect(found).toEqual([]);
});
