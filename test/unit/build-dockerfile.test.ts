// The Dockerfile front end against Docker's grammar: directives, comments, continuations, heredocs, both forms,
// every instruction, flags, stages, Docker's error messages with their line, and the whole-file validation.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, parseInstruction, parseHeredocWord, dumpDockerfile, DockerfileError } from '../../src/build/dockerfile';
import { validateDockerfile } from '../../src/build/validate';
import { InvalidParameterError } from '../../src/errdefs';
import { view, type InstructionView } from './instruction-view';

/** The instructions of the only stage of `FROM busybox\n` + body. */
function body(text: string): InstructionView[] {
  const df = parseDockerfile(`FROM busybox\n${text}`);
  assert.equal(df.stages.length, 1);
  return df.stages[0].instructions.map(view);
}
function one(text: string): InstructionView {
  const list = body(text);
  assert.equal(list.length, 1, JSON.stringify(list));
  return list[0];
}
/** Asserts parseDockerfile(text) fails with this message (Docker's words) on this line. */
function fails(text: string, detail: string, line?: number) {
  assert.throws(() => parseDockerfile(text), (err: unknown) => {
    assert.ok(err instanceof DockerfileError, String(err));
    assert.ok(err instanceof InvalidParameterError);
    assert.equal(err.detail, detail);
    if (line !== undefined) {
      assert.equal(err.line, line);
      assert.equal(err.message, `dockerfile parse error on line ${line}: ${detail}`);
    }
    return true;
  });
}

test('a simple Dockerfile: stages, lines and original text', () => {
  const df = parseDockerfile('FROM busybox AS base\nRUN echo hi\n\nFROM base\nCMD ["sh"]\n');
  assert.equal(df.escape, '\\');
  assert.deepEqual(df.warnings, []);
  assert.equal(df.stages.length, 2);
  assert.equal(df.stages[0].name, 'base');
  assert.equal(df.stages[0].index, 0);
  assert.equal(df.stages[0].from.image, 'busybox');
  assert.equal(df.stages[1].name, undefined);
  assert.equal(df.stages[1].from.image, 'base');
  const run = df.stages[0].instructions[0];
  assert.equal(run.kind, 'RUN');
  assert.equal(run.line, 2);
  assert.equal(run.endLine, 2);
  assert.equal(run.original, 'RUN echo hi');
  assert.deepEqual(run.command, { form: 'shell', command: 'echo hi' });
  assert.equal(df.stages[1].instructions[0].line, 5);
});

test('instruction names are case-insensitive; stage names are lower-cased', () => {
  const df = parseDockerfile('from busybox as Builder\nrun echo\nCopy a b\n');
  assert.equal(df.stages[0].name, 'builder');
  assert.deepEqual(df.stages[0].instructions.map((i) => i.kind), ['RUN', 'COPY']);
  assert.equal(df.stages[0].instructions[1].original, 'Copy a b');
});

test('parser directives: escape, syntax (warned), check; only at the top', () => {
  let df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM busybox\nRUN echo a `\n  b\n');
  assert.equal(df.escape, '`');
  assert.equal(df.syntax, 'docker/dockerfile:1');
  assert.ok(df.warnings.includes('syntax directive ignored by the classic builder'));
  assert.equal(view(df.stages[0].instructions[0]).command.command, 'echo a   b');

  // Upper case, spaces around "=", leading white space: still directives.
  df = parseDockerfile('  #  ESCAPE = `\nFROM busybox\n');
  assert.equal(df.escape, '`');
  // After a blank line, a comment or an instruction, it is an ordinary comment.
  assert.equal(parseDockerfile('\n# escape=`\nFROM busybox\n').escape, '\\');
  assert.equal(parseDockerfile('# hello\n# escape=`\nFROM busybox\n').escape, '\\');
  assert.equal(parseDockerfile('FROM busybox\n# escape=`\n').escape, '\\');
  // An unknown directive ends the directives too.
  assert.equal(parseDockerfile('# foo=bar\n# escape=`\nFROM busybox\n').escape, '\\');
  // check= is a known directive, ignored.
  df = parseDockerfile('# check=skip=all\n# escape=`\nFROM busybox\n');
  assert.equal(df.escape, '`');
  assert.deepEqual(df.warnings, []);

  fails('# escape=\\\n# escape=`\nFROM busybox\n', 'only one escape parser directive can be used', 2);
  fails('# escape=x\nFROM busybox\n', "invalid escape token 'x' does not match ` or \\", 1);
});

