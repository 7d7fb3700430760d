import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefusalLog, printable } from '../../../../src/pipeline/runtime/peer_log.js';
import { generateKeys, isLoopbackHost, z85Decode, z85Encode } from '../../../../src/pipeline/runtime/curve.js';

test('printable escapes controls, DEL, C1 and line or direction characters, and cuts long text', () => {
  assert.equal(printable('ok\n\u001b[31mred\u0007\u007f\u0085\u2028\u202e!'), 'ok\\u000a\\u001b[31mred\\u0007\\u007f\\u0085\\u2028\\u202e!');
  assert.equal(printable('é ünïcode, "quotes"'), 'é ünïcode, "quotes"');
  assert.equal(printable('x'.repeat(10), 4), 'xxxx…');
});

test('RefusalLog: once per peer and kind, at most perMinute lines a minute, the rest counted into the next line', () => {
  const lines: string[] = [];
  let now = 0;
  const log = new RefusalLog((l) => lines.push(l), 2, () => now);
  log.refuse('a', 'key', 'refused a\n');
  log.refuse('a', 'key', 'refused a again');
  log.refuse('b', 'key', 'refused b');
  log.refuse('c', 'key', 'refused c');
  assert.deepEqual(lines, ['refused a\\u000a', 'refused b (and 1 refusal not logged since the previous line)']);
  now = 60_000;
  log.refuse('d', 'token', 'refused d');
  log.refuse('a', 'token', 'refused a: another kind');
  assert.deepEqual(lines.slice(2), ['refused d (and 1 refusal not logged since the previous line)', 'refused a: another kind']);
});

test('Z85 keys round-trip through the 32 bytes ZAP hands over; loopback hosts', () => {
  const { publicKey } = generateKeys();
  assert.equal(z85Decode(publicKey).length, 32);
  assert.equal(z85Encode(z85Decode(publicKey)), publicKey);
  assert.throws(() => z85Decode('short'), /expected a 40-character Z85 key, got 5 characters/);
  for (const host of ['127.0.0.1', '127.1.2.3', '[::1]', 'localhost']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['10.0.0.1', '0.0.0.0', '*', '127.evil.com']) assert.equal(isLoopbackHost(host), false, host);
});
