// Declared shapes of POST /build's JSON-in-query parameters (moby's newImageBuildOptions unmarshals each).
import { array, int, map, nullableStr, str, struct } from './decode';

/** buildargs: a null value stays null (Go's nil *string: the ARG is declared without a value), not "". */
export const buildArgs = map(nullableStr, 'map[string]*string');
export const buildLabels = map(str);
export const cacheFrom = array(str);
export const buildUlimits = array(struct('Ulimit', { Name: str, Hard: int('int64'), Soft: int('int64') }, 'container.Ulimit'), '[]*container.Ulimit');
