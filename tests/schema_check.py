#!/usr/bin/env python3
"""Check schemas/job.schema.json against the job files barge itself accepts and rejects.

Every document in examples/ and tests/data/jobs/valid/ must pass the schema; every file in
tests/data/jobs/invalid/ must fail it, except those listed in tests/data/jobs/invalid/SEMANTIC_ONLY
(mistakes only barge can see: bad regexes, overlapping routes, duplicate YAML keys).  Exits 77
(skip) when python3-jsonschema or python3-yaml is missing.
"""
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:
    print(f"skipped: {e.name} is not installed (apt-get install python3-jsonschema python3-yaml)")
    sys.exit(77)

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
schema = json.load(open(os.path.join(root, "schemas", "job.schema.json")))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)


def documents(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def yaml_files(top):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")):
                yield os.path.join(dirpath, name)


failures = 0
checked = 0
for top in ("examples", "tests/data/jobs/valid"):
    for path in yaml_files(os.path.join(root, top)):
        for doc in documents(path):
            checked += 1
            errors = list(validator.iter_errors(doc))
            if errors:
                failures += 1
                print(f"FAIL {path}: should pass the schema: {errors[0].message}")

invalid_dir = os.path.join(root, "tests/data/jobs/invalid")
semantic = set(open(os.path.join(invalid_dir, "SEMANTIC_ONLY")).read().split())
for path in yaml_files(invalid_dir):
    name = os.path.basename(path)
    try:
        docs = documents(path)
    except yaml.YAMLError:
        docs = None  # not even YAML: an editor flags it before the schema does
    if docs is None:
        checked += 1
        continue
    ok = all(validator.is_valid(d) for d in docs) and docs
    checked += 1
    if name in semantic:
        if not ok:
            failures += 1
            print(f"FAIL {path}: listed in SEMANTIC_ONLY but the schema rejects it")
    elif ok:
        failures += 1
        print(f"FAIL {path}: should fail the schema")

print(f"{checked} documents checked, {failures} failures")
sys.exit(1 if failures else 0)
