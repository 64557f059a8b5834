/**
 * Disk IO for the tfjs layers format (model.json + weights.bin) on backends
 * without tfjs-node, whose `file://` handler does the same job there. The
 * files are byte-compatible with tfjs-node's, so either side loads them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
const FILE_SCHEME = 'file://';

type ModelArtifacts = tf.io.ModelArtifacts;
type WeightSpec = NonNullable<ModelArtifacts['weightSpecs']>[number];

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the weight specs of a manifest occupy in weights.bin. */
export function weightsByteLength(specs: readonly WeightSpec[]): number {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const bytes = BYTES[dtype];
    if (bytes === undefined) throw new Error(`weight '${spec.name}' has dtype '${dtype}', which catvae's file IO does not read`);
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

function toBuffer(data: tf.io.WeightData | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  const parts = Array.isArray(data) ? data : [data];
  return Buffer.concat(parts.map((b) => Buffer.from(b)));
}

/** Writes model.json and weights.bin into `dir` (created if needed). */
export async function writeModelArtifacts(dir: string, artifacts: ModelArtifacts): Promise<void> {
  await fs.promises.mkdir(dir, { recursive: true });
  const weights = toBuffer(artifacts.weightData);
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
    weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy,
  };
  if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  await fs.promises.writeFile(path.join(dir, WEIGHTS_BIN), weights);
  await fs.promises.writeFile(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
}

/** Reads and checks model.json (a file, or a directory holding one) and its weight files. */
export async function readModelArtifacts(location: string): Promise<ModelArtifacts> {
  const jsonPath = fs.existsSync(location) && fs.statSync(location).isDirectory() ? path.join(location, MODEL_JSON) : location;
  let text: string;
  try {
    text = await fs.promises.readFile(jsonPath, 'utf8');
  } catch {
    throw new Error(`${jsonPath}: no such file; expected a tfjs model.json (give the checkpoint directory or its model.json)`);
  }
  let modelJson: tf.io.ModelJSON;
  try {
    modelJson = JSON.parse(text) as tf.io.ModelJSON;
  } catch {
    throw new Error(`${jsonPath}: not valid JSON; the file is corrupt or truncated`);
  }
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new Error(`${jsonPath}: not a tfjs layers model.json (missing modelTopology or weightsManifest)`);
  }
  const dir = path.dirname(jsonPath);
  return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
    const specs: WeightSpec[] = [];
    const buffers: Buffer[] = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      let groupBytes = 0;
      for (const file of group.paths) {
        const weightsPath = path.join(dir, file);
        let buffer: Buffer;
        try {
          buffer = await fs.promises.readFile(weightsPath);
        } catch {
          throw new Error(`${weightsPath}: missing; model.json lists it as a weights file`);
        }
        buffers.push(buffer);
        groupBytes += buffer.length;
      }
      const expected = weightsByteLength(group.weights);
      if (groupBytes !== expected) {
        const what = groupBytes < expected ? 'truncated' : 'larger than its manifest';
        throw new Error(
          `${path.join(dir, group.paths.join(','))}: ${what} (${groupBytes} bytes, model.json expects ${expected}); the checkpoint is corrupt`,
        );
      }
    }
    const all = Buffer.concat(buffers);
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)];
  });
}

/** An IOHandler that saves to / loads from a directory on disk. */
export function fileSystem(location: string): tf.io.IOHandler {
  return {
    save: async (artifacts: ModelArtifacts): Promise<tf.io.SaveResult> => {
      await writeModelArtifacts(location, artifacts);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? null).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: toBuffer(artifacts.weightData).length,
        },
      };
    },
    load: () => readModelArtifacts(location),
  };
}

// tfjs' router contract: a handler for URLs it owns, null for the rest.
const fileRouter = ((url: string | string[]) => {
  const u = Array.isArray(url) ? url[0] : url;
  return u.startsWith(FILE_SCHEME) ? fileSystem(u.slice(FILE_SCHEME.length)) : null;
}) as Parameters<typeof tf.io.registerSaveRouter>[0];

let registered = false;

/**
 * Makes `model.save('file://dir')` and `tf.loadLayersModel('file://dir/model.json')`
 * work. A no-op when a file:// handler already exists (tfjs-node's): two
 * matching handlers make model.save throw.
 */
export function ensureFileSystemHandlers(): void {
  if (registered) return;
  const probe = `${FILE_SCHEME}/catvae-probe`;
  if (tf.io.getSaveHandlers(probe).length === 0) tf.io.registerSaveRouter(fileRouter);
  if (tf.io.getLoadHandlers(probe).length === 0) tf.io.registerLoadRouter(fileRouter);
  registered = true;
}
