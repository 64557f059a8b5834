import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { expandGrid } from '../src/sweep/grid.js';
import { niceTicks, plotLines, tickLabel } from '../src/sweep/plot.js';
import type { PointRecord } from '../src/sweep/point_state.js';
import { buildReport, meanCurve, reportCsv, reportMarkdown, spread } from '../src/sweep/report.js';
import { decodePng, encodePng } from '../src/image/png.js';

const axes = [
  { name: 'categories', values: [4, 8] },
  { name: 'seed', values: [1, 2, 3] },
];

function records(): PointRecord[] {
  return expandGrid(axes).map((point) => {
    const k = point.values.categories as number;
    const seed = point.values.seed as number;
    const failed = k === 8 && seed === 3;
    return {
      point,
      status: failed ? 'failed' : 'completed',
      steps: failed ? 20 : 100,
      test_neg_elbo: failed ? null : 100 + k + seed,
      nll_iw: null,
      best_val_neg_elbo: failed ? 130 : 99 + k + seed,
      train_seconds: 10 * seed,
      wall_seconds: failed ? null : 12 * seed,
      curve: [
        { step: 50, value: 150 + seed },
        { step: 100, value: 120 + k + seed },
      ].slice(0, failed ? 1 : 2),
      message: failed ? 'the loss diverged, "badly"' : null,
    };
  });
}

test('mean and sample standard deviation over the values present; mean curves over the runs at each step', () => {
  assert.deepEqual(spread([1, 2, 3, null]), { mean: 2, sd: 1, n: 3 });
  assert.deepEqual(spread([5]), { mean: 5, sd: null, n: 1 });
  assert.deepEqual(spread([null, NaN]), { mean: null, sd: null, n: 0 });
  assert.deepEqual(
    meanCurve([
      [
        { step: 2, value: 4 },
        { step: 1, value: 10 },
      ],
      [{ step: 1, value: 20 }],
    ]),
    [
      { step: 1, value: 15 },
      { step: 2, value: 4 },
    ],
  );
});

test('the report has a row per point and, with seed an axis, mean and spread per configuration over completed seeds', () => {
  const report = buildReport(axes, { steps: 100 }, records().reverse());
  assert.deepEqual(
    report.points.map((p) => p.point),
    expandGrid(axes).map((p) => p.name),
    'rows in grid order',
  );
  assert.equal(report.configurations.length, 2);
  const [k4, k8] = report.configurations;
  assert.deepEqual(k4.config, { categories: 4 });
  assert.equal(k4.completed, 3);
  assert.equal(k4.test_neg_elbo.mean, 106);
  assert.equal(k4.test_neg_elbo.sd, 1);
  assert.equal(k8.completed, 2, 'the failed seed is left out');
  assert.equal(k8.test_neg_elbo.mean, 109.5);
  assert.ok(Math.abs(k8.test_neg_elbo.sd! - Math.SQRT1_2) < 1e-12);
  assert.deepEqual(k8.curve, [
    { step: 50, value: 152 },
    { step: 100, value: 129.5 },
  ]);

  const csv = reportCsv(report).trim().split('\n');
  assert.equal(csv[0], 'point,categories,seed,status,steps,test_neg_elbo,nll_iw,best_val_neg_elbo,train_seconds,wall_seconds');
  assert.equal(csv.length, 7);
  assert.equal(csv[1], 'categories-4_seed-1,4,1,completed,100,105,,104,10,12');
  assert.equal(csv[6], 'categories-8_seed-3,8,3,failed,20,,,130,30,');

  const md = reportMarkdown(report, { curvesPng: 'curves.png', colours: ['blue', 'orange'] });
  assert.match(md, /\| 4 \| blue \| 3\/3 \| 106\.00 ± 1\.00 \| - \| 105\.00 ± 1\.00 \| 20\.0 ± 10\.0 \| 24\.0 ± 12\.0 \|/);
  assert.match(md, /\| 8 \| orange \| 2\/3 \| 109\.50 ± 0\.71 \|/);
  assert.match(md, /\| categories-8_seed-3 \| 8 \| 3 \| failed \(the loss diverged, "badly"\) \| 20 \| - \|/);
  assert.match(md, /Fixed flags: `--steps 100`/);
  assert.match(md, /!\[validation -ELBO by step\]\(curves\.png\)/);
});

test('without a seed axis each point is its own configuration and the Markdown has no seed table', () => {
  const only = records().filter((r) => r.point.values.seed === 1);
  const report = buildReport([axes[0]], {}, only);
  assert.equal(report.seedAxis, false);
  assert.equal(report.configurations.length, 2);
  assert.doesNotMatch(reportMarkdown(report), /Over seeds/);
});

test('the curve plot: round ticks, compact labels, lines in their colours inside the axes', () => {
  assert.deepEqual(niceTicks(0, 1000), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(101.3, 104.9), [102, 103, 104]);
  assert.equal(tickLabel(50000), '50k');
  assert.equal(tickLabel(0.5), '0.5');
  assert.equal(tickLabel(0.001), '1e-3');
  const red: [number, number, number] = [214, 39, 40];
  const image = plotLines(
    [
      {
        colour: red,
        points: [
          { x: 0, y: 0 },
          { x: 10, y: 10 },
        ],
      },
    ],
    { width: 200, height: 120 },
  );
  const back = decodePng(encodePng(image));
  assert.equal(back.width, 200);
  const at = (x: number, y: number) => Array.from(back.pixels.slice((y * 200 + x) * 3, (y * 200 + x) * 3 + 3));
  let redPixels = 0;
  for (let i = 0; i < back.pixels.length; i += 3) if (back.pixels[i] === 214 && back.pixels[i + 1] === 39) redPixels++;
  // A diagonal across the plot area (130 x 60 pixels), 2 pixels wide.
  assert.ok(redPixels > 200 && redPixels < 600, `${redPixels} red pixels`);
  assert.deepEqual(at(70, 60), [0, 0, 0], 'the y axis');
  assert.deepEqual(at(5, 5), [255, 255, 255], 'white background');
  // The line rises to the right: red near the bottom-left and the top-right corners of the plot area.
  const near = (x0: number, y0: number) => {
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) if (at(x0 + dx, y0 + dy)[1] === 39) return true;
    return false;
  };
  assert.ok(near(72, 77), 'bottom-left');
  assert.ok(near(178, 23), 'top-right');
});
