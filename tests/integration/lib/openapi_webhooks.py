#!/usr/bin/env python3
"""Webhook bodies built from Trackstar's OpenAPI file, one per event type and variant.

The spec is read, not copied: a new spec version is a new run, not new code.

  openapi_webhooks.py --spec FILE --connection-prefix P --out DIR

For every webhook event whose integration_type is wms or general (connections), writes
DIR/<variant>.<event_type>.json and prints one line per file:

  <variant> <event_type> <integration_type> <connection_id> <record id> <file>

Variants:
  examples  every property from its `example` (the schema's own sample values)
  nulls     the same, with every property the spec marks nullable set to null
  minimal   data holds only `id`, the date-time properties at its top and those the spec
            requires

Each variant and event gets its own connection id (P + a counter) so that checks cannot
see another's rows, and its own record id, so that no version of one hides another.
"""
import argparse, copy, json, os, sys

IN_SCOPE = ("wms", "general")  # freight, cart and carrier integrations are out of scope


class Spec:
    def __init__(self, path):
        with open(path) as f:
            self.doc = json.load(f)
        self.schemas = self.doc["components"]["schemas"]

    def resolve(self, s):
        while isinstance(s, dict) and "$ref" in s:
            s = self.schemas[s["$ref"].split("/")[-1]]
        return s

    def sample(self, s, nulls, depth=0):
        """A value for schema s: its example, else one built from its parts."""
        s = self.resolve(s)
        if nulls and s.get("nullable"):
            return None
        if depth > 12:
            return None
        if "example" in s and not (nulls and s.get("type") in ("object", "array")):
            return copy.deepcopy(s["example"])
        for comb in ("allOf", "oneOf", "anyOf"):
            if comb in s and s[comb]:
                return self.sample(s[comb][0], nulls, depth + 1)
        t = s.get("type")
        if t == "object" or "properties" in s:
            return {k: self.sample(v, nulls, depth + 1) for k, v in s.get("properties", {}).items()}
        if t == "array":
            return [self.sample(s.get("items", {}), nulls, depth + 1)] if s.get("items") else []
        return {"string": "x", "integer": 1, "number": 1.5, "boolean": True}.get(t)

    def events(self):
        for etype, w in self.doc.get("webhooks", {}).items():
            body = self.resolve(w["post"]["requestBody"]["content"]["application/json"]["schema"])
            itype = body["properties"].get("integration_type", {}).get("example")
            yield etype, itype, body


def build(spec, etype, body_schema, variant, conn, rec_id):
    props = body_schema["properties"]
    data_schema = spec.resolve(props["data"])
    if variant == "minimal":
        # The id, the dates, and what the spec itself requires (a connection event's
        # resource or access token): nothing else.
        data = {"id": rec_id}
        required = set(data_schema.get("required", ()))
        for k, v in data_schema.get("properties", {}).items():
            if spec.resolve(v).get("format") == "date-time" or k in required:
                data[k] = spec.sample(v, False)
    else:
        data = spec.sample(data_schema, variant == "nulls")
        # Nested nullable objects and arrays were sampled; the record's own properties that
        # are nullable are null in "nulls" (sample() did it), its identity is ours.
        data["id"] = rec_id
    # A record's version must be valid for it to be applied at all: keep the example's.
    for k in ("updated_date", "created_date"):
        if k in data_schema.get("properties", {}) and data.get(k) is None and variant != "minimal":
            data[k] = spec.resolve(data_schema["properties"][k]).get("example")
    env = {"connection_id": conn, "event_type": etype, "integration_name": "shiphero",
           "integration_type": props["integration_type"].get("example"), "data": data}
    if "previous_attributes" in props:
        env["previous_attributes"] = {} if variant != "examples" else spec.sample(
            props["previous_attributes"], False)
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--connection-prefix", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    spec = Spec(a.spec)
    os.makedirs(a.out, exist_ok=True)
    n = 0
    for variant in ("examples", "nulls", "minimal"):
        for etype, itype, body_schema in spec.events():
            if itype not in IN_SCOPE:
                continue
            n += 1
            conn = f"{a.connection_prefix}{n:03d}"
            rec_id = f"rec_{variant}_{n:03d}"
            env = build(spec, etype, body_schema, variant, conn, rec_id)
            path = os.path.join(a.out, f"{variant}.{etype}.json")
            with open(path, "w") as f:
                json.dump(env, f)
            print(variant, etype, itype, conn, env["data"].get("id", ""), path)
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
