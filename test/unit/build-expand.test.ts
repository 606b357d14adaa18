// Docker's shell-word processing: quotes, escapes, $VAR/${VAR} with every operator Docker knows, word splitting,
// and expandInstruction's choice of which words each instruction substitutes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { processWord, processWords, ShellLex, SubstitutionError, expandInstruction, envLookup, type SubstitutionEnv } from '../../src/build/expand';
import { parseDockerfile } from '../../src/build/dockerfile';
import { InvalidParameterError } from '../../src/errdefs';
import { view } from './instruction-view';

const ENV = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];

/** [input, expected result or Error] pairs through ProcessWord. */
function table(rows: Array<[string, string | ErrorConstructor]>, env: SubstitutionEnv = ENV, escape: '\\' | '`' = '\\') {
  for (const [input, want] of rows) {
    if (want === Error) {
      assert.throws(() => processWord(input, env, escape), (e) => e instanceof SubstitutionError && e instanceof InvalidParameterError, input);
    } else {
      assert.equal(processWord(input, env, escape), want, input);
    }
  }
}

test('quotes and escapes', () => {
  table([
    ['hello', 'hello'],
    ["he'll'o", 'hello'],
    ["he'llo", Error],
    ["he\\'llo", "he'llo"],
    ["he\\\\'llo", Error],
    ['abc\\tdef', 'abctdef'],
    ['"abc\\tdef"', 'abc\\tdef'],
    ['"abc\\\\tdef"', 'abc\\tdef'],
    ["'abc\\tdef'", 'abc\\tdef'],
    ['hello\\', 'hello'],
    ['hello\\\\', 'hello\\'],
    ['"hello', Error],
    ['"hello\\"', Error],
    ['"hel\'lo"', "hel'lo"],
    ["'hello\\'", 'hello\\'],
    ["'hello\\\\there'", 'hello\\\\there'],
    ['"\'\'"', "''"],
    ['안\'녕\'하세요', '안녕하세요'],
    ['`backquotes` $(stay)', '`backquotes` $(stay)'],
  ]);
});

test('$VAR and ${VAR}; unknown variables are empty; special and positional parameters', () => {
  table([
    ['$.', '$.'],
    ['he$1x', 'hex'],
    ['he$.x', 'he$.x'],
    ['he$pwd.', 'he.'],
    ['he$PWD', 'he/home'],
    ['he\\$PWD', 'he$PWD'],
    ['he\\\\$PWD', 'he\\/home'],
    ['"he\\$PWD"', 'he$PWD'],
    ['"he\\\\$PWD"', 'he\\/home'],
    ["'$PWD'", '$PWD'],
    ['"$PWD"', '/home'],
    ['"he\'$PWD\'"', "he'/home'"],
    ['\\${}', '${}'],
    ['he\\${}xx', 'he${}xx'],
    ['${}', Error],
    ['he${}xx', Error],
    ['he${hi}xx', 'hexx'],
    ['he${PWD}', 'he/home'],
    ['he${.}', Error],
    ['he${PWD', Error],
    ['${{aaa}', Error],
    ['${aaa}}', '}'],
    ['${:}', Error],
    ['$KOREAN', '한국어'],
    ['$1', ''],
    ['${1}', ''],
    ['$$', ''],
    ['a$', 'a$'],
  ]);
});

test('${VAR:-word} ${VAR-word} ${VAR:+word} ${VAR+word}, nested', () => {
  table([
    ['he${XXX:-000}xx', 'he000xx'],
    ['he${PWD:-000}xx', 'he/homexx'],
    ['he${XXX:-$PWD}xx', 'he/homexx'],
    ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
    ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
    ['${NULL:-dflt}', 'dflt'],
    ['${NULL-dflt}', ''],
    ['${XXX-dflt}', 'dflt'],
    ['he${XXX:+000}xx', 'hexx'],
    ['he${PWD:+000}xx', 'he000xx'],
    ['he${PWD:+${SHELL}}xx', 'hebashxx'],
    ['he${PWD:+${XXX}}xx', 'hexx'],
    ['${NULL:+set}', ''],
    ['${NULL+set}', 'set'],
    ['he${PWD:+${PWD}:}xx', 'he/home:xx'],
    ['he${XXX:-\\$PWD:}xx', 'he$PWD:xx'],
    ['he${XXX:-\\${PWD}z}xx', 'he${PWDz}xx'],
    ['${aaa:-bbb}}', 'bbb}'],
    ['${aaa:-bbb', Error],
    ['${aaa:-bbb {foo}', 'bbb {foo'],
    ['${aaa:-"quoted word"}', 'quoted word'],
    ['${1:-bbb}', 'bbb'],
    ['he${XXX:YYY}', Error],
    ['he${PWD:=000}xx', Error],
    ['${:-bbb}', Error],
  ]);
});

