"""Renders Home Assistant MQTT value templates as HA does: Jinja2 in a sandbox,
with `value` (the payload text) and `value_json` (the payload parsed as JSON).
Reads a JSON list of {"template", "payload"} on stdin, prints the list of
rendered strings (or {"error": ...} for one that fails) as JSON."""
import json
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment


def main():
    env = ImmutableSandboxedEnvironment()
    out = []
    for item in json.load(sys.stdin):
        payload = item["payload"]
        try:
            value_json = json.loads(payload)
        except ValueError:
            value_json = None
        try:
            out.append(env.from_string(item["template"]).render(value=payload, value_json=value_json))
        except Exception as e:  # noqa: BLE001 - each template's failure is reported on its own
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
