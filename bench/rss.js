#!/usr/bin/env node
// Sums resident memory (VmRSS from /proc/<pid>/status) over a set of processes and prints { count, kib, pids }.
// Usage: node bench/rss.js [--pid PID]... [--exe NAME --cmdline-has TEXT]...
//   --pid PID                  that process
//   --exe NAME --cmdline-has T every process whose executable is named NAME and whose command line contains T
//                              (how the bench finds the conmons of its own berthd, or the shims of its own containerd)
'use strict';
const { read, parseSelectors, selectPids } = require('./procs');

const argv = process.argv.slice(2);
const sel = parseSelectors(argv);
if (sel.next < argv.length) { process.stderr.write(`rss.js: bad argument ${argv[sel.next]}\n`); process.exit(2); }

let kib = 0;
const found = [];
for (const pid of selectPids(sel)) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`) ?? '');
  if (!m) continue; // gone, or a kernel thread
  kib += Number(m[1]);
  found.push(pid);
}
process.stdout.write(`${JSON.stringify({ count: found.length, kib, pids: found })}\n`);
