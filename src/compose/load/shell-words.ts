// Splits a command string into words as go-shellwords does for Compose's `command: echo "a b"`: whitespace
// separates words, single quotes are literal, double quotes keep spaces and honour backslash escapes.
// No variable expansion (Compose has already interpolated) and no operators.

export class ShellWordsError extends Error {}

export function shellSplit(s: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '\\') {
      i++;
      if (i < s.length && s[i] !== '\n') word += s[i];
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError(`invalid command line string: unterminated single quote in ${JSON.stringify(s)}`);
      word += s.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '"\\$`\n'.includes(s[j + 1])) {
          j++;
          if (s[j] !== '\n') word += s[j];
        } else word += s[j];
      }
      if (j >= s.length) throw new ShellWordsError(`invalid command line string: unterminated double quote in ${JSON.stringify(s)}`);
      i = j;
      continue;
    }
    word += c;
  }
  if (inWord) words.push(word);
  return words;
}
