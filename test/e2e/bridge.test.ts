// --bridge and trainMacsPerSample through the CLI: the bridges train, the slim and lean ones cost less
// arithmetic, the count is printed, in --json and in config.json; bad uses exit 2 naming the flag.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runAl } from '../util/al_cli.js';
import { tempDir } from '../util/temp_dir.js';

const common = ['train', '--model', 'mlp', '--method', 'al', '--t-width', '64', '--limit', '256', '--epochs', '1', '--threads', '1'];

test('--bridge wide, slim and lean: trainMacsPerSample printed, in --json and config.json, lean below slim below wide', () => {
  const macs: Record<string, number> = {};
  for (const bridge of ['wide', 'slim', 'lean']) {
    const out = join(tempDir('al-e2e-bridge-'), 'run');
    const text = runAl([...common, '--bridge', bridge, '--out', out]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /training arithmetic: [\d.]+ M multiply-adds a sample/);
    const json = runAl([...common, '--bridge', bridge, '--out', `${out}-json`, '--json']);
    const summary = JSON.parse(json.stdout.trim().split('\n').pop()!) as { trainMacsPerSample: number };
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { bridge: string; trainMacsPerSample: number };
    assert.equal(config.bridge, bridge);
    assert.equal(config.trainMacsPerSample, summary.trainMacsPerSample);
    macs[bridge] = summary.trainMacsPerSample;
  }
  // f: 784x64 + 64x64; the wide bridges add two 64x320 + 320x64 pairs, the slim ones two
  // 64x64 + 64x64 pairs, the lean ones two 64x64
  assert.ok(macs['lean']! < macs['slim']! && macs['slim']! < macs['wide']! / 2, JSON.stringify(macs));
});

test('an unknown --bridge exits 2 naming the flag and the allowed values; BP has no bridges', () => {
  const unknown = runAl([...common, '--bridge', 'narrow']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--bridge: expected one of wide, slim, lean, got 'narrow'/);
  const bp = runAl(['train', '--method', 'bp', '--bridge', 'lean', '--limit', '64']);
  assert.equal(bp.code, 2);
  assert.match(bp.stderr, /--bridge: only applies to --method al/);
});
