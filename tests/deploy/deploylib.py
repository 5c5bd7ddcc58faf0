"""What the deploy checks share: rendering the kustomize overlays, the
Kubernetes schemas, what a built binary accepts (flags, environment), and a
container's effective configuration as the binary would see it.

    objs = render("dev")
    for dep in of_kind(objs, "Deployment"):
        c = main_container(dep)
        cfg = effective_config(objs, dep, c)      # flag -> value, as the binary resolves it
        cfg["port"], cfg["drain_deadline"]

Everything here reads the real artefacts (kubectl kustomize, the binaries of
NEWSGRID_BUILD_DIR) so manifests and binaries cannot drift apart unnoticed.
"""

import base64
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(os.environ.get("NEWSGRID_SOURCE_DIR") or Path(__file__).resolve().parents[2])
BUILD = Path(os.environ.get("NEWSGRID_BUILD_DIR") or REPO / "build")
K8S = REPO / "deploy" / "k8s"
OVERLAYS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev", "prod": K8S / "overlays" / "prod"}
SCHEMA_ENV = "NEWSGRID_K8S_SCHEMAS"
# The kinds the manifests use, kept in the repository (see its README).
DEFAULT_SCHEMA_DIR = K8S / "schemas" / "kubernetes-v1.30.0-standalone-strict"

# Our images, by name without tag, and the binary each one runs (the
# Dockerfile's ENTRYPOINT); image_test checks the Dockerfiles agree.
OUR_IMAGES = {
    "newsgrid/article-service": "article-service/article-service",
    "newsgrid/trending-service": "trending-service/trending-service",
    "newsgrid/reader-web": "reader-web/reader-web",
}


class ConfigError(Exception):
    """A manifest that does not resolve (missing ConfigMap, key, flag ...)."""


# ---------------------------------------------------------------- rendering

def kubectl():
    path = shutil.which("kubectl")
    if path is None:
        raise RuntimeError("kubectl not found: install the Debian package `kubectl` "
                           "(it is in NEWSGRID_PACKAGES, deploy/local/common.sh)")
    return path


