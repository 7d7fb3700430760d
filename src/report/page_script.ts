// The script of the report page (plain ES2017, run by the browser after Chart.js): reads the
// chart specs from <script id="report-data">, draws each into its <div data-chart="id">, and
// leaves checkable traces of what happened, which the Chromium test reads:
//   data-rendered="N points" on a chart's container, set by a Chart.js plugin after the chart
//     has drawn (afterRender), N being the data points it holds;
//   window.__reportErrors: every error (a chart that failed to build, an uncaught exception);
//   <body data-charts="drawn/total" data-errors="count"> once every chart has been tried.
export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var errors = window.__reportErrors = [];
  function fail(message) {
    errors.push(message);
    document.body.setAttribute('data-errors', String(errors.length));
  }
  window.addEventListener('error', function (e) { fail('uncaught: ' + e.message); });

  function points(flat) {
    var out = [];
    for (var i = 0; i + 1 < flat.length; i += 2) out.push({ x: flat[i], y: flat[i + 1] });
    return out;
  }
  function count(chart) {
    var n = 0;
    chart.data.datasets.forEach(function (d, i) {
      if (chart.isDatasetVisible(i)) n += d.data.filter(function (v) { return v !== null; }).length;
    });
    return n;
  }
  var rendered = {
    id: 'reportRendered',
    afterRender: function (chart) {
      var box = chart.canvas.parentNode;
      box.setAttribute('data-rendered', count(chart) + ' points');
    }
  };
  // Log axes over several decades get a label per power of ten only (Chart.js would label 1, 2, 5
  // of every decade, which overlap); within a decade or two, every tick in 2 significant digits.
  function logTick(value, index, ticks) {
    var decades = Math.log10(ticks[ticks.length - 1].value / ticks[0].value);
    var power = Math.abs(Math.log10(value) - Math.round(Math.log10(value))) < 1e-9;
    if (decades > 2 && !power) return '';
    return Math.abs(value) >= 0.01 && Math.abs(value) < 1e4 ? String(Number(value.toPrecision(2))) : value.toExponential(0);
  }
  function axis(a, type) {
    var scale = { type: a.log ? 'logarithmic' : type, title: { display: true, text: a.label } };
    if (a.min !== undefined) scale.min = a.min;
    if (a.max !== undefined) scale.max = a.max;
    if (a.log) scale.ticks = { callback: logTick };
    else if (a.integer) scale.ticks = { precision: 0 };
    return scale;
  }
  function config(spec) {
    var line = spec.kind === 'line';
    var datasets = spec.series.map(function (s) {
      var d = { label: s.label, borderColor: s.colour, backgroundColor: s.colour };
      if (spec.kind === 'bar') d.data = s.values;
      else d.data = points(s.xy);
      if (line) {
        d.borderDash = s.dashed ? [6, 4] : [];
        d.pointRadius = d.data.length > 40 ? 0 : 3;
        d.borderWidth = 2;
        d.fill = false;
      }
      if (spec.kind === 'scatter') { d.pointRadius = 1.6; d.borderWidth = 0; }
      return d;
    });
    return {
      type: spec.kind,
      data: spec.kind === 'bar' ? { labels: spec.categories, datasets: datasets } : { datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: spec.kind === 'bar',
        normalized: line,
        scales: {
          x: spec.kind === 'bar' ? { type: 'category', title: { display: true, text: spec.x.label } } : axis(spec.x, 'linear'),
          y: axis(spec.y, 'linear')
        },
        plugins: {
          title: { display: true, text: spec.title },
          legend: { display: spec.legend !== false },
          tooltip: { enabled: true }
        }
      },
      plugins: [rendered]
    };
  }

  var data = JSON.parse(document.getElementById('report-data').textContent);
  var drawn = 0;
  data.charts.forEach(function (spec) {
    try {
      var box = document.querySelector('[data-chart="' + spec.id + '"]');
      if (!box) throw new Error('no container on the page');
      if (typeof Chart === 'undefined') throw new Error('Chart.js did not load');
      new Chart(box.querySelector('canvas'), config(spec));
      if (box.hasAttribute('data-rendered')) drawn++;
      else fail(spec.id + ': the chart did not draw');
    } catch (e) {
      fail(spec.id + ': ' + (e && e.message ? e.message : String(e)));
    }
  });
  document.body.setAttribute('data-charts', drawn + '/' + data.charts.length);
  document.body.setAttribute('data-errors', String(errors.length));
})();
`;
