// Windowed rendering's arithmetic: which rows of a long list of fixed-height rows are on screen, so 1,000
// containers cost the DOM only the rows in view.

/** The half-open range [start, end) of rows to render, with `overscan` rows either side to hide scrolling's seams. */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan = 8): { start: number; end: number } {
  if (total <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(total, first) - overscan);
  const end = Math.min(total, first + shown + overscan);
  return { start, end };
}
