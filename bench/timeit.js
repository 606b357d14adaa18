#!/usr/bin/env node
// Times commands interleaved: warm-up, then N rounds that each run every contender once, in a rotated order.
// Usage: node bench/timeit.js SPEC.json > RESULTS.json
// SPEC: { "warmup": 5, "runs": 40, "contenders": [{ "name": "…", "argv": ["…"], "env": { "K": "V" } }] }
// RESULTS: { "<name>": { n, failures, median, p90, mean, min, max } | { error } }, times in milliseconds.
// A contender that fails during warm-up, or in more than a tenth of its runs, is reported with `error` and no
// figures, so one broken peer never stops the others from being measured.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const warmup = spec.warmup ?? 5;
const runs = spec.runs ?? 40;
const contenders = spec.contenders.map((c) => ({ ...c, times: [], failures: 0, error: undefined, lastErr: '' }));

/** Runs one command and returns its wall time in ms, or throws with its stderr. */
function once(c) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.argv[0], c.argv.slice(1), {
    env: { ...process.env, ...(c.env ?? {}) }, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000, maxBuffer: 1 << 20,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`${why}: ${(r.stderr || '').toString().trim().split('\n').slice(-3).join(' | ')}`);
  }
  return ms;
}

const active = () => contenders.filter((c) => !c.error);

for (let i = 0; i < warmup; i++) {
  for (const c of active()) {
    try { once(c); } catch (e) { c.error = `warm-up failed: ${e.message}`; process.stderr.write(`  ${c.name}: ${c.error}\n`); }
  }
}

for (let round = 0; round < runs; round++) {
  const list = active();
  // Rotate the order each round so no contender always runs right after the same neighbour.
  const order = list.map((_, k) => list[(k + round) % list.length]);
  for (const c of order) {
    try {
      c.times.push(once(c));
    } catch (e) {
      c.failures++;
      c.lastErr = e.message;
      if (c.failures > Math.max(1, runs / 10)) {
        c.error = `failed ${c.failures} of ${round + 1} runs: ${c.lastErr}`;
        process.stderr.write(`  ${c.name}: ${c.error}\n`);
      }
    }
  }
  process.stderr.write(round % 10 === 9 ? `${round + 1}` : '.');
}
process.stderr.write('\n');

const pct = (sorted, p) => {
  // Nearest-rank percentile: the smallest value with at least p% of the samples at or below it.
  const k = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[k];
};
const out = {};
for (const c of contenders) {
  if (c.error || c.times.length === 0) { out[c.name] = { error: c.error ?? 'no successful run' }; continue; }
  const s = [...c.times].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  out[c.name] = {
    n: s.length, failures: c.failures, median: round(pct(s, 50)), p90: round(pct(s, 90)),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length), min: round(s[0]), max: round(s[s.length - 1]),
    ...(c.failures ? { lastError: c.lastErr } : {}),
  };
}
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
