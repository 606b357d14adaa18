#!/usr/bin/env node
// The docker CLI plugin's executable (installed as cli-plugins/docker-compose). The CLI calls it with
// `docker-cli-plugin-metadata` on many of its own invocations, so that answer loads nothing but the version.
import type * as Model from './model';

if (process.argv[2] === 'docker-cli-plugin-metadata') {
  const { COMPOSE_VERSION } = require('./model') as typeof Model;
  process.stdout.write(`${JSON.stringify({
    SchemaVersion: '0.1.0',
    Vendor: 'Berth',
    Version: COMPOSE_VERSION,
    ShortDescription: 'Docker Compose',
    URL: 'https://github.com/berth/berth',
  }, null, 2)}\n`);
} else {
  // Node ≥ 22.1 keeps V8's compiled code of the modules between runs (measured with a hand-made cache on Node 20:
  // ~35 ms of a no-change `up`); on older Node the function is absent and this does nothing.
  (require('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  (require('./cli/program') as typeof import('./cli/program')).runAsPlugin(process.argv.slice(2));
}
