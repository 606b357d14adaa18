// .dockerignore as Docker reads and applies it: comments, cleaning, `!` exceptions, `**`, parent directories,
// case sensitivity, the walker's descend-or-skip rule, and the Dockerfile/.dockerignore special case.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerignore, dockerignoreMatcher, patternsForUpload, buildFilesToRemove } from '../../src/build/dockerignore';
import { InvalidParameterError } from '../../src/errdefs';

function matcher(text: string) {
  return dockerignoreMatcher(parseDockerignore(text));
}
function expect(m: ReturnType<typeof matcher>, rows: Array<[string, boolean]>) {
  for (const [p, want] of rows) assert.equal(m.ignores(p), want, p);
}

test('reading the file: BOM, comments at column 0, trimming, cleaning, leading slash, exceptions', () => {
  const text = '\uFEFF# comment\n  # not a comment\n\n  /abs/x  \n./rel/y\na/../b\n! spaced/neg \n!/neg2\ndir//sub/\n\r\n*.tmp\r\n';
  assert.deepEqual(parseDockerignore(text), ['# not a comment', 'abs/x', 'rel/y', 'b', '!spaced/neg', '!neg2', 'dir/sub', '*.tmp']);
});

test('**/*.log and parent directories', () => {
  const m = matcher('**/*.log\n');
  expect(m, [['a.log', true], ['x/a.log', true], ['x/y/a.log', true], ['a.logx', false], ['x/a.log/inner', true]]);
  const d = matcher('dir\n');
  expect(d, [['dir', true], ['dir/file', true], ['dir/sub/file', true], ['dirx', false], ['x/dir', false]]);
});

test('* and ? do not cross "/", ** does; a/**/b', () => {
  expect(matcher('a/*\n'), [['a/b', true], ['a/b/c', true], ['a', false]]);
  expect(matcher('*/b\n'), [['a/b', true], ['a/x/b', false]]);
  expect(matcher('q?.txt\n'), [['q1.txt', true], ['q12.txt', false], ['q/.txt', false]]);
  expect(matcher('a/**/b\n'), [['a/b', true], ['a/x/b', true], ['a/x/y/b', true], ['a/b/c', true], ['b', false]]);
  expect(matcher('**\n'), [['a', true], ['a/b', true]]);
  expect(matcher('[a-c].txt\n'), [['b.txt', true], ['d.txt', false]]);
  expect(matcher('e\\*.txt\n'), [['e*.txt', true], ['ex.txt', false]]);
});

test('exceptions: the last matching pattern wins', () => {
  expect(matcher('*.md\n!README*.md\nREADME-secret.md\n'), [['x.md', true], ['README.md', false], ['README-secret.md', true]]);
  expect(matcher('dir\n!dir/keep\n'), [['dir/file', true], ['dir/keep', false], ['dir/keep/x', false]]);
  expect(matcher('*\n!important*\n'), [['foo', true], ['importantX', false], ['sub/importantY', true]]);
});

test('matching is case-sensitive, as Docker on Linux', () => {
  expect(matcher('README.MD\n'), [['README.MD', true], ['readme.md', false]]);
});

test('paths given with ./ or trailing slashes; the context root is never ignored', () => {
  const m = matcher('node_modules\n*\n');
  assert.equal(m.ignores('./node_modules/x'), true);
  assert.equal(m.ignores('node_modules/'), true);
  assert.equal(m.ignores('.'), false);
  assert.equal(m.ignores(''), false);
});

test('mayHaveExceptionsUnder follows Docker\'s walker: only exceptions that start with the directory', () => {
  const m = matcher('node_modules\n!node_modules/keep\n!**/x.txt\n');
  assert.equal(m.mayHaveExceptionsUnder('node_modules'), true);
  assert.equal(m.mayHaveExceptionsUnder('node_modules/keep'), true);
  assert.equal(m.mayHaveExceptionsUnder('./node_modules/'), true);
  assert.equal(m.mayHaveExceptionsUnder('node'), false);
  assert.equal(m.mayHaveExceptionsUnder('other'), false);
  assert.equal(matcher('dir\n').mayHaveExceptionsUnder('dir'), false);
  assert.equal(matcher('a/b\n!a/b/c/d\n').mayHaveExceptionsUnder('a/b'), true);
});

test('bad patterns are refused', () => {
  assert.throws(() => dockerignoreMatcher(['!']), (e) => e instanceof InvalidParameterError && e.message === 'illegal exclusion pattern: "!"');
  assert.throws(() => dockerignoreMatcher(['[']), (e) => e instanceof InvalidParameterError && e.message === 'syntax error in pattern');
  assert.throws(() => dockerignoreMatcher(['ok', '![']), InvalidParameterError);
});

test('the Dockerfile and .dockerignore are sent even when excluded, then removed by the daemon', () => {
  const patterns = parseDockerignore('*\n!src\n');
  const upload = patternsForUpload(patterns, 'Dockerfile');
  assert.deepEqual(upload, ['*', '!src', '!.dockerignore', '!Dockerfile']);
  const m = dockerignoreMatcher(upload);
  assert.equal(m.ignores('Dockerfile'), false);
  assert.equal(m.ignores('.dockerignore'), false);
  assert.equal(m.ignores('other'), true);
  assert.deepEqual(patternsForUpload(['*.log'], 'docker/Dockerfile.app'), ['*.log']);
  assert.deepEqual(patternsForUpload(['docker'], 'docker\\Dockerfile.app'), ['docker', '!docker/Dockerfile.app']);

  assert.deepEqual(buildFilesToRemove(patterns, 'Dockerfile'), ['.dockerignore', 'Dockerfile']);
  assert.deepEqual(buildFilesToRemove(['*.log'], 'Dockerfile'), []);
  assert.deepEqual(buildFilesToRemove(['docker/'], 'docker/Dockerfile.app'), ['docker/Dockerfile.app']);
});