test('a UTF-8 BOM and CRLF line endings are accepted', () => {
  const df = parseDockerfile('\uFEFF# escape=`\r\nFROM busybox\r\nRUN echo a `\r\n b\r\n');
  assert.equal(df.escape, '`');
  assert.equal(view(df.stages[0].instructions[0]).command.command, 'echo a  b');
});

test('comments and blank lines, also inside continuations', () => {
  const [run] = body('# a comment\n\nRUN echo a \\\n# comment inside\n  # indented comment\n  b \\\n  c\n');
  assert.equal(run.command.command, 'echo a   b   c');
  assert.equal(run.line, 4);
  assert.equal(run.endLine, 8);
  assert.equal(run.original, 'RUN echo a   b   c');
});

test('empty continuation lines are skipped with Docker\'s warning', () => {
  const df = parseDockerfile('FROM busybox\nRUN echo a \\\n\n   \n  b\n');
  assert.equal(view(df.stages[0].instructions[0]).command.command, 'echo a   b');
  assert.deepEqual(df.warnings, [
    'Empty continuation line found in: RUN echo a   b',
    'Empty continuation lines will become errors in a future release.',
  ]);
});

test('continuation edge cases: escaped escape, trailing spaces, at end of file, lone escape line', () => {
  assert.equal(one('RUN echo a\\\\\n').command.command, 'echo a\\\\');
  assert.equal(one('RUN echo a \\   \n b\n').command.command, 'echo a  b');
  assert.equal(one('RUN echo a \\\n').command.command, 'echo a');
  assert.equal(one('RUN echo a \\\n\\\n b\n').command.command, 'echo a  b');
  // A continued line's leading white space is kept, the first line's is not.
  assert.equal(one('   RUN echo \\\n    x\n').original, 'RUN echo     x');
});

test('exec form and shell form; invalid JSON falls back to the shell form', () => {
  assert.deepEqual(one('CMD ["echo", "a b"]').command, { form: 'exec', args: ['echo', 'a b'] });
  assert.deepEqual(one('ENTRYPOINT  [ "x" ]  ').command, { form: 'exec', args: ['x'] });
  assert.deepEqual(one('RUN [ ]').command, { form: 'exec', args: [] });
  assert.deepEqual(one('RUN ["a", "\\u00e9\\n"]').command, { form: 'exec', args: ['a', 'é\n'] });
  assert.deepEqual(one('CMD [bad json').command, { form: 'shell', command: '[bad json' });
  assert.deepEqual(one("CMD ['single', 'quotes']").command, { form: 'shell', command: "['single', 'quotes']" });
  assert.deepEqual(one('CMD ["a"] trailing').command, { form: 'shell', command: '["a"] trailing' });
  assert.deepEqual(one('CMD echo "hi there"').command, { form: 'shell', command: 'echo "hi there"' });
  assert.deepEqual(one('RUN').command, { form: 'shell', command: '' });
  fails('FROM busybox\nRUN ["a", 1]\n', 'when using JSON array syntax, arrays must be comprised of strings only', 2);
  fails('FROM busybox\nCMD [["nested"]]\n', 'when using JSON array syntax, arrays must be comprised of strings only', 2);
});

test('ENV: both syntaxes, quotes and escapes kept raw for substitution', () => {
  assert.deepEqual(one('ENV a=1 b="x y" c=x\\ y d=').pairs, [['a', '1'], ['b', '"x y"'], ['c', 'x\\ y'], ['d', '']]);
  assert.deepEqual(one('ENV legacy hello  world there').pairs, [['legacy', 'hello  world there']]);
  assert.deepEqual(one('ENV SCUBA "1 DUBA 3"').pairs, [['SCUBA', '"1 DUBA 3"']]);
  assert.deepEqual(one("ENV name='a\\'b''").pairs, [['name', "'a\\'b''"]]);
  assert.deepEqual(one('ENV x=a \\\n    y="b \\\n c"').pairs, [['x', 'a'], ['y', '"b  c"']]);
  fails('FROM busybox\nENV onlykey\n', 'ENV must have two arguments', 2);
  fails('FROM busybox\nENV a=1 b\n', 'Syntax error - can\'t find = in "b". Must be of the form: name=value', 2);
  fails('FROM busybox\nENV =x\n', 'ENV names can not be blank', 2);
  fails('FROM busybox\nENV\n', 'ENV requires at least one argument', 2);
});

