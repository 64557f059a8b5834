/**
 * The project's import graph, read from the sources with a small parser
 * (enough for this code base: static `import ... from`, `export ... from`,
 * side-effect `import '...'` and dynamic `import('...')` with a literal
 * specifier). Only relative specifiers are edges; packages and `node:`
 * builtins are kept apart as `external`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ImportEdge {
  /** Importing file, relative to the root (posix separators). */
  from: string;
  /** Imported file, resolved to its .ts source (relative to the root). */
  to: string;
  /** The specifier as written. */
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
  /** `import type` / `export type`: erased when compiled, so no code is loaded. */
  typeOnly: boolean;
}

/** Comments blanked out (kept as spaces, so offsets and lines stay), strings and template literals kept. */
function stripComments(source: string): string {
  let out = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const SPECIFIERS = [
  // import x from '...', import { a, b } from '...', export { a } from '...', export * from '...', import type ... from '...'
  /\b(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g,
  // import '...' (side effect)
  /\bimport\s*(['"])([^'"]+)\1/g,
  // import('...') (dynamic, literal specifier)
  /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
];

/** The module specifiers a source imports, with their lines, in order of appearance. */
export function importSpecifiers(source: string): Array<{ specifier: string; line: number; typeOnly: boolean }> {
  const code = stripComments(source);
  const found = new Map<number, { specifier: string; typeOnly: boolean }>();
  for (const pattern of SPECIFIERS) {
    for (const m of code.matchAll(pattern)) {
      const at = m.index + m[0].lastIndexOf(m[2]);
      if (!found.has(at)) found.set(at, { specifier: m[2], typeOnly: /^(import|export)\s+type\b/.test(m[0]) });
    }
  }
  return [...found.entries()].sort(([a], [b]) => a - b).map(([at, found]) => ({ ...found, line: code.slice(0, at).split('\n').length }));
}

/** The .ts file a relative specifier names ('./x.js' -> x.ts, './dir' -> dir/index.ts), or null when none exists. */
function resolveSource(root: string, fromFile: string, specifier: string): string | null {
  const base = path.join(path.dirname(path.join(root, fromFile)), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts'), base];
  const hit = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  return hit ? path.relative(root, hit).split(path.sep).join('/') : null;
}

function listSources(root: string, dir: string): string[] {
  const at = path.join(root, dir);
  if (!fs.existsSync(at)) return [];
  return fs.readdirSync(at, { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return listSources(root, rel);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Every relative import of the .ts files under `dirs` (relative to root); unresolved ones have to = ''. */
export function importGraph(root: string, dirs: string[]): ImportEdge[] {
  return dirs.flatMap((dir) =>
    listSources(root, dir).flatMap((file) =>
      importSpecifiers(fs.readFileSync(path.join(root, file), 'utf8'))
        .filter(({ specifier }) => specifier.startsWith('.'))
        .map(({ specifier, line, typeOnly }) => ({
          from: file,
          to: resolveSource(root, file, specifier) ?? '',
          specifier,
          line,
          typeOnly,
        })),
    ),
  );
}

/** A cycle in a directed graph given as adjacency sets, as its nodes in order (first repeated last), or null. */
export function findCycle(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}
