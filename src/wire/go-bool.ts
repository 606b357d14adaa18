// Go's strconv.ParseBool, the grammar dockerd reads boolean options and filters with.

const TRUE = ['1', 't', 'T', 'true', 'TRUE', 'True'];
const FALSE = ['0', 'f', 'F', 'false', 'FALSE', 'False'];

/** The boolean `s` spells as ParseBool reads it, or undefined where ParseBool fails (each caller words its error). */
export function parseGoBool(s: string): boolean | undefined {
  if (TRUE.includes(s)) return true;
  if (FALSE.includes(s)) return false;
  return undefined;
}
