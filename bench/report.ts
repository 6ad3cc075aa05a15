import { mkdir, readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'

/** What every suite hands back: its figures (written as JSON) and the tables printed for people. */
export interface SuiteResult {
  suite: 'micro' | 'http' | 'memory' | 'hostile' | 'gateway' | 'revocation'
  figures: unknown[]
  tables: string[]
  /** Lines printed under the tables: warnings, explanations. */
  notes: string[]
}

export interface MachineInfo {
  cpu: string
  cores: number
  node: string
  platform: string
  totalMemoryGiB: number
  loadAverage: number[]
}

export const machineInfo = (): MachineInfo => ({
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
})

/** A plain-text table; numbers and ratios right-aligned, text left-aligned. */
export function table(title: string, head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))]
  const widths = head.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)))
  const numeric = head.map((_, i) => rows.every((r) => typeof r[i] === 'number' || /^(–|[\d.,]+x)$/.test(String(r[i]))))
  const line = (r: (string | number)[]) =>
    r
      .map((c, i) => (numeric[i] ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [title, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n')
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '–'
  if (Number.isInteger(n) || Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(2)
}

/** `2.31x` */
export const ratio = (value: number, base: number | undefined): string => (base ? `${(value / base).toFixed(2)}x` : '–')

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))
/** Every run's own files: kept on the machine that ran them, not in git (see bench/README.md). */
export const RUNS_DIR = `${RESULTS_DIR}runs/`

const stampOf = (date: Date): string => date.toISOString().replace(/[:.]/g, '-')

/** Writes `bench/results/runs/<suite>-<date>.json` with the machine it ran on; returns its path. */
export async function writeSuiteFile(suite: string, figures: unknown, quick: boolean, date = new Date()): Promise<string> {
  await mkdir(RUNS_DIR, { recursive: true })
  const file = `${RUNS_DIR}${suite}-${stampOf(date)}.json`
  await writeFile(file, JSON.stringify({ suite, date: date.toISOString(), quick, machine: machineInfo(), figures }, null, 2) + '\n')
  return file
}

interface LatestFile {
  suites: Record<string, { date: string; quick: boolean; machine: MachineInfo; figures: unknown[] }>
}

/**
 * Writes `runs/<suite>-<date>.json` per suite and updates `latest.json`, the one
 * file in git: each suite of this run replaces that suite's entry, the others
 * keep theirs (with their own date and machine), so `--only http` does not erase
 * the micro figures. A `--quick` run leaves it alone.
 */
export async function writeResults(results: SuiteResult[], quick: boolean, date = new Date()): Promise<string[]> {
  const written: string[] = []
  for (const r of results) written.push(await writeSuiteFile(r.suite, r.figures, quick, date))
  // A --quick run is indicative only: it never replaces a full run's figures.
  if (quick) return written
  const latest = `${RESULTS_DIR}latest.json`
  const previous = await readFile(latest, 'utf8')
    .then((text) => JSON.parse(text) as Partial<LatestFile>)
    .catch(() => ({}) as Partial<LatestFile>)
  const suites = { ...(previous.suites ?? {}) }
  const machine = machineInfo()
  for (const r of results) suites[r.suite] = { date: date.toISOString(), quick, machine, figures: r.figures }
  await writeFile(latest, JSON.stringify({ suites }, null, 2) + '\n')
  return [...written, latest]
}
