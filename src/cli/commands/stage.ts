// `al stage --listen HOST:PORT`: one pipeline stage process, waiting for a coordinator (see
// docs/cli.md and src/pipeline/runtime/stage_server.ts). Its traffic is encrypted with CurveZMQ:
// it holds a keypair (--key) and accepts only the public keys it allows (--allow; by default its
// own, for a cluster sharing one keypair). --insecure drops the encryption, on loopback only.
// It listens on loopback unless told otherwise.
import { STAGE_PROGRAMS, StageServer } from '../../pipeline/index.js';
import { isLoopbackHost, type ServerCurve } from '../../pipeline/runtime/curve.js';
import { parseAddress } from '../../pipeline/runtime/zmq_transport.js';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';
import { givenKeyPair, loadPublicKeys } from '../key_files.js';

export { isLoopbackHost };

export const stageUsage = `Usage: al stage [--listen HOST:PORT] --key FILE [--allow PUBFILE,...] [--token T]
       al stage --insecure [--listen 127.0.0.1:PORT] --token T

Starts one stage of a pipelined run (AL, GPipe or naive) in this process and waits for a
coordinator (al train --method al --pipeline --stages HOST:PORT,..., or --method gpipe or
naive-pipeline with --stages). Serves one run after another. All traffic is encrypted and
authenticated with CurveZMQ: only coordinators and neighbouring stages whose public key this
stage allows get a message through.

  --listen HOST:PORT   where to listen (default 127.0.0.1:5555; port 0 picks a free port);
                       give this machine's address to accept coordinators from other hosts
  --key FILE           this stage's keypair (the .key file of al keygen); default: the file
                       in the environment variable AL_KEY
  --allow PUBFILE,...  public key files (.pub, or .key) of the coordinators and of the stage
                       before this one that may connect; default: this stage's own public
                       key (a cluster that shares one keypair needs no --allow)
  --token T            a secret the coordinator must also present (default: AL_TOKEN; optional
                       with keys)
  --insecure           no encryption, the token alone decides: only with a loopback --listen
                       (127.0.0.1, [::1], localhost), and then --token (or AL_TOKEN) is required
  --once               serve one run, then exit; also exit when stdin closes
  -h, --help           this text
`;

const flags: FlagSpec = {
  listen: { type: 'string' }, token: { type: 'string' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  key: { type: 'string' }, allow: { type: 'string' }, insecure: { type: 'boolean' },
};

/** The stage's keys and the peers it allows, or null with --insecure (checked against the --listen host). */
function stageCurve(values: Record<string, string | boolean | undefined>, host: string): ServerCurve | null {
  if (values['insecure'] === true) {
    for (const flag of ['key', 'allow']) if (values[flag] !== undefined) throw new UsageError(`--${flag}: not with --insecure, which uses no keys`);
    if (!isLoopbackHost(host)) throw new UsageError(`--insecure: only on a loopback address (127.0.0.1, [::1], localhost); ${host} is not. Beyond this machine, give the stage a keypair (al keygen, --key)`);
    return null;
  }
  const keys = givenKeyPair(str(values, 'key'));
  if (!keys) throw new UsageError('--key: required: this stage\'s keypair file (make one with al keygen), or set AL_KEY; --insecure runs without, on loopback only');
  const allow = str(values, 'allow');
  return { keys, allow: allow === undefined ? [keys.publicKey] : loadPublicKeys(allow, '--allow') };
}

export async function stageCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags);
  if (values['help']) {
    process.stdout.write(stageUsage);
    return 0;
  }
  const listen = str(values, 'listen') ?? '127.0.0.1:5555';
  let host: string;
  try {
    host = parseAddress(listen).host;
  } catch (error) {
    throw new UsageError(`--listen: ${(error as Error).message}`);
  }
  const curve = stageCurve(values, host);
  const token = str(values, 'token') ?? (process.env['AL_TOKEN'] || undefined);
  if (!curve && !token) throw new UsageError('--token: required with --insecure (or set AL_TOKEN): the secret a coordinator must present');
  const once = values['once'] === true;
  const server = await StageServer.start({ listen, token, once, programs: STAGE_PROGRAMS, log: (line) => process.stderr.write(line + '\n'), ...(curve ? { curve } : {}) });
  process.stdout.write(`al stage: listening on ${server.address} ${curve ? `(CurveZMQ, public key ${curve.keys.publicKey}, ${curve.allow.length} allowed key${curve.allow.length === 1 ? '' : 's'})` : '(unencrypted, --insecure)'}\n`);
  const stop = (): void => server.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (once) {
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
  await server.finished;
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
  process.stdin.pause();
  return 0;
}
