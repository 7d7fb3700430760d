// RUN_DIR/analysis.json: a new analysis merged over the earlier one key by key, a corrupt or
// non-object file replaced with a warning naming it, and an unwritable directory an error that
// names the file and leaves nothing half-written.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AnalysisError } from '../../../src/analysis/errors.js';
import { readAnalysis, saveAnalysis } from '../../../src/cli/analysis_file.js';
import { temporaryPath } from '../../../src/train/run_dir.js';
import { tempDir } from '../../util/temp_dir.js';

const fresh = (): string => tempDir('al-analysis-file-');

test('saveAnalysis: keys of the new analysis replace the old ones, the others stay', () => {
  const dir = fresh();
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  assert.deepEqual(readAnalysis(dir, warn), {}, 'no file yet: nothing earlier, no warning');
  const file = saveAnalysis(dir, { runDir: dir, distanceRatio: { samples: 200 } }, warn);
  assert.equal(file, join(dir, 'analysis.json'));
  saveAnalysis(dir, { runDir: dir, tsne: { perplexity: 10, layers: [] } }, warn);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { runDir: dir, distanceRatio: { samples: 200 }, tsne: { perplexity: 10, layers: [] } });
  saveAnalysis(dir, { tsne: { perplexity: 5, layers: [1] } }, warn);
  assert.deepEqual(readAnalysis(dir, warn), { runDir: dir, distanceRatio: { samples: 200 }, tsne: { perplexity: 5, layers: [1] } }, 'a whole key replaced, not merged inside');
  assert.deepEqual(warnings, []);
  assert.deepEqual(readdirSync(dir), ['analysis.json'], 'no temporary file left');
});

test('readAnalysis: invalid JSON or a non-object is replaced, with a warning naming the file', () => {
  for (const [text, message] of [['{"tsne": [1', /analysis\.json: not valid JSON \(.+\); replacing it/], ['[1, 2]', /analysis\.json: expected a JSON object, got an array; replacing it/],
    ['null', /got null; replacing it/], ['"text"', /got string; replacing it/]] as const) {
    const dir = fresh();
    writeFileSync(join(dir, 'analysis.json'), text);
    const warnings: string[] = [];
    saveAnalysis(dir, { method: 'al' }, (m) => void warnings.push(m));
    assert.equal(warnings.length, 1, text);
    assert.match(warnings[0]!, message);
    assert.ok(warnings[0]!.startsWith(join(dir, 'analysis.json')));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'analysis.json'), 'utf8')), { method: 'al' });
  }
});

test('saveAnalysis: a failed write is an AnalysisError naming the file; the old file stays whole', () => {
  const dir = fresh();
  const file = join(dir, 'analysis.json');
  writeFileSync(file, '{"old": 1}');
  mkdirSync(temporaryPath(file)); // the temporary file cannot be created
  assert.throws(() => saveAnalysis(dir, { method: 'al' }, () => {}), (e: unknown) => e instanceof AnalysisError && /analysis\.json: cannot write it \(EISDIR\); the results printed above are not saved/.test(e.message));
  assert.equal(readFileSync(file, 'utf8'), '{"old": 1}');
});

test('saveAnalysis: a run directory that is a file is an AnalysisError naming analysis.json', () => {
  const dir = fresh();
  const notDir = join(dir, 'file');
  writeFileSync(notDir, '');
  assert.throws(() => saveAnalysis(notDir, { method: 'al' }, () => {}), /file\/analysis\.json: cannot write it \(ENOTDIR\)/);
});
