#!/usr/bin/env node
// Sums resident memory (VmRSS from /proc/<pid>/status) over a set of processes and prints { count, kib, pids }.
// Usage: node bench/rss.js [--pid PID]... [--exe NAME --cmdline-has TEXT]...
//   --pid PID                  that process
//   --exe NAME --cmdline-has T every process whose executable is named NAME and whose command line contains T
//                              (how the bench finds the conmons of its own berthd, or the shims of its own containerd)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pids = new Set();
const matchers = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--pid') pids.add(Number(argv[++i]));
  else if (argv[i] === '--exe' && argv[i + 2] === '--cmdline-has') { matchers.push({ exe: argv[i + 1], has: argv[i + 3] }); i += 3; }
  else { process.stderr.write(`rss.js: bad argument ${argv[i]}\n`); process.exit(2); }
}

const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return undefined; } };

if (matchers.length) {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let exe;
    try { exe = path.basename(fs.readlinkSync(`/proc/${name}/exe`)); } catch { continue; }
    const cmdline = (read(`/proc/${name}/cmdline`) ?? '').split('\0').join(' ');
    if (matchers.some((m) => exe === m.exe && cmdline.includes(m.has))) pids.add(Number(name));
  }
}

let kib = 0;
const found = [];
for (const pid of pids) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(read(`/proc/${pid}/status`) ?? '');
  if (!m) continue; // gone, or a kernel thread
  kib += Number(m[1]);
  found.push(pid);
}
process.stdout.write(`${JSON.stringify({ count: found.length, kib, pids: found })}\n`);