test('LABEL: both syntaxes', () => {
  assert.deepEqual(one('LABEL org.example.a=1 "quoted key"="v w"').pairs, [['org.example.a', '1'], ['"quoted key"', '"v w"']]);
  assert.deepEqual(one('LABEL maintainer docker <docker@docker.io>').pairs, [['maintainer', 'docker <docker@docker.io>']]);
  fails('FROM busybox\nLABEL\n', 'LABEL requires at least one argument', 2);
});

test('ARG with and without defaults, global ARGs before FROM', () => {
  const df = parseDockerfile('ARG VERSION=1.36\nARG OTHER\nFROM busybox:${VERSION}\nARG VERSION\nARG A=1 B C="x y"\n');
  assert.deepEqual(df.globalArgs.map((a) => a.args), [[{ name: 'VERSION', defaultValue: '1.36' }], [{ name: 'OTHER' }]]);
  assert.equal(df.stages[0].from.image, 'busybox:${VERSION}');
  const [a1, a2] = df.stages[0].instructions.map(view);
  assert.deepEqual(a1.args, [{ name: 'VERSION' }]);
  assert.deepEqual(a2.args, [{ name: 'A', defaultValue: '1' }, { name: 'B' }, { name: 'C', defaultValue: '"x y"' }]);
  fails('FROM busybox\nARG =1\n', 'ARG names can not be blank', 2);
  fails('FROM busybox\nARG\n', 'ARG requires at least one argument', 2);
  fails('RUN echo\nFROM busybox\n', 'no build stage in current context', 1);
});

