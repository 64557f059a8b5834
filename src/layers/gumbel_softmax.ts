/**
 * GumbelSoftmax: a Keras-style layer that turns logits into relaxed one-hot
 * samples y = softmax((logits + g) / tau), g ~ Gumbel(0, 1).
 */
import * as tf from '@tensorflow/tfjs';
import { randomSeed } from '../random.js';
import {
  DEFAULT_GAP,
  DEFAULT_RAO_SAMPLES,
  gappedStraightThroughSample,
  gumbelRaoSample,
  reinmaxSample,
  resolveEstimator,
  validateGap,
  validateRaoSamples,
  type Estimator,
} from './estimators.js';
import { alongAxis, normalizeAxis, oneHotArgmax, relaxedOneHot, softmaxAlong, straightThrough } from './gumbel_noise.js';
import { isNoiseGenerator, NOISE_GENERATORS, streamGumbel, type NoiseGenerator } from './noise_stream.js';

/** What the layer returns when not training (predict, evaluate, training: false). */
export type InferenceMode = 'argmax' | 'sample' | 'softmax';
export const INFERENCE_MODES: readonly InferenceMode[] = ['argmax', 'sample', 'softmax'];

export type { NoiseGenerator } from './noise_stream.js';
export { NOISE_GENERATORS } from './noise_stream.js';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type Shape = Array<number | null>;

export interface GumbelSoftmaxArgs extends LayerArgs {
  /** Initial temperature tau > 0 (default 1). Annealed later with setTemperature. */
  temperature?: number;
  /** The gradient estimator of training calls (default 'gumbel-softmax'; see README). */
  estimator?: Estimator;
  /** Alias of estimator 'straight-through', kept so that saved models load (default false). */
  hard?: boolean;
  /** Gumbel-Rao: conditional draws averaged per backward pass (default 10). */
  raoSamples?: number;
  /** Gapped straight-through: the least lead of the sampled class in the surrogate's logits (default 1). */
  gap?: number;
  /** The axis of the K classes (default -1). */
  axis?: number;
  /** Output when not training (default 'argmax'; see README). */
  inferenceMode?: InferenceMode;
  /** Make tau a trainable weight, kept positive through its log (default false). */
  learnTemperature?: boolean;
  /** Seed of the noise: the same seed gives the same sequence of samples. */
  seed?: number;
  /** The generator of the noise (default 'philox'; a saved config without it means 'sfc32'). */
  noise?: NoiseGenerator;
}

/** Floor of a learned temperature (learnTemperature): below 1e-2 float32 softmax saturates anyway. */
const MIN_TEMPERATURE = 1e-3;

export function validateTemperature(tau: unknown, what = 'temperature'): number {
  if (typeof tau !== 'number' || !Number.isFinite(tau) || tau <= 0) {
    throw new Error(`GumbelSoftmax: ${what} must be a finite number > 0, got ${String(tau)}`);
  }
  return tau;
}

export class GumbelSoftmax extends tf.layers.Layer {
  /** @nocollapse */
  static className = 'GumbelSoftmax';

  readonly estimator: Estimator;
  readonly raoSamples: number;
  readonly gap: number;
  readonly axis: number;
  readonly inferenceMode: InferenceMode;
  readonly learnTemperature: boolean;
  /** The configured seed, or null when the layer draws its own. */
  readonly seed: number | null;
  readonly noise: NoiseGenerator;

  private noiseSeed: number;
  /** How many noise tensors have been drawn: with noiseSeed, the whole RNG state. */
  private noiseCalls = 0;
  private initialTemperature: number;
  private logTemperature: ReturnType<tf.layers.Layer['addWeight']> | null = null;
  /**
   * Host copy of tau and the weight's data it was taken from: tfjs gives a
   * variable new data on every write, so a copy for the current data is exact.
   * It spares the getter a synchronous read (webgpu in Node has none).
   */
  private hostTemperature: { dataId: object; tau: number } | null = null;

