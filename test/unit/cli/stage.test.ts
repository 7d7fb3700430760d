import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost } from '../../../src/cli/commands/stage.js';

test('al stage warns beyond loopback: which --listen hosts stay on this machine', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', 'localhost', 'LOCALHOST']) assert.equal(isLoopbackHost(host), true, host);
  // '*' and 0.0.0.0 bind every interface; 127.evil.com is a name, not an address in 127/8
  for (const host of ['10.213.1.2', '0.0.0.0', '*', '[::]', '192.168.1.5', 'gpu-box', '127.evil.com', '1127.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});
