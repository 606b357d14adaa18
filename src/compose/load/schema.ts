// Validates one compose document (after interpolation, as compose-go does) against the compose-spec JSON
// schema and turns the first failure into a ComposeFileError naming the file, line, dotted path and problem.
import { createHash } from 'node:crypto';
import type { ErrorObject, Options as AjvOptions, ValidateFunction } from 'ajv';
import schemaJson from './compose-spec.json';
import { ComposeFileError } from './errors';
import { unmark, lineOf, type LineMap } from './yaml';

/** The options the validator is compiled with, at run time or ahead of it (tools/compose-schema-validator). */
// inlineRefs off: each definition is one function, not copied into every place that refers to it (the
// standalone module is 345 KB instead of 440 KB, and loads and first runs ~9 ms sooner); errors are the same.
export const AJV_OPTIONS: AjvOptions = { allErrors: false, strict: false, validateFormats: false, inlineRefs: false };

/** The module the build writes beside this one: ajv's standalone code for the schema, and which schema it is. */
export const PRECOMPILED_MODULE = 'compose-spec-validator.js';
export interface PrecompiledValidator { validate: ValidateFunction; schemaSha256: string }

/** The compose-spec schema as ajv takes it. */
export function composeSchema(): Record<string, unknown> {
  // The schema names draft-07 by an https URL ajv does not know; the keyword set is draft-07's either way.
  const { $schema: _ignored, ...schema } = schemaJson as Record<string, unknown>;
  return schema;
}

export function schemaDigest(schema: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex');
}

let validator: ValidateFunction | undefined;

/**
 * The validator: the build's precompiled one when it was made from this very schema (compiling the schema
 * costs ~170 ms, most of a `docker compose` start), else compiled here with the same options.
 */
function compiled(): ValidateFunction {
  if (!validator) {
    const schema = composeSchema();
    const pre = precompiled();
    if (pre && pre.schemaSha256 === schemaDigest(schema)) validator = pre.validate;
    else {
      const Ajv = (require('ajv') as typeof import('ajv')).default;
      validator = new Ajv(AJV_OPTIONS).compile(schema);
    }
  }
  return validator;
}

function precompiled(): PrecompiledValidator | undefined {
  try {
    return require(`./${PRECOMPILED_MODULE}`) as PrecompiledValidator;
  } catch (err) {
    // Not built (a bare tsc build): compile at run time instead.
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

/** `/services/web/ports/0` → `services.web.ports[0]`, telling list indices from keys by the data. */
function dottedPath(doc: unknown, pointer: string): string {
  if (pointer === '') return '';
  let node: unknown = doc;
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out += `[${seg}]`;
      node = node[Number(seg)];
    } else {
      out += out === '' ? seg : `.${seg}`;
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `additional property ${String(p.additionalProperty)} is not allowed`;
    case 'type':
      return `must be a ${String(p.type).split(',').join(' or ')}`;
    case 'required':
      return `${String(p.missingProperty)} is required`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
    case 'oneOf':
    case 'anyOf':
      return 'does not match any of the allowed forms';
    case 'uniqueItems':
      return 'has duplicate items';
    case 'pattern':
      return `does not match pattern ${String(p.pattern)}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Of ajv's errors (a oneOf reports one per branch), the one that tells the user most. */
function mostTelling(errors: ErrorObject[]): ErrorObject {
  const extra = errors.find((e) => e.keyword === 'additionalProperties');
  if (extra) return extra;
  // The deepest path is where the value actually went wrong; among equals, a concrete keyword beats oneOf.
  return [...errors].sort((a, b) => {
    const d = b.instancePath.split('/').length - a.instancePath.split('/').length;
    if (d !== 0) return d;
    const rank = (e: ErrorObject) => (e.keyword === 'oneOf' || e.keyword === 'anyOf' ? 1 : 0);
    return rank(a) - rank(b);
  })[0];
}

export function validateDocument(doc: Record<string, unknown>, file: string, lines?: LineMap): void {
  const data = unmark(doc);
  const validate = compiled();
  if (validate(data)) return;
  const err = mostTelling(validate.errors ?? []);
  let path = dottedPath(data, err.instancePath);
  let line = lineOf(lines, path);
  if (err.keyword === 'additionalProperties') {
    const key = String((err.params as Record<string, unknown>).additionalProperty);
    line = lineOf(lines, path === '' ? key : `${path}.${key}`);
  }
  if (path === '') path = '(root)';
  throw new ComposeFileError(file, describe(err), path, line);
}
