// Unit tests of src/cluster/spec: service spec checks and defaults, insertDefaults, constraints, filters, lookup,
// IDs, secret/node/swarm specs: swarmkit's and dockerd's texts and error kinds.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, InvalidParameterError, NotFoundError, NotImplementedError } from '../../src/errdefs';
import { checkPortConflicts, checkReferencesExist, checkServiceUpdate, normaliseServiceSpec } from '../../src/cluster/spec/service-spec';
import { withDefaults } from '../../src/cluster/spec/insert-defaults';
import { SwarmUnknownError, PlainServerError } from '../../src/cluster/spec/errors';
import { parseConstraints, constraintHolds } from '../../src/cluster/spec/constraints';
import { nodeMatcher, secretMatcher, serviceMatcher, taskMatcher } from '../../src/cluster/spec/filters';
import { lookup } from '../../src/cluster/spec/lookup';
import { newObjectId, isObjectId } from '../../src/cluster/spec/ids';
import { normaliseSecretSpec, updateSecretSpec } from '../../src/cluster/spec/secret-spec';
import { normaliseNodeSpec } from '../../src/cluster/spec/node-spec';
import { dataPathPort, initSwarmSpec, updatedSwarmSpec } from '../../src/cluster/spec/swarm-spec';
import { parseFilters } from '../../src/wire/filters';
import type { Node, Secret, Service, ServiceSpec, Task } from '../../src/wire/swarm';

const base = (extra: Partial<ServiceSpec> = {}): ServiceSpec => ({ Name: 'web', Labels: {}, TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, ...extra });
const fails = (f: () => unknown, kind: new (...a: any[]) => Error, message: string) => assert.throws(f, (e: Error) => e instanceof kind && e.message === message);

test('service spec: defaults as swarmkit stores them, sent values echoed', () => {
  const s = normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'busybox', Labels: {} }, RestartPolicy: { Delay: 0, Window: 0 } },
    UpdateConfig: { Parallelism: 2, MaxFailureRatio: 0.4, Delay: 5 }, EndpointSpec: { Ports: [{ TargetPort: 80 }] } }));
  assert.deepEqual(s.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 0, Window: 0, MaxAttempts: 0 });
  assert.deepEqual(s.UpdateConfig, { Parallelism: 2, MaxFailureRatio: 0.4, Delay: 5, FailureAction: 'pause', Order: 'stop-first' });
  assert.deepEqual(s.EndpointSpec, { Mode: 'vip', Ports: [{ TargetPort: 80, Protocol: 'tcp', PublishMode: 'ingress' }] });
  assert.equal(s.TaskTemplate.Runtime, 'container');
  assert.equal(s.TaskTemplate.ForceUpdate, 0);
  assert.deepEqual(s.TaskTemplate.ContainerSpec, { Image: 'busybox', Isolation: 'default' });
  assert.equal(s.TaskTemplate.Placement, undefined);
  assert.deepEqual(normaliseServiceSpec(base({ Mode: { ReplicatedJob: { TotalCompletions: 5 } } })).Mode, { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 5 } });
  assert.deepEqual(normaliseServiceSpec(base({ Mode: { Replicated: { Replicas: 0 } } })).Mode, { Replicated: { Replicas: 0 } });
});

