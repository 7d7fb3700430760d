// `al keygen [--out DIR] [--name NAME]`: a CurveZMQ keypair for stage processes and their
// coordinators (see docs/cli.md and src/cli/key_files.ts for the files).
import { constants, accessSync, closeSync, existsSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeys } from '../../pipeline/runtime/curve.js';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';

export const keygenUsage = `Usage: al keygen [--out DIR] [--name NAME]

Writes a CurveZMQ keypair for pipelined runs on stage processes (al stage --key, al train
--key): DIR/NAME.key (the keypair; mode 0600, keep it secret) and DIR/NAME.pub (the public key,
for the --allow and --stage-key of other hosts). One keypair may serve a whole cluster: copy the
.key file to every host, and no --allow or --stage-key is needed. Never overwrites a file.

  --out DIR     where to write (default: the current directory)
  --name NAME   file name without extension (default: al)
  -h, --help    this text
`;

const flags: FlagSpec = { out: { type: 'string' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } };

/** Creates `file` with `text`, failing if it exists (O_EXCL: no race with another writer). */
function create(file: string, text: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'EEXIST' ? `--out: ${file} already exists; al keygen never overwrites a key (remove it or give another --out or --name)` : `--out: cannot create ${file}: ${code ?? (error as Error).message}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export async function keygenCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags);
  if (values['help']) {
    process.stdout.write(keygenUsage);
    return 0;
  }
  const dir = str(values, 'out') ?? '.';
  const name = str(values, 'name') ?? 'al';
  if (!/^[\w.-]+$/.test(name)) throw new UsageError(`--name: expected a file name of letters, digits, '.', '_' or '-', got '${name}'`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--out: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`--out: ${dir} is not writable`);
  }
  const [keyFile, pubFile] = [join(dir, `${name}.key`), join(dir, `${name}.pub`)];
  for (const file of [keyFile, pubFile]) {
    if (existsSync(file)) throw new UsageError(`--out: ${file} already exists; al keygen never overwrites a key (remove it or give another --out or --name)`);
  }
  const keys = generateKeys();
  create(keyFile, `# al CurveZMQ keypair: keep it secret (al stage --key, al train --key)\npublic ${keys.publicKey}\nsecret ${keys.secretKey}\n`, 0o600);
  create(pubFile, `# al CurveZMQ public key (al stage --allow, al train --stage-key)\n${keys.publicKey}\n`, 0o644);
  process.stdout.write(`al keygen: wrote ${keyFile} (secret, mode 0600) and ${pubFile}\npublic key ${keys.publicKey}\n`);
  return 0;
}
