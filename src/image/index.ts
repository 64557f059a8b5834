/** Image helpers: 8-bit pixel buffers, PNG encoding, grids. */
export { checkPixelImage, checkImageBatch, unitToUint8, tensorToPixelImage, tensorToImageBatch } from './pixels.js';
export type { PixelImage, ImageBatch, Channels } from './pixels.js';
export { encodePng, decodePng } from './png.js';
export { tileImages, upscale } from './grid.js';
export type { GridOptions } from './grid.js';
