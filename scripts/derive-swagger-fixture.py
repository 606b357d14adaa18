#!/usr/bin/python3
"""Derives test/fixtures/engine-api-write-endpoints.json from moby's api/swagger.yaml.

Source: moby/moby api/swagger.yaml (the Docker Engine API's public specification, Apache-2.0) at the commit named in
the fixture's "source" field. Kept: every write endpoint (POST, PUT, DELETE) with its path, query, header and body
parameters, body schemas with $refs resolved (a type seen again on its own path is cut to {"type": "object"}), and
only the keys a generator needs (type, format, properties, items, additionalProperties, enum, minimum, maximum,
x-nullable). Descriptions and examples are dropped to keep the fixture small.

Usage: derive-swagger-fixture.py SWAGGER_YAML COMMIT > test/fixtures/engine-api-write-endpoints.json
"""
import json
import sys

import yaml

KEEP = ('type', 'format', 'enum', 'minimum', 'maximum', 'x-nullable')


def resolve(spec, schema, seen):
    if not isinstance(schema, dict):
        return schema
    if '$ref' in schema:
        name = schema['$ref'].split('/')[-1]
        if name in seen:
            return {'type': 'object'}
        return resolve(spec, spec['definitions'][name], seen | {name})
    out = {k: schema[k] for k in KEEP if k in schema}
    if 'allOf' in schema:
        out['type'] = 'object'
        props = {}
        for part in schema['allOf']:
            props.update(resolve(spec, part, seen).get('properties', {}))
        out['properties'] = props
    if 'properties' in schema:
        out['type'] = out.get('type', 'object')
        out['properties'] = {k: resolve(spec, v, seen) for k, v in schema['properties'].items()}
    if 'items' in schema:
        out['items'] = resolve(spec, schema['items'], seen)
    if isinstance(schema.get('additionalProperties'), dict):
        out['additionalProperties'] = resolve(spec, schema['additionalProperties'], seen)
    return out


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    endpoints = []
    for path, ops in spec['paths'].items():
        for method, op in ops.items():
            if method not in ('post', 'put', 'delete'):
                continue
            params = []
            for p in op.get('parameters', []):
                q = {'name': p['name'], 'in': p['in'], 'required': bool(p.get('required'))}
                if p['in'] == 'body':
                    q['schema'] = resolve(spec, p.get('schema', {}), frozenset())
                else:
                    q.update({k: p[k] for k in KEEP if k in p})
                    if 'items' in p:
                        q['items'] = p['items']
                params.append(q)
            endpoints.append({'method': method.upper(), 'path': path, 'operationId': op.get('operationId'),
                              'consumes': op.get('consumes', []), 'parameters': params})
    json.dump({'source': {'repository': 'moby/moby', 'path': 'api/swagger.yaml', 'commit': sys.argv[2],
                          'license': 'Apache-2.0', 'apiVersion': spec['info']['version']},
               'endpoints': endpoints}, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write('\n')


main()
