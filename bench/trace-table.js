#!/usr/bin/env node
// Prints the median of each phase from berthd's BERTH_TRACE=1 lines ("trace <kind> <id> phase=ms ... total=ms").
// Usage: node bench/trace-table.js BERTHD_LOG KIND [SINCE_LINE]  (only lines after SINCE_LINE, for one section's runs)
// Phases are listed in the order they first appear; a phase absent from some traces is counted over those it is in.
'use strict';
const fs = require('node:fs');

const [logFile, kind, sinceArg] = process.argv.slice(2);
if (!kind) { process.stderr.write('usage: trace-table.js BERTHD_LOG KIND [SINCE_LINE]\n'); process.exit(2); }
const since = Number(sinceArg ?? 0);
const lines = fs.readFileSync(logFile, 'utf8').split('\n').slice(since);
const phases = new Map();
let count = 0;
for (const line of lines) {
  const m = / trace (\S+) \S+ (.*)$/.exec(line);
  if (!m || m[1] !== kind) continue;
  count++;
  for (const part of m[2].split(' ')) {
    const [name, ms] = part.split('=');
    if (!phases.has(name)) phases.set(name, []);
    phases.get(name).push(Number(ms));
  }
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
if (count === 0) { console.log(`${kind}: no traces (was berthd started with BERTH_TRACE=1?)`); process.exit(0); }
console.log(`${kind}: phase medians over ${count} traces (ms; a phase is the time since the one before it)`);
const width = Math.max(...[...phases.keys()].map((k) => k.length));
for (const [name, xs] of phases) console.log(`  ${name.padEnd(width)}  ${median(xs).toFixed(1).padStart(7)}`);
