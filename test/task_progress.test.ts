import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatSeconds, progressLine, taskProgress } from '../src/cli/task_progress.js';

/** A stream that records what is written to it (not a terminal). */
function recorder() {
  const lines: string[] = [];
  return { lines, stream: { write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WriteStream };
}

test('item 14: progress off a terminal: a plain line with the ETA at most every 10 s, then the last one', () => {
  const { lines, stream } = recorder();
  let t = 0;
  const progress = taskProgress({ label: 'evaluate', unit: 'images', total: 10000, stream, bar: false, now: () => t });
  for (let done = 500; done <= 10000; done += 500) {
    t += 3; // 3 s per batch of 500: 60 s in all
    progress.update(done);
  }
  progress.stop();
  assert.deepEqual(lines, [
    'evaluate: 2,000/10,000 images (20%), 12.0 s, ETA 48 s\n',
    'evaluate: 4,000/10,000 images (40%), 24.0 s, ETA 36 s\n',
    'evaluate: 6,000/10,000 images (60%), 36.0 s, ETA 24 s\n',
    'evaluate: 8,000/10,000 images (80%), 48.0 s, ETA 12 s\n',
    'evaluate: 10,000/10,000 images (100%), 60.0 s, ETA 0 s\n',
  ]);
  const quick = recorder();
  const short = taskProgress({ label: 'codes', unit: 'images', total: 100, stream: quick.stream, bar: false, now: () => 1 });
  short.update(100);
  assert.deepEqual(quick.lines, [], 'a pass shorter than the interval prints nothing');
  assert.equal(formatSeconds(3725), '1 h 2 min');
  assert.equal(progressLine('x', 'images', 0, 10, 1), 'x: 0/10 images (0%), 1.0 s, ETA ?');
});
