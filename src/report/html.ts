// Small HTML helpers: every string from outside (run names, paths, settings, layer names) goes
// through escapeHtml; data for the page's script goes through scriptJson.

/** Text or an attribute value, safe inside HTML (quotes escaped for attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * JSON for a <script type="application/json"> element: '<' written as \u003c, so no value can
 * close the element ("</script>") or open a comment; U+2028/2029 escaped for older parsers.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A table: `header` and `rows` are plain text (escaped here); `numeric` columns align right. */
export function htmlTable(header: readonly string[], rows: readonly (readonly string[])[], options: { numeric?: readonly number[]; caption?: string; className?: string } = {}): string {
  const numeric = new Set(options.numeric ?? []);
  const cell = (tag: 'th' | 'td', text: string, c: number): string => `<${tag}${numeric.has(c) ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
  return [
    `<table${options.className ? ` class="${escapeHtml(options.className)}"` : ''}>`,
    ...(options.caption ? [`<caption>${escapeHtml(options.caption)}</caption>`] : []),
    `<thead><tr>${header.map((h, c) => cell('th', h, c)).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((x, c) => cell('td', x, c)).join('')}</tr>`).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

// ***** number formats *****

export const percent = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(digits)}%`);
export const scientific = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toExponential(3));
export const fixed = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));
export const whole = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Math.round(x).toLocaleString('en-US'));
/** Distances: 3 decimals in the usual range, scientific notation outside it. */
export const distance = (x: number | null | undefined): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : x !== 0 && (Math.abs(x) < 0.01 || Math.abs(x) >= 1e5) ? x.toExponential(2) : x.toFixed(3);
