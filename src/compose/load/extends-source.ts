// The services of a file another file extends from, read once per load: interpolated, validated and in long
// form with paths against that file's directory, but with its own extends left for the caller to follow
// (so a cycle across files is seen by one resolver).
import { dirname } from 'node:path';
import type { LineMap } from './yaml';
import { isDict } from './canonical';
import { mergeDocuments } from './merge';
import { readDocuments, type FileEnvironment } from './read';

export type { FileEnvironment };

export interface ExtendsSource {
  services: Record<string, unknown>;
  lines?: LineMap;
}

export function loadFileForExtends(file: string, env: FileEnvironment): ExtendsSource {
  env.extendsCache ??= new Map();
  const cached = env.extendsCache.get(file);
  if (cached) return cached;
  let merged: Record<string, unknown> = {};
  let lines: LineMap | undefined;
  for (const { doc, ctx } of readDocuments(file, env, dirname(file))) {
    merged = mergeDocuments(merged, doc);
    lines ??= ctx.lines;
  }
  const source = { services: isDict(merged.services) ? merged.services : {}, lines };
  env.extendsCache.set(file, source);
  return source;
}
