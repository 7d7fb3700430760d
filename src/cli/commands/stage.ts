// `al stage --listen HOST:PORT`: one pipeline stage process, waiting for a coordinator (see
// docs/cli.md and src/pipeline/runtime/stage_server.ts). It accepts work only from a
// coordinator presenting the run's token (--token, or AL_TOKEN in the environment, which keeps it
// out of `ps`), and listens on loopback unless told otherwise.
import { STAGE_PROGRAMS, StageServer } from '../../pipeline/index.js';
import { parseAddress } from '../../pipeline/runtime/zmq_transport.js';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';

export const stageUsage = `Usage: al stage [--listen HOST:PORT] [--token T]

Starts one stage of a pipelined run (AL, GPipe or naive) in this process and waits for a
coordinator (al train --method al --pipeline --stages HOST:PORT,..., or --method gpipe or
naive-pipeline with --stages). Serves one run after another.

  --listen HOST:PORT   where to listen (default 127.0.0.1:5555; port 0 picks a free port);
                       give this machine's address to accept coordinators from other hosts
                       (traffic is not encrypted: beyond a trusted network use a VPN or an
                       SSH tunnel)
  --token T            the run's secret; default: the environment variable AL_TOKEN. A
                       coordinator (or neighbour) without it is refused and logged
  --once               serve one run, then exit; also exit when stdin closes
  -h, --help           this text
`;

const flags: FlagSpec = {
  listen: { type: 'string' }, token: { type: 'string' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

/** Whether a --listen host keeps the stage on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || host.toLowerCase() === 'localhost';
}

// The token only decides who may send work; it does not encrypt anything, and it crosses the
// network in the clear itself, so a stage beyond loopback says so once, where its operator sees it.
function exposedWarning(address: string): string {
  return `al stage: warning: listening on ${address}, beyond loopback: anyone who can reach this address and holds the token can send this stage work, `
    + 'and the traffic (the token, weights, activations) is not encrypted. Keep it on a trusted network, a VPN or an SSH tunnel.\n';
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
  const token = str(values, 'token') ?? process.env['AL_TOKEN'];
  if (!token) throw new UsageError('--token: required (or set AL_TOKEN): the secret a coordinator must present');
  const once = values['once'] === true;
  const server = await StageServer.start({ listen, token, once, programs: STAGE_PROGRAMS, log: (line) => process.stderr.write(line + '\n') });
  process.stdout.write(`al stage: listening on ${server.address}\n`);
  if (!isLoopbackHost(host)) process.stderr.write(exposedWarning(server.address));
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
