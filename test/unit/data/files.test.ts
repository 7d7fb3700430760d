// Reading dataset files: gzip transparently, a capped decompression (a small crafted file must not
// expand into gigabytes), folder and file lookups, and a fuzz test of the gzip path into the IDX
// parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { DataError } from '../../../src/data/errors.js';
import { fileSize, findFile, gunzipBytes, isGzip, readBytes, requireDir } from '../../../src/data/files.js';
import { readIdx } from '../../../src/data/idx.js';
import { Rng } from '../../../src/tensor/rng.js';
import { idxBytes } from '../../util/idx_files.js';
import { tempDir } from '../../util/temp_dir.js';

const dir = tempDir('al-files-');

function throwsData(fn: () => unknown, file: string, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, file);
    for (const s of fragments) assert.ok(err.message.includes(s), `message lacks "${s}": ${err.message}`);
    return true;
  });
}

test('readIdx reads a gzipped file as the plain one, whatever its name', () => {
  const plain = idxBytes([2, 3], [1, 2, 3, 4, 5, 6]);
  for (const name of ['a-idx2-ubyte.gz', 'renamed-idx2-ubyte']) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, gzipSync(plain));
    const arr = readIdx(file);
    assert.deepEqual(arr.dims, [2, 3]);
    assert.deepEqual([...arr.data], [1, 2, 3, 4, 5, 6]);
  }
});

test('a gzip file that expands past the cap is refused before it is all allocated', () => {
  const bomb = path.join(dir, 'bomb.gz');
  // 4 MiB of zeros compress to about 4 kB.
  fs.writeFileSync(bomb, gzipSync(new Uint8Array(4 * 1024 * 1024)));
  assert.ok(fs.statSync(bomb).size < 10_000);
  throwsData(() => readIdx(bomb, 'hint', 1024 * 1024), bomb, 'gzip data expands to more than 1 MiB');
});

test('corrupt gzip data is a DataError naming the file', () => {
  const good = gzipSync(idxBytes([4], [1, 2, 3, 4]));
  throwsData(() => gunzipBytes(good.subarray(0, good.length - 6), 'cut.gz'), 'cut.gz', 'corrupt gzip data');
  const flipped = Uint8Array.from(good);
  flipped[12] = flipped[12]! ^ 0xff;
  throwsData(() => gunzipBytes(flipped, 'flip.gz'), 'flip.gz', 'corrupt gzip data');
  assert.ok(isGzip(good) && !isGzip(idxBytes([1], [0])) && !isGzip(new Uint8Array(1)));
});

test('findFile prefers the plain file, falls back to .gz, and names the plain path when neither exists', () => {
  const d = fs.mkdtempSync(path.join(dir, 'find-'));
  fs.writeFileSync(path.join(d, 'x.gz'), 'z');
  assert.equal(findFile(d, 'x', 'h'), path.join(d, 'x.gz'));
  fs.writeFileSync(path.join(d, 'x'), 'p');
  assert.equal(findFile(d, 'x', 'h'), path.join(d, 'x'));
  throwsData(() => findFile(d, 'y', 'get it from there'), path.join(d, 'y'), 'file not found (nor y.gz): get it from there');
  throwsData(() => requireDir(path.join(d, 'nope'), 'hint'), path.join(d, 'nope'), 'folder not found: hint');
  throwsData(() => requireDir(path.join(d, 'x'), 'hint'), path.join(d, 'x'), 'expected a folder, found a file');
});

test('fuzz: random and damaged gzip files give an IDX array or a DataError, nothing else', () => {
  const rng = new Rng(7);
  let parsed = 0;
  let rejected = 0;
  const file = path.join(dir, 'fuzz.gz');
  for (let round = 0; round < 200; round++) {
    let bytes: Uint8Array;
    if (round % 2 === 0) {
      // gzip's magic, then noise: the decompressor must reject it cleanly.
      bytes = Uint8Array.from([0x1f, 0x8b, ...Array.from({ length: rng.int(60) }, () => rng.int(256))]);
    } else {
      const n = 1 + rng.int(20);
      bytes = Uint8Array.from(gzipSync(idxBytes([n], Array.from({ length: n }, () => rng.int(256)))));
      const damage = rng.int(3);
      if (damage === 0) bytes = bytes.subarray(0, 2 + rng.int(bytes.length - 1));
      else if (damage === 1) bytes[2 + rng.int(bytes.length - 2)] = rng.int(256);
    }
    fs.writeFileSync(file, bytes);
    try {
      const arr = readIdx(file, 'hint', 1024 * 1024);
      assert.equal(arr.data.length, arr.dims.reduce((p, d) => p * d, 1));
      parsed++;
    } catch (err) {
      if (!(err instanceof DataError)) throw new Error(`round ${round}: expected a DataError, got ${String(err)}`, { cause: err });
      assert.equal(err.file, file);
      rejected++;
    }
  }
  assert.ok(parsed > 20, `parsed ${parsed}`);
  assert.ok(rejected > 100, `rejected ${rejected}`);
});

test('a named pipe, socket or folder where a data file should be is named as such, not as missing', () => {
  const sub = path.join(dir, 'special');
  fs.mkdirSync(sub);
  const fifo = path.join(sub, 'train-images-idx3-ubyte');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, 'mkfifo');
  // reading it would wait for a writer forever: refused before it is opened
  throwsData(() => findFile(sub, 'train-images-idx3-ubyte', 'hint'), fifo, 'expected a file, found a named pipe (FIFO): hint');
  throwsData(() => readBytes(fifo, 'hint'), fifo, 'expected a file, found a named pipe (FIFO)');
  throwsData(() => fileSize(fifo, 'hint'), fifo, 'expected a file, found a named pipe (FIFO)');
  throwsData(() => readBytes(sub, 'hint'), sub, 'expected a file, found a folder');
  throwsData(() => requireDir(fifo, 'hint'), fifo, 'expected a folder, found a named pipe (FIFO)');
  throwsData(() => findFile(sub, 'nothing', 'hint'), path.join(sub, 'nothing'), 'file not found (nor nothing.gz)');
});
