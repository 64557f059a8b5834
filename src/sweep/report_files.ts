/**
 * Writes a sweep folder's report from what is on disk: every point of its
 * sweep.json, whichever machine or shard ran it. report.md, report.csv,
 * report.json and curves.png (validation -ELBO by step: each point a thin
 * pale line, each configuration's mean over seeds a bold one).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodePng } from '../image/png.js';
import { GridError } from './grid.js';
import { readManifest } from './manifest.js';
import { PALETTE, plotLines } from './plot.js';
import { readPointRecord } from './point_state.js';
import { buildReport, reportCsv, reportJson, reportMarkdown, type SweepReport } from './report.js';

export const REPORT_FILES = { markdown: 'report.md', csv: 'report.csv', json: 'report.json', curves: 'curves.png' } as const;

/** Reads every point of the sweep in `dir`. */
export function collectReport(dir: string): SweepReport {
  const manifest = readManifest(dir);
  if (!manifest) throw new GridError(`${dir}: no sweep.json here; give the --out folder of a sweep`);
  return buildReport(
    manifest.axes,
    manifest.fixed,
    manifest.points.map((p) => readPointRecord(dir, p)),
  );
}

/** Writes the four report files into `dir` (each atomically) and returns the report. */
export function writeReport(dir: string): SweepReport {
  const report = collectReport(dir);
  const colours = report.configurations.map((_, i) => PALETTE[i % PALETTE.length]);
  const png = encodePng(
    plotLines(report.configurations.map((c, i) => ({ colour: colours[i].rgb, points: c.curve.map((p) => ({ x: p.step, y: p.value })) }))),
  );
  const write = (name: string, data: string | Uint8Array) => {
    const file = path.join(dir, name);
    fs.writeFileSync(`${file}.tmp-${process.pid}`, data);
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
  };
  write(REPORT_FILES.curves, png);
  write(REPORT_FILES.markdown, reportMarkdown(report, { curvesPng: REPORT_FILES.curves, colours: colours.map((c) => c.name) }));
  write(REPORT_FILES.csv, reportCsv(report));
  write(REPORT_FILES.json, reportJson(report));
  return report;
}
