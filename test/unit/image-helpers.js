'use strict';
// Shared by the image tests: builds tar archives in memory with tar-stream. (No tests here.)
const tar = require('tar-stream');

/** A tar from [{name, type, data, linkname, mode, uid, gid, mtime, devmajor, devminor}]; regular files by default. */
async function makeTar(entries, defaults = {}) {
  const pack = tar.pack();
  const chunks = [];
  pack.on('data', (c) => chunks.push(c));
  const done = new Promise((resolve) => pack.on('end', resolve));
  for (const e of entries) {
    const header = { mode: 0o644, mtime: new Date(0), type: 'file', ...defaults, ...e };
    delete header.data;
    await new Promise((resolve, reject) => pack.entry(header, e.data ?? (header.type === 'file' ? '' : undefined), (err) => (err ? reject(err) : resolve())));
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

module.exports = { makeTar };
