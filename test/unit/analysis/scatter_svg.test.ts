// Scatter plots of embeddings: distinct colours for 1..100 classes, one circle per point at the
// coordinates an equal-scale mapping puts it (y up), a legend entry per class, and bad input
// named by point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classColours, hslToHex, scatterSvg } from '../../../src/analysis/scatter_svg.js';

const circles = (svg: string): { cx: number; cy: number; fill: string }[] =>
  [...svg.matchAll(/<circle class="point" cx="([-\d.]+)" cy="([-\d.]+)" r="[\d.]+" fill="(#[0-9a-f]{6})"\/>/g)].map((m) => ({ cx: Number(m[1]), cy: Number(m[2]), fill: m[3]! }));

test('hslToHex: the primaries, grey and a mixed hue', () => {
  assert.equal(hslToHex(0, 1, 0.5), '#ff0000');
  assert.equal(hslToHex(120, 1, 0.5), '#00ff00');
  assert.equal(hslToHex(240, 1, 0.5), '#0000ff');
  assert.equal(hslToHex(360 + 60, 1, 0.5), '#ffff00');
  assert.equal(hslToHex(200, 0, 0.5), '#808080');
  assert.equal(hslToHex(30, 1, 0.25), '#804000');
});

test('classColours: all different, as #rrggbb, for every class count up to 100 (CIFAR-100)', () => {
  for (const classes of [1, 2, 10, 11, 20, 21, 100]) {
    const colours = classColours(classes);
    assert.equal(colours.length, classes);
    assert.ok(colours.every((c) => /^#[0-9a-f]{6}$/.test(c)), `${classes}: ${colours.join(' ')}`);
    assert.equal(new Set(colours).size, classes, `${classes} classes, distinct colours`);
  }
  assert.deepEqual(classColours(20).slice(0, 10), classColours(10), 'the first ten stay when there are more classes');
  assert.throws(() => classColours(0), /classColours: expected an integer >= 1 for classes, got 0/);
});

test('scatterSvg: a circle per point in the given order, on one scale for both axes with y up, coloured by class', () => {
  // x spans 4, y spans 2: the scale is set by x, the points centred vertically
  const points = [0, 0, 4, 0, 2, 2, 2, 1];
  const labels = [0, 1, 2, 1];
  const svg = scatterSvg(points, labels, { title: 'a <title> & more', subtitle: ['first line', 'second'], size: 216 });
  assert.match(svg, /^<\?xml[^>]*>\s*<svg [^>]*>[\s\S]*<\/svg>\n$/);
  assert.match(svg, /a &lt;title&gt; &amp; more/);
  assert.match(svg, /first line<\/text>\n<text [^>]*>second</);
  const c = circles(svg);
  assert.equal(c.length, 4);
  const colours = classColours(3);
  assert.deepEqual(c.map((p) => p.fill), [colours[0], colours[1], colours[2], colours[1]]);
  const scale = (c[1]!.cx - c[0]!.cx) / 4;
  assert.ok(Math.abs(scale - (216 - 24) / 4) < 0.1, `plot width / x span, got ${scale}`);
  assert.equal(c[0]!.cy, c[1]!.cy);
  assert.ok(Math.abs(c[0]!.cy - c[2]!.cy - 2 * scale) < 0.2, 'y = 2 is 2 units above y = 0 (SVG y grows downwards)');
  assert.ok(Math.abs(c[3]!.cx - c[2]!.cx) < 0.1 && Math.abs(c[3]!.cy - (c[0]!.cy + c[2]!.cy) / 2) < 0.1);
  assert.equal(svg.split('<rect class="legend"').length - 1, 3, 'a legend entry per class');
});

test('scatterSvg: classes without points still get a legend entry; names replace numbers', () => {
  const svg = scatterSvg([0, 0, 1, 1], [0, 0], { title: 't', classes: 100, classNames: ['zero'] });
  assert.equal(svg.split('<rect class="legend"').length - 1, 100);
  assert.match(svg, />zero<\/text>/);
  assert.match(svg, />99<\/text>/);
  assert.equal(circles(svg).length, 2);
  assert.equal(circles(scatterSvg([5, 5], [0], { title: 'one point' })).length, 1, 'a single point: no span, no division by zero');
});

test('scatterSvg: bad input named by point', () => {
  assert.throws(() => scatterSvg([0, 0, 1], [0, 1], { title: 't' }), /scatterSvg: expected 2 × 2 coordinates for points \(one x, y pair per label\), got 3/);
  assert.throws(() => scatterSvg([0, 0, 1, 1], [0, 3], { title: 't', classes: 3 }), /expected labels 0\.\.2, got 3 at point 1/);
  assert.throws(() => scatterSvg([0, 0, 1, Number.NaN], [0, 1], { title: 't' }), /expected finite coordinates, got \(1, NaN\) at point 1/);
});
