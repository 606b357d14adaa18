// Table tests of Docker's port grammar (src/wire/ports.ts), the one reading -p, --expose, EXPOSE, `--change EXPOSE`
// and the "80/tcp" keys share. The cases marked "was:" are where the copies it replaced disagreed; moby's reading won.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parsePortKey, parsePortRange, parsePortSpec, parsePortSpecs, splitProtoPort } from '../../src/wire/ports';
import { InvalidParameterError } from '../../src/errdefs';
import { buildCreateRequest, InvalidFlagError } from '../../src/cli/container-options';
import { applyChanges } from '../../src/build/config-changes';

const b = (HostIp: string, HostPort: string) => ({ HostIp, HostPort });

test('publish specs as nat.ParsePortSpec reads them', () => {
  const cases: [string, [string, string, string][]][] = [
    ['80', [['80/tcp', '', '']]],
    ['80/udp', [['80/udp', '', '']]],
    ['80/UDP', [['80/udp', '', '']]],
    ['8080:80', [['80/tcp', '', '8080']]],
    ['127.0.0.1:8080:80/tcp', [['80/tcp', '127.0.0.1', '8080']]],
    ['[::1]:8080:80', [['80/tcp', '::1', '8080']]],
    ['::1:8080:80', [['80/tcp', '::1', '8080']]],
    ['127.0.0.1::80', [['80/tcp', '127.0.0.1', '']]],
    ['8000-8001:80-81', [['80/tcp', '', '8000'], ['81/tcp', '', '8001']]],
    // One container port given a host range: the daemon picks one free port of the range.
    ['8080-8090:80', [['80/tcp', '', '8080-8090']]],
    ['8000-8002', [['8000/tcp', '', ''], ['8001/tcp', '', ''], ['8002/tcp', '', '']]],
    ['0', [['0/tcp', '', '']]],
    ['65535/sctp', [['65535/sctp', '', '']]],
  ];
  for (const [spec, want] of cases) {
    assert.deepEqual(parsePortSpec(spec), want.map(([key, ip, hp]) => ({ key, binding: b(ip, hp) })), spec);
  }
});

test('bad publish specs get moby\'s words', () => {
  const cases: [string, string][] = [
    ['', 'no port specified: <empty>'],
    ['8080:', 'no port specified: 8080:<empty>'],
    ['80/icmp', 'invalid proto: icmp'],
    ['abc', 'invalid containerPort: abc'],
    ['65536', 'invalid containerPort: 65536'],
    ['90-80', 'invalid containerPort: 90-80'],
    ['80-', 'invalid containerPort: 80-'],
    ['x:80', 'invalid hostPort: x'],
    // was (CLI): "invalid containerPort: 90-80" for a bad host range, and "invalid range specified for port".
    ['90-80:80', 'invalid hostPort: 90-80'],
    ['8000-8001:80-82', 'invalid ranges specified for container and host Ports: 80-82 and 8000-8001'],
    // was (CLI, builder): any address was taken as it came.
    ['1.2.3:80:80', 'invalid IP address: 1.2.3'],
    ['host:80:80', 'invalid IP address: host'],
  ];
  for (const [spec, message] of cases) {
    assert.throws(() => parsePortSpec(spec), (e: Error) => e instanceof InvalidParameterError && e.message === message, spec);
  }
});

test('parsePortSpecs gathers exposed ports and every binding of a port', () => {
  const { exposed, bindings } = parsePortSpecs(['8080:80', '127.0.0.1:9090:80', '53/udp']);
  assert.deepEqual(Object.keys(exposed).sort(), ['53/udp', '80/tcp']);
  assert.deepEqual(bindings['80/tcp'], [b('', '8080'), b('127.0.0.1', '9090')]);
  assert.deepEqual(bindings['53/udp'], [b('', '')]);
});

test('ranges and the proto split', () => {
  const ranges: [string, [number, number] | undefined][] = [
    ['80', [80, 80]], ['80-80', [80, 80]], ['8000-8010', [8000, 8010]], ['0', [0, 0]],
    ['', undefined], ['-1', undefined], ['80-70', undefined], ['1-2-3', undefined], ['65536', undefined], ['8o', undefined],
  ];
  for (const [s, want] of ranges) assert.deepEqual(parsePortRange(s), want, s);
  assert.deepEqual(splitProtoPort('80'), ['tcp', '80']);
  assert.deepEqual(splitProtoPort('80/'), ['tcp', '80']);
  assert.deepEqual(splitProtoPort('80/UDP'), ['UDP', '80']);
  assert.deepEqual(splitProtoPort('/udp'), ['', '']);
});

test('ExposedPorts/PortBindings keys', () => {
  const cases: [string, { port: number; proto: string } | undefined][] = [
    ['80/tcp', { port: 80, proto: 'tcp' }], ['80', { port: 80, proto: 'tcp' }], ['53/udp', { port: 53, proto: 'udp' }],
    ['132/sctp', { port: 132, proto: 'sctp' }], ['53/icmp', undefined], ['0/tcp', undefined], ['70000/tcp', undefined],
    ['x/tcp', undefined], ['80-81/tcp', undefined], ['', undefined],
  ];
  for (const [key, want] of cases) assert.deepEqual(parsePortKey(key), want, key);
});

test('the CLI words port errors as flag errors', () => {
  const create = (argv: Record<string, unknown>) => buildCreateRequest(argv as never, 'busybox', [], {});
  assert.throws(() => create({ publish: ['x:80'] }), (e: Error) => e instanceof InvalidFlagError && e.message === 'invalid hostPort: x');
  assert.throws(() => create({ expose: ['1:80'] }), (e: Error) => e instanceof InvalidFlagError && e.message === 'invalid port format for --expose: 1:80');
  assert.deepEqual(Object.keys(create({ expose: ['80-81/UDP'], publish: ['90'] }).body.ExposedPorts ?? {}).sort(), ['80/udp', '81/udp', '90/tcp']);
});

test('--change EXPOSE reads the publish grammar as the Dockerfile does', () => {
  // was: `--change EXPOSE 127.0.0.1:80:80` refused ("invalid containerPort") though EXPOSE in a Dockerfile took it; moby takes both.
  const c = applyChanges({}, ['EXPOSE 127.0.0.1:80:80 53/udp 8000-8001']);
  assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['53/udp', '80/tcp', '8000/tcp', '8001/tcp']);
  // was: "invalid range specified for container port: 90-80".
  assert.throws(() => applyChanges({}, ['EXPOSE 90-80']), /^InvalidParameterError: invalid containerPort: 90-80$/);
});
