// The report's stylesheet: a readable single column, charts in a responsive grid, t-SNE runs in
// side-by-side columns, the measured and simulated Gantt charts beside each other when there is
// room, and tables that print.
export const PAGE_STYLE = `
:root { color-scheme: light; --ink: #222; --muted: #666; --rule: #ddd; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #fafafa; }
header { padding: 16px 24px 8px; background: #fff; border-bottom: 1px solid var(--rule); }
h1 { font-size: 20px; margin: 0 0 6px; overflow-wrap: anywhere; }
nav a { color: #2a5d8f; text-decoration: none; }
main { padding: 0 24px 32px; max-width: 1600px; }
section { margin-top: 28px; }
h2 { font-size: 17px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 4px; overflow-wrap: anywhere; }
p.none, p.note { color: var(--muted); }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
.columns { display: grid; grid-template-columns: repeat(var(--columns), minmax(300px, 1fr)); gap: 16px; overflow-x: auto; }
figure.chart { position: relative; height: 320px; margin: 0; padding: 8px; background: #fff; border: 1px solid var(--rule); border-radius: 4px; }
figure.chart.square { height: 380px; margin-bottom: 12px; }
.gantt-pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px; margin: 8px 0 16px; }
.gantt { background: #fff; border: 1px solid var(--rule); border-radius: 4px; padding: 4px; overflow-x: auto; }
.gantt svg { width: 100%; height: auto; display: block; }
.tables { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.tables > div { max-width: 720px; }
.single { width: 480px; }
table { border-collapse: collapse; background: #fff; margin: 8px 0; }
caption { text-align: left; font-weight: 600; padding: 4px 0; overflow-wrap: anywhere; }
th, td { border: 1px solid var(--rule); padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
@media print { figure.chart, .gantt { break-inside: avoid; } }
`;
