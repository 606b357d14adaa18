// How `berth compose` reaches berthd. The client's errors are recognised across copies of api-client: the `berth` bundle holds one copy, and the
// components it loads lazily (compose, the dashboard) require the built module, another copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { berthComposeDaemon } from '../../src/cli/main';

type ApiClientModule = typeof import('../../src/cli/api-client');

function freshCopy(): ApiClientModule {
  const file = require.resolve('../../src/cli/api-client');
  delete require.cache[file];
  const copy = require(file) as ApiClientModule;
  delete require.cache[file];
  return copy;
}

test('a DaemonError from one copy of the module is a DaemonError to another; other errors are not', () => {
  const bundled = freshCopy();
  const lazy = freshCopy();
  assert.notEqual(bundled.DaemonError, lazy.DaemonError, 'two copies, as in the bundle and a lazy component');
  const notFound = new bundled.DaemonError(404, 'network shop_default not found');
  assert.ok(notFound instanceof lazy.DaemonError);
  assert.ok(notFound instanceof Error);
  assert.equal(notFound.statusCode, 404);
  assert.ok(!(notFound instanceof lazy.ConnectionError));
  assert.ok(new lazy.ConnectionError('unix:///nowhere', new Error('ENOENT')) instanceof bundled.ConnectionError);
  assert.ok(!(new Error('plain') instanceof lazy.DaemonError));
  const nothing: unknown = null;
  assert.ok(!(nothing instanceof lazy.DaemonError) && !(Object.create(null) instanceof lazy.DaemonError));
});

test('berth compose talks to the daemon every berth verb uses, unless -H or --context says otherwise', () => {
  assert.deepEqual(berthComposeDaemon({}, {}), { host: 'unix:///run/berth/berth.sock' });
  assert.deepEqual(berthComposeDaemon({}, { BERTH_HOST: 'unix:///run/b.sock', DOCKER_HOST: 'unix:///d.sock' }), { host: 'unix:///run/b.sock' });
  assert.deepEqual(berthComposeDaemon({}, { DOCKER_HOST: 'unix:///d.sock' }), { host: 'unix:///d.sock' });
  assert.deepEqual(berthComposeDaemon({ host: 'tcp://h:1' }, { BERTH_HOST: 'unix:///run/b.sock' }), { host: 'tcp://h:1' });
  assert.deepEqual(berthComposeDaemon({ context: 'remote' }, {}), { context: 'remote' });
});
