// Small tars in memory for client tests: files to a tar stream (a build context, a putArchive body) and back.
'use strict';
const tarStream = require('tar-stream');

/** A tar of the given files, as a readable stream (what dockerode's buildImage and putArchive take). */
function tarOf(files) {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  return pack;
}

/** Reads a stream to its end into one Buffer. */
async function readAll(stream) {
  const chunks = [];
  for await (const c of stream) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The entries of a tar buffer: name → content ('' for directories). */
async function untar(buf) {
  const extract = tarStream.extract();
  const files = {};
  const done = (async () => {
    for await (const entry of extract) files[entry.header.name] = (await readAll(entry)).toString();
  })();
  extract.end(buf);
  await done;
  return files;
}

module.exports = { tarOf, readAll, untar };
