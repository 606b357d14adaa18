// Swarm's per-task templates ({{.Service.Name}}, {{.Node.Hostname}}, {{.Task.Slot}}...) in a ContainerSpec's Env,
// Hostname and mount Source/Target: the subset of Go's text/template swarmkit's template package is used with
// (field paths and `index .X.Labels "key"`), expanded on the node that runs the task.
import { InvalidParameterError } from '../../errdefs';

/** The values a template sees (swarmkit's template.Context). */
export interface TemplateContext {
  Service: { ID: string; Name: string; Labels: Record<string, string> };
  Node: { ID: string; Hostname: string; Platform: { OS: string; Architecture: string } };
  /** Slot is the node ID for global tasks (and jobs whose slots start at 0), as swarmkit's. */
  Task: { ID: string; Name: string; Slot: string };
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

export function expandTemplate(text: string, context: TemplateContext): string {
  if (!text.includes('{{')) return text;
  return text.replace(ACTION, (_whole, action: string) => evaluate(action, context, text));
}

/** Each "KEY=value" entry's value expanded (swarmkit expands the whole entry; a key rarely holds a template). */
export function expandEnv(env: string[], context: TemplateContext): string[] {
  return env.map((e) => expandTemplate(e, context));
}

function evaluate(action: string, context: TemplateContext, text: string): string {
  const index = /^index\s+(\.[A-Za-z0-9_.]+)\s+"((?:[^"\\]|\\.)*)"$/.exec(action);
  if (index) {
    const map = lookup(index[1]!, context, text);
    if (map === null || typeof map !== 'object') throw templateError(text, `can't index item of type ${typeof map}`);
    const value = (map as Record<string, unknown>)[JSON.parse(`"${index[2]}"`) as string];
    return value === undefined ? '<no value>' : String(value);
  }
  if (!/^\.[A-Za-z0-9_.]*$/.test(action)) throw templateError(text, `function or syntax not supported: ${action}`);
  const value = lookup(action, context, text);
  if (value !== null && typeof value === 'object') {
    // Go prints a map as map[k:v ...], keys sorted.
    return `map[${Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}:${String(v)}`).join(' ')}]`;
  }
  return String(value);
}

function lookup(path: string, context: TemplateContext, text: string): unknown {
  let value: unknown = context;
  for (const field of path.split('.').filter(Boolean)) {
    if (value === null || typeof value !== 'object' || !(field in (value as object))) {
      throw templateError(text, `can't evaluate field ${field}`);
    }
    value = (value as Record<string, unknown>)[field];
  }
  return value;
}

function templateError(text: string, why: string): InvalidParameterError {
  return new InvalidParameterError(`failed to expand template ${JSON.stringify(text)}: ${why}`);
}
