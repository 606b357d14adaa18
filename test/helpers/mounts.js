// Mounts as this process sees them: berthd runs in the tests' mount namespace, so its mounts show here too.
'use strict';
const fs = require('node:fs');

/** Mount points below `dir` in berthd's (and so our) mount namespace. */
function mountsUnder(dir) {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir));
}

module.exports = { mountsUnder };
