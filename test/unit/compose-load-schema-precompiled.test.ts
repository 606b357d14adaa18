// The build's precompiled compose-spec validator (ajv standalone code) gives the same verdicts and the same
// errors as the schema compiled at run time, so the loader's messages do not depend on how it was built.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { AJV_OPTIONS, composeSchema, schemaDigest, type PrecompiledValidator } from '../../src/compose/load/schema';
import { validatorModule } from '../../src/tools/compose-schema-validator';

const DOCUMENTS: unknown[] = [
  { services: { web: { image: 'busybox', ports: ['8080:80'], networks: ['front'], volumes: ['data:/data'] } }, networks: { front: {} }, volumes: { data: {} } },
  { services: { x: { image: 'busybox', bogus_key: 1 } } },
  { services: {}, sevices: { x: {} } },
  { services: { web: { image: 'busybox', ports: [{ target: 80, published: 8080, bogus: 1 }] } } },
  { services: { web: { image: 'busybox', privileged: 'maybe' } } },
  { services: { web: { image: 'busybox', depends_on: { db: { condition: 'service_sometime' } } }, db: { image: 'busybox' } } },
  { services: { web: { build: { context: '.', args: ['A=1'] }, healthcheck: { test: ['CMD', 'true'], interval: '1s' }, 'x-note': 1 } }, 'x-top': {} },
  { services: { web: { image: 'busybox', deploy: { resources: { limits: { cpus: 0.5, memory: '64m' } } }, ulimits: { nofile: { soft: 1, hard: 2 } } } } },
  { services: { web: { image: 'busybox', environment: { A: null, B: 1, C: { nested: true } } } } },
  { services: { web: { image: 'busybox', restart: 5 } }, include: ['other.yaml'] },
  [],
  'services',
];

test('the precompiled validator agrees with the run-time one, errors and all', () => {
  // Inside the repository, so the module finds ajv's run-time helpers (ajv/dist/runtime/*) as the built one does.
  const dir = fs.mkdtempSync(path.join(__dirname, '.compose-validator-'));
  try {
    const file = path.join(dir, 'compose-spec-validator.js');
    fs.writeFileSync(file, validatorModule());
    const pre = (require(file) as PrecompiledValidator);
    assert.equal(pre.schemaSha256, schemaDigest(composeSchema()));
    const runtime = new Ajv(AJV_OPTIONS).compile(composeSchema());
    for (const doc of DOCUMENTS) {
      const a = pre.validate(doc);
      const b = runtime(doc);
      assert.equal(a, b, JSON.stringify(doc));
      assert.deepEqual(pre.validate.errors ?? null, runtime.errors ?? null, JSON.stringify(doc));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
