/**
 * The `catvae view` page: loads the run's VAE with tfjs (the GumbelSoftmax
 * class registered by importing catvae's browser entry, exactly as in Node), then
 * wires the panels: draw or pick -> q(z|x) grid -> reconstruction, code
 * edits, traversal, prior samples, and the run's curves and code usage.
 */
import * as tf from '@tensorflow/tfjs';
import { codeUsageReport } from '../../inspect/code_usage.js';
// The package's browser entry: importing it registers the GumbelSoftmax layer class, as in Node.
import { fromLoadedModel, type CategoricalVae } from '../../index.js';
import { chooseBackend } from './backend.js';
import { barChart } from './charts.js';
import { CodeGrid } from './code_grid.js';
import { DrawPad } from './draw_pad.js';
import { argmaxCode, argmaxCodesOf, decodeCodes, posterior, priorCodes, sampleCode, traversalCodes, type Posterior } from './model_ops.js';
import { paint, tile, unpackBits } from './pixels.js';
import { renderRun, type RunJson } from './run_panel.js';

interface DigitsJson {
  count: number;
  rows: number;
  cols: number;
  labels: number[];
  bits: string;
  source: string;
}

const STRIP = 32;
const PRIOR_COUNT = 16;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the page exposes for tests and curious users (window.catvaeView). */
export interface ViewHandle {
  ready: boolean;
  backend: string;
  n: number;
  k: number;
  /** The encoder's code of the current input, and the code shown (with edits). */
  baseCode: number[];
  code: number[];
  probs: number[];
  recon: number[];
  /** K decodes of the traversal of `traverseVar`, [K * D]. */
  traversal: number[];
  traverseVar: number;
  /** The seed of the Gumbel noise in sample mode (Rng(seed, 1), as in sampleCode). */
  sampleSeed: number;
  updates: number;
  /** tf.memory().numTensors after the last update: constant from update to update, or the page leaks. */
  tensors: number;
  /** Milliseconds from an input event to its reconstruction on screen, one per update. */
  latencies: number[];
  /** Milliseconds each of those updates computed (encode, decode K + 1 codes, paint), without time spent queued. */
  computeMs: number[];
  pickDigit: (index: number) => Promise<void>;
  idle: () => Promise<void>;
}

