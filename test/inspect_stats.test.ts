import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { codeUsageReport, entropy, jointCounts, mutualInformation, perplexity, usageCounts } from '../src/inspect/code_usage.js';
import { tensorStats } from '../src/inspect/tensor_stats.js';
import { formatNumber, formatTable, shareBars, sparkline } from '../src/inspect/text.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('tensor statistics: mean, std, min, max of the finite values; NaN and Inf counted apart', () => {
  const s = tensorStats(Float32Array.from([1, 2, 3, NaN, Infinity, -Infinity]));
  assert.equal(s.count, 6);
  assert.equal(s.nan, 1);
  assert.equal(s.inf, 2);
  close(s.mean!, 2);
  close(s.std!, Math.sqrt(2 / 3));
  assert.equal(s.min, 1);
  assert.equal(s.max, 3);
  const none = tensorStats([NaN, NaN]);
  assert.deepEqual([none.mean, none.std, none.min, none.max, none.nan], [null, null, null, null, 2]);
  // The two-pass std does not cancel for a large offset.
  close(tensorStats([1e8 + 1, 1e8 - 1]).std!, 1);
});

test('perplexity: all codes on one class -> 1, uniform -> K, in between otherwise', () => {
  assert.equal(perplexity([0, 50, 0, 0]), 1);
  close(perplexity([25, 25, 25, 25]), 4);
  close(perplexity(new Array(10).fill(7)), 10);
  const p = perplexity([70, 10, 10, 10]);
  assert.ok(p > 1 && p < 4, String(p));
  assert.equal(perplexity([0, 0, 0]), 1, 'no images: entropy 0');
  close(entropy([1, 1]), Math.log(2));
});

test('usage counts from image-by-image class indices (N per image)', () => {
  // 3 images, N = 2 variables, K = 3 classes: variable 0 always class 2; variable 1 takes 0, 1, 2.
  const counts = usageCounts(Int32Array.from([2, 0, 2, 1, 2, 2]), 2, 3);
  assert.deepEqual(counts, [
    [0, 0, 3],
    [1, 1, 1],
  ]);
  assert.throws(() => usageCounts([0, 3], 2, 3), /class 3 is outside 0\.\.2/);
  assert.throws(() => usageCounts([0, 1, 2], 2, 3), /not a whole number of images/);
});

test('mutual information (nats): independent -> 0, variable == label -> log 10, a constant variable -> 0', () => {
  // Independent: the joint is an outer product of its marginals.
  const px = [1, 2, 3];
  const py = [4, 1, 5, 2];
  close(mutualInformation(px.map((a) => py.map((b) => a * b))), 0, 1e-12);
  // The variable is the label, ten labels equally often.
  const labels = Array.from({ length: 1000 }, (_, i) => i % 10);
  const joint = jointCounts(labels, labels, 1, 10, 10);
  close(mutualInformation(joint[0]), Math.log(10), 1e-12);
  // A variable stuck on one class knows nothing.
  close(mutualInformation(jointCounts(new Array(1000).fill(3), labels, 1, 10, 10)[0]), 0, 1e-12);
  // Half the information: the variable is the label's parity.
  close(
    mutualInformation(
      jointCounts(
        labels.map((l) => l % 2),
        labels,
        1,
        2,
        10,
      )[0],
    ),
    Math.log(2),
    1e-12,
  );
});

test('the code usage report: per-variable usage, perplexity, used classes and MI', () => {
  const labels = Array.from({ length: 400 }, (_, i) => i % 10);
  // N = 2, K = 10: variable 0 copies the label, variable 1 is always class 0.
  const indices = labels.flatMap((l) => [l, 0]);
  const report = codeUsageReport(indices, 2, 10, { values: labels, classes: 10 });
  assert.equal(report.images, 400);
  const [copy, stuck] = report.variables;
  close(copy.perplexity, 10);
  assert.equal(copy.used, 10);
  close(copy.mutualInformation!, Math.log(10));
  assert.equal(stuck.perplexity, 1);
  assert.equal(stuck.used, 1);
  assert.deepEqual(stuck.usage, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(stuck.mutualInformation, 0);
  close(report.labelEntropy!, Math.log(10));
  assert.equal(codeUsageReport(indices, 2, 10).variables[0].mutualInformation, null, 'no labels, no MI');
});

test('sparkline: lowest ▁ to highest █, blanks for missing values, a flat series mid-height, fits its width', () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([10, null, 0]), '█ ▁');
  assert.equal(sparkline([5, 5, 5]), '▄▄▄');
  assert.equal(sparkline([]), '');
  const long = Array.from({ length: 100 }, (_, i) => 100 - i);
  const line = sparkline(long, 10);
  assert.equal([...line].length, 10);
  assert.equal([...line][0], '█');
  assert.equal([...line][9], '▁');
  assert.equal(shareBars([0, 0.5, 1, 0.01]), ' ▄█▁');
});

test('tables: aligned columns, first column left, numbers right', () => {
  const lines = formatTable(
    ['name', 'value'],
    [
      ['a', '1'],
      ['long name', '1,234'],
    ],
    undefined,
    '',
  );
  assert.deepEqual(lines, ['name       value', 'a              1', 'long name  1,234']);
  assert.equal(formatNumber(0.000012), '1.20e-5');
  assert.equal(formatNumber(-0.5), '-0.5000');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(null), '-');
});
