// A stage builds the layers of a user's AL net from the module that defines it (ALNetModule):
// the layers it owns, the class count, and errors naming the module when it cannot.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { setBackend } from '../../../../src/backend/backend.js';
import { referenceBackend } from '../../../../src/backend/reference_backend.js';
import { buildStageNet, moduleUrl } from '../../../../src/pipeline/al/al_stage.js';
import { StageConfigError } from '../../../../src/pipeline/runtime/errors.js';
import { alBin } from '../../../util/al_cli.js';
import { tempDir } from '../../../util/temp_dir.js';

// the example's net, in the package's examples/ (it imports the package by name)
const example = join(alBin, '..', '..', 'examples', 'blobs_al_net.mjs');

before(() => setBackend(referenceBackend));

test('moduleUrl: paths become file: URLs (relative ones against the working directory); URLs stay', () => {
  assert.equal(moduleUrl('/a/b.mjs'), 'file:///a/b.mjs');
  assert.equal(moduleUrl('b.mjs'), pathToFileURL(join(process.cwd(), 'b.mjs')).href);
  assert.equal(moduleUrl('file:///x/y.mjs'), 'file:///x/y.mjs');
});

test("a stage of a user's net builds the layers it owns, from the module's builder", async () => {
  const { layers, classes } = await buildStageNet({ module: example, exportName: 'buildNet' }, [1, 2]);
  assert.deepEqual(layers.map((l) => l.index), [2, 3]);
  assert.equal(classes, 3);
});

test('a module without the builder, a builder that returns no net, or a layer past the net: errors naming the module', async () => {
  await assert.rejects(buildStageNet({ module: example }, [0]), (e: unknown) => e instanceof StageConfigError && e.message === `stage: ${example} has no function export 'default' to build the AL net with`);
  const dir = tempDir('al-stage-module-');
  const notNet = join(dir, 'not_net.mjs');
  writeFileSync(notNet, 'export default () => 42;\n');
  await assert.rejects(buildStageNet({ module: notNet }, [0]), /not_net\.mjs's 'default' returned 42, expected an AssociatedNet/);
  await assert.rejects(buildStageNet({ module: example, exportName: 'buildNet' }, [3]), /the net of .*blobs_al_net\.mjs has 3 AL layers, no layer 4/);
});