test('${VAR?msg} and ${VAR:?msg} fail with Docker\'s messages', () => {
  table([
    ['he${PWD?}', 'he/home'],
    ['he${PWD:?}', 'he/home'],
    ['he${NULL?}', 'he'],
    ['he${XXX?}', Error],
    ['he${NULL:?}', Error],
  ]);
  assert.throws(() => processWord('${XXX?}', ENV), { message: 'failed to process "${XXX?}": XXX: is not allowed to be unset' });
  assert.throws(() => processWord('${NULL:?}', ENV), { message: 'failed to process "${NULL:?}": NULL: is not allowed to be empty' });
  assert.throws(() => processWord('${XXX:?set it please}', ENV), { message: 'failed to process "${XXX:?set it please}": XXX: set it please' });
});

test('${VAR#pat} ${VAR##pat} ${VAR%pat} ${VAR%%pat} ${VAR/pat/repl} ${VAR//pat/repl}', () => {
  const env = { FILE: 'archive.tar.gz', PATHV: '/usr/local/bin', S: 'a.b.c' };
  table([
    ['${FILE#*.}', 'tar.gz'],
    ['${FILE##*.}', 'gz'],
    ['${FILE%.*}', 'archive.tar'],
    ['${FILE%%.*}', 'archive'],
    ['${PATHV#/usr}', '/local/bin'],
    ['${PATHV%/*}', '/usr/local'],
    ['${FILE#nomatch}', 'archive.tar.gz'],
    ['${S/./-}', 'a-b.c'],
    ['${S//./-}', 'a-b-c'],
    ['${S//?/x}', 'xxxxx'],
    ['${PATHV//\\//:}', ':usr:local:bin'],
    ['${UNSET#x}', ''],
    ['${FILE:#x}', Error],
    ['${S/a', Error],
  ], env);
});

test('the backtick escape', () => {
  table([
    ['a`$b', 'a$b'],
    ['C:\\path\\x', 'C:\\path\\x'],
    ['"`"q`""', '"q"'],
    ['x`', 'x'],
  ], { b: 'B' }, '`');
});

test('ProcessWords splits substituted text, not quoted text', () => {
  const env = ['hi=hi', 'space=abc  def', 'leading=  ab c', 'trailing=ab c   '];
  const rows: Array<[string, string[]]> = [
    ['hello', ['hello']],
    ['hello${hi}bye', ['hellohibye']],
    ['hello${space}bye', ['helloabc', 'defbye']],
    ['hello"${space}"bye', ['helloabc  defbye']],
    ['hello "${space}"bye', ['hello', 'abc  defbye']],
    ['hello${leading}def', ['hello', 'ab', 'cdef']],
    ['hello"${leading}" def', ['hello  ab c', 'def']],
    ['hello${trailing}d', ['helloab', 'c', 'd']],
    ['hel"lo${trailing}"', ['helloab c   ']],
    ['hello" there  "', ['hello there  ']],
    ['hello there     ', ['hello', 'there']],
    ['hello\\ there', ['hello there']],
    ['hello\\" there', ['hello"', 'there']],
    ['hello"\\\\there"', ['hello\\there']],
    ["hello'\\\\there'", ['hello\\\\there']],
    ['""', []],
    ['80 443/udp', ['80', '443/udp']],
  ];
  for (const [input, want] of rows) assert.deepEqual(processWords(input, env), want, input);
  assert.throws(() => processWords('hello" there', env), SubstitutionError);
});

