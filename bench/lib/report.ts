import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fmtSummary, type Summary } from './stats.js';

/** One line of the results table. `measured` is the headline figure; `extra` holds p50/p99 and the like. */
export interface Row {
  workload: string;
  title: string;
  backend: string;
  measured?: Summary;
  unit?: string;
  extra?: { label: string; summary: Summary; unit: string }[];
  /** The target from issue 5 and whether the median meets it (null: no target on this row). */
  target?: { text: string; met: boolean | null };
  original?: string;
  baseline?: string;
  notes?: string[];
  /** Set when the measurement could not be taken; the row is then reported, not hidden. */
  error?: string;
  /** The machine's 1-minute load average when the row was measured: how noisy it is (2 cores). */
  loadAverage?: number;
}

export interface RunInfo {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt?: string;
  node: string;
  cpus: number;
  cpuModel: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  repeats: number;
  durationSeconds: number;
  connections: number;
  sizes: Record<string, number>;
}

export function runInfo(o: { quick: boolean; repeats: number; durationSeconds: number; connections: number; sizes: Record<string, number> }): RunInfo {
  return {
    mode: o.quick ? 'quick' : 'full',
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    loadAverageStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
    repeats: o.repeats,
    durationSeconds: o.durationSeconds,
    connections: o.connections,
    sizes: o.sizes,
  };
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function measuredText(r: Row): string {
  if (r.error) return `ERROR: ${r.error}`;
  if (!r.measured || !r.unit) return '';
  const parts = [fmtSummary(r.measured, r.unit)];
  for (const e of r.extra ?? []) parts.push(`${e.label} ${fmtSummary(e.summary, e.unit)}`);
  return parts.join('; ');
}

function metText(r: Row): string {
  if (!r.target || r.target.met === null || r.error) return '';
  return r.target.met ? 'met' : '**missed**';
}

export function markdownTable(rows: Row[]): string {
  const head = '| workload | backend | measured: median (min–max) | target | met? | original | baseline (same run) |\n| --- | --- | --- | --- | --- | --- | --- |';
  const lines = rows.map((r) =>
    `| ${cell(`${r.workload} ${r.title}`)} | ${cell(r.backend)} | ${cell(measuredText(r))} | ${cell(r.target?.text ?? '')} | ${metText(r)} | ${cell(r.original ?? '')} | ${cell(r.baseline ?? '')} |`,
  );
  return [head, ...lines].join('\n');
}

export function markdownReport(info: RunInfo, rows: Row[], extras: { title: string; text: string }[]): string {
  const notes = [...new Set(rows.flatMap((r) => (r.notes ?? []).map((n) => `- ${r.workload} ${r.backend}: ${n}`)))];
  return [
    `# Benchmark results (${info.mode} run)`,
    '',
    `Started ${info.startedAt}, finished ${info.finishedAt ?? '?'}; Node ${info.node}; ${info.cpus} × ${info.cpuModel}; ` +
      `load average at start ${info.loadAverageStart.join(' / ')}, at end ${(info.loadAverageEnd ?? []).join(' / ')}. ` +
      `${info.repeats} measured run(s) per figure, ${info.durationSeconds} s per HTTP load run, ${info.connections} connections. ` +
      'The load generator (autocannon, in a worker thread) shares the machine with the server and the database: ' +
      'figures taken while other work runs on the machine are noisy.',
    '',
    markdownTable(rows),
    '',
    ...(notes.length ? ['Notes:', '', ...notes, ''] : []),
    ...extras.flatMap((e) => [`## ${e.title}`, '', e.text.trim(), '']),
  ].join('\n');
}

export async function writeResults(dir: string, info: RunInfo, rows: Row[], extras: { title: string; text: string }[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const md = markdownReport(info, rows, extras);
  await writeFile(path.join(dir, 'latest.json'), `${JSON.stringify({ info, rows, extras }, null, 2)}\n`);
  await writeFile(path.join(dir, 'latest.md'), `${md}\n`);
  return md;
}
