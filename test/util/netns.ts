// Network namespaces for tests that need several "hosts" on one machine: a hub namespace routed to
// one namespace per stage over veth pairs, each link its own /30 from 10.213.0.0/16. The hub
// forwards between its links, so stage k reaches stage k+1 through it, as hosts on two subnets
// reach each other through a router. No namespace has a route anywhere else, and none is joined to
// the machine's own namespace, so traffic can only go to these addresses and loopback.
//
// Names carry the creating process's pid, so parallel runs do not collide; the addresses repeat
// from run to run, which is harmless because each run's namespaces are separate networks.
import { spawnSync } from 'node:child_process';

export interface Hosts {
  /** the hub namespace (the coordinator runs here) */
  hub: string;
  /** one namespace per stage, and its address (the stage end of its link to the hub) */
  stages: { namespace: string; address: string }[];
  /** bytes a namespace's device has received (a stage's link to the hub is eth0) */
  receivedBytes(namespace: string, device?: string): number;
  /** takes a namespace's link to the hub down (the host goes silent: nothing is sent, nothing refused) or up again */
  setLink(namespace: string, up: boolean): void;
  /** deletes every namespace (and so every link); idempotent */
  remove(): void;
}

const PREFIX = 'al-e2e-';

/** Runs `ip ARGS`; throws with ip's own message (stderr), which names what is not permitted. */
export function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const hint = (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (iproute2 is not installed)' : '';
    throw new Error(`ip ${args.join(' ')}: ${r.error.message}${hint}`);
  }
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes namespaces left by test processes that died before they could clean up (SIGKILL). */
function removeStale(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-\\S+)`).exec(line);
    if (m && Number(m[2]) !== process.pid && !alive(Number(m[2]))) spawnSync('ip', ['netns', 'delete', m[1]!]);
  }
}

/**
 * Creates the hub and `count` stage namespaces (count ≤ 250). Throws (having removed whatever it
 * created) when this machine does not allow it: no iproute2, not root, no CAP_NET_ADMIN.
 */
export function createHosts(count: number): Hosts {
  const hub = `${PREFIX}${process.pid}-hub`;
  const created: string[] = [];
  const remove = (): void => {
    for (const namespace of created.splice(0)) spawnSync('ip', ['netns', 'delete', namespace]);
  };
  try {
    removeStale();
    ip('netns', 'add', hub);
    created.push(hub);
    ip('-n', hub, 'link', 'set', 'lo', 'up');
    // forwarding is a per-namespace setting: this turns the hub into a router and touches nothing else
    const r = spawnSync('ip', ['netns', 'exec', hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sysctl net.ipv4.ip_forward=1 in ${hub}: ${r.stderr || r.error?.message}`);
    const stages = Array.from({ length: count }, (_, i) => {
      const k = i + 1;
      const namespace = `${PREFIX}${process.pid}-s${k}`;
      ip('netns', 'add', namespace);
      created.push(namespace);
      // created inside the namespaces, so the names never appear in (or collide in) the machine's namespace
      ip('-n', hub, 'link', 'add', `s${k}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
      ip('-n', hub, 'addr', 'add', `10.213.${k}.1/30`, 'dev', `s${k}`);
      ip('-n', hub, 'link', 'set', `s${k}`, 'up');
      ip('-n', namespace, 'addr', 'add', `10.213.${k}.2/30`, 'dev', 'eth0');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      ip('-n', namespace, 'link', 'set', 'eth0', 'up');
      ip('-n', namespace, 'route', 'add', '10.213.0.0/16', 'via', `10.213.${k}.1`);
      return { namespace, address: `10.213.${k}.2` };
    });
    const receivedBytes = (namespace: string, device = 'eth0'): number => {
      const [link] = JSON.parse(ip('-n', namespace, '-j', '-s', 'link', 'show', 'dev', device)) as { stats64: { rx: { bytes: number } } }[];
      return link!.stats64.rx.bytes;
    };
    const setLink = (namespace: string, up: boolean): void => {
      ip('-n', namespace, 'link', 'set', 'eth0', up ? 'up' : 'down');
      // a link taken down loses its routes; the address stays
      if (up) ip('-n', namespace, 'route', 'replace', '10.213.0.0/16', 'via', `10.213.${stages.findIndex((s) => s.namespace === namespace) + 1}.1`);
    };
    return { hub, stages, receivedBytes, setLink, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