test('service spec: the texts and kinds of each refusal', () => {
  const ia = (d: string) => `rpc error: code = InvalidArgument desc = ${d}`;
  fails(() => normaliseServiceSpec(base({ Mode: { Global: {}, Replicated: {} } })), InvalidParameterError, 'must specify only one service mode');
  fails(() => normaliseServiceSpec(base({ Name: 'a'.repeat(64) })), InvalidParameterError, ia('name must be 63 characters or fewer'));
  fails(() => normaliseServiceSpec(base({ Name: 'a.b' })), InvalidParameterError, ia('name must be valid as a DNS name component'));
  fails(() => normaliseServiceSpec({ Name: 'x', Labels: {}, TaskTemplate: {} }), InvalidParameterError, 'mismatched Runtime and *Spec fields');
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: '' } } })), InvalidParameterError, ia('ContainerSpec: image reference must be provided'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'UPPER' } } })), InvalidParameterError, ia('ContainerSpec: "UPPER" is not a valid repository/tag'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b' }, RestartPolicy: { Condition: 'x' as never } } })), InvalidParameterError, 'invalid RestartCondition: "x"');
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b' }, RestartPolicy: { Delay: -1 } } })), InvalidParameterError, ia('TaskSpec: restart-delay cannot be negative'));
  fails(() => normaliseServiceSpec(base({ UpdateConfig: { Parallelism: 1, MaxFailureRatio: 0, FailureAction: 'x' as never } })), InvalidParameterError, 'unrecognized update failure action x');
  fails(() => normaliseServiceSpec(base({ UpdateConfig: { Parallelism: 1, MaxFailureRatio: 2 } })), InvalidParameterError, ia('TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1'));
  fails(() => normaliseServiceSpec(base({ Mode: { GlobalJob: {} }, UpdateConfig: { Parallelism: 1, MaxFailureRatio: 0 } })), InvalidParameterError, ia('Jobs may not have an update config'));
  fails(() => normaliseServiceSpec(base({ EndpointSpec: { Mode: 'x' as never } })), InvalidParameterError, 'invalid resolution mode: "x"');
  fails(() => normaliseServiceSpec(base({ EndpointSpec: { Mode: 'dnsrr', Ports: [{ TargetPort: 80, PublishedPort: 80 }] } })), InvalidParameterError, ia("EndpointSpec: port published with ingress mode can't be used with dnsrr mode"));
  fails(() => normaliseServiceSpec(base({ EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 80 }, { TargetPort: 81, PublishedPort: 80 }] } })), InvalidParameterError, ia('EndpointSpec: duplicate published ports provided'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b', Mounts: [{ Type: 'volume', Target: '/x' }, { Type: 'bind', Target: '/x' }] } } })), InvalidParameterError, ia('ContainerSpec: duplicate mount point: /x'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b', Healthcheck: { Interval: 10 } } } })), InvalidParameterError, ia('ContainerSpec: Interval in HealthConfig cannot be less than 1ms'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b' }, Resources: { Limits: { NanoCPUs: 100000 } } } })), InvalidParameterError, ia('invalid cpu value 0.0001: Must be at least 0.001'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b' }, Resources: { Reservations: { MemoryBytes: 1000 } } } })), InvalidParameterError, ia('invalid memory value 1000: Must be at least 4MiB'));
  fails(() => normaliseServiceSpec(base({ TaskTemplate: { ContainerSpec: { Image: 'b' }, Placement: { Constraints: ['node.role=manager'] } } })), SwarmUnknownError, 'rpc error: code = Unknown desc = constraint expected one operator from ==, !=');
  fails(() => checkServiceUpdate(base(), base({ Mode: { Global: {} } })), NotImplementedError, 'rpc error: code = Unimplemented desc = service mode change is not allowed');
  const refs = base({ TaskTemplate: { ContainerSpec: { Image: 'b', Secrets: [
    { SecretID: 'i1', SecretName: 'a', File: { Name: 'x', UID: '0', GID: '0', Mode: 292 } },
    { SecretID: 'i2', SecretName: 'b', File: { Name: 'x', UID: '0', GID: '0', Mode: 292 } }] } } });
  fails(() => normaliseServiceSpec(refs), InvalidParameterError, ia("secret references 'a' and 'b' have a conflicting target: 'x'"));
});

