// .env and env_file parsing as Compose does it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvFile } from '../../src/compose/load/env-file';
import { ComposeFileError } from '../../src/compose/load/index';

test('plain, exported, quoted and commented lines', () => {
  const text = [
    '# a comment',
    '',
    'PLAIN=value',
    'SPACED = spaced value  ',
    'export EXPORTED=yes',
    "SINGLE='it is $PLAIN \\n literal'",
    'DOUBLE="line1\\nline2 \\"q\\" $PLAIN"',
    'INLINE=abc # comment',
    'HASH=abc#def',
    'EMPTY=',
    'COLON: colon',
    'MULTI="a',
    'b"',
    'REF=${PLAIN}-${UNDEFINED:-dflt}',
    'ESCAPED=$$PLAIN',
  ].join('\n');
  assert.deepEqual(parseEnvFile(text, '.env'), {
    PLAIN: 'value',
    SPACED: 'spaced value',
    EXPORTED: 'yes',
    SINGLE: 'it is $PLAIN \\n literal',
    DOUBLE: 'line1\nline2 "q" value',
    INLINE: 'abc',
    HASH: 'abc#def',
    EMPTY: '',
    COLON: 'colon',
    MULTI: 'a\nb',
    REF: 'value-dflt',
    ESCAPED: '$PLAIN',
  });
});

test('a bare key is inherited from the shell, and the shell fills what the file does not define', () => {
  const outer = (n: string) => (n === 'HOME_DIR' ? { value: '/home/u', source: 'shell' as const } : undefined);
  assert.deepEqual(parseEnvFile('HOME_DIR\nMISSING\nP=${HOME_DIR}/x\n', '.env', outer), { HOME_DIR: '/home/u', P: '/home/u/x' });
});

test('CRLF line endings and a BOM are accepted', () => {
  assert.deepEqual(parseEnvFile('\uFEFFA=1\r\nB=2\r\n', '.env'), { A: '1', B: '2' });
});

test('errors name the file and the line', () => {
  assert.throws(() => parseEnvFile('A=1\n!bad=2\n', '/p/.env'), (e) => e instanceof ComposeFileError && e.file === '/p/.env' && e.line === 2);
  assert.throws(() => parseEnvFile('A="open\n', '/p/.env'), /unterminated/);
  assert.throws(() => parseEnvFile('A=${X:?need}\n', '/p/.env'), /required variable X/);
});
