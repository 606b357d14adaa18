#!/usr/bin/env node
// Measures the CPU time that groups of processes use over one fixed wall-clock window.
// Usage: node bench/cpu.js SECONDS --group LABEL SELECTORS... [--group LABEL SELECTORS...]...
//   SELECTORS as in bench/rss.js: --pid PID, or --exe NAME --cmdline-has TEXT
// Prints { wall_s, groups: { LABEL: { count, cpu_s, pct, pids } } }; pct = CPU seconds / wall seconds * 100
// (100 = one CPU busy all the window).
// CPU time is utime+stime of each process from /proc/<pid>/stat, plus cutime+cstime: the children it reaped, so a
// daemon that spawns a helper (crun, runc) per request pays for it. The processes are picked at the start and again
// at the end; one that appears during the window counts from 0, one that ends during it is lost (its parent's
// cutime gets it only if the parent is in the group).
'use strict';
const { execFileSync } = require('node:child_process');
const { read, parseSelectors, selectPids } = require('./procs');

const argv = process.argv.slice(2);
const seconds = Number(argv[0]);
const groups = [];
for (let i = 1; i < argv.length;) {
  if (argv[i] !== '--group' || !argv[i + 1]) { process.stderr.write(`cpu.js: bad argument ${argv[i]}\n`); process.exit(2); }
  const sel = parseSelectors(argv, i + 2);
  groups.push({ label: argv[i + 1], sel });
  i = sel.next;
}
if (!(seconds > 0) || groups.length === 0) { process.stderr.write('usage: cpu.js SECONDS --group LABEL SELECTORS...\n'); process.exit(2); }
const HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime+stime+cutime+cstime in clock ticks, or undefined if the process is gone. */
function ticks(pid) {
  const s = read(`/proc/${pid}/stat`);
  if (!s) return undefined;
  const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state); utime is field 14
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}
const snapshot = () => groups.map((g) => {
  const m = new Map();
  for (const pid of selectPids(g.sel)) { const t = ticks(pid); if (t !== undefined) m.set(pid, t); }
  return m;
});

const before = snapshot();
const t0 = process.hrtime.bigint();
setTimeout(() => {
  // Re-pick first, then read every tick as close to the end of the window as possible.
  const pidsAfter = groups.map((g) => selectPids(g.sel));
  const ends = pidsAfter.map((ps) => new Map([...ps].map((p) => [p, ticks(p)])));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const out = { wall_s: Math.round(wall * 1000) / 1000, groups: {} };
  groups.forEach((g, k) => {
    let used = 0;
    const pids = [];
    for (const [pid, end] of ends[k]) {
      if (end === undefined) continue;
      used += end - (before[k].get(pid) ?? 0);
      pids.push(pid);
    }
    const cpu = used / HZ;
    out.groups[g.label] = { count: pids.length, cpu_s: Math.round(cpu * 1000) / 1000, pct: Math.round((cpu / wall) * 1000) / 10, pids };
  });
  process.stdout.write(`${JSON.stringify(out)}\n`);
}, seconds * 1000);
