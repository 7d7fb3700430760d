// Key files of `al keygen`, read by `al stage` and `al train` (docs/cli.md):
//   NAME.key   the keypair, mode 0600:  "public <Z85>" and "secret <Z85>" lines
//   NAME.pub   the public key alone:    "<Z85>" (what other hosts are given, e.g. for --allow)
// Lines starting with '#' are comments. A .key file also serves where a public key is asked for,
// so a cluster sharing one keypair can point every flag at the same file.
import { readFileSync, statSync } from 'node:fs';
import { isZ85Key, type CurveKeys } from '../pipeline/runtime/curve.js';
import { UsageError } from './errors.js';

function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function readKeyFile(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** "public K" / "secret K" lines, or a bare key (a public key). */
function parseKeys(text: string, file: string, flag: string): { publicKey?: string; secretKey?: string } {
  const out: { publicKey?: string; secretKey?: string } = {};
  for (const line of lines(text)) {
    const [first, second, ...rest] = line.split(/\s+/);
    const [kind, key] = second === undefined ? ['public', first!] : [first!, second];
    if ((kind !== 'public' && kind !== 'secret') || rest.length > 0 || !isZ85Key(key)) {
      throw new UsageError(`${flag}: ${file} is not a key file of al keygen (a line is not 'public KEY', 'secret KEY' or a 40-character Z85 key)`);
    }
    out[kind === 'public' ? 'publicKey' : 'secretKey'] = key;
  }
  return out;
}

/** The keypair in a .key file; refused when others may read it, as ssh refuses such keys. */
export function loadKeyPair(file: string, flag = '--key'): CurveKeys {
  const keys = parseKeys(readKeyFile(file, flag), file, flag);
  if (!keys.publicKey || !keys.secretKey) throw new UsageError(`${flag}: ${file} holds no keypair (expected the .key file of al keygen, with a 'public' and a 'secret' line)`);
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new UsageError(`${flag}: ${file} is readable by others (mode ${mode.toString(8).padStart(4, '0')}): run chmod 600 ${file}`);
  return { publicKey: keys.publicKey, secretKey: keys.secretKey };
}

/** The public key in a .pub file (or in a .key file). */
export function loadPublicKey(file: string, flag: string): string {
  const { publicKey } = parseKeys(readKeyFile(file, flag), file, flag);
  if (!publicKey) throw new UsageError(`${flag}: ${file} holds no public key`);
  return publicKey;
}

/** A keypair given in the environment as "PUBLIC SECRET" (AL_KEYPAIR: how a coordinator hands its local stages theirs). */
export function keyPairFromEnv(value: string): CurveKeys {
  const [publicKey, secretKey, ...rest] = value.trim().split(/\s+/);
  if (!publicKey || !secretKey || rest.length > 0 || !isZ85Key(publicKey) || !isZ85Key(secretKey)) {
    throw new UsageError('AL_KEYPAIR: expected two 40-character Z85 keys, "PUBLIC SECRET"');
  }
  return { publicKey, secretKey };
}

/** The keypair of --key FILE, else of $AL_KEY (a file), else of $AL_KEYPAIR; undefined when none is given. */
export function givenKeyPair(file: string | undefined): CurveKeys | undefined {
  if (file !== undefined) return loadKeyPair(file);
  const envFile = process.env['AL_KEY'];
  if (envFile) return loadKeyPair(envFile, 'AL_KEY');
  const pair = process.env['AL_KEYPAIR'];
  return pair ? keyPairFromEnv(pair) : undefined;
}

/** A comma-separated list of public key files. */
export function loadPublicKeys(list: string, flag: string): string[] {
  return list.split(',').map((f) => f.trim()).filter((f) => f !== '').map((f) => loadPublicKey(f, flag));
}
