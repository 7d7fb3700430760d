// RUN_DIR/analysis.json: what `al analyze` found in a run, kept for `al report`. Each invocation
// merges its own object (the one --json prints) over the file's: top-level keys it computed
// replace the old ones, the others stay, so `--distance-ratio` then `--tsne` keeps both. Written
// atomically: a crash leaves the old file or the new one, never half of either.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AnalysisError } from '../analysis/errors.js';
import { writeFileAtomic } from '../train/run_dir.js';

export const ANALYSIS_FILE = 'analysis.json';

/**
 * The earlier analysis of the run, or {} when there is none. The file is ours and derived, so an
 * unreadable or corrupt one is replaced, with a warning, rather than blocking the analysis.
 */
export function readAnalysis(runDir: string, warn: (message: string) => void): Record<string, unknown> {
  const file = join(runDir, ANALYSIS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); writing a new one`);
    return {};
  }
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    warn(`${file}: expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}; replacing it`);
  } catch (error) {
    warn(`${file}: not valid JSON (${(error as Error).message}); replacing it`);
  }
  return {};
}

/** Merges `analysis` over the run's analysis.json and writes it; returns the file's path. */
export function saveAnalysis(runDir: string, analysis: Record<string, unknown>, warn: (message: string) => void): string {
  const file = join(runDir, ANALYSIS_FILE);
  const merged = { ...readAnalysis(runDir, warn), ...analysis };
  try {
    writeFileAtomic(file, JSON.stringify(merged) + '\n');
  } catch (error) {
    throw new AnalysisError(`${file}: cannot write it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the results printed above are not saved`);
  }
  return file;
}
