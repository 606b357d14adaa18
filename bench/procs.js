// Picks processes for bench/rss.js and bench/cpu.js: by PID, or by executable name plus a piece of the command line.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const read = (f) => { try { return fs.readFileSync(f, 'utf8'); } catch { return undefined; } };

/**
 * Parses selectors from argv[i..] until an argument that is not one (or the end).
 *   --pid PID                  that process
 *   --exe NAME --cmdline-has T every process whose executable is named NAME and whose command line contains T
 * Returns { pids: Set<number>, matchers: [{ exe, has }], next } where next is the index of the first unparsed argument.
 */
function parseSelectors(argv, i = 0) {
  const pids = new Set();
  const matchers = [];
  for (; i < argv.length; i++) {
    if (argv[i] === '--pid') pids.add(Number(argv[++i]));
    else if (argv[i] === '--exe' && argv[i + 2] === '--cmdline-has') { matchers.push({ exe: argv[i + 1], has: argv[i + 3] }); i += 3; }
    else break;
  }
  return { pids, matchers, next: i };
}

/** The PIDs a parsed selector names right now (PIDs given directly are kept even if gone; readers skip those). */
function selectPids({ pids, matchers }) {
  const out = new Set(pids);
  if (matchers.length) {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      let exe;
      try { exe = path.basename(fs.readlinkSync(`/proc/${name}/exe`)); } catch { continue; }
      const cmdline = (read(`/proc/${name}/cmdline`) ?? '').split('\0').join(' ');
      if (matchers.some((m) => exe === m.exe && cmdline.includes(m.has))) out.add(Number(name));
    }
  }
  return out;
}

module.exports = { read, parseSelectors, selectPids };
