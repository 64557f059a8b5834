/**
 * The doctor's report as text (sections of ✓/✗ lines, each gap followed by
 * its fix) or as one JSON object for scripts.
 */
import type { CheckStatus, DoctorReport } from './doctor_report.js';

const MARK: Record<CheckStatus, string> = { ok: '✓', missing: '✗', warn: '!', info: '·' };

/** Wraps a fix to the terminal width, indented under its check. */
function wrap(text: string, indent: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}

export function renderReport(report: DoctorReport, width = 100): string {
  const out: string[] = ['catvae doctor: what the GPU backends need, and what this machine has', ''];
  for (const section of report.sections) {
    out.push(section.title);
    for (const check of section.checks) {
      out.push(`  ${MARK[check.status]} ${check.label}`);
      if (check.fix) out.push(...wrap(`fix: ${check.fix}`, '      ', width));
    }
    if (section.fix) out.push(...wrap(`fix: ${section.fix}`, '    ', width));
    out.push('');
  }
  out.push(`exit code ${report.exitCode}: ${report.exitCode === 0 ? 'a GPU backend would run' : 'no GPU backend would run'}`);
  return out.join('\n');
}

export function renderJson(report: DoctorReport): string {
  return JSON.stringify({ ok: report.exitCode === 0, ...report });
}
