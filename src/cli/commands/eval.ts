// `al eval RUN_DIR [--exit-layer K] [--json]`: rebuilds the run's model from config.json, loads
// checkpoint.safetensors and measures test accuracy; AL runs can predict from any AL layer.
import { int, parseFlags, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { useNativeBackend } from '../runtime.js';
import { readRunConfig } from '../resume.js';
import { loadRunData, loadRunModel } from '../run_model.js';

export const evalUsage = `Usage: al eval RUN_DIR [--exit-layer K] [--data-dir DIR] [--json]

Test accuracy of the checkpoint in RUN_DIR (written by al train after every epoch).
  --exit-layer K   AL runs: predict from AL layer K, h_1(...h_K(b_K(s_K))) (default: the last)
  --data-dir DIR   read the dataset from DIR instead of the run's
  --threads T      compute threads
  --json           print one JSON object as the last line of stdout
`;

const flags: FlagSpec = {
  'exit-layer': { type: 'string' }, 'data-dir': { type: 'string' }, threads: { type: 'string' },
  json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

export async function evalCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags, true);
  if (values['help']) {
    process.stdout.write(evalUsage);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one RUN_DIR, got ${positionals.length}`);
  const runDir = positionals[0]!;
  const config = readRunConfig(runDir);
  await useNativeBackend(values['threads'] === undefined ? undefined : int(values, 'threads', 1, 1, 256));
  const data = loadRunData(config, typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined);
  const model = loadRunModel(runDir, config, data);
  let exit: number | undefined;
  if (values['exit-layer'] !== undefined) {
    if (model.depth === 0) throw new UsageError('--exit-layer: only AL runs have exit layers');
    exit = int(values, 'exit-layer', model.depth, 1, model.depth);
  }
  const testAccuracy = model.testAccuracy(data.test, exit);
  if (values['json']) process.stdout.write(JSON.stringify({ testAccuracy, exitLayer: exit ?? (model.depth || null), runDir }) + '\n');
  else process.stdout.write(`${runDir}: test accuracy ${(100 * testAccuracy).toFixed(2)}%${model.depth ? ` (exit at AL layer ${exit ?? model.depth} of ${model.depth})` : ''}\n`);
  return 0;
}
