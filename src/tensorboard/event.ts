/**
 * Encoders for the TensorBoard messages an event file holds, with field
 * numbers from tensorboard/compat/proto/{event,summary,histogram,tensor,
 * tensor_shape,types}.proto. Only the fields catvae writes are here.
 *
 *   Event        wall_time=1 double, step=2 int64, file_version=3 string, summary=5
 *   Summary      value=1 (repeated Value)
 *   Value        tag=1, simple_value=2 float, image=4, histo=5, tensor=8, metadata=9
 *   Image        height=1, width=2, colorspace=3, encoded_image_string=4
 *   Histogram    min=1 max=2 num=3 sum=4 sum_squares=5 (double), bucket_limit=6 bucket=7 (packed double)
 *   Metadata     plugin_data=1 {plugin_name=1, content=2}, data_class=4
 *   TensorProto  dtype=1, tensor_shape=2, string_val=8
 */
import { ProtoWriter } from './proto.js';

/** The first record of every event file; TensorBoard checks the "brain.Event:" prefix. */
export const FILE_VERSION = 'brain.Event:2';

/** Summary.Image.colorspace values catvae writes. */
export const Colorspace = { GRAYSCALE: 1, RGB: 3 } as const;
export type Colorspace = (typeof Colorspace)[keyof typeof Colorspace];

/** types.proto DataType.DT_STRING. */
export const DT_STRING = 7;
/** summary.proto DataClass.DATA_CLASS_TENSOR: what the text plugin's data is. */
export const DATA_CLASS_TENSOR = 2;

const Field = {
  event: { wallTime: 1, step: 2, fileVersion: 3, summary: 5 },
  summary: { value: 1 },
  value: { tag: 1, simpleValue: 2, image: 4, histo: 5, tensor: 8, metadata: 9 },
  image: { height: 1, width: 2, colorspace: 3, encoded: 4 },
  histo: { min: 1, max: 2, num: 3, sum: 4, sumSquares: 5, bucketLimit: 6, bucket: 7 },
  metadata: { pluginData: 1, dataClass: 4 },
  pluginData: { pluginName: 1, content: 2 },
  tensor: { dtype: 1, tensorShape: 2, stringVal: 8 },
} as const;

/** Event{wall_time, file_version}: written once, first, in each file. */
export function encodeFileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(Field.event.wallTime, wallTime).string(Field.event.fileVersion, FILE_VERSION).finish();
}

/** Event{wall_time, step, summary{value...}} from already-encoded Summary.Value messages. */
export function encodeSummaryEvent(wallTime: number, step: number, values: readonly Uint8Array[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const value of values) summary.bytes(Field.summary.value, value);
  return new ProtoWriter()
    .double(Field.event.wallTime, wallTime)
    .int(Field.event.step, step)
    .bytes(Field.event.summary, summary.finish())
    .finish();
}

/** Value{tag, simple_value} (float32: what the proto holds). */
export function encodeScalarValue(tag: string, value: number): Uint8Array {
  return new ProtoWriter().string(Field.value.tag, tag).float(Field.value.simpleValue, value).finish();
}

export interface EncodedImage {
  height: number;
  width: number;
  colorspace: Colorspace;
  /** PNG file bytes. */
  png: Uint8Array;
}

/** Value{tag, image{height, width, colorspace, encoded_image_string}}. */
export function encodeImageValue(tag: string, image: EncodedImage): Uint8Array {
  const img = new ProtoWriter()
    .int(Field.image.height, image.height)
    .int(Field.image.width, image.width)
    .int(Field.image.colorspace, image.colorspace)
    .bytes(Field.image.encoded, image.png)
    .finish();
  return new ProtoWriter().string(Field.value.tag, tag).bytes(Field.value.image, img).finish();
}

export interface HistogramFields {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: ArrayLike<number>;
  bucket: ArrayLike<number>;
}

/** Value{tag, histo{...}}. */
export function encodeHistogramValue(tag: string, h: HistogramFields): Uint8Array {
  if (h.bucketLimit.length !== h.bucket.length) {
    throw new Error(`histogram '${tag}': ${h.bucketLimit.length} bucket limits for ${h.bucket.length} buckets`);
  }
  const histo = new ProtoWriter()
    .double(Field.histo.min, h.min)
    .double(Field.histo.max, h.max)
    .double(Field.histo.num, h.num)
    .double(Field.histo.sum, h.sum)
    .double(Field.histo.sumSquares, h.sumSquares)
    .packedDoubles(Field.histo.bucketLimit, h.bucketLimit)
    .packedDoubles(Field.histo.bucket, h.bucket)
    .finish();
  return new ProtoWriter().string(Field.value.tag, tag).bytes(Field.value.histo, histo).finish();
}

/**
 * Value{tag, metadata{plugin_data{plugin_name: "text"}, data_class}, tensor{DT_STRING, shape [], string_val}}.
 * The text plugin finds its data by plugin_name; its content (TextPluginData
 * version 0) serialises to zero bytes, so it is left empty.
 */
export function encodeTextValue(tag: string, markdown: string): Uint8Array {
  const pluginData = new ProtoWriter().string(Field.pluginData.pluginName, 'text').finish();
  const metadata = new ProtoWriter().bytes(Field.metadata.pluginData, pluginData).int(Field.metadata.dataClass, DATA_CLASS_TENSOR).finish();
  const tensor = new ProtoWriter()
    .int(Field.tensor.dtype, DT_STRING)
    .bytes(Field.tensor.tensorShape, new Uint8Array(0)) // rank 0: a single string
    .string(Field.tensor.stringVal, markdown)
    .finish();
  return new ProtoWriter().string(Field.value.tag, tag).bytes(Field.value.metadata, metadata).bytes(Field.value.tensor, tensor).finish();
}
