// Unit tests of src/build/config-changes.ts: `--change` lines read by the Dockerfile parser and its word expander
// (build/dockerfile.ts, build/expand.ts), not by a second splitter of their own. The cases are where the old
// splitter and the builder's disagreed; the builder's reading (moby's shell lexer) is the one kept.
import test from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from '../../src/build/config-changes';

const env = (changes: string[], base: string[] = ['HOME=/root', 'A=1']) => applyChanges({ Env: base }, changes).Env;

test('words are expanded as a build expands them', () => {
  const cases: [string, string][] = [
    ['ENV X=${A:-d}', 'X=1'],
    ['ENV X=${NOPE:-d}', 'X=d'],
    ['ENV X=${A:+set}', 'X=set'],
    ["ENV X='$A'", 'X=$A'],
    ['ENV X=\\$A', 'X=$A'],
    ['ENV X="a $A b"', 'X=a 1 b'],
    // Pattern operators: the old splitter called them a bad substitution.
    ['ENV X=${HOME#/}', 'X=root'],
    ['ENV X=${HOME/root/home}', 'X=/home'],
  ];
  for (const [change, want] of cases) assert.equal(env([change])?.at(-1), want, change);
});

test('WORKDIR, USER and VOLUME see the environment as it stands, instruction by instruction', () => {
  const c = applyChanges({ Env: ['HOME=/root'] }, ['ENV D=/data', 'WORKDIR $HOME/w', 'USER ${U:-nobody}', 'VOLUME $D']);
  assert.equal(c.WorkingDir, '/root/w');
  assert.equal(c.User, 'nobody');
  assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data']);
});

test('continued lines and comments, as in a Dockerfile', () => {
  const c = applyChanges({}, ['ENV A=1 \\\n  B=2', '# a comment', 'LABEL x=y']);
  assert.deepEqual(c.Env, ['A=1', 'B=2']);
  assert.deepEqual(c.Labels, { x: 'y' });
});

test('errors name the problem', () => {
  assert.throws(() => applyChanges({}, ['HEALTHCHECK NONE']), { message: 'healthcheck is not a valid change command' });
  assert.throws(() => applyChanges({}, ['ENV']), /ENV requires at least one argument/);
  assert.throws(() => applyChanges({}, ['ENV X=${NOPE:?is_needed}']), /NOPE: is_needed/);
  assert.throws(() => applyChanges({}, ['ONBUILD ONBUILD RUN x']), /Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed/);
  assert.throws(() => applyChanges({}, ['EXPOSE 80:90:100']), /invalid/);
});
