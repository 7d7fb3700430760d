// `al eval RUN_DIR [--exit-layer K] [--json]`: the run loaded back with the library's loadRun
// (src/run/), and its test accuracy; AL runs can predict from any AL layer.
import { loadRun } from '../../run/saved_run.js';
import { int, parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { useNativeBackend } from '../runtime.js';

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
  await useNativeBackend(values['threads'] === undefined ? undefined : int(values, 'threads', 1, 1, 256));
  const dataDir = str(values, 'data-dir');
  const run = loadRun(runDir, dataDir === undefined ? {} : { dataDir });
  let exit: number | undefined;
  if (values['exit-layer'] !== undefined) {
    if (run.depth === 0) throw new UsageError('--exit-layer: only AL runs have exit layers');
    exit = int(values, 'exit-layer', run.depth, 1, run.depth);
  }
  const testAccuracy = run.accuracy(run.testData(), exit === undefined ? {} : { exit });
  if (values['json']) process.stdout.write(JSON.stringify({ testAccuracy, exitLayer: exit ?? (run.depth || null), runDir }) + '\n');
  else process.stdout.write(`${runDir}: test accuracy ${(100 * testAccuracy).toFixed(2)}%${run.depth ? ` (exit at AL layer ${exit ?? run.depth} of ${run.depth})` : ''}\n`);
  return 0;
}
