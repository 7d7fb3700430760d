// A CSV table of samples: a header row naming the columns, one of them `label` (an integer class
// 0..C-1), the others numeric features, then one sample per row. Commas separate cells; a cell may
// be double-quoted ("" inside quotes is a quote), as spreadsheets write them. Blank lines are
// skipped, as pandas does. Every error names the file and the line, and the column when it is one
// cell's fault.

import { DataError } from './errors.js';

export interface CsvTable {
  /** The feature columns' names, in file order (the label column left out). */
  features: string[];
  /** n x features.length values, row-major, as float32. */
  values: Float32Array;
  labels: Int32Array;
  n: number;
  /** The 1-based line number of each sample, for errors found later (a test label outside the classes). */
  lines: Int32Array;
}

export const LABEL_COLUMN = 'label';

// Decimal numbers only: Number() would also take '', ' ', '0x1f' and 'Infinity'.
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses CSV text; labels must be integers 0..maxClasses-1. Any defect throws a DataError naming `file`. */
export function parseCsv(text: string, file: string, maxClasses: number): CsvTable {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark, as Excel writes
  const lines = text.split('\n');
  let lineNo = 0;
  const next = (): string[] | undefined => {
    while (lineNo < lines.length) {
      const line = lines[lineNo++]!.replace(/\r$/, '');
      if (line.trim() !== '') return cells(line, file, lineNo);
    }
    return undefined;
  };

  const header = next();
  if (header === undefined) throw new DataError(file, `empty file: expected a header row with a '${LABEL_COLUMN}' column, then one sample per row`);
  const headerLine = lineNo;
  const names = header.map((h) => h.trim());
  const labelAt = names.indexOf(LABEL_COLUMN);
  if (labelAt < 0) {
    const near = names.find((n) => n.toLowerCase() === LABEL_COLUMN);
    const hint = near !== undefined ? ` (there is '${near}': the name is lower-case '${LABEL_COLUMN}')`
      : names.length === 1 && /[;\t]/.test(names[0]!) ? ' (the header has one column: are the cells separated by something else than commas?)' : '';
    throw new DataError(file, `line ${headerLine}: no '${LABEL_COLUMN}' column in the header (${names.map((n) => `'${n}'`).join(', ')})${hint}`);
  }
  if (names.indexOf(LABEL_COLUMN, labelAt + 1) >= 0) throw new DataError(file, `line ${headerLine}: the header has more than one '${LABEL_COLUMN}' column`);
  const width = names.length;
  if (width < 2) throw new DataError(file, `line ${headerLine}: the header has only the '${LABEL_COLUMN}' column: expected at least one feature column beside it`);
  const features = names.filter((_, i) => i !== labelAt);

  const values: number[] = [];
  const labels: number[] = [];
  const lineNumbers: number[] = [];
  for (let row = next(); row !== undefined; row = next()) {
    if (row.length !== width) {
      throw new DataError(file, `line ${lineNo}: ${row.length} cells, expected ${width} as in the header (line ${headerLine})`);
    }
    for (let c = 0; c < width; c++) {
      const cell = row[c]!.trim();
      const where = `line ${lineNo}, column '${names[c]}'`;
      if (cell === '') throw new DataError(file, `${where}: empty cell: expected a number (missing values are not supported: fill or drop them)`);
      if (!NUMBER.test(cell)) throw new DataError(file, `${where}: '${cell.length > 40 ? cell.slice(0, 40) + '...' : cell}' is not a number`);
      const v = Number(cell);
      if (c === labelAt) {
        if (!Number.isInteger(v) || v < 0 || v >= maxClasses) {
          throw new DataError(file, `${where}: label ${cell}: expected a class number 0..${maxClasses - 1} (labels are 0..C-1 for C classes)`);
        }
        labels.push(v);
      } else {
        if (!Number.isFinite(v)) throw new DataError(file, `${where}: ${cell} is out of range`);
        values.push(v);
      }
    }
    lineNumbers.push(lineNo);
  }
  if (labels.length === 0) throw new DataError(file, `no data rows after the header (line ${headerLine}): expected one sample per row`);
  return {
    features,
    values: Float32Array.from(values),
    labels: Int32Array.from(labels),
    n: labels.length,
    lines: Int32Array.from(lineNumbers),
  };
}

/** One line's cells: split at commas outside double quotes. */
function cells(line: string, file: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; }
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cell); cell = ''; }
    else cell += ch;
  }
  if (quoted) throw new DataError(file, `line ${lineNo}: unterminated quoted cell (a quoted cell cannot span lines)`);
  out.push(cell);
  return out;
}
