/**
 * The drawing pad: a rows x cols binary image edited with pointer events
 * (mouse, pen and touch alike), shown enlarged. Pixels within the brush
 * radius of the stroke's segments turn on, so a fast stroke leaves no gaps.
 */
import { paint } from './pixels.js';

const BRUSH = 1.1; // radius in image pixels: a stroke about as thick as MNIST's pen

export class DrawPad {
  readonly pixels: Float32Array;
  private last: [number, number] | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    readonly rows: number,
    readonly cols: number,
    /** Called after each change, with the time of the pointer event that caused it. */
    private readonly onChange: (eventTime: number) => void,
  ) {
    this.pixels = new Float32Array(rows * cols);
    canvas.addEventListener('pointerdown', (e) => {
      canvas.setPointerCapture(e.pointerId);
      this.last = null;
      this.stroke(e);
    });
    canvas.addEventListener('pointermove', (e) => {
      if (e.buttons & 1 || e.pointerType === 'touch') this.stroke(e);
    });
    const end = () => (this.last = null);
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    this.show();
  }

  /** Replaces the image (e.g. a picked test digit). */
  set(pixels: Float32Array): void {
    this.pixels.set(pixels);
    this.show();
  }

  clear(): void {
    this.pixels.fill(0);
    this.show();
  }

  private show(): void {
    paint(this.canvas, this.pixels, this.rows, this.cols);
  }

  private stroke(e: PointerEvent): void {
    const rect = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * this.cols - 0.5;
    const y = ((e.clientY - rect.top) / rect.height) * this.rows - 0.5;
    const from = this.last ?? [x, y];
    this.last = [x, y];
    if (this.segment(from[0], from[1], x, y)) {
      this.show();
      this.onChange(performance.now());
    }
  }

  /** Turns on every pixel within BRUSH of the segment; true if any changed. */
  private segment(x0: number, y0: number, x1: number, y1: number): boolean {
    let changed = false;
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len2 = dx * dx + dy * dy;
    for (
      let r = Math.max(0, Math.floor(Math.min(y0, y1) - BRUSH));
      r <= Math.min(this.rows - 1, Math.ceil(Math.max(y0, y1) + BRUSH));
      r++
    ) {
      for (
        let c = Math.max(0, Math.floor(Math.min(x0, x1) - BRUSH));
        c <= Math.min(this.cols - 1, Math.ceil(Math.max(x0, x1) + BRUSH));
        c++
      ) {
        const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((c - x0) * dx + (r - y0) * dy) / len2));
        const ex = x0 + t * dx - c;
        const ey = y0 + t * dy - r;
        if (ex * ex + ey * ey <= BRUSH * BRUSH && this.pixels[r * this.cols + c] === 0) {
          this.pixels[r * this.cols + c] = 1;
          changed = true;
        }
      }
    }
    return changed;
  }
}