test('environments: KEY=VALUE lists (last wins), Maps, objects; matched and unmatched names', () => {
  assert.equal(processWord('$A', ['A=1', 'A=2']), '2');
  assert.equal(processWord('$A', new Map([['A', 'm']])), 'm');
  assert.equal(processWord('$A$toString', { A: 'o' }), 'o');
  assert.equal(envLookup(['NOVALUE'])('NOVALUE'), '');
  const r = new ShellLex().processWordWithMatches('$A ${B:-x} $C', { A: '1', C: '' });
  assert.equal(r.result, '1 x ');
  assert.deepEqual([...r.matched].sort(), ['A', 'C']);
  assert.deepEqual([...r.unmatched], ['B']);
});

test('lexer options: raw quotes and escapes, unset variables kept', () => {
  const lex = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  assert.deepEqual(lex.processWords('RUN <<"EOF" cat \\$x $UNSET ${U:-d}', {}), ['RUN', '<<"EOF"', 'cat', '\\$x', '$UNSET', '${U:-d}']);
  assert.equal(new ShellLex({ skipProcessQuotes: true }).processWord('"$A" \'$A\'', { A: 'v' }), '"v" \'v\'');
});

test('expandInstruction substitutes the words Docker substitutes, and only those', () => {
  const df = parseDockerfile([
    'ARG BASE=busybox',
    'FROM --platform=$PLAT ${BASE}:1',
    'ENV APP_HOME=/srv/app MODE="${MODE:-prod} x" ${KEY}=v',
    'LABEL "${KEY}"="$MODE"',
    'WORKDIR $APP_HOME/sub',
    'USER ${U:-app}:$G',
    'VOLUME ["$APP_HOME/data", "/logs"]',
    'STOPSIGNAL $SIG',
    'ARG V=${MODE}',
    'EXPOSE $PORTS 9000',
    'COPY --chown=$U:$G --from=$STAGE src/$F "$APP_HOME/"',
    'ADD --checksum=$SUM --chmod=$M a b',
    'COPY <<EOF <<"RAW" /x/',
    '"$MODE" \\$lit',
    'EOF',
    '$MODE',
    'RAW',
    'RUN echo $MODE',
    'CMD echo $MODE',
    'HEALTHCHECK CMD echo $MODE',
    '',
  ].join('\n'));
  const env = { PLAT: 'linux/amd64', BASE: 'busybox', MODE: 'dev', KEY: 'k', U: 'u', G: 'g', SIG: 'SIGINT', PORTS: '80 443', F: 'f.txt', APP_HOME: '/srv/app', SUM: 'sha256:1', M: '600' };
  const from = expandInstruction(df.stages[0].from, env);
  assert.equal(from.image, 'busybox:1');
  assert.equal(from.flags.platform, 'linux/amd64');
  const [envI, label, workdir, user, volume, stop, arg, expose, copy, add, here, run, cmd, health] = df.stages[0].instructions.map((i) => view(expandInstruction(i, env)));
  assert.deepEqual(envI.pairs, [['APP_HOME', '/srv/app'], ['MODE', 'dev x'], ['k', 'v']]);
  assert.deepEqual(label.pairs, [['k', 'dev']]);
  assert.equal(workdir.path, '/srv/app/sub');
  assert.equal(user.user, 'u:g');
  assert.deepEqual(volume.paths, ['/srv/app/data', '/logs']);
  assert.equal(stop.signal, 'SIGINT');
  assert.deepEqual(arg.args, [{ name: 'V', defaultValue: 'dev' }]);
  assert.deepEqual(expose.ports, ['80', '443', '9000']);
  assert.equal(copy.flags.chown, 'u:g');
  assert.equal(copy.flags.from, '$STAGE'); // the classic builder does not substitute --from
  assert.deepEqual(copy.sources, ['src/f.txt']);
  assert.equal(copy.dest, '/srv/app/');
  assert.equal(add.flags.checksum, 'sha256:1');
  assert.equal(add.flags.chmod, '600');
  assert.deepEqual(here.heredocs.map((h) => h.content), ['"dev" $lit\n', '$MODE\n']);
  assert.equal(run.command.command, 'echo $MODE');
  assert.equal(cmd.command.command, 'echo $MODE');
  assert.equal(health.command.command, 'echo $MODE');
  // The parsed instruction itself is left as it was.
  assert.equal(view(df.stages[0].instructions[2]).path, '$APP_HOME/sub');
  assert.throws(() => expandInstruction(parseDockerfile('FROM busybox\nWORKDIR ${W:?need W}\n').stages[0].instructions[0], {}), /W: need W/);
});