  constructor(args: GumbelSoftmaxArgs = {}) {
    super(args);
    this.initialTemperature = validateTemperature(args.temperature ?? 1);
    this.estimator = resolveEstimator(args.estimator, args.hard, 'GumbelSoftmax: ');
    this.raoSamples = validateRaoSamples(args.raoSamples ?? DEFAULT_RAO_SAMPLES);
    this.gap = validateGap(args.gap ?? DEFAULT_GAP);
    this.axis = args.axis ?? -1;
    if (!Number.isInteger(this.axis)) {
      throw new Error(`GumbelSoftmax: axis must be an integer, got ${String(args.axis)}`);
    }
    this.inferenceMode = args.inferenceMode ?? 'argmax';
    if (!INFERENCE_MODES.includes(this.inferenceMode)) {
      throw new Error(`GumbelSoftmax: unknown inferenceMode '${String(args.inferenceMode)}': use one of ${INFERENCE_MODES.join(', ')}`);
    }
    this.learnTemperature = args.learnTemperature ?? false;
    if (this.learnTemperature && !(this.estimator === 'gumbel-softmax' || this.estimator === 'straight-through')) {
      // Their backward passes give no gradient for tau.
      throw new Error(`GumbelSoftmax: learnTemperature works with estimators gumbel-softmax and straight-through, not ${this.estimator}`);
    }
    if (args.seed != null && !Number.isInteger(args.seed)) {
      throw new Error(`GumbelSoftmax: seed must be an integer, got ${String(args.seed)}`);
    }
    this.seed = args.seed ?? null;
    this.noise = args.noise ?? 'philox';
    if (!isNoiseGenerator(this.noise)) {
      throw new Error(`GumbelSoftmax: unknown noise generator '${String(args.noise)}': use one of ${NOISE_GENERATORS.join(', ')}`);
    }
    this.noiseSeed = this.seed ?? randomSeed();
    this.supportsMasking = true;
    // Check the axis now when the input shape is already known.
    const shape = args.batchInputShape ?? (args.inputShape ? [null, ...args.inputShape] : undefined);
    if (shape) normalizeAxis(this.axis, shape.length);
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const axis = normalizeAxis(this.axis, shape.length);
    const k = shape[axis];
    if (k != null && k < 1) throw new Error(`GumbelSoftmax: the class axis has size ${k}; it needs at least 1 class`);
    // tau lives as log(tau): a single representation that stays positive when trained.
    this.logTemperature = this.addWeight(
      'log_temperature',
      [],
      'float32',
      tf.initializers.constant({ value: Math.log(this.initialTemperature) }),
      undefined,
      this.learnTemperature,
    );
    this.rememberTemperature(this.initialTemperature);
    this.built = true;
  }

  private rememberTemperature(tau: number): void {
    this.hostTemperature = { dataId: this.logTemperature!.read().dataId, tau };
  }

  /**
   * The current temperature tau: the host copy, or when the weight changed
   * behind the layer's back (trained, loaded) a synchronous read, which
   * webgpu in Node cannot do: there, `await getTemperature()` first.
   */
  get temperature(): number {
    if (!this.logTemperature) return this.initialTemperature;
    const value = this.logTemperature.read();
    if (this.hostTemperature?.dataId === value.dataId) return this.hostTemperature.tau;
    let logTau: number;
    try {
      logTau = value.dataSync()[0];
    } catch {
      throw new Error(
        `GumbelSoftmax.temperature: the ${tf.getBackend()} backend cannot read the weight synchronously; use 'await layer.getTemperature()'`,
      );
    }
    this.rememberTemperature(Math.exp(logTau));
    return this.hostTemperature!.tau;
  }

  /** The current temperature tau, read back asynchronously when the host copy is stale (works on every backend). */
  async getTemperature(): Promise<number> {
    if (!this.logTemperature) return this.initialTemperature;
    const value = this.logTemperature.read();
    if (this.hostTemperature?.dataId === value.dataId) return this.hostTemperature.tau;
    const tau = Math.exp((await value.data())[0]);
    // Remember it only for the data it was read from: a write meanwhile leaves the copy stale.
    this.hostTemperature = { dataId: value.dataId, tau };
    return tau;
  }

  /** Sets tau without rebuilding the model; annealing calls this. */
  setTemperature(tau: number): void {
    validateTemperature(tau);
    if (!this.logTemperature) {
      this.initialTemperature = tau;
      return;
    }
    const value = tf.scalar(Math.log(tau));
    this.logTemperature.write(value);
    value.dispose();
    this.rememberTemperature(tau);
  }

  /** Straight-through (one-hot forward, soft gradient): the estimator 'straight-through'. */
  get hard(): boolean {
    return this.estimator === 'straight-through';
  }

  /** The RNG state of the noise: restore it to replay the same samples (exact resume). */
  get noiseState(): { seed: number; calls: number } {
    return { seed: this.noiseSeed, calls: this.noiseCalls };
  }

