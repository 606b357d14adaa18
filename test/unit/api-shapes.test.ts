// The edge decoders: Go's encoding/json wording for wrong types, Go's null and key-matching rules, and the create shape.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { array, decode, int, jsonQuery, map, str, struct } from '../../src/api/shapes/decode';
import { containerCreate, containerUpdate } from '../../src/api/shapes/containers';
import { networkConnect, networkCreate, networkDisconnect } from '../../src/api/shapes/networks';
import { execCreate, execStart } from '../../src/api/shapes/exec';
import { authConfig, registryAuthHeader } from '../../src/api/shapes/registry';
import { buildArgs, buildLabels, buildUlimits, cacheFrom } from '../../src/api/shapes/build';
import { checkpointCreate } from '../../src/api/shapes/checkpoints';

const refused = (fn: () => unknown, message: string) => assert.throws(fn, (err: Error) => {
  assert.equal(err.message, message);
  return true;
});

test('wrong types are named as Go names them: innermost struct, field path from the root, Go type', () => {
  refused(() => decode(containerCreate, { Hostname: 5 }), 'json: cannot unmarshal number into Go struct field CreateRequest.Hostname of type string');
  refused(() => decode(containerCreate, { HostConfig: { Memory: 'x' } }), 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64');
  refused(() => decode(containerCreate, { HostConfig: { Memory: 1.5 } }), 'json: cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64');
  refused(() => decode(containerCreate, { HostConfig: { LogConfig: { Config: { a: 1 } } } }), 'json: cannot unmarshal number into Go struct field LogConfig.HostConfig.LogConfig.Config of type string');
  refused(() => decode(containerCreate, { HostConfig: { Mounts: 'x' } }), 'json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Mounts of type []mount.Mount');
  refused(() => decode(containerCreate, [1]), 'json: cannot unmarshal array into Go value of type container.CreateRequest');
  refused(() => decode(containerUpdate, { BlkioWeight: 70000 }), 'json: cannot unmarshal number 70000 into Go struct field UpdateConfig.BlkioWeight of type uint16');
  refused(() => decode(array(str), 'x'), 'json: cannot unmarshal string into Go value of type []string');
});

test('what Go takes passes unchanged: null as the zero value, unknown keys, case-folded keys, a string command', () => {
  const body = { image: 'busybox', Cmd: 'true', Env: ['A=1', null], Labels: { a: null }, HostConfig: null, Unknown: [1], toString: 5 };
  assert.equal(decode(containerCreate, body), body);
  assert.deepEqual(body.Env, ['A=1', '']);
  assert.deepEqual(body.Labels, { a: '' });
  assert.equal(decode(containerCreate, undefined), undefined);
  refused(() => decode(struct('S', { Name: str }), { name: 1 }), 'json: cannot unmarshal number into Go struct field S.Name of type string');
  assert.deepEqual(decode(map(int('uint8')), { a: 255, b: null }), { a: 255, b: 0 });
});

test('a key in other letters is renamed to its field; the exact name wins over it', () => {
  const body: Record<string, unknown> = { name: 'n', labels: { a: 'b' } };
  decode(networkCreate, body);
  assert.deepEqual(body, { Name: 'n', Labels: { a: 'b' } });
  const both: Record<string, unknown> = { name: 'x', Name: 'n' };
  decode(networkCreate, both);
  assert.equal(both.Name, 'n');
  const labels = { Labels: { lower: 'kept' } };
  decode(networkCreate, labels);
  assert.deepEqual(labels.Labels, { lower: 'kept' }, 'map keys are not field names');
});

test('network bodies: CreateRequest with IPAM, ConnectOptions with EndpointSettings, DisconnectOptions', () => {
  refused(() => decode(networkCreate, [1]), 'json: cannot unmarshal array into Go value of type network.CreateRequest');
  refused(() => decode(networkCreate, { IPAM: { Config: 'x' } }), 'json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type []network.IPAMConfig');
  refused(() => decode(networkCreate, { IPAM: { Config: [5] } }), 'json: cannot unmarshal number into Go struct field IPAM.IPAM.Config of type network.IPAMConfig');
  refused(() => decode(networkCreate, { IPAM: { Config: [{ AuxiliaryAddresses: { a: 1 } }] } }), 'json: cannot unmarshal number into Go struct field IPAMConfig.IPAM.Config.AuxiliaryAddresses of type string');
  refused(() => decode(networkCreate, { ConfigFrom: { Network: true } }), 'json: cannot unmarshal bool into Go struct field ConfigReference.ConfigFrom.Network of type string');
  refused(() => decode(networkConnect, { EndpointConfig: { IPAMConfig: { LinkLocalIPs: [1] } } }), 'json: cannot unmarshal number into Go struct field EndpointIPAMConfig.EndpointConfig.IPAMConfig.LinkLocalIPs of type string');
  refused(() => decode(networkDisconnect, { Force: 'yes' }), 'json: cannot unmarshal string into Go struct field DisconnectOptions.Force of type bool');
  const good = { Name: 'n', IPAM: { Config: [null, { Subnet: '10.1.0.0/16' }] }, Options: { 'com.docker.network.driver.mtu': '1400' } };
  assert.equal(decode(networkCreate, good), good);
  assert.deepEqual(decode(networkConnect, { container: 'c', endpointConfig: { aliases: ['a'] } }), { Container: 'c', EndpointConfig: { Aliases: ['a'] } });
});

test('exec bodies: ExecOptions and ExecStartOptions, keys in any letters (docker-py sends detachKeys)', () => {
  refused(() => decode(execCreate, { Cmd: [1] }), 'json: cannot unmarshal number into Go struct field ExecOptions.Cmd of type string');
  refused(() => decode(execCreate, { Cmd: 5 }), 'json: cannot unmarshal number into Go struct field ExecOptions.Cmd of type []string');
  refused(() => decode(execCreate, { Env: 'A=1' }), 'json: cannot unmarshal string into Go struct field ExecOptions.Env of type []string');
  refused(() => decode(execCreate, { ConsoleSize: [1, -1] }), 'json: cannot unmarshal number -1 into Go struct field ExecOptions.ConsoleSize of type uint');
  refused(() => decode(execStart, { ConsoleSize: 'x' }), 'json: cannot unmarshal string into Go struct field ExecStartOptions.ConsoleSize of type [2]uint');
  refused(() => decode(execStart, 1), 'json: cannot unmarshal number into Go value of type container.ExecStartOptions');
  assert.deepEqual(decode(execCreate, { cmd: 'true', detachKeys: 'ctrl-x', AttachStdout: true }), { Cmd: 'true', DetachKeys: 'ctrl-x', AttachStdout: true });
  assert.deepEqual(decode(execStart, { detach: true, Tty: false }), { Detach: true, Tty: false });
});

test('who a request acts as: AuthConfig bodies and X-Registry-Auth headers', () => {
  refused(() => decode(authConfig, { username: 5 }), 'json: cannot unmarshal number into Go struct field AuthConfig.username of type string');
  refused(() => decode(authConfig, [1]), 'json: cannot unmarshal array into Go value of type registry.AuthConfig');
  assert.deepEqual(decode(authConfig, { Username: 'u', ServerAddress: 'r' }), { username: 'u', serveraddress: 'r' });
  const header = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  assert.deepEqual(registryAuthHeader(header({ username: 'bob', password: 'p+/=?' })), { username: 'bob', password: 'p+/=?' });
  assert.deepEqual(registryAuthHeader(header(null)), {});
  assert.deepEqual(registryAuthHeader(''), {});
  refused(() => registryAuthHeader(header({ password: [] })), 'invalid X-Registry-Auth header: json: cannot unmarshal array into Go struct field AuthConfig.password of type string');
  refused(() => registryAuthHeader(header(5)), 'invalid X-Registry-Auth header: json: cannot unmarshal number into Go value of type registry.AuthConfig');
  refused(() => registryAuthHeader('%%%'), 'invalid X-Registry-Auth header: not base64-encoded JSON');
});

test("build's JSON-in-query parameters: Go's types and words, null build args kept as null", () => {
  const q = (s: string) => new URLSearchParams(s);
  assert.deepEqual(jsonQuery(q(`buildargs=${encodeURIComponent('{"A":null,"B":"1"}')}`), 'buildargs', buildArgs, 'build args'), { A: null, B: '1' });
  assert.equal(jsonQuery(q('buildargs=null'), 'buildargs', buildArgs, 'build args'), undefined);
  assert.equal(jsonQuery(q('buildargs='), 'buildargs', buildArgs, 'build args'), undefined);
  refused(() => jsonQuery(q('buildargs=[1]'), 'buildargs', buildArgs, 'build args'), 'error reading build args: json: cannot unmarshal array into Go value of type map[string]*string');
  refused(() => jsonQuery(q(`labels=${encodeURIComponent('{"a":[1]}')}`), 'labels', buildLabels, 'labels'), 'error reading labels: json: cannot unmarshal array into Go value of type string');
  refused(() => jsonQuery(q(`cachefrom=${encodeURIComponent('"x"')}`), 'cachefrom', cacheFrom, 'cache-from'), 'error reading cache-from: json: cannot unmarshal string into Go value of type []string');
  refused(() => jsonQuery(q(`ulimits=${encodeURIComponent('[{"Name":"nofile","Soft":"x"}]')}`), 'ulimits', buildUlimits, 'ulimit settings'), 'error reading ulimit settings: json: cannot unmarshal string into Go struct field Ulimit.Soft of type int64');
  assert.throws(() => jsonQuery(q('labels=notjson'), 'labels', buildLabels, 'labels'), /^InvalidParameterError: error reading labels: Unexpected token/);
});

test('checkpoint bodies: checkpoint.CreateOptions (the engine checks names and directories)', () => {
  refused(() => decode(checkpointCreate, { CheckpointID: 1 }), 'json: cannot unmarshal number into Go struct field CreateOptions.CheckpointID of type string');
  refused(() => decode(checkpointCreate, { CheckpointID: 'cp1', Exit: 'yes' }), 'json: cannot unmarshal string into Go struct field CreateOptions.Exit of type bool');
  refused(() => decode(checkpointCreate, [1]), 'json: cannot unmarshal array into Go value of type checkpoint.CreateOptions');
  assert.deepEqual(decode(checkpointCreate, { checkpointId: 'cp1', exit: false }), { CheckpointID: 'cp1', Exit: false });
});