@functools.lru_cache(maxsize=None)
def _render_text(overlay):
    proc = subprocess.run([kubectl(), "kustomize", str(OVERLAYS[overlay])],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {OVERLAYS[overlay]} failed:\n{proc.stderr}")
    return proc.stdout


def render(overlay):
    """The overlay's objects as kubectl would apply them (fresh copies)."""
    return [o for o in yaml.safe_load_all(_render_text(overlay)) if o]


def of_kind(objs, kind):
    return [o for o in objs if o.get("kind") == kind]


def find(objs, kind, name):
    for o in objs:
        if o.get("kind") == kind and o["metadata"]["name"] == name:
            return o
    return None


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def main_container(dep):
    """The container named like its Deployment (the service itself)."""
    for c in pod_spec(dep)["containers"]:
        if c["name"] == dep["metadata"]["name"]:
            return c
    raise ConfigError(f"Deployment {dep['metadata']['name']} has no container of that name")


def image_name(image):
    """'newsgrid/article-service:0.1.0' -> ('newsgrid/article-service', '0.1.0')."""
    if "@" in image:
        name, digest = image.split("@", 1)
        return name, digest
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = image.rsplit(":", 1)
        return name, tag
    return image, None


# ---------------------------------------------------------------- schemas

def schema_dir():
    d = Path(os.environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA_DIR)
    if not d.is_dir():
        raise RuntimeError(
            f"Kubernetes JSON schemas not found at {d}. The repository keeps them in "
            f"{DEFAULT_SCHEMA_DIR.relative_to(REPO)} (see deploy/k8s/schemas/README.md); "
            f"set {SCHEMA_ENV} to another folder holding <kind>-<group>-<version>.json files.")
    return d


def schema_file(obj):
    """Deployment apps/v1 -> deployment-apps-v1.json; Service v1 -> service-v1.json."""
    api = obj["apiVersion"]
    kind = obj["kind"].lower()
    if "/" in api:
        group, version = api.split("/", 1)
        return f"{kind}-{group.split('.')[0]}-{version}.json"
    return f"{kind}-{api}.json"


@functools.lru_cache(maxsize=None)
def load_schema(file_name):
    path = schema_dir() / file_name
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def schema_errors(obj):
    """Strict validation messages for one object ([] when valid)."""
    import jsonschema  # Debian python3-jsonschema

    schema = load_schema(schema_file(obj))
    where = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
    if schema is None:
        return [f"{where}: no schema {schema_file(obj)} in {schema_dir()} (kind missing there)"]
    validator = jsonschema.Draft4Validator(schema)
    return [f"{where}: {'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
            for e in validator.iter_errors(obj)]


# ---------------------------------------------------------------- binaries

class BinaryInfo:
    """What a built binary accepts, read from the binary itself."""

    def __init__(self, path, flags, env_prefix, env_aliases):
        self.path = path
        self.flags = flags            # name -> effective default (string)
        self.env_prefix = env_prefix  # e.g. "ARTICLE"
        self.env_aliases = env_aliases  # e.g. {"DATABASE_URL": "pg_dsn"}

    def flag_for_env(self, var):
        """The flag an environment variable sets, or None if the binary ignores it."""
        if var in self.env_aliases:
            return self.env_aliases[var]
        prefix = self.env_prefix + "_"
        if var.startswith(prefix):
            name = var[len(prefix):].lower()
            if name in self.flags and var == prefix + name.upper():
                return name
        return None


def binary_path(image):
    name, _ = image_name(image)
    if name not in OUR_IMAGES:
        return None
    path = BUILD / OUR_IMAGES[name]
    if not path.is_file():
        raise RuntimeError(f"{path} not built: build the project first (NEWSGRID_BUILD_DIR={BUILD})")
    return path


_FLAG_ENTRY = re.compile(r"^    --(\w+) \((.*)\);\s*default: (.*?);(?:\s*currently: (.*?);)?$",
                         re.S)


def parse_helpfull(text):
    """Abseil --helpfull output -> ({flag: effective default}, {flag: description})."""
    entries, current = [], None
    for line in text.splitlines():
        if line.startswith("    --"):
            current = [line]
            entries.append(current)
        elif line.startswith("      ") and current is not None:
            current.append(line.strip())
        else:
            current = None
    flags, help_text = {}, {}
    for e in entries:
        m = _FLAG_ENTRY.match(" ".join(e))
        if not m:
            raise ValueError(f"unrecognised --helpfull entry: {' '.join(e)!r}")
        name, desc, default, currently = m.groups()
        value = currently if currently is not None else default
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        flags[name] = value
        help_text[name] = desc
    return flags, help_text


def minimal_env(**extra):
    """A near-empty environment for running a binary as a container would,
    keeping PATH and the sanitizer options (in a sanitizer build they say
    where reports go, and tests/run.sh --sanitizers fails on any report)."""
    env = {"PATH": os.environ.get("PATH", "")}
    env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
    env.update(extra)
    return env


@functools.lru_cache(maxsize=None)
def binary_info(path):
    path = Path(path)
    proc = subprocess.run([str(path), "--helpfull"], capture_output=True, text=True,
                          timeout=30, env=minimal_env())
    flags, help_text = parse_helpfull(proc.stdout + proc.stderr)
    if "port" not in flags:
        raise RuntimeError(f"{path} --helpfull lists no --port:\n{proc.stdout}{proc.stderr}")
    # Which prefix the binary reads: an unparsable <PREFIX>_PORT must be
    # rejected naming that variable.
    prefix = None
    for candidate in ("ARTICLE", "TRENDING", "READER"):
        p = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30,
                           env=minimal_env(**{f"{candidate}_PORT": "not-a-port"}))
        if p.returncode != 0 and f"{candidate}_PORT" in p.stderr:
            prefix = candidate
    if prefix is None:
        raise RuntimeError(f"{path} reads no ARTICLE_*, TRENDING_* or READER_* variables")
    # Variables named in a flag's help as its fallback (--pg_dsn: DATABASE_URL).
    aliases = {}
    for name, desc in help_text.items():
        for var in re.findall(r"falls back to ([A-Z][A-Z0-9_]+)", desc):
            aliases[var] = name
    return BinaryInfo(path, flags, prefix, aliases)


# ---------------------------------------------------------------- configuration

def parse_args(args):
    """['--port=1', '--x', 'v'] -> {'port': '1', 'x': 'v'}; positional args are errors."""
    out, i = {}, 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--"):
            raise ConfigError(f"unexpected positional argument {a!r}")
        if "=" in a:
            k, v = a[2:].split("=", 1)
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            k, v = a[2:], args[i + 1]
            i += 1
        else:
            k, v = a[2:], "true"
        out[k] = v
        i += 1
    return out


