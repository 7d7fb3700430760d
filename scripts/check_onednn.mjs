// Runs before node-gyp at install: a missing oneDNN gets one clear sentence, not a page of
// compiler errors.
import { existsSync } from 'node:fs';

const header = ['/usr/include/oneapi/dnnl/dnnl.hpp', '/usr/local/include/oneapi/dnnl/dnnl.hpp'];
if (!header.some((path) => existsSync(path))) {
  console.error(
    'associated-learning: oneDNN was not found (looked for ' + header.join(', ') + ').\n' +
    '  Install it with:  sudo apt-get install -y libdnnl-dev\n' +
    '  (or run scripts/setup.sh, which installs every system package the project needs).',
  );
  process.exit(1);
}