  set noiseState(state: { seed: number; calls: number }) {
    this.noiseSeed = state.seed;
    this.noiseCalls = state.calls;
  }

  /**
   * Draws the next Gumbel noise tensor of the layer's stream (seed, call
   * index), as a training call would: for training code that computes the
   * sample itself (the VAE's hand-written step) and must replay the same noise.
   */
  drawNoise(shape: number[]): tf.Tensor {
    return this.noiseOf(shape, this.noiseCalls++);
  }

  /** Gumbel noise of the stream (seed, call, ...subStream) from the layer's generator. */
  private noiseOf(shape: number[], call: number, ...subStream: number[]): tf.Tensor {
    return streamGumbel(this.noise, shape, this.noiseSeed, call, ...subStream);
  }

  /**
   * The noise of one training call of the estimator, for logits of `shape`
   * (class axis last): the Gumbel noise of drawNoise (same stream, same call
   * index) and, for Gumbel-Rao, the further Gumbel draws [raoSamples, ...shape]
   * that its conditional draws are made from, from a sub-stream of that call.
   */
  drawEstimatorNoise(shape: number[]): { gumbel: tf.Tensor; raoNoise: tf.Tensor | null } {
    const call = this.noiseCalls;
    const gumbel = this.drawNoise(shape);
    const raoNoise = this.estimator === 'gumbel-rao' ? this.noiseOf([this.raoSamples, ...shape], call, RAO_STREAM) : null;
    return { gumbel, raoNoise };
  }

  private tau(): tf.Tensor {
    // Clamp only a learned tau: a tiny tau overflows nothing, but 0 would divide by zero.
    const tau = tf.exp(this.logTemperature!.read());
    return this.learnTemperature ? tf.maximum(tau, MIN_TEMPERATURE) : tau;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      const logits = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = kwargs['training'] === true;
      if (training) {
        if (this.estimator === 'reinmax' || this.estimator === 'gumbel-rao') {
          return alongAxis(logits, this.axis, (l) => {
            const { gumbel, raoNoise } = this.drawEstimatorNoise(l.shape);
            return raoNoise ? gumbelRaoSample(l, gumbel, raoNoise, this.tau()) : reinmaxSample(l, gumbel, this.tau());
          });
        }
        if (this.estimator === 'gapped-straight-through') {
          return alongAxis(logits, this.axis, (l) => gappedStraightThroughSample(l, this.drawNoise(l.shape), this.tau(), this.gap));
        }
        const y = relaxedOneHot(logits, this.drawNoise(logits.shape), this.tau(), this.axis);
        return this.hard ? straightThrough(y, this.axis) : y;
      }
      switch (this.inferenceMode) {
        case 'argmax':
          return oneHotArgmax(logits, this.axis);
        case 'sample':
          return oneHotArgmax(tf.add(logits, this.drawNoise(logits.shape)), this.axis);
        case 'softmax':
          return softmaxAlong(logits, this.axis);
      }
    });
  }

  /** A saved config without `noise` predates the option: its layer drew from sfc32, and keeps doing so (exact resume). */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({ ...config, noise: config.noise ?? 'sfc32' });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      temperature: this.temperature,
      estimator: this.estimator,
      // Kept for readers of older saved models, which know only this flag.
      hard: this.hard,
      raoSamples: this.raoSamples,
      gap: this.gap,
      axis: this.axis,
      inferenceMode: this.inferenceMode,
      learnTemperature: this.learnTemperature,
      noise: this.noise,
    };
    if (this.seed != null) config.seed = this.seed;
    return { ...super.getConfig(), ...config };
  }
}
tf.serialization.registerClass(GumbelSoftmax);

/** Key of the sub-stream of Gumbel-Rao's further Gumbel draws within one call's stream. */
const RAO_STREAM = 1;

/** Factory in the style of tf.layers.dense. */
export function gumbelSoftmax(args?: GumbelSoftmaxArgs): GumbelSoftmax {
  return new GumbelSoftmax(args);
}

/** Every GumbelSoftmax layer in a model, nested models included. */
export function findGumbelSoftmaxLayers(model: tf.layers.Layer): GumbelSoftmax[] {
  if (model instanceof GumbelSoftmax) return [model];
  const layers = (model as { layers?: tf.layers.Layer[] }).layers ?? [];
  return layers.flatMap((layer) => findGumbelSoftmaxLayers(layer));
}
