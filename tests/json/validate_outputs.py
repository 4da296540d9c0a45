#!/usr/bin/env python3
"""Validates --json outputs against the JSON Schemas of docs/schemas.

Usage: validate_outputs.py SCHEMA_DIR OUTPUT...
Each OUTPUT file holds one envelope; the schema is chosen by its "schema" field
(SCHEMA_DIR/<schema>.json). Prints one line per problem; exit status 1 when any.
"""
import json
import pathlib
import sys
import warnings

import jsonschema


def load_schemas(directory):
    schemas = {}
    for path in sorted(pathlib.Path(directory).glob("*.json")):
        schema = json.loads(path.read_text())
        schemas[schema["$id"]] = schema
    return schemas


def validator_for(schemas, schema_id):
    schema = schemas[schema_id]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    try:
        from referencing import Registry, Resource  # jsonschema >= 4.18
        from referencing.jsonschema import DRAFT202012

        registry = Registry().with_resources(
            (sid, Resource.from_contents(s, default_specification=DRAFT202012))
            for sid, s in schemas.items())
        return cls(schema, registry=registry)
    except ImportError:  # Debian 12's jsonschema 4.10
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver(base_uri="", referrer=schema, store=schemas)
        return cls(schema, resolver=resolver)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schemas = load_schemas(argv[1])
    problems = 0
    for name in argv[2:]:
        try:
            doc = json.loads(pathlib.Path(name).read_text())
        except ValueError as e:
            print(f"{name}: not one JSON document: {e}")
            problems += 1
            continue
        schema_id = doc.get("schema") if isinstance(doc, dict) else None
        if schema_id not in schemas:
            print(f"{name}: no schema {schema_id!r} in {argv[1]}")
            problems += 1
            continue
        for error in sorted(validator_for(schemas, schema_id).iter_errors(doc), key=str):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            print(f"{name}: {schema_id}: at {where}: {error.message}")
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
