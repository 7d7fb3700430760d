// `al stage --listen HOST:PORT`: one pipeline stage process, waiting for a coordinator (see
// shared/cli-contract.md and src/pipeline/stage_server.ts). It accepts work only from a
// coordinator presenting the run's token (--token, or AL_TOKEN in the environment, which keeps it
// out of `ps`), and listens on loopback unless told otherwise.
import { startStageServer } from '../../pipeline/stage_server.js';
import { parseAddress } from '../../pipeline/zmq_transport.js';
import { parseFlags, str, type FlagSpec } from '../args.js';
import { UsageError } from '../errors.js';

export const stageUsage = `Usage: al stage [--listen HOST:PORT] [--token T]

Starts one stage of a pipelined AL run in this process and waits for a coordinator
(al train --method al --pipeline --stages HOST:PORT,...). Serves one run after another.

  --listen HOST:PORT   where to listen (default 127.0.0.1:5555; port 0 picks a free port);
                       give this machine's address to accept coordinators from other hosts
  --token T            the run's secret; default: the environment variable AL_TOKEN. A
                       coordinator (or neighbour) without it is refused and logged
  --once               serve one run, then exit; also exit when stdin closes
  -h, --help           this text
`;

const flags: FlagSpec = {
  listen: { type: 'string' }, token: { type: 'string' }, once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
};

export async function stageCommand(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, flags);
  if (values['help']) {
    process.stdout.write(stageUsage);
    return 0;
  }
  const listen = str(values, 'listen') ?? '127.0.0.1:5555';
  try {
    parseAddress(listen);
  } catch (error) {
    throw new UsageError(`--listen: ${(error as Error).message}`);
  }
  const token = str(values, 'token') ?? process.env['AL_TOKEN'];
  if (!token) throw new UsageError('--token: required (or set AL_TOKEN): the secret a coordinator must present');
  const once = values['once'] === true;
  const server = await startStageServer({ listen, token, once, log: (line) => process.stderr.write(line + '\n') });
  process.stdout.write(`al stage: listening on ${server.address}\n`);
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