test('FROM: AS name, --platform, argument count, stage name rules', () => {
  const from = parseDockerfile('FROM --platform=linux/amd64 busybox:1 AS Base\n').stages[0].from;
  assert.deepEqual(from.flags, { platform: 'linux/amd64' });
  assert.equal(from.image, 'busybox:1');
  assert.equal(from.stageName, 'base');
  fails('FROM\n', 'FROM requires either one or three arguments', 1);
  fails('FROM a b\n', 'FROM requires either one or three arguments', 1);
  fails('FROM a AS b c\n', 'FROM requires either one or three arguments', 1);
  fails('FROM a AS 1st\n', 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols', 1);
  fails('FROM a AS b!\n', 'invalid name for build stage: "b!", name can\'t start with a number or contain symbols', 1);
  fails('FROM --plaform=x a\n', 'unknown flag: --plaform (did you mean platform?)', 1);
});

test('COPY and ADD: sources, destination, JSON form, flags', () => {
  let c = one('COPY --from=build --chown=1000:1000 --chmod=755 --link a b /dest/');
  assert.equal(c.kind, 'COPY');
  assert.deepEqual(c.flags, { from: 'build', chown: '1000:1000', chmod: '755', link: '' });
  assert.deepEqual(c.sources, ['a', 'b']);
  assert.equal(c.dest, '/dest/');
  assert.deepEqual(c.heredocs, []);
  c = one('COPY ["with space", "/dest dir/"]');
  assert.deepEqual(c.sources, ['with space']);
  assert.equal(c.dest, '/dest dir/');
  c = one('COPY --chown="a b" --link=false x y');
  assert.deepEqual(c.flags, { chown: 'a b', link: 'false' });
  c = one('COPY --exclude=*.md --exclude=*.txt . /app');
  assert.equal(c.flags.exclude, '*.md\n*.txt');
  c = one('ADD --checksum=sha256:abc --keep-git-dir=true --unpack http://x/y.tar /');
  assert.equal(c.kind, 'ADD');
  assert.deepEqual(c.flags, { checksum: 'sha256:abc', 'keep-git-dir': 'true', unpack: '' });
  // `--` ends the flags.
  c = one('COPY -- --weird /dest');
  assert.deepEqual(c.flags, {});
  assert.deepEqual(c.sources, ['--weird']);

  fails('FROM busybox\nCOPY onlyone\n', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined', 2);
  fails('FROM busybox\nADD\n', 'ADD requires at least two arguments, but only one was provided. Destination could not be determined', 2);
  fails('FROM busybox\nCOPY --from a b\n', 'missing a value on flag: --from', 2);
  fails('FROM busybox\nCOPY --from=a --from=b x y\n', 'duplicate flag specified: --from', 2);
  fails('FROM busybox\nCOPY --link=maybe x y\n', 'expecting boolean value for flag --link, not: maybe', 2);
  fails('FROM busybox\nCOPY --link= x y\n', 'missing a value on flag: --link', 2);
  fails('FROM busybox\nADD --from=x a b\n', 'unknown flag: --from', 2);
  fails('FROM busybox\nCOPY --chwon=1 a b\n', 'unknown flag: --chwon (did you mean chown?)', 2);
  fails('FROM busybox\nCOPY a <<EOF\nx\nEOF\n', 'COPY cannot accept a heredoc as a destination', 2);
});

test('flags on instructions that take none; RUN\'s BuildKit flags are known', () => {
  fails('FROM busybox\nENV --foo a=b\n', 'unknown flag: --foo', 2);
  fails('FROM busybox\nWORKDIR --x=1 /a\n', 'unknown flag: --x', 2);
  fails('FROM busybox\nRUN --netwrk=host true\n', 'unknown flag: --netwrk (did you mean network?)', 2);
  const run = one('RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none true');
  assert.deepEqual(run.flags, { mount: 'type=cache,target=/c\ntype=tmpfs,target=/t', network: 'none' });
  assert.equal(run.command.command, 'true');
  // Docker checks neither STOPSIGNAL's nor ARG's flags.
  assert.equal(one('STOPSIGNAL --x SIGTERM').signal, 'SIGTERM');
});

test('single-argument instructions keep the whole rest; EXPOSE and VOLUME', () => {
  assert.equal(one('WORKDIR /path with space').path, '/path with space');
  assert.equal(one('USER app:app').user, 'app:app');
  assert.equal(one('MAINTAINER Jane <j@x>').name, 'Jane <j@x>');
  assert.equal(one('STOPSIGNAL SIGKILL').signal, 'SIGKILL');
  assert.deepEqual(one('EXPOSE 9000 5000/udp 6000').ports, ['5000/udp', '6000', '9000']);
  assert.deepEqual(one('VOLUME ["/data", "/logs"]').paths, ['/data', '/logs']);
  assert.deepEqual(one('VOLUME /a /b').paths, ['/a', '/b']);
  fails('FROM busybox\nWORKDIR\n', 'WORKDIR requires exactly one argument', 2);
  fails('FROM busybox\nUSER\n', 'USER requires exactly one argument', 2);
  fails('FROM busybox\nSTOPSIGNAL\n', 'STOPSIGNAL requires exactly one argument', 2);
  fails('FROM busybox\nMAINTAINER\n', 'MAINTAINER requires exactly one argument', 2);
  fails('FROM busybox\nEXPOSE\n', 'EXPOSE requires at least one argument', 2);
  fails('FROM busybox\nVOLUME\n', 'VOLUME requires at least one argument', 2);
  fails('FROM busybox\nVOLUME [""]\n', 'VOLUME specified can not be an empty string', 2);
});

test('SHELL requires the JSON form', () => {
  assert.deepEqual(one('SHELL ["/bin/bash", "-c"]').args, ['/bin/bash', '-c']);
  fails('FROM busybox\nSHELL /bin/bash -c\n', 'SHELL requires the arguments to be in JSON form', 2);
  fails('FROM busybox\nSHELL []\n', 'SHELL requires at least one argument', 2);
  fails('FROM busybox\nSHELL\n', 'SHELL requires at least one argument', 2);
});

test('HEALTHCHECK: NONE, CMD in both forms, flags converted to nanoseconds', () => {
  assert.equal(one('HEALTHCHECK NONE').command, 'NONE');
  assert.equal(one('healthcheck none').command, 'NONE');
  let h = one('HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=500ms --retries=3 CMD curl -f http://x/ || exit 1');
  assert.deepEqual(h.command, { form: 'shell', command: 'curl -f http://x/ || exit 1' });
  assert.equal(h.interval, 30e9);
  assert.equal(h.timeout, 90e9);
  assert.equal(h.startPeriod, 1.5e9);
  assert.equal(h.startInterval, 500e6);
  assert.equal(h.retries, 3);
  h = one('HEALTHCHECK CMD ["/bin/check", "--fast"]');
  assert.deepEqual(h.command, { form: 'exec', args: ['/bin/check', '--fast'] });
  assert.equal(h.interval, undefined);
  assert.equal(one('HEALTHCHECK --interval=0 CMD true').interval, 0);
  fails('FROM busybox\nHEALTHCHECK\n', 'HEALTHCHECK requires at least one argument', 2);
  fails('FROM busybox\nHEALTHCHECK NONE x\n', 'HEALTHCHECK NONE takes no arguments', 2);
  fails('FROM busybox\nHEALTHCHECK CMD\n', 'Missing command after HEALTHCHECK CMD', 2);
  fails('FROM busybox\nHEALTHCHECK TEST x\n', 'Unknown type "TEST" in HEALTHCHECK (try CMD)', 2);
  fails('FROM busybox\nHEALTHCHECK --interval=1us CMD x\n', 'Interval "interval" cannot be less than 1ms', 2);
  fails('FROM busybox\nHEALTHCHECK --timeout=abc CMD x\n', 'time: invalid duration "abc"', 2);
  fails('FROM busybox\nHEALTHCHECK --retries=-1 CMD x\n', '--retries cannot be negative (-1)', 2);
  fails('FROM busybox\nHEALTHCHECK --retries=x CMD x\n', 'strconv.ParseInt: parsing "x": invalid syntax', 2);
  fails('FROM busybox\nHEALTHCHECK --foo=1 CMD x\n', 'unknown flag: --foo', 2);
});

test('ONBUILD: the trigger text, forbidden triggers, heredocs carried along', () => {
  assert.equal(one('ONBUILD RUN echo hi').trigger, 'RUN echo hi');
  assert.equal(one('onbuild   COPY . /app').trigger, 'COPY . /app');
  assert.equal(one('ONBUILD RUN ["a", "b"]').trigger, 'RUN ["a", "b"]');
  const withDoc = one('ONBUILD RUN <<EOF\necho hi\nEOF\n');
  assert.equal(withDoc.trigger, 'RUN <<EOF\necho hi\nEOF');
  // The executor parses a trigger back with parseInstruction.
  const again = parseInstruction(withDoc.trigger);
  assert.equal(again.kind, 'RUN');
  assert.deepEqual(again.heredocs, [{ name: 'EOF', content: 'echo hi\n', chomp: false, expand: true }]);
  fails('FROM busybox\nONBUILD\n', 'ONBUILD requires at least one argument', 2);
  fails('FROM busybox\nONBUILD ONBUILD RUN x\n', 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed', 2);
  fails('FROM busybox\nONBUILD FROM x\n', "FROM isn't allowed as an ONBUILD trigger", 2);
  fails('FROM busybox\nONBUILD maintainer x\n', "MAINTAINER isn't allowed as an ONBUILD trigger", 2);
});

test('parseInstruction: one instruction, any escape, line numbers for errors', () => {
  assert.deepEqual(view(parseInstruction('COPY a b')).sources, ['a']);
  assert.equal(view(parseInstruction('RUN echo a `\n b', '`')).command.command, 'echo a  b');
  // No directives in a trigger: it is a comment.
  assert.equal(parseInstruction('# escape=`\nRUN x').kind, 'RUN');
  assert.throws(() => parseInstruction('RUN a\nRUN b'), /onbuild trigger should be a single expression/);
  assert.throws(() => parseInstruction('RUNN a', '\\', 7), (e) => e instanceof DockerfileError && e.line === 7 && /unknown instruction: RUNN/.test(e.message));
});

test('unknown instructions, with Docker\'s suggestion', () => {
  fails('FROM busybox\nRUNN echo\n', 'unknown instruction: RUNN (did you mean RUN?)', 2);
  fails('FROM busybox\nrunn echo\n', 'unknown instruction: runn (did you mean run?)', 2);
  fails('FROM busybox\nXYZZY echo\n', 'unknown instruction: XYZZY', 2);
  fails('FROM busybox\nRUN a \\\n  b\nCOPPY a b\n', 'unknown instruction: COPPY (did you mean COPY?)', 4);
});

test('empty files and files without instructions', () => {
  assert.throws(() => parseDockerfile('', { name: 'Dockerfile.app' }), (e) => e instanceof DockerfileError && e.message === 'the Dockerfile (Dockerfile.app) cannot be empty');
  fails('# only\n\n# comments\n', 'file with no instructions');
});

test('heredocs: names, quoting, chomping, several on a line, file descriptors', () => {
  let r = one('RUN <<EOF\necho hi\n  echo there\nEOF\n');
  assert.deepEqual(r.command, { form: 'shell', command: '<<EOF' });
  assert.deepEqual(r.heredocs, [{ name: 'EOF', content: 'echo hi\n  echo there\n', chomp: false, expand: true }]);
  assert.equal(r.line, 2);
  assert.equal(r.endLine, 5);

  r = one('RUN <<-EOT\n\tbaz\n\tquux\n\tEOT\n');
  assert.deepEqual(r.heredocs, [{ name: 'EOT', content: 'baz\nquux\n', chomp: true, expand: true }]);
  r = one("RUN <<-'NOEXPAND'\n\tdon't $X\nNOEXPAND\n");
  assert.deepEqual(r.heredocs, [{ name: 'NOEXPAND', content: "don't $X\n", chomp: true, expand: false }]);
  r = one('RUN <<COMPLEX python3\nprint(1)\nCOMPLEX\n');
  assert.equal(r.command.command, '<<COMPLEX python3');
  assert.equal(r.heredocs[0].content, 'print(1)\n');
  r = one('RUN <<A cat <<"B" > /out\nfirst\nA\nsecond $X\nB\n');
  assert.deepEqual(r.heredocs.map((h) => [h.name, h.content, h.expand]), [['A', 'first\n', true], ['B', 'second $X\n', false]]);
  // A comment-looking line is content; the terminator must match exactly.
  r = one('RUN <<X\n# not a comment\n X\nX\n');
  assert.equal(r.heredocs[0].content, '# not a comment\n X\n');
  // Empty body; a body line equal to the other delimiter.
  const list = body('COPY <<X <<Y /dest/\nY\nX\nX\nY\nRUN <<EMPTY\nEMPTY\n');
  assert.deepEqual(list[0].heredocs.map((h) => [h.name, h.content]), [['X', 'Y\n'], ['Y', 'X\n']]);
  assert.deepEqual(list[0].sources, []);
  assert.equal(list[1].heredocs[0].content, '');
  // Quoted and escaped delimiters.
  assert.deepEqual(one("RUN <<eo'f'\nx\neof\n").heredocs[0], { name: 'eof', content: 'x\n', chomp: false, expand: false });
  assert.deepEqual(one("RUN <<eo\\'f\nx\neo'f\n").heredocs[0], { name: "eo'f", content: 'x\n', chomp: false, expand: true });
  assert.deepEqual(one("RUN <<'one two'\nx\none two\n").heredocs[0].name, 'one two');
  assert.equal(one('RUN <<  EOF  > foo\nEOF\n').heredocs[0].name, 'EOF');
  // Not heredocs: exec form, quoted, other instructions.
  assert.deepEqual(one('RUN ["<<EOF"]').heredocs, []);
  assert.deepEqual(one('RUN "<<NOHEREDOC"').heredocs, []);
  assert.deepEqual(body('USER <<EOF\nRUN x\n').map((i) => [i.kind, i.user]), [['USER', '<<EOF'], ['RUN', undefined]]);
  // Later instructions keep their line numbers.
  const df = parseDockerfile('FROM busybox\nCOPY <<EOF /x\na\nb\nEOF\nRUN y\n');
  assert.equal(df.stages[0].instructions[1].line, 6);
  fails('FROM busybox\nRUN <<EOF\nnever ends\n', 'unterminated heredoc', 2);
});

test('COPY heredocs mix with paths; <<- content is chomped', () => {
  const c = one('COPY --chmod=644 <<-EOF a.txt /dest/\n\tline\nEOF\n');
  assert.deepEqual(c.sources, ['a.txt']);
  assert.deepEqual(c.heredocs, [{ name: 'EOF', content: 'line\n', chomp: true, expand: true }]);
  assert.equal(c.dest, '/dest/');
});

test('parseHeredocWord as Docker\'s ParseHeredoc', () => {
  for (const w of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredocWord(w)!.name, 'EOF', w);
  }
  for (const w of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredocWord(w), undefined, w);
  for (const w of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredocWord(w), DockerfileError, w);
  assert.equal(parseHeredocWord('3<<EOF')!.fd, 3);
});

test('Docker parser dump of a varied file', () => {
  const text = [
    'FROM busybox:buildroot-2014.02',
    'LABEL maintainer docker <docker@docker.io>',
    'ONBUILD RUN ["echo", "test"]',
    'ONBUILD COPY . /',
    'RUN echo \'1234\' && \\',
    '    echo "456"',
    'ENV SCUBA 1 DUBA 3',
    'COPY --from=x --chown=1 a b',
    'EXPOSE 9000 5000',
    'HEALTHCHECK --retries=1 CMD ["a"]',
    '',
  ].join('\n');
  assert.equal(dumpDockerfile(text), [
    '(from "busybox:buildroot-2014.02")',
    '(label "maintainer" "docker <docker@docker.io>" "")',
    '(onbuild (run "echo" "test"))',
    '(onbuild (copy "." "/"))',
    '(run "echo \'1234\' &&     echo \\"456\\"")',
    '(env "SCUBA" "1 DUBA 3" "")',
    '(copy ["--from=x" "--chown=1"] "a" "b")',
    '(expose "9000" "5000")',
    '(healthcheck ["--retries=1"] "CMD" "a")',
    '',
  ].join('\n'));
});

test('validate: duplicate stage names, --target, COPY --from references', () => {
  const df = parseDockerfile('FROM busybox AS a\nRUN x\nFROM a AS b\nCOPY --from=a /x /x\nCOPY --from=0 /y /y\nFROM b\nCOPY --from=nginx:latest /z /z\n');
  let plan = validateDockerfile(df);
  assert.equal(plan.targetIndex, 2);
  assert.equal(plan.stages.length, 3);
  plan = validateDockerfile(df, { target: 'B' });
  assert.equal(plan.targetIndex, 1);
  assert.deepEqual(plan.stages.map((s) => s.name), ['a', 'b']);
  assert.throws(() => validateDockerfile(df, { target: 'nope' }), (e) => e instanceof DockerfileError && e.message === 'target stage "nope" could not be found');

  const check = (text: string, detail: string, line: number) => assert.throws(() => validateDockerfile(parseDockerfile(text)), (e: unknown) => {
    assert.ok(e instanceof DockerfileError);
    assert.equal(e.detail, detail);
    assert.equal(e.line, line);
    return true;
  });
  check('FROM busybox AS a\nFROM busybox AS A\n', 'a stage name already used', 2);
  check('FROM busybox AS a\nCOPY --from=a /x /x\n', 'circular dependency detected on stage: a', 2);
  check('FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\n', 'invalid from flag value b: stage b is defined later in the Dockerfile (line 3)', 2);
  check('FROM busybox\nCOPY --from=0 /x /x\n', 'invalid from flag value 0: invalid stage index 0', 2);
  check('FROM busybox\nFROM busybox\nCOPY --from=5 /x /x\n', 'invalid from flag value 5: invalid stage index 5', 3);
  // A substituted reference is checked only after substitution; FROM of the stage's own name is an image.
  validateDockerfile(parseDockerfile('FROM busybox AS a\nCOPY --from=${X} /x /x\nFROM debian AS debian\n'));
  // Stages after the target are not checked.
  validateDockerfile(parseDockerfile('FROM busybox AS a\nFROM busybox AS b\nCOPY --from=b /x /x\n'), { target: 'a' });
});
