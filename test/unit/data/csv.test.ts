import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from '../../../src/data/csv.js';
import { DataError } from '../../../src/data/errors.js';

const FILE = '/data/train.csv';
const parse = (text: string) => parseCsv(text, FILE, 100);

function refuses(text: string, message: string): void {
  assert.throws(() => parse(text), (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
    assert.equal(err.file, FILE);
    assert.equal(err.message, `${FILE}: ${message}`);
    return true;
  });
}

test('the label column may be anywhere; features keep their order and become float32', () => {
  const t = parse('a,label,b\n1.5,2,-3\n0.1,0,4e2\n');
  assert.deepEqual(t.features, ['a', 'b']);
  assert.equal(t.n, 2);
  assert.deepEqual([...t.labels], [2, 0]);
  assert.ok(t.values instanceof Float32Array);
  assert.deepEqual([...t.values], [1.5, -3, Math.fround(0.1), 400]);
  assert.deepEqual([...t.lines], [2, 3]);
});

test('CRLF line ends, a byte-order mark, blank lines, spaces around cells, quoted cells and a last line without newline', () => {
  const t = parse('\ufeff"x 1", label ,"y"\r\n\r\n 1 ,"3", "+.5" \r\n  \r\n-2.,1,1E-3');
  assert.deepEqual(t.features, ['x 1', 'y']);
  assert.deepEqual([...t.labels], [3, 1]);
  assert.deepEqual([...t.values], [1, 0.5, -2, Math.fround(1e-3)]);
  // line numbers count the blank lines, as an editor shows them
  assert.deepEqual([...t.lines], [3, 5]);
  // "" inside quotes is a quote; it then is not a number
  refuses('label,x\n1,"2"""\n', "line 2, column 'x': '2\"' is not a number");
  // an integral label written as a float is that integer
  assert.deepEqual([...parse('x,label\n1,3.0\n').labels], [3]);
});

test('a header without a label column names the columns, and hints at the usual causes', () => {
  refuses('a,b\n1,2\n', "line 1: no 'label' column in the header ('a', 'b')");
  refuses('a,Label\n1,2\n', "line 1: no 'label' column in the header ('a', 'Label') (there is 'Label': the name is lower-case 'label')");
  refuses('a;b;label\n1;2;0\n', "line 1: no 'label' column in the header ('a;b;label') (the header has one column: are the cells separated by something else than commas?)");
  refuses('label,a,label\n1,2,3\n', "line 1: the header has more than one 'label' column");
  refuses('label\n1\n', "line 1: the header has only the 'label' column: expected at least one feature column beside it");
  refuses('', "empty file: expected a header row with a 'label' column, then one sample per row");
  refuses('\n \n', "empty file: expected a header row with a 'label' column, then one sample per row");
  refuses('a,label\n\n', 'no data rows after the header (line 1): expected one sample per row');
});

test('a ragged row, a non-numeric or empty cell and an unterminated quote name the line and the column', () => {
  refuses('a,b,label\n1,2,0\n1,2\n', 'line 3: 2 cells, expected 3 as in the header (line 1)');
  refuses('a,b,label\n1,2,0,5\n', 'line 2: 4 cells, expected 3 as in the header (line 1)');
  refuses('a,b,label\n1,two,0\n', "line 2, column 'b': 'two' is not a number");
  refuses('a,b,label\n1,0x1f,0\n', "line 2, column 'b': '0x1f' is not a number");
  refuses('a,b,label\n1,Infinity,0\n', "line 2, column 'b': 'Infinity' is not a number");
  refuses('a,b,label\n1,nan,0\n', "line 2, column 'b': 'nan' is not a number");
  refuses('a,b,label\n1,1e999,0\n', "line 2, column 'b': 1e999 is out of range");
  refuses('a,b,label\n1, ,0\n', "line 2, column 'b': empty cell: expected a number (missing values are not supported: fill or drop them)");
  refuses('a,b,label\n1,"2,0\n', 'line 2: unterminated quoted cell (a quoted cell cannot span lines)');
  refuses(`a,label\n${'9'.repeat(50)}x,1\n`, `line 2, column 'a': '${'9'.repeat(40)}...' is not a number`);
});

test('labels must be integers from 0 to maxClasses - 1', () => {
  refuses('a,label\n1,1.5\n', "line 2, column 'label': label 1.5: expected a class number 0..99 (labels are 0..C-1 for C classes)");
  refuses('a,label\n1,0\n1,-1\n', "line 3, column 'label': label -1: expected a class number 0..99 (labels are 0..C-1 for C classes)");
  refuses('a,label\n1,100\n', "line 2, column 'label': label 100: expected a class number 0..99 (labels are 0..C-1 for C classes)");
  refuses('a,label\n1,cat\n', "line 2, column 'label': 'cat' is not a number");
  assert.deepEqual([...parse('a,label\n1,99\n').labels], [99]);
});
