/** Grey images on canvases, and the digits' packed bits. */

/** Paints probabilities in [0, 1] (white ink on black) into a canvas of the image's own size. */
export function paint(canvas: HTMLCanvasElement, pixels: Float32Array, rows: number, cols: number, offset = 0): void {
  canvas.width = cols;
  canvas.height = rows;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(cols, rows);
  for (let i = 0; i < rows * cols; i++) {
    const v = Math.round(255 * Math.min(1, Math.max(0, pixels[offset + i])));
    image.data[4 * i] = v;
    image.data[4 * i + 1] = v;
    image.data[4 * i + 2] = v;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** A new canvas showing one image of a batch. */
export function tile(pixels: Float32Array, rows: number, cols: number, index: number): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  paint(canvas, pixels, rows, cols, index * rows * cols);
  return canvas;
}

/** Unpacks base64 bits (8 pixels a byte, most significant bit first) into 0/1 floats. */
export function unpackBits(base64: string, size: number): Float32Array {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return out;
}
