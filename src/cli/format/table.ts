// Docker's output formatting: Go's text/tabwriter as docker configures it (minwidth 10, padding 3),
// and --format handling ("table ..." with a header row, "json", or a raw Go template per item).
import { Template, unescapeFormat } from './template';

/** Go text/tabwriter with docker's settings: cells end at a tab; the text after the last tab is not aligned. */
export function tabwrite(text: string, minwidth = 10, padding = 3): string {
  const trailingNewline = text.endsWith('\n');
  const lines = (trailingNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const width = (s: string) => [...s].length;
  const out: string[] = [];
  const widths: number[] = [];
  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i];
      let s = '';
      cells.forEach((c, j) => {
        if (j < widths.length && j < cells.length - 1) s += c + ' '.repeat(Math.max(0, widths[j] - width(c)));
        else s += c;
      });
      out.push(s);
    }
  };
  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= lines[cur].length - 1) continue;
      writeLines(line0, cur);
      line0 = cur;
      let w = minwidth;
      for (; cur < line1; cur++) {
        const cells = lines[cur];
        if (column >= cells.length - 1) break;
        w = Math.max(w, width(cells[column]) + padding);
      }
      widths.push(w);
      format(line0, cur);
      widths.pop();
      line0 = cur;
      cur--;
    }
    writeLines(line0, line1);
  };
  format(0, lines.length);
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

export interface FormatSpec {
  /** The user's --format, or '' for the default. */
  format: string;
  /** The default table, e.g. 'table {{.ID}}\t{{.Image}}'. */
  defaultFormat: string;
  /** Header text per field name, as docker shows it. */
  headers: Record<string, string>;
  quiet?: boolean;
  quietFormat?: string;
}

/** Renders rows (template contexts) the way docker's formatter.Context does. */
export function renderRows(rows: object[], spec: FormatSpec): string {
  let fmt = spec.format || spec.defaultFormat;
  if (spec.quiet && !spec.format) fmt = spec.quietFormat ?? '{{.ID}}';
  if (fmt === 'json') fmt = '{{json .}}';
  fmt = unescapeFormat(fmt);
  const isTable = fmt.startsWith('table');
  if (isTable) {
    fmt = fmt.slice('table'.length).replace(/^\s+/, '');
    if (spec.quiet) fmt = spec.quietFormat ?? '{{.ID}}';
  }
  const tmpl = new Template(fmt);
  let text = '';
  if (isTable && !spec.quiet) {
    const header = tmpl.execute(headerContext(spec.headers));
    if (header.length) text += `${header}\n`;
  }
  for (const row of rows) text += `${tmpl.execute(row)}\n`;
  return isTable ? tabwrite(text) : text;
}

/** The header row's context: every field answers its header, and method fields (.Label "x") answer too. */
function headerContext(headers: Record<string, string>): object {
  return new Proxy({}, {
    get: (_t, prop: string | symbol) => {
      if (typeof prop !== 'string') return undefined;
      if (prop === 'toJSON') return undefined;
      const h = headers[prop] ?? prop.replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
      return prop === 'Label' ? () => 'LABEL' : h;
    },
  });
}
