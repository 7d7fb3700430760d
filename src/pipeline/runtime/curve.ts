// CurveZMQ between stage processes and their coordinators: every connection is encrypted and
// authenticated by public key (Curve25519, in libzmq). A stage process is a CURVE server that
// accepts only the public keys it allows, checked by the ZAP handler below while the handshake is
// still going on, so a peer without an allowed key never gets a message to the stage at all. A
// coordinator, and a stage connecting to its downstream neighbour, are CURVE clients that know the
// public key of the stage they connect to, so they cannot be talked to by anyone else either.
//
// Plaintext is for loopback only (checkPlaintext): there, nothing crosses a network.
import { Router, curveKeyPair } from 'zeromq';

/** A CurveZMQ keypair, each key 40 characters of Z85. */
export interface CurveKeys {
  publicKey: string;
  secretKey: string;
}

/** A stage process: its keypair, and the public keys of the peers it accepts. */
export interface ServerCurve {
  keys: CurveKeys;
  allow: readonly string[];
}

/** A connecting side: its keypair, and the public key of the stage it connects to. */
export interface ClientCurve {
  keys: CurveKeys;
  serverKey: string;
}

export function generateKeys(): CurveKeys {
  return curveKeyPair();
}

const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

export function isZ85Key(text: string): boolean {
  return text.length === 40 && [...text].every((c) => Z85.includes(c));
}

/** 32 bytes from a 40-character Z85 key (the form ZAP hands keys over in). */
export function z85Decode(key: string): Buffer {
  if (!isZ85Key(key)) throw new RangeError(`expected a 40-character Z85 key, got ${key.length} characters`);
  const out = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) {
    let value = 0;
    for (let j = 0; j < 5; j++) value = value * 85 + Z85.indexOf(key[5 * i + j]!);
    out.writeUInt32BE(value >>> 0, 4 * i);
  }
  return out;
}

export function z85Encode(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    let value = Buffer.from(bytes.buffer, bytes.byteOffset + at, 4).readUInt32BE(0);
    const chunk: string[] = [];
    for (let j = 0; j < 5; j++, value = Math.floor(value / 85)) chunk.unshift(Z85[value % 85]!);
    out += chunk.join('');
  }
  return out;
}

/** Whether a host keeps traffic on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]' || host.toLowerCase() === 'localhost';
}

/** Throws unless `address` (HOST:PORT) is on loopback: plaintext never leaves this machine. */
export function checkPlaintext(address: string): void {
  const host = address.slice(0, address.lastIndexOf(':'));
  if (!isLoopbackHost(host)) {
    throw new RangeError(`${address}: unencrypted (--insecure) connections are only allowed on loopback (127.0.0.1, [::1], localhost); use keys (al keygen, --key) for other addresses`);
  }
}

/** ZeroMQ options of a stage's Router: a CURVE server whose peers the ZAP `domain` vets. */
export function serverOptions(curve: ServerCurve, domain: string): { curveServer: true; curvePublicKey: string; curveSecretKey: string; zapDomain: string } {
  return { curveServer: true, curvePublicKey: curve.keys.publicKey, curveSecretKey: curve.keys.secretKey, zapDomain: domain };
}

/** ZeroMQ options of a Dealer connecting to a CURVE server. */
export function clientOptions(curve: ClientCurve): { curveServerKey: string; curvePublicKey: string; curveSecretKey: string } {
  return { curveServerKey: curve.serverKey, curvePublicKey: curve.keys.publicKey, curveSecretKey: curve.keys.secretKey };
}

/** Decides on a peer in its handshake: its public key (32 bytes) and its address. */
export type PeerCheck = (key: Buffer, address: string) => boolean;

// ***** the ZAP handler *****
// libzmq asks whoever binds inproc://zeromq.zap.01 in the socket's context (one per process here:
// zeromq.js's global context) about every handshake of a socket with a ZAP domain. One handler
// serves every stage server of the process, each under a domain of its own; it is bound while any
// server is registered and closed after the last, so it never keeps a process alive.

const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';
const checks = new Map<string, PeerCheck>();
let zap: Promise<Router> | null = null;
let domains = 0;

async function serveZap(router: Router): Promise<void> {
  try {
    // [routing id, '', version, request id, domain, address, identity, mechanism, ...credentials]
    for await (const [id, empty, version, request, domain, address, , mechanism, key] of router) {
      const check = checks.get(domain?.toString() ?? '');
      const allowed = version?.toString() === '1.0' && mechanism?.toString() === 'CURVE' && key?.length === 32 && check !== undefined && check(key, address?.toString() ?? '');
      await router.send([id!, empty!, '1.0', request!, allowed ? '200' : '400', allowed ? 'OK' : 'key not allowed', allowed ? z85Encode(key!) : '', '']);
    }
  } catch {
    // closed
  }
}

/** Registers a server's peer check; returns its ZAP domain and the function that releases it. */
export async function registerZap(check: PeerCheck): Promise<{ domain: string; release: () => void }> {
  const domain = `al-stage-${++domains}`;
  checks.set(domain, check);
  zap ??= (async () => {
    const router = new Router({ linger: 0 });
    await router.bind(ZAP_ENDPOINT);
    void serveZap(router);
    return router;
  })();
  const bound = zap;
  await bound;
  return {
    domain,
    release: () => {
      checks.delete(domain);
      if (checks.size === 0 && zap === bound) {
        zap = null;
        void bound.then((router) => router.close());
      }
    },
  };
}
