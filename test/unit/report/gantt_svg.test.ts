// Gantt SVG and utilisation: numbers on a hand-made trace, a well-formed document with one rect
// per interval, measured traces in ms from any clock origin.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ganttSvg } from '../../../src/report/gantt_svg.js';
import { utilisation, type GanttInterval } from '../../../src/pipeline/plan/utilisation.js';
import { simulate } from '../../../src/pipeline/plan/simulator.js';

/**
 * A small well-formedness check: tags balance and nest, attributes are quoted, and text holds
 * no raw '<' or stray '&'. Returns the element names in document order.
 */
function checkXml(svg: string): string[] {
  const body = svg.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const names: string[] = [];
  let at = 0;
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const text = body.slice(at, match.index);
    assert.ok(!text.includes('<'), `malformed tag near: ${text.slice(text.indexOf('<'), text.indexOf('<') + 40)}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(text), `stray '&' in: ${text}`);
    at = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else {
      names.push(name!);
      if (!selfClosing) stack.push(name!);
    }
  }
  assert.equal(body.slice(at).trim(), '', 'nothing after the root element');
  assert.deepEqual(stack, [], 'every element is closed');
  assert.equal(names[0], 'svg');
  return names;
}

const rects = (svg: string, cls: string): number => svg.split(`<rect class="${cls}"`).length - 1;

test('utilisation on a hand-made trace: per-stage busy share and the bubble', () => {
  const trace: GanttInterval[] = [
    { stage: 0, batch: 0, kind: 'forward', start: 0, end: 2 },
    { stage: 0, batch: 1, kind: 'forward', start: 3, end: 4 },
    { stage: 1, batch: 0, kind: 'backward', start: 1, end: 4 },
  ];
  const u = utilisation(trace, 3);
  assert.equal(u.span, 4);
  assert.deepEqual(u.busy, [3, 3, 0]);
  assert.deepEqual(u.perStage, [0.75, 0.75, 0]);
  assert.equal(u.bubble, 1 - 6 / 12);
  // Without the idle third stage the count comes from the trace.
  assert.deepEqual(utilisation(trace).perStage, [0.75, 0.75]);
  assert.equal(utilisation(trace).bubble, 0.25);
});

test('utilisation of a measured trace: any clock origin, overlapping intervals counted once', () => {
  const trace: GanttInterval[] = [
    { stage: 0, batch: 0, kind: 'step', start: 1000, end: 1010 },
    { stage: 0, batch: 1, kind: 'step', start: 1005, end: 1020 },
    { stage: 0, batch: 2, kind: 'step', start: 1020, end: 1030 },
    { stage: 1, batch: 0, kind: 'step', start: 1010, end: 1040 },
  ];
  const u = utilisation(trace);
  assert.equal(u.span, 40);
  assert.deepEqual(u.busy, [30, 30]);
  assert.deepEqual(u.perStage, [0.75, 0.75]);
  assert.deepEqual(utilisation([]), { perStage: [], busy: [], span: 0, bubble: 0 });
  assert.throws(() => utilisation([{ stage: 0, batch: 0, kind: 'step', start: 5, end: 4 }]), /end >= start, got stage 0 \[5, 4\]/);
});

test('GPipe K = M = 4 as a chart: well-formed, one rect per interval, 60 % busy everywhere', () => {
  const s = simulate({ schedule: 'gpipe', layers: 4, microBatches: 4, batches: 1 });
  const svg = ganttSvg(s.intervals, { title: 'GPipe <K=4, M=4> & flush', stageLabels: s.stageLabels });
  const names = checkXml(svg);
  assert.equal(rects(svg, 'interval'), 36);
  assert.equal(names.filter((n) => n === 'title').length, 36, 'a tooltip per interval');
  assert.equal(rects(svg, 'row'), 4);
  assert.match(svg, /GPipe &lt;K=4, M=4&gt; &amp; flush/);
  assert.equal((svg.match(/>60%</g) ?? []).length, 4);
  assert.match(svg, /bubble 40\.0%/);
  // Legend: the kinds present, and no others.
  assert.equal(rects(svg, 'legend'), 3);
  for (const kind of ['forward', 'backward', 'update']) assert.match(svg, new RegExp(`>${kind}</text>`));
  assert.doesNotMatch(svg, />step</);
  // Micro-batch labels (batch.micro, counted from 1) fit in a unit-wide rect at 960 px.
  assert.match(svg, />1\.4</);
  // Axis: ticks 0 … 15 in whole units.
  assert.match(svg, />0<\/text>/);
  assert.match(svg, />time \(units\)</);
});

test('a measured trace in ms: axis from the earliest interval, labels dropped when they do not fit', () => {
  const trace: GanttInterval[] = [
    { stage: 0, batch: 0, kind: 'step', start: 5000, end: 5400 },
    { stage: 1, batch: 0, kind: 'step', start: 5400, end: 5800 },
    { stage: 0, batch: 1, kind: 'step', start: 5400, end: 5401 },
  ];
  const svg = ganttSvg(trace, { title: 'measured', unit: 'ms', width: 600 });
  checkXml(svg);
  assert.equal(rects(svg, 'interval'), 3);
  assert.match(svg, />time \(ms\)</);
  assert.match(svg, /span 800 ms/);
  assert.match(svg, /S1: step, batch 1, 0–400 ms/);
  // Batch 1 (shown as 1) is labelled; the 1 ms interval of batch 2 is too thin for its label.
  assert.equal((svg.match(/fill="#ffffff">1</g) ?? []).length, 2);
  assert.equal((svg.match(/fill="#ffffff">2</g) ?? []).length, 0);
  assert.doesNotMatch(svg, />5000</, 'ticks count from the first interval');
});

test('an empty trace still draws a valid chart', () => {
  const svg = ganttSvg([], { title: 'nothing', stageLabels: ['a', 'b'] });
  checkXml(svg);
  assert.equal(rects(svg, 'interval'), 0);
  assert.equal(rects(svg, 'row'), 2);
});
