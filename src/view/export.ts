/**
 * `catvae view RUN --export DIR`: the server's content as a static folder
 * (index.html, style.css, app.js, run.json, digits.json, model/*, wasm/*) that any
 * static host can serve. It is written into a temporary sibling and renamed
 * into place, so a failure never leaves a half-written folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pageBundle, pageText, PAGE_FILES, WASM_FILES, wasmDir } from './bundle.js';
import { DATA_FILES, type ViewContent } from './server.js';

export class ExportError extends Error {
  override name = 'ExportError';
}

/** Writes the static site into `dir`, which must not exist or be an empty folder. Returns the files written. */
export async function exportView(content: ViewContent, dir: string): Promise<string[]> {
  const target = path.resolve(dir);
  if (fs.existsSync(target) && (!fs.statSync(target).isDirectory() || fs.readdirSync(target).length > 0)) {
    throw new ExportError(`${target} already exists and is not an empty folder; choose a new --export folder`);
  }
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) throw new ExportError(`${parent}: no such folder; create it first or choose another --export`);
  const tmp = `${target}.tmp-${process.pid}`;
  const files: [string, string | Buffer][] = [
    [PAGE_FILES.html, pageText(PAGE_FILES.html)],
    [PAGE_FILES.css, pageText(PAGE_FILES.css)],
    [PAGE_FILES.script, await pageBundle()],
    [DATA_FILES.run, JSON.stringify(content.summary)],
    [DATA_FILES.digits, JSON.stringify(content.digits)],
    ...WASM_FILES.map((name): [string, Buffer] => [`${DATA_FILES.wasmDir}/${name}`, fs.readFileSync(path.join(wasmDir(), name))]),
    ...content.model.names.map((name): [string, Buffer] => [
      `${DATA_FILES.modelDir}/${name}`,
      fs.readFileSync(path.join(content.model.dir, name)),
    ]),
  ];
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(path.join(tmp, DATA_FILES.modelDir), { recursive: true });
    fs.mkdirSync(path.join(tmp, DATA_FILES.wasmDir), { recursive: true });
    for (const [name, body] of files) fs.writeFileSync(path.join(tmp, name), body);
    if (fs.existsSync(target)) fs.rmdirSync(target);
    fs.renameSync(tmp, target);
  } catch (error) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new ExportError(`cannot write ${target}: ${(error as Error).message.split('\n')[0]}`);
  }
  return files.map(([name]) => path.join(target, name));
}