test('service spec hooks: references, port conflicts', async () => {
  const spec = base({ TaskTemplate: { ContainerSpec: { Image: 'b', Secrets: [{ SecretID: 'i1', SecretName: 'a', File: { Name: 'a', UID: '0', GID: '0', Mode: 292 } },
    { SecretID: 'i2', SecretName: 'b', File: { Name: 'b', UID: '0', GID: '0', Mode: 292 } }] } } });
  await assert.rejects(checkReferencesExist('secret', spec, async () => undefined), { message: 'rpc error: code = InvalidArgument desc = secrets not found: a, b' });
  await checkReferencesExist('secret', spec, async (id) => (id === 'i1' ? 'a' : 'b'));
  const other = { ID: 'abc', Spec: base({ EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] } }) };
  fails(() => checkPortConflicts(normaliseServiceSpec(base({ Name: 'b', EndpointSpec: { Ports: [{ TargetPort: 1, PublishedPort: 8080 }] } })), [other]),
    InvalidParameterError, "rpc error: code = InvalidArgument desc = port '8080' is already in use by service 'web' (abc) as an ingress port");
});

test('insertDefaults fills exactly the 7 places', () => {
  const s = withDefaults(normaliseServiceSpec(base({ UpdateConfig: { Parallelism: 3, MaxFailureRatio: 0 } })));
  assert.equal(s.TaskTemplate.ContainerSpec!.StopGracePeriod, 10_000_000_000);
  assert.deepEqual(s.TaskTemplate.ContainerSpec!.DNSConfig, {});
  assert.deepEqual(s.TaskTemplate.Resources, {});
  assert.deepEqual(s.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5_000_000_000, MaxAttempts: 0 });
  assert.deepEqual(s.TaskTemplate.Placement, {});
  assert.deepEqual(s.UpdateConfig, { Parallelism: 3, MaxFailureRatio: 0, FailureAction: 'pause', Order: 'stop-first', Monitor: 5_000_000_000 });
  assert.deepEqual(s.RollbackConfig, { Parallelism: 1, FailureAction: 'pause', Monitor: 5_000_000_000, MaxFailureRatio: 0, Order: 'stop-first' });
  assert.equal(s.EndpointSpec, undefined);
});

test('constraints: syntax errors and case-insensitive matching', () => {
  fails(() => parseConstraints(['1bad==x']), SwarmUnknownError, "rpc error: code = Unknown desc = key '1bad' is invalid");
  fails(() => parseConstraints(['node.id==']), SwarmUnknownError, "rpc error: code = Unknown desc = value '' is invalid");
  const [c] = parseConstraints([' node.labels.az == East ']);
  assert.deepEqual(c, { key: 'node.labels.az', equal: true, value: 'East' });
  assert.ok(constraintHolds(c!, 'east'));
  assert.ok(!constraintHolds(c!, undefined));
});

test('filters: prefixes, labels, node.label, task label from the service, 500 values', () => {
  const f = (o: unknown, keys: readonly string[]) => parseFilters(JSON.stringify(o), keys);
  const node = { ID: 'abcdef', Spec: { Role: 'manager', Availability: 'active', Labels: { zone: 'a' } }, Description: { Hostname: 'node1', Engine: { Labels: { foo: 'bar' } } } } as unknown as Node;
  assert.ok(nodeMatcher(f({ name: ['no'], 'node.label': ['zone=a'], label: ['foo'] }, ['name', 'node.label', 'label']))(node));
  assert.ok(!nodeMatcher(f({ label: ['zone'] }, ['label']))(node));
  fails(() => nodeMatcher(f({ membership: ['x'] }, ['membership'])), PlainServerError, "Invalid membership filter: 'x'");
  const svc = { ID: 's1', Spec: normaliseServiceSpec(base({ Labels: { stack: 'st' } })) } as Service;
  assert.ok(serviceMatcher(f({ mode: ['replicated'], id: ['s'] }, ['mode', 'id']))(svc));
  assert.ok(!serviceMatcher(f({ mode: ['global'] }, ['mode']))(svc));
  const task = { ID: 't1', ServiceID: 's1', Slot: 1, DesiredState: 'running', Labels: {}, Spec: {} } as unknown as Task;
  const ctx = { serviceOf: () => svc };
  assert.ok(taskMatcher(f({ label: ['stack=st'], name: ['web.1'], 'desired-state': ['running'] }, ['label', 'name', 'desired-state']), ctx)(task));
  fails(() => taskMatcher(f({ 'desired-state': ['completed'] }, ['desired-state']), ctx), PlainServerError, "Invalid desired-state filter: 'completed'");
  const secret = { ID: 'x1', Spec: { Name: 'foo', Labels: {} } } as unknown as Secret;
  assert.ok(secretMatcher(f({ id: ['zz'], name: ['fo'] }, ['id', 'name']))(secret));
  assert.ok(!secretMatcher(f({ names: ['fo'] }, ['names']))(secret));
});