async function fetchJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function main(): Promise<void> {
  const status = $('status');
  const choice = await chooseBackend(new URLSearchParams(location.search).get('backend'));
  const backend = choice.name;
  $('backend').textContent = `tfjs backend: ${backend}`;
  $('backend').title = `The tfjs backend this page runs on: ${choice.why}. Choose one with ?backend=webgpu, webgl, wasm or cpu.`;
  status.textContent = 'loading the model…';
  const [run, digits, loaded] = await Promise.all([
    fetchJson<RunJson>('run.json'),
    fetchJson<DigitsJson>('digits.json'),
    tf.loadLayersModel('model/model.json'),
  ]);
  const model: CategoricalVae = fromLoadedModel(loaded);
  const { latentVars: n, categories: k, inputDim: d } = model.config;
  const { rows, cols } = digits;
  if (rows * cols !== d) throw new Error(`the digits are ${rows}x${cols}, the model expects ${d} pixels`);
  const images = unpackBits(digits.bits, digits.count * d);
  $('run-name').textContent = `${run.run}/${run.checkpoint} · step ${run.step} · N=${n}, K=${k}`;
  renderRun(run, $('run-table'), $('curves'));

  const handle: ViewHandle = {
    ready: false,
    backend,
    n,
    k,
    baseCode: [],
    code: [],
    probs: [],
    recon: [],
    traversal: [],
    traverseVar: 0,
    sampleSeed: 1,
    updates: 0,
    tensors: 0,
    latencies: [],
    computeMs: [],
    pickDigit: async () => {},
    idle: async () => {},
  };
  (window as unknown as { catvaeView: ViewHandle }).catvaeView = handle;

  let mode: 'argmax' | 'sample' = 'argmax';
  let sampleSeed = 1;
  let current: Posterior | null = null;
  let code: Int32Array = new Int32Array(n);
  let base: Int32Array = new Int32Array(n);

  const grid = new CodeGrid($('grid'), n, k, {
    onCell: (v, c) => {
      code[v] = c;
      void redraw(performance.now(), false);
    },
    onLabel: (v) => {
      handle.traverseVar = v;
      select.value = String(v);
      void redraw(performance.now(), false);
    },
  });
  const select = $<HTMLSelectElement>('traverse-var');
  for (let v = 0; v < n; v++) select.append(new Option(`${v}`, `${v}`));
  select.addEventListener('change', () => {
    handle.traverseVar = Number(select.value);
    void redraw(performance.now(), false);
  });

  // One update at a time; events that arrive meanwhile are folded into the next one.
  let running: Promise<void> = Promise.resolve();
  let pending: { time: number; encode: boolean } | null = null;
  const schedule = (time: number, encode: boolean) => {
    pending = pending ? { time: pending.time, encode: pending.encode || encode } : { time, encode };
    running = running.then(async () => {
      if (!pending) return;
      const job = pending;
      pending = null;
      await update(job.time, job.encode);
    });
  };
  const redraw = (time: number, encode: boolean) => {
    schedule(time, encode);
    return running;
  };

  async function update(since: number, encode: boolean): Promise<void> {
    const started = performance.now();
    if (encode || !current) {
      current = await posterior(model, pad.pixels);
      base = mode === 'argmax' ? argmaxCode(current.logits, n, k) : sampleCode(current.logits, n, k, sampleSeed);
      code = base.slice();
    }
    // The reconstruction and the K traversal decodes in one decoder call.
    const v = handle.traverseVar;
    const batch = new Int32Array((1 + k) * n);
    batch.set(code);
    batch.set(traversalCodes(code, v, k), n);
    const pixels = await decodeCodes(model, batch);
    paint($('recon') as HTMLCanvasElement, pixels, rows, cols);
    grid.show(current.probs, code, base, v);
    const painted = performance.now();
    const latency = painted - since;
    const traverse = $('traverse');
    traverse.replaceChildren(
      ...Array.from({ length: k }, (_, c) => {
        const fig = document.createElement('figure');
        fig.append(tile(pixels, rows, cols, 1 + c), `${v} = ${c}`);
        return fig;
      }),
    );
    $<HTMLButtonElement>('reset').disabled = code.every((c, i) => c === base[i]);
    handle.baseCode = Array.from(base);
    handle.code = Array.from(code);
    handle.probs = Array.from(current.probs);
    handle.recon = Array.from(pixels.subarray(0, d));
    handle.traversal = Array.from(pixels.subarray(d));
    handle.sampleSeed = sampleSeed;
    handle.updates++;
    handle.tensors = tf.memory().numTensors;
    if (encode) {
      handle.latencies.push(latency);
      handle.computeMs.push(painted - started);
    }
    $('latency').textContent = `last update: ${latency.toFixed(1)} ms from input to picture (${backend})`;
  }

  const pad = new DrawPad($('pad') as HTMLCanvasElement, rows, cols, (time) => {
    strip.querySelectorAll('.picked').forEach((e) => e.classList.remove('picked'));
    schedule(time, true);
  });
  $('clear').addEventListener('click', () => {
    pad.clear();
    schedule(performance.now(), true);
  });
  $('reset').addEventListener('click', () => {
    code = base.slice();
    schedule(performance.now(), false);
  });
  const resample = $<HTMLButtonElement>('resample');
  resample.addEventListener('click', () => {
    sampleSeed++;
    schedule(performance.now(), true);
  });
  document.querySelectorAll<HTMLInputElement>('input[name=mode]').forEach((radio) =>
    radio.addEventListener('change', () => {
      mode = radio.value as 'argmax' | 'sample';
      resample.disabled = mode !== 'sample';
      schedule(performance.now(), true);
    }),
  );

  const strip = $('strip');
  handle.pickDigit = (index: number) => {
    pad.set(images.subarray(index * d, (index + 1) * d));
    strip.querySelectorAll('canvas').forEach((c, i) => c.classList.toggle('picked', i === index));
    return redraw(performance.now(), true);
  };
  for (let i = 0; i < Math.min(STRIP, digits.count); i++) {
    const canvas = tile(images, rows, cols, i);
    canvas.title = `test digit ${i} (label ${digits.labels[i]})`;
    canvas.addEventListener('click', () => void handle.pickDigit(i));
    strip.append(canvas);
  }
  handle.idle = async () => {
    while (pending) await running;
    await running;
  };

  let priorSeed = 1;
  const drawPrior = async () => {
    const pixels = await decodeCodes(model, priorCodes(PRIOR_COUNT, n, k, priorSeed++));
    $('prior').replaceChildren(...Array.from({ length: PRIOR_COUNT }, (_, i) => tile(pixels, rows, cols, i)));
  };
  $('redraw').addEventListener('click', () => void drawPrior());

  await handle.pickDigit(0);
  await drawPrior();
  status.textContent = 'computing code usage…';
  const usage = codeUsageReport(await argmaxCodesOf(model, images, digits.count), n, k);
  $('usage').replaceChildren(
    barChart(
      usage.variables.map((v) => v.perplexity),
      k,
      'variable',
      `perplexity (1 to K=${k})`,
    ),
  );
  const note = document.createElement('p');
  note.className = 'muted small';
  note.textContent = `exp(entropy) of each variable's argmax class over the first ${digits.count} test digits (${digits.source}); K: all classes used equally`;
  $('usage').append(note);
  status.textContent = '';
  handle.ready = true;
}

main().catch((error: unknown) => {
  const message = String((error as Error)?.message ?? error);
  $('status').textContent = `error: ${message}`;
  console.error(`catvae view: ${message}`);
});