def _data(obj, key):
    """A ConfigMap's or Secret's value for key (Secret data is base64)."""
    if obj["kind"] == "Secret":
        if key in obj.get("stringData", {}):
            return obj["stringData"][key]
        if key in obj.get("data", {}):
            return base64.b64decode(obj["data"][key]).decode()
    else:
        if key in obj.get("data", {}):
            return obj["data"][key]
    return None


def container_env(objs, container, external_secrets=()):
    """The environment the kubelet gives the container, in its order
    (envFrom first, then env, later wins). A secret listed in
    external_secrets is created outside the manifests: its values are None.
    Raises ConfigError for references that would not resolve."""
    env = {}
    for src in container.get("envFrom", []):
        prefix = src.get("prefix", "")
        if "configMapRef" in src:
            ref, kind = src["configMapRef"], "ConfigMap"
        else:
            ref, kind = src["secretRef"], "Secret"
        obj = find(objs, kind, ref["name"])
        if obj is None:
            if kind == "Secret" and ref["name"] in external_secrets:
                continue
            if ref.get("optional"):
                continue
            raise ConfigError(f"{kind} {ref['name']} (envFrom) is not in the manifests")
        keys = list(obj.get("data", {})) + list(obj.get("stringData", {}))
        for k in keys:
            env[prefix + k] = _data(obj, k)
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
            continue
        vf = e.get("valueFrom", {})
        ref = vf.get("configMapKeyRef") or vf.get("secretKeyRef")
        if ref is None:
            raise ConfigError(f"env {e['name']}: only value, configMapKeyRef and secretKeyRef "
                              "are understood by the checks")
        kind = "ConfigMap" if "configMapKeyRef" in vf else "Secret"
        obj = find(objs, kind, ref["name"])
        if obj is None:
            if kind == "Secret" and ref["name"] in external_secrets:
                env[e["name"]] = None
                continue
            raise ConfigError(f"env {e['name']}: {kind} {ref['name']} is not in the manifests")
        value = _data(obj, ref["key"])
        if value is None:
            raise ConfigError(f"env {e['name']}: {kind} {ref['name']} has no key {ref['key']}")
        env[e["name"]] = value
    return env


def effective_config(objs, container, external_secrets=()):
    """flag -> value as the binary resolves it: default < environment <
    command line. Raises ConfigError for a variable or flag the binary does
    not know."""
    info = binary_info(binary_path(container["image"]))
    cfg = dict(info.flags)
    env = container_env(objs, container, external_secrets)
    # Direct <PREFIX>_<FLAG> first, then aliases, as the binary does.
    for var, value in env.items():
        flag = info.flag_for_env(var)
        if flag is None:
            raise ConfigError(f"{container['name']}: environment variable {var} sets no flag "
                              f"of {info.path.name}")
        if var in info.env_aliases and f"{info.env_prefix}_{flag.upper()}" in env:
            continue
        cfg[flag] = value
    for k, v in parse_args(container.get("args", [])).items():
        if k not in info.flags:
            raise ConfigError(f"{container['name']}: argument --{k} is not a flag of "
                              f"{info.path.name}")
        cfg[k] = v
    return cfg


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(text):
    """Abseil duration text ('10s', '1m30s', '250ms') -> seconds."""
    if text in ("0", "inf"):
        return 0.0 if text == "0" else float("inf")
    pos, total = 0, 0.0
    for m in _DURATION_PART.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT[m.group(2)]
        pos = m.end()
    if pos != len(text) or pos == 0:
        raise ValueError(f"not a duration: {text!r}")
    return total


def prestop_seconds(container):
    """How long the preStop hook holds the container before SIGTERM."""
    hook = container.get("lifecycle", {}).get("preStop")
    if not hook:
        return 0.0
    if "sleep" in hook:
        return float(hook["sleep"]["seconds"])
    cmd = hook.get("exec", {}).get("command", [])
    if len(cmd) == 2 and cmd[0].endswith("/sleep"):
        return float(cmd[1])
    raise ConfigError(f"{container['name']}: preStop {hook} is not a plain sleep")


def proto_services():
    """Fully qualified gRPC service names declared in proto/."""
    names = set()
    for p in (REPO / "proto").rglob("*.proto"):
        text = p.read_text()
        pkg = re.search(r"^package\s+([\w.]+)\s*;", text, re.M)
        for s in re.findall(r"^service\s+(\w+)", text, re.M):
            names.add(f"{pkg.group(1)}.{s}" if pkg else s)
    return names
