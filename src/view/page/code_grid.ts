/**
 * The N x K code grid: one row per variable, one cell per class. Shading is
 * q(z|x) of the current input; a ring marks the class in the code; a dashed
 * ring marks a class set by hand (different from the encoder's choice).
 */

export interface GridEvents {
  onCell: (variable: number, cls: number) => void;
  onLabel: (variable: number) => void;
}

export class CodeGrid {
  private readonly cells: HTMLDivElement[] = [];
  private readonly labels: HTMLDivElement[] = [];

  constructor(
    root: HTMLElement,
    private readonly n: number,
    private readonly k: number,
    events: GridEvents,
  ) {
    root.style.gridTemplateColumns = `2.2rem repeat(${k}, 20px)`;
    root.replaceChildren();
    const corner = document.createElement('div');
    corner.className = 'head';
    corner.textContent = 'var';
    root.append(corner);
    for (let c = 0; c < k; c++) {
      const head = document.createElement('div');
      head.className = 'head';
      head.textContent = String(c);
      root.append(head);
    }
    for (let v = 0; v < n; v++) {
      const label = document.createElement('div');
      label.className = 'label';
      label.textContent = String(v);
      label.title = `traverse variable ${v}`;
      label.addEventListener('click', () => events.onLabel(v));
      root.append(label);
      this.labels.push(label);
      for (let c = 0; c < k; c++) {
        const cell = document.createElement('div');
        cell.className = 'cell';
        cell.dataset.v = String(v);
        cell.dataset.c = String(c);
        cell.setAttribute('role', 'gridcell');
        cell.addEventListener('click', () => events.onCell(v, c));
        root.append(cell);
        this.cells.push(cell);
      }
    }
  }

  /** Shows probabilities [N * K], the code shown, the encoder's code and the traversed variable. */
  show(probs: Float32Array, code: Int32Array, base: Int32Array, traversed: number): void {
    for (let v = 0; v < this.n; v++) {
      this.labels[v].classList.toggle('traversed', v === traversed);
      for (let c = 0; c < this.k; c++) {
        const cell = this.cells[v * this.k + c];
        const p = probs[v * this.k + c];
        // A square root keeps small but real probabilities visible.
        cell.style.background = `rgba(29, 29, 31, ${Math.sqrt(p).toFixed(3)})`;
        cell.title = `variable ${v}, class ${c}: q = ${p.toFixed(3)}`;
        const chosen = code[v] === c;
        cell.classList.toggle('chosen', chosen && code[v] === base[v]);
        cell.classList.toggle('edited', chosen && code[v] !== base[v]);
      }
    }
  }
}