test('lookup: ID, exact name, prefix; ambiguity and not found', () => {
  const items = [{ ID: 'abc1', n: 'web' }, { ID: 'abc2', n: 'db' }, { ID: 'xyz', n: 'abc1x' }];
  assert.equal(lookup('service', 'db', items, (i) => i.n).ID, 'abc2');
  assert.equal(lookup('service', 'x', items, (i) => i.n).ID, 'xyz');
  fails(() => lookup('service', 'abc', items, (i) => i.n), InvalidParameterError, 'service abc is ambiguous (2 matches found)');
  fails(() => lookup('secret', 'q', items, (i) => i.n), NotFoundError, 'secret q not found');
  for (let i = 0; i < 50; i++) assert.ok(isObjectId(newObjectId()));
});

test('secret, node and swarm specs', () => {
  const ia = (d: string) => `rpc error: code = InvalidArgument desc = ${d}`;
  fails(() => normaliseSecretSpec('secret', { Name: '-a', Labels: {}, Data: 'eA==' }), InvalidParameterError, ia('invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]'));
  fails(() => normaliseSecretSpec('config', { Name: 'a', Labels: {} }), InvalidParameterError, ia('config data must be larger than 0 and less than 1024000 bytes'));
  assert.deepEqual(normaliseSecretSpec('secret', { Name: 'a', Labels: {}, Driver: { Name: 'vault' } }), { Name: 'a', Labels: {}, Driver: { Name: 'vault' } });
  assert.deepEqual(updateSecretSpec({ Name: 'a', Labels: {}, Data: 'eA==' }, { Name: 'a', Labels: { k: 'v' } }), { Name: 'a', Labels: { k: 'v' }, Data: 'eA==' });
  fails(() => normaliseNodeSpec({ Labels: {}, Role: 'worker', Availability: '' as never }), InvalidParameterError, 'invalid Availability: ""');
  const init = initSwarmSpec({ Labels: {}, Raft: { SnapshotInterval: 5000 }, CAConfig: { ForceRotate: 6000000000000 } });
  assert.deepEqual([init.Raft!.SnapshotInterval, init.Raft!.LogEntriesForSlowFollowers, init.CAConfig!.ForceRotate, init.Orchestration!.TaskHistoryRetentionLimit], [5000, 500, 6000000000000, 5]);
  const upd = updatedSwarmSpec({ Labels: {}, Raft: { SnapshotInterval: 10000 } });
  assert.deepEqual([upd.EncryptionConfig!.AutoLockManagers, upd.Orchestration!.TaskHistoryRetentionLimit, upd.Dispatcher!.HeartbeatPeriod], [false, 0, undefined]);
  fails(() => initSwarmSpec({ Labels: {}, CAConfig: { NodeCertExpiry: 1e9 } }), InvalidParameterError, 'minimum certificate expiry time is: 1h0m0s');
  fails(() => dataPathPort(80), InvalidParameterError, 'Datapath port number is not in valid range (1024-49151) : 80');
  assert.equal(dataPathPort(0), 4789);
  assert.ok(new ConflictError('x'));
});
