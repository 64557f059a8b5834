/**
 * The checks a checkpoint passes before it is written or trusted: finite
 * tensors, checksums of the binary files, a model shaped as its config says.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import { MODEL_JSON } from '../io/file_io.js';
import type { TrainConfig } from './config.js';
import type { CategoricalVae } from './vae.js';

export const STATE_JSON = 'state.json';

/** A checkpoint that cannot be used: one line that says which file and why. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** The indices of the tensors that hold a NaN or an infinity (read asynchronously: GPU backends cannot read synchronously). */
export async function nonFiniteIndices(tensors: tf.Tensor[]): Promise<number[]> {
  const bad: number[] = [];
  for (const [i, t] of tensors.entries()) {
    if (t.dtype !== 'float32') continue;
    const ok = tf.tidy(() => tf.all(tf.isFinite(t)));
    if (!(await ok.data())[0]) bad.push(i);
    ok.dispose();
  }
  return bad;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Reports instead of throwing when a checkpoint is loaded to be looked at (inspect). */
export type Complain = (message: string) => void;
export const refuse: Complain = (message) => {
  throw new CheckpointError(message);
};

/** Compares a binary file with the sha256 state.json recorded for it (checkpoints older than checksums have none). */
export function verifyChecksum(file: string, expected: string | undefined, complain: Complain, bytes?: Uint8Array): void {
  if (expected !== undefined && sha256(bytes ?? fs.readFileSync(file)) !== expected) {
    complain(`${file}: its sha256 differs from the one in ${STATE_JSON}; the file was changed or damaged, the checkpoint is corrupt`);
  }
}

/** Lists where the checkpoint's config and the loaded model's shape disagree. */
export function configMismatch(config: TrainConfig, model: CategoricalVae): string | null {
  const pairs: Array<[string, unknown, unknown]> = [
    ['latentVars', config.model.latentVars, model.config.latentVars],
    ['categories', config.model.categories, model.config.categories],
    ['inputDim', config.model.inputDim, model.config.inputDim],
    ['encoderUnits', config.model.encoderUnits, model.config.encoderUnits],
    ['decoderUnits', config.model.decoderUnits, model.config.decoderUnits],
    ['noise', config.model.noise, model.config.noise],
  ];
  const bad = pairs.find(([, a, b]) => JSON.stringify(a) !== JSON.stringify(b));
  return bad ? `field 'config.model.${bad[0]}' is ${JSON.stringify(bad[1])} but ${MODEL_JSON} has ${JSON.stringify(bad[2])}` : null;
}

/** The names of the model's weights that hold NaN or +-Infinity. */
export async function nonFiniteWeights(vae: tf.LayersModel): Promise<string[]> {
  return (await nonFiniteIndices(vae.weights.map((w) => w.read()))).map((i) => vae.weights[i].originalName);
}
