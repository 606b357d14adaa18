// The compose CLI's pieces around interruption and the event and image listings, without a daemon: one Ctrl-C
// arriving both as a signal and as the plugin socket closing counts once; events and images in Compose v2's shapes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { interrupt, onInterrupt, resetInterrupts } from '../../src/compose/cli/interrupt';
import { formatComposeEvent, renderComposeImages } from '../../src/compose/cli/commands/inspect';

test('interrupts: a press seen as a signal and as the socket closing counts once; a second press counts', () => {
  resetInterrupts();
  const presses: number[] = [];
  const unregister = onInterrupt((n) => presses.push(n));
  try {
    interrupt('signal', 1000);
    interrupt('socket', 1200); // the same Ctrl-C, through the docker CLI
    assert.deepEqual(presses, [1]);
    interrupt('signal', 1500); // the user presses again
    assert.deepEqual(presses, [1, 2]);
    interrupt('socket', 5000);
    assert.deepEqual(presses, [1, 2, 3]);
  } finally {
    unregister();
    resetInterrupts();
  }
  assert.equal(process.listenerCount('SIGINT'), 0);
});

test('events: Compose v2\'s JSON keys and plain line, without the compose labels', () => {
  const ev = {
    Type: 'container', Action: 'start', timeNano: 1_700_000_000_123_456_000, // exact as a double, as JSON.parse gives it
    Actor: { ID: 'c'.repeat(64), Attributes: { name: 'app-web-1', image: 'busybox', 'com.docker.compose.service': 'web', 'io.berth.compose.config-fields': '{}' } },
  };
  const json = JSON.parse(formatComposeEvent(ev, true)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json), ['action', 'attributes', 'id', 'service', 'time', 'type']);
  assert.deepEqual(json.attributes, { image: 'busybox', name: 'app-web-1' });
  assert.equal(json.service, 'web');
  assert.equal(new Date(json.time as string).getTime(), 1_700_000_000_123);
  assert.match(json.time as string, /\.123456(Z|[+-]\d\d:\d\d)$/);
  assert.match(formatComposeEvent(ev, false), new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.123456 container start ${'c'.repeat(64)} \\(image=busybox, name=app-web-1\\)\\n$`));
});

test('images: Compose v2\'s table sorted by container, -q without the digest algorithm, JSON rows', () => {
  const rows = [
    { ID: `sha256:${'b'.repeat(64)}`, ContainerName: 'app-web-1', Repository: 'app-web', Tag: 'latest', Platform: 'linux/amd64', Size: 2_000_000, Created: new Date(Date.now() - 3600_000).toISOString() },
    { ID: `sha256:${'a'.repeat(64)}`, ContainerName: 'app-db-1', Repository: '', Tag: '', Platform: 'linux/amd64', Size: 1000, Created: '' },
  ];
  const table = renderComposeImages(rows, 'table', false).split('\n');
  assert.match(table[0]!, /^CONTAINER\s+REPOSITORY\s+TAG\s+PLATFORM\s+IMAGE ID\s+SIZE\s+CREATED$/);
  assert.match(table[1]!, /^app-db-1\s+<none>\s+<none>\s+linux\/amd64\s+a{12}\s+1kB\s+N\/A$/);
  assert.match(table[2]!, /^app-web-1\s+app-web\s+latest\s+linux\/amd64\s+b{12}\s+2MB\s+About an hour ago$/);
  assert.equal(renderComposeImages(rows, 'table', true), `${'b'.repeat(64)}\n${'a'.repeat(64)}\n`);
  assert.equal((JSON.parse(renderComposeImages(rows, 'json', false)) as unknown[]).length, 2);
  assert.throws(() => renderComposeImages(rows, 'bogus', false), /could not be parsed/);
});
