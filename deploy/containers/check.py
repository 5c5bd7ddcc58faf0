#!/usr/bin/python3
"""The built images run as the dev overlay runs them, checked from the host.

    deploy/containers/check.py [--keep] [run|kube ...]   # both modes by default

check.sh builds the images first and runs this with CONTAINERS_CONF set.

run   PostgreSQL and every service (the two gRPC services and reader-web)
      as containers on one podman network,
      started as the dev overlay's Deployments start them: the same image,
      args, environment (ConfigMaps as env files, Secrets as podman secrets),
      init container first, read-only root with an emptyDir for /tmp, uid
      10001, all capabilities dropped, no privilege escalation, the memory
      and CPU limits; every Service name a network alias, as cluster DNS gives.
kube  The rendered dev overlay through `podman kube play`, adapted for
      podman 4.3 in `adapt_for_podman` (each change named there, and none
      of them in the manifests a cluster gets).

Against both, from the host and through grpcurl (the real one from
$GRPCURL, PATH or ../shared/bin/grpcurl; otherwise tests/e2e/grpcurl.py, the
project's reflection-only work-alike): reflection lists both services; an
article is created, published and read by a reader; the read shows in
trending; health is SERVING for every service name the probes use;
reader-web is ready (/readyz) and serves the article's page with its title;
the containers run as uid 10001 on a read-only root without capabilities;
`podman kill` of trending-service and a restart keep the views it had
flushed, and article-service's next view reaches it at its new address,
counted once; `podman stop` (SIGTERM) of each service exits 0 within its
drain deadline.

Everything created is named newsgrid-<mode>-<pid>-* and removed at the end
(--keep leaves it running). The images stay.
"""

import argparse
import base64
import copy
import html
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
# google/rpc/*.proto (Debian: golang-github-gogo-googleapis-dev), as CMakeLists.txt finds them.
GOOGLEAPIS_DIR = "/usr/share/gocode/src/github.com/gogo/googleapis"
sys.path.insert(0, str(REPO / "tests" / "deploy"))
import deploylib  # noqa: E402  (rendering, env resolution, durations)
from deploylib import find, main_container, of_kind, pod_spec, render  # noqa: E402

PG_IMAGE = "localhost/newsgrid-postgres:15"
SERVICES = ("article-service", "trending-service")  # gRPC, probed by grpc health
PAGE_SERVICES = ("reader-web",)                      # HTTP, probed by httpGet
# Symlinked folders of the Debian images (kube play adaptation
# mount-path-resolved).
IMAGE_SYMLINKS = {"/var/run": "/run", "/var/lock": "/run/lock"}
# The dev tokens (deploy/k8s/overlays/dev/auth/article-tokens).
EDITOR = ("authorization", "Bearer dev-editor-token-0123456789abcdef")


def log(msg):
    print(f"\033[1m[newsgrid]\033[0m {msg}", file=sys.stderr, flush=True)


class CheckFailed(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def wait_for(what, predicate, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except CheckFailed as e:
            last = e
        time.sleep(interval)
    raise CheckFailed(f"timed out after {timeout}s waiting for {what} (last: {last})")


# ---------------------------------------------------------------- podman

class Podman:
    """podman with a record of what this run created, removed by cleanup()."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.created = []   # (kind, name), removed in reverse order

    def __call__(self, *args, check=True, input=None, timeout=600):
        p = subprocess.run(["podman", *map(str, args)], capture_output=True, text=True,
                           input=input, timeout=timeout)
        if check and p.returncode != 0:
            raise CheckFailed(f"podman {' '.join(map(str, args))}: exit {p.returncode}\n"
                              f"{p.stderr.strip()}")
        return p

    def name(self, *parts):
        return "-".join([self.prefix, *parts])

    def created_as(self, kind, name):
        self.created.append((kind, name))
        return name

    def logs(self, container, lines=40):
        p = self("logs", "--tail", lines, container, check=False)
        return (p.stdout + p.stderr).strip()

    def ip(self, container):
        nets = json.loads(self("inspect", "--format", "{{json .NetworkSettings.Networks}}",
                               container).stdout)
        ips = [n["IPAddress"] for n in nets.values() if n.get("IPAddress")]
        expect(ips, f"{container} has no address on a network")
        return ips[0]

    def cleanup(self):
        for kind, name in reversed(self.created):
            if kind == "container":
                self("rm", "--force", "--time", "0", name, check=False)
            elif kind == "pod":
                self("pod", "rm", "--force", "--time", "0", name, check=False)
            elif kind == "secret":
                self("secret", "rm", name, check=False)
            else:  # network, volume
                self(kind, "rm", "--force", name, check=False)
        self.created.clear()
        # Claims and Secret volumes of kube play become podman volumes named
        # after them (<prefix>-...): they go with the pods.
        for v in self("volume", "ls", "--format", "{{.Name}}").stdout.split():
            if v.startswith(self.prefix + "-"):
                self("volume", "rm", "--force", v, check=False)


# ---------------------------------------------------------------- grpcurl

class Grpcurl:
    """grpcurl calls from the host through tests/e2e/grpcurl.py: the real
    binary ($GRPCURL, PATH, ../shared/bin/grpcurl) or else its reflection-only
    work-alike, which needs the health and reflection stubs (made here with
    protoc, as the build would)."""

    def __init__(self):
        sys.path.insert(0, str(REPO / "tests" / "e2e"))
        grpcurl = importlib.import_module("grpcurl")  # tests/e2e/grpcurl.py
        self.tool = grpcurl.find()
        self.stubs = None
        if isinstance(self.tool, grpcurl.Workalike):
            self.stubs = tempfile.TemporaryDirectory(prefix="newsgrid-stubs-")
            out = Path(self.stubs.name) / "python"
            out.mkdir()
            subprocess.run(["protoc", "-I/usr/share/grpc-proto", f"--python_out={out}",
                            f"--grpc_out={out}",
                            f"--plugin=protoc-gen-grpc={shutil.which('grpc_python_plugin')}",
                            "grpc/health/v1/health.proto",
                            "grpc/reflection/v1alpha/reflection.proto"], check=True)
            # google.rpc.Status: the work-alike decodes the details of an
            # error reply with it (a startup probe can get NOT_FOUND before
            # the service registers its health status), as ctest's
            # PYTHONPATH has it from the build.
            subprocess.run(["protoc", f"-I{GOOGLEAPIS_DIR}", f"--python_out={out}",
                            "google/rpc/status.proto", "google/rpc/error_details.proto"], check=True)
            sys.path.insert(0, str(out))
            os.environ["NEWSGRID_BUILD_DIR"] = self.stubs.name  # read by tests/e2e/harness.py
        log(f"grpcurl: {self.tool.name}")

    def __call__(self, address, method=None, data=None, headers=()):
        """One call; no method lists the services. Returns the response as a
        dict (or the service names); raises CheckFailed on any error."""
        argv = ["-plaintext"]
        for k, v in headers:
            argv += ["-H", f"{k}: {v}"]
        if data is not None:
            argv += ["-d", json.dumps(data)]
        argv += [address, method or "list"]
        r = self.tool.run(argv)
        if not r.ok:
            raise CheckFailed(f"grpcurl {' '.join(argv)}: {r.code}: {r.error}")
        return r.outputs if method is None else (r.outputs[0] if r.outputs else {})


# ---------------------------------------------------------------- smoke

class Target:
    """Where the smoke finds things: service -> host:port, and how to read
    PostgreSQL, kill and restart trending-service, stop a service."""

    def __init__(self, podman, objs):
        self.podman, self.objs = podman, objs
        self.address = {}       # service -> "ip:port"
        self.container = {}     # service -> container name (postgres too)
        self.db = None          # (user, database)

    def grpc_port(self, service):
        c = main_container(find(self.objs, "Deployment", service))
        return c["readinessProbe"]["grpc"]["port"]

    def refresh_address(self, service):
        self.address[service] = f"{self.podman.ip(self.container[service])}:{self.grpc_port(service)}"

    def psql(self, sql):
        user, db = self.db
        return self.podman("exec", self.container["postgres"], "psql", "-X", "-q", "-t", "-A",
                           "-h", "/var/run/postgresql", "-U", user, "-d", db, "-c", sql
                           ).stdout.strip()


def probe_services(objs, service):
    c = main_container(find(objs, "Deployment", service))
    return sorted({c[k]["grpc"].get("service", "") for k in
                   ("startupProbe", "readinessProbe", "livenessProbe") if k in c})


def health(grpcurl, address, name):
    return grpcurl(address, "grpc.health.v1.Health/Check", {"service": name}).get("status")


def container_state(target, service):
    """(running, what podman says of its last exit)."""
    state = target.podman("inspect", "--format",
                          "{{.State.Running}} exit={{.State.ExitCode}} error={{.State.Error}}",
                          target.container[service]).stdout.strip()
    running, _, last_exit = state.partition(" ")
    return running == "true", last_exit


def wait_healthy(target, grpcurl, service, restart=None):
    """The startup probe as the kubelet runs it, from the host. With
    restart, a container found not running is started again (as the
    kubelet does under restartPolicy: Always) instead of failing at once."""
    c = main_container(find(target.objs, "Deployment", service))
    probe = c["startupProbe"]
    timeout = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)

    restarts = []

    def serving():
        running, last_exit = container_state(target, service)
        if not running:
            failure = CheckFailed(f"{service} not running ({last_exit}):\n"
                                  f"{target.podman.logs(target.container[service])}")
            if restart is None:
                raise failure
            restarts.append(last_exit)
            restart()
            if not container_state(target, service)[0]:
                raise failure  # wait_for keeps it as the last failure and tries again
            return None
        target.refresh_address(service)
        return health(grpcurl, target.address[service], probe["grpc"].get("service", "")) == "SERVING"
    t0 = time.monotonic()
    wait_for(f"{service} startup probe", serving, timeout, interval=1)
    again = f" (found stopped and started again: {'; '.join(restarts)})" if restarts else ""
    log(f"{service}: SERVING after {time.monotonic() - t0:.1f} s at {target.address[service]}{again}")


def http_port(objs, service):
    c = main_container(find(objs, "Deployment", service))
    port = c["readinessProbe"]["httpGet"]["port"]
    if isinstance(port, str):  # a named port
        port = next(p["containerPort"] for p in c["ports"] if p.get("name") == port)
    return port


def http_get(url, timeout=5):
    """(status, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (OSError, urllib.error.URLError):
        return 0, ""


def wait_page_ready(target, service):
    """The startup probe (httpGet /readyz) as the kubelet runs it, from the host."""
    c = main_container(find(target.objs, "Deployment", service))
    probe = c["startupProbe"]
    timeout = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)

    def ready():
        running, last_exit = container_state(target, service)
        if not running:
            raise CheckFailed(f"{service} not running ({last_exit}):\n"
                              f"{target.podman.logs(target.container[service])}")
        target.address[service] = \
            f"{target.podman.ip(target.container[service])}:{http_port(target.objs, service)}"
        return http_get(f"http://{target.address[service]}{probe['httpGet']['path']}")[0] == 200
    t0 = time.monotonic()
    wait_for(f"{service} startup probe", ready, timeout, interval=1)
    log(f"{service}: ready after {time.monotonic() - t0:.1f} s at {target.address[service]}")


def page_smoke(target, label, entry):
    """The reader's page of the smoke's article, served by reader-web from
    the two services."""
    for service in PAGE_SERVICES:
        summary = entry["summary"]
        url = f"http://{target.address[service]}/articles/{summary['slug']}"
        status, body = wait_for(f"{url} answers 200",
                                lambda: (lambda r: r if r[0] == 200 else None)(http_get(url)),
                                30, interval=1)
        expect(html.escape(summary["title"]) in body, f"{url}: no title in the page")
        expect(http_get(f"http://{target.address[service]}/healthz")[0] == 200,
               f"{service}: /healthz")
        log(f"{label}: {service} serves the page of {entry['article']} with its title")


def smoke(target, grpcurl, label):
    """The grpcurl smoke against a running pair. Returns the article name."""
    art, trend = target.address["article-service"], target.address["trending-service"]
    listed = set(grpcurl(art)) | set(grpcurl(trend))
    for want in ("news.article.v1.ArticleService", "news.trending.v1.TrendingService"):
        expect(want in listed, f"reflection does not list {want}: {sorted(listed)}")
    for service in SERVICES:
        for name in probe_services(target.objs, service):
            status = health(grpcurl, target.address[service], name)
            expect(status == "SERVING", f"{service} health {name!r}: {status}")
            log(f"{service}: health {name!r} SERVING")

    title = f"Container check {label} {uuid.uuid4().hex[:8]}"
    created = grpcurl(art, "news.article.v1.ArticleService/CreateArticle",
                      {"article": {"title": title, "section": "local",
                                   "body": "Built, run read-only as uid 10001, and read."},
                       "request_id": f"container-check-{uuid.uuid4().hex}"}, headers=[EDITOR])
    name = created["name"]
    expect(created.get("state") == "DRAFT", f"created: {created}")
    published = grpcurl(art, "news.article.v1.ArticleService/PublishArticle", {"name": name},
                        headers=[EDITOR])
    expect(published.get("state") == "PUBLISHED", f"published: {published}")
    read = grpcurl(art, "news.article.v1.ArticleService/GetArticleBySlug",
                   {"slug": published["slug"], "visitor_id": "container-check-reader"})
    expect(read.get("name") == name and read.get("title") == title, f"read: {read}")
    log(f"{label}: created, published and read {name} ({published['slug']})")

    def in_trending():
        got = grpcurl(trend, "news.trending.v1.TrendingService/GetTrending",
                      {"window": "3600s", "limit": 50})
        for e in got.get("entries", []):
            if e.get("article") == name:
                return e
        return None
    entry = wait_for(f"{name} in trending", in_trending, 30, interval=1)
    expect(entry.get("summary", {}).get("title") == title and int(entry.get("views", 0)) >= 1,
           f"entry: {entry}")
    log(f"{label}: trending lists {name} with {entry['views']} view(s) and its title")
    return name, entry


def durable_views(target, grpcurl, label, name, entry):
    """SIGKILL trending-service once its views are flushed; the restarted
    container serves them again."""
    views = int(entry["views"])
    article_id = name.rsplit("/", 1)[-1]  # the store keeps "7" of "articles/7"
    flushed = lambda: int(target.psql(  # noqa: E731
        "SELECT coalesce(sum(views), 0) FROM trending.bucket_counts "
        f"WHERE article = '{article_id}' AND width_minutes = 1") or 0) >= views
    # Flushed every second into delta_log, they reach bucket_counts with the
    # next compaction: once a minute (--compact_interval), plus the merge.
    wait_for("the views merged into bucket_counts", flushed, 90)
    c = target.container["trending-service"]
    target.podman("kill", "--signal", "KILL", c)
    target.podman("wait", c, timeout=60)
    # In a kube-played pod the killed container may take the pod's infra
    # container (which holds its namespaces) down with it while podman
    # cleans up ("namespace path ... no such file" on start): start the pod
    # again then, as the kubelet restarts a pod's container, and retry.
    pod = target.podman("inspect", "--format", "{{.Pod}}", c).stdout.strip()

    def started():
        if target.podman("start", c, check=False).returncode == 0:
            return True
        if pod:
            target.podman("pod", "start", pod, check=False)
        return False
    wait_for("trending-service started again", started, 60, interval=1)
    # Seen once in CI: `podman start` answered 0 and yet the container was
    # not running a second later (no line of the new process in its log);
    # the kubelet would start it again, and so does the probe here.
    wait_healthy(target, grpcurl, "trending-service", restart=started)

    def restored():
        got = grpcurl(target.address["trending-service"],
                      "news.trending.v1.TrendingService/GetTrending", {"window": "3600s", "limit": 50})
        return next((e for e in got.get("entries", []) if e.get("article") == name), None)
    after = wait_for(f"{name} back in trending after the restart", restored, 30, interval=1)
    expect(int(after["views"]) == views, f"views before the kill {views}, after {after['views']}")
    log(f"{label}: after podman kill and start, trending still counts {views} view(s) of {name}")

    # The restarted container has a new address, as a replaced pod has:
    # article-service's next reader view must reach it once its channel
    # re-resolves the Service name (gRPC waits 30 s between resolutions),
    # and count once, with nothing its broken stream held counted twice.
    grpcurl(target.address["article-service"], "news.article.v1.ArticleService/GetArticle",
            {"name": name, "visitor_id": "container-check-reader-2"})
    t0 = time.monotonic()
    again = wait_for(f"the second view of {name} in the restarted trending-service",
                     lambda: (lambda e: e if e and int(e["views"]) > views else None)(restored()),
                     45, interval=1)
    expect(int(again["views"]) == views + 1, f"views: {views} + 1 read -> {again['views']}")
    log(f"{label}: a new read reached the restarted trending-service after "
        f"{time.monotonic() - t0:.1f} s; {again['views']} views, none counted twice")


def drain_stop(target, service):
    """podman stop: SIGTERM, then an exit 0 within the drain deadline."""
    dep = find(target.objs, "Deployment", service)
    cfg = configmap_env(target.objs, main_container(dep))
    prefix = service.split("-")[0].upper()
    deadline = deploylib.duration_seconds(cfg.get(f"{prefix}_DRAIN_DEADLINE", "10s"))
    grace = pod_spec(dep).get("terminationGracePeriodSeconds", 30)
    c = target.container[service]
    t0 = time.monotonic()
    target.podman("stop", "--time", grace, c, timeout=grace + 30)
    took = time.monotonic() - t0
    code = target.podman("inspect", "--format", "{{.State.ExitCode}}", c).stdout.strip()
    expect(code == "0", f"{service} exited {code} after SIGTERM:\n{target.podman.logs(c)}")
    expect(took < deadline, f"{service} took {took:.1f}s to stop (drain deadline {deadline:g}s):\n"
                            f"{target.podman.logs(c)}")
    log(f"{service}: podman stop -> exit 0 in {took:.1f} s (drain deadline {deadline:g} s)")


def check_hardening(target, label):
    """What the running service containers really got: uid 10001, a
    read-only root, no capabilities."""
    for s in SERVICES + PAGE_SERVICES:
        c = target.container[s]
        info = json.loads(target.podman("inspect", c).stdout)[0]
        expect(info["HostConfig"]["ReadonlyRootfs"], f"{s}: root filesystem writable")
        expect(info["Config"]["User"] == "10001:10001", f"{s}: user {info['Config']['User']}")
        expect(not info["EffectiveCaps"], f"{s}: capabilities {info['EffectiveCaps']}")
        p = target.podman("exec", c, "/bin/sh", "-c",
                          "id -u; touch /usr/local/bin/x 2>&1 || true", check=False)
        uid, _, touch = p.stdout.partition("\n")
        expect(uid.strip() == "10001", f"{s}: runs as uid {uid}")
        expect("Read-only file system" in touch, f"{s}: wrote to the root filesystem: {touch}")
    log(f"{label}: every service runs as uid 10001 on a read-only root, no capabilities")


def check_pair(target, grpcurl, label, keep):
    """Everything the check asks of a started pair, in order."""
    for s in SERVICES:
        wait_healthy(target, grpcurl, s)
    for s in PAGE_SERVICES:
        wait_page_ready(target, s)
    check_hardening(target, label)
    name, entry = smoke(target, grpcurl, label)
    page_smoke(target, label, entry)
    durable_views(target, grpcurl, label, name, entry)
    if not keep:
        for s in PAGE_SERVICES + SERVICES:
            drain_stop(target, s)


# ---------------------------------------------------------------- manifests

def configmap_env(objs, container):
    """The container's variables from ConfigMaps (envFrom and literal env)."""
    env = {}
    for src in container.get("envFrom", []):
        if "configMapRef" in src:
            cm = find(objs, "ConfigMap", src["configMapRef"]["name"])
            expect(cm is not None, f"ConfigMap {src['configMapRef']['name']} not rendered")
            env.update({src.get("prefix", "") + k: v for k, v in cm.get("data", {}).items()})
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = find(objs, "ConfigMap", ref["name"])["data"][ref["key"]]
    return env


def secret_data(obj):
    out = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()}
    out.update(obj.get("stringData", {}))
    return out


def postgres_login(objs):
    """(user, database) of the dev overlay's PostgreSQL, from its Secret."""
    c = pod_spec(of_kind(objs, "StatefulSet")[0])["containers"][0]
    ref = next(src["secretRef"]["name"] for src in c["envFrom"] if "secretRef" in src)
    creds = secret_data(find(objs, "Secret", ref))
    return creds["POSTGRES_USER"], creds["POSTGRES_DB"]


def service_aliases(objs, workload):
    """Names of the Services selecting the workload's pods (cluster DNS)."""
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return sorted(s["metadata"]["name"] for s in of_kind(objs, "Service")
                  if s["spec"].get("selector") and
                  all(labels.get(k) == v for k, v in s["spec"]["selector"].items()))


# ---------------------------------------------------------------- run mode

class RunMode:
    """podman run of each container as the kubelet would start it."""

    def __init__(self, podman, objs, grpcurl, keep):
        self.podman, self.objs, self.grpcurl, self.keep = podman, objs, grpcurl, keep
        self.target = Target(podman, objs)
        self.secrets = {}   # (Secret name, key) -> podman secret name
        self.tmp = tempfile.TemporaryDirectory(prefix="newsgrid-check-")

    def create_secrets(self):
        for s in of_kind(self.objs, "Secret"):
            for key, value in secret_data(s).items():
                # Podman secret names have at most 64 characters.
                name = self.podman.name(f"{len(self.secrets):02d}", key.lower())[:64]
                self.podman("secret", "create", name, "-", input=value)
                self.secrets[(s["metadata"]["name"], key)] = self.podman.created_as("secret", name)

    def run_args(self, workload, c, volumes):
        """podman run options for container c of the workload's pod."""
        spec = pod_spec(workload)
        pod_ctx, ctx = spec.get("securityContext", {}), c.get("securityContext", {})
        args = ["--network", self.network]
        user, group = ctx.get("runAsUser", pod_ctx.get("runAsUser")), \
            ctx.get("runAsGroup", pod_ctx.get("runAsGroup"))
        if user is not None:
            args += ["--user", f"{user}:{group if group is not None else user}"]
        if pod_ctx.get("fsGroup") is not None:
            args += ["--group-add", pod_ctx["fsGroup"]]
        if ctx.get("readOnlyRootFilesystem"):
            # Only what the pod mounts is writable (podman would add tmpfs
            # on /tmp, /var/tmp and /run).
            args += ["--read-only", "--read-only-tmpfs=false"]
        for cap in ctx.get("capabilities", {}).get("drop", []):
            args += ["--cap-drop", cap]
        expect(not ctx.get("capabilities", {}).get("add"), f"{c['name']} adds capabilities")
        if ctx.get("allowPrivilegeEscalation") is False:
            args += ["--security-opt", "no-new-privileges"]
        limits = c.get("resources", {}).get("limits", {})
        if "memory" in limits:
            args += ["--memory", limits["memory"].replace("Mi", "m").replace("Gi", "g")]
        if "cpu" in limits:
            cpu = limits["cpu"]
            args += ["--cpus", float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)]
        # Environment: ConfigMaps as an env file, Secrets as podman secrets.
        env_file = Path(self.tmp.name) / f"{workload['metadata']['name']}-{c['name']}.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in configmap_env(self.objs, c).items()))
        args += ["--env-file", env_file]
        for src in c.get("envFrom", []):
            if "secretRef" in src:
                for (sname, key), pname in self.secrets.items():
                    if sname == src["secretRef"]["name"]:
                        args += ["--secret", f"{pname},type=env,target={src.get('prefix', '')}{key}"]
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                args += ["--secret", f"{self.secrets[(ref['name'], ref['key'])]},type=env,"
                                     f"target={e['name']}"]
        # Volumes: emptyDir -> tmpfs, Secret -> one podman secret per key,
        # claims -> a named volume.
        for m in c.get("volumeMounts", []):
            vol = next(v for v in spec.get("volumes", []) if v["name"] == m["name"]) \
                if m["name"] not in volumes else volumes[m["name"]]
            if "emptyDir" in vol:
                # Owned by the container's user (U), as writable as a pod's
                # emptyDir: podman 4.3 gives a tmpfs the owner and mode of
                # the folder under it, and resolves a path through a symlink
                # (/var/run) on the host.
                size = vol["emptyDir"].get("sizeLimit")
                opts = f"rw,U{',size=' + size.replace('Mi', 'm') if size else ''}"
                args += ["--tmpfs", f"{m['mountPath']}:{opts}"]
            elif "secret" in vol:
                sname = vol["secret"]["secretName"]
                keys = [k for (n, k) in self.secrets if n == sname]
                if not keys:
                    expect(vol["secret"].get("optional"), f"Secret {sname} missing")
                    continue
                mode = vol["secret"].get("defaultMode", 0o644)
                for k in keys:
                    args += ["--secret", f"{self.secrets[(sname, k)]},type=mount,"
                                         f"target={m['mountPath']}/{k},mode={mode:o},"
                                         f"uid=0,gid={pod_ctx.get('fsGroup', 0)}"]
            elif "podmanVolume" in vol:
                args += ["--volume", f"{vol['podmanVolume']}:{m['mountPath']}"]
            else:
                raise CheckFailed(f"volume {vol} is not understood by the check")
        # Exec probes become the container's health check (podman healthcheck run).
        probe = c.get("livenessProbe") or c.get("readinessProbe")
        if probe and "exec" in probe:
            args += ["--health-cmd", json.dumps(probe["exec"]["command"]),
                     "--health-interval", "disable"]
        return args

    def start_postgres(self):
        sts = of_kind(self.objs, "StatefulSet")[0]
        c = pod_spec(sts)["containers"][0]
        self.target.container["postgres"] = name = self.podman.name("postgres")
        volumes = {}
        for claim in sts["spec"].get("volumeClaimTemplates", []):
            vname = self.podman.name("pgdata")
            self.podman("volume", "create", vname)
            volumes[claim["metadata"]["name"]] = {"podmanVolume": self.podman.created_as("volume", vname)}
        aliases = [a for s in service_aliases(self.objs, sts) for a in ("--network-alias", s)]
        self.podman("run", "--detach", "--name", name, *aliases,
                    *self.run_args(sts, c, volumes), PG_IMAGE)
        self.podman.created_as("container", name)
        self.target.db = postgres_login(self.objs)
        wait_for("PostgreSQL health check", lambda: self.podman(
            "healthcheck", "run", name, check=False).returncode == 0, 60, interval=1)
        log(f"postgres: healthy ({PG_IMAGE} as uid {pod_spec(sts)['securityContext']['runAsUser']})")

    def start_service(self, service):
        dep = find(self.objs, "Deployment", service)
        image = main_container(dep)["image"]
        for ic in pod_spec(dep).get("initContainers", []):
            name = self.podman.name(service, ic["name"])
            p = self.podman("run", "--rm", "--name", name, *self.run_args(dep, ic, {}),
                            ic["image"], *ic.get("args", []), check=False, timeout=120)
            expect(p.returncode == 0, f"{service} init container {ic['name']} exited "
                                      f"{p.returncode}:\n{p.stdout}{p.stderr}")
            log(f"{service}: init container {ic['name']} ({' '.join(ic.get('args', []))}) exited 0")
        c = main_container(dep)
        name = self.target.container[service] = self.podman.name(service)
        aliases = [a for s in service_aliases(self.objs, dep) for a in ("--network-alias", s)]
        grace = pod_spec(dep).get("terminationGracePeriodSeconds", 30)
        self.podman("run", "--detach", "--name", name, "--stop-timeout", grace, *aliases,
                    *self.run_args(dep, c, {}), image, *c.get("args", []))
        self.podman.created_as("container", name)

    def run(self):
        self.network = self.podman.name("net")
        self.podman("network", "create", self.network)
        self.podman.created_as("network", self.network)
        self.create_secrets()
        self.start_postgres()
        for s in SERVICES + PAGE_SERVICES:
            self.start_service(s)
        check_pair(self.target, self.grpcurl, "run", self.keep)


# ---------------------------------------------------------------- kube mode

def adapt_for_podman(objs, prefix, pg_image):
    """The rendered overlay as `podman kube play` 4.3 can play it. Returns
    (workloads, secrets): workloads as [(name, [documents], [network
    aliases])], one `kube play` each; secrets as {Secret name: (podman
    secret name, "env" | "volume", {key: value})}.

    Each change is for podman 4.3 on one host, none for a cluster:
    """
    objs = copy.deepcopy(objs)
    renamed = lambda name: f"{prefix}-{name}"  # noqa: E731

    # [no-registry] The dev overlay's PostgreSQL image comes from a registry;
    # the check builds a local one with the same contract (POSTGRES_USER,
    # POSTGRES_PASSWORD, POSTGRES_DB, PGDATA, uid 999, pg_isready). Every
    # other image must be one of deploy/docker's.
    for w in of_kind(objs, "Deployment") + of_kind(objs, "StatefulSet"):
        for c in pod_spec(w)["containers"] + pod_spec(w).get("initContainers", []):
            if deploylib.image_name(c["image"])[0] in ("postgres", "docker.io/library/postgres"):
                c["image"] = pg_image
            expect(c["image"] == pg_image or c["image"].startswith("newsgrid/"),
                   f"{c['name']}: image {c['image']} is neither built here nor PostgreSQL")

    # [statefulset-as-deployment] 4.3 plays no StatefulSet: PostgreSQL's runs
    # as a Deployment of one pod, each volumeClaimTemplate a
    # PersistentVolumeClaim (a podman volume) mounted by name.
    claims = {}   # workload -> its PersistentVolumeClaims
    for sts in of_kind(objs, "StatefulSet"):
        spec = pod_spec(sts)
        for tmpl in sts["spec"].pop("volumeClaimTemplates", []):
            claim = renamed(f"{tmpl['metadata']['name']}-{sts['metadata']['name']}-0")
            claims.setdefault(sts["metadata"]["name"], []).append(
                {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                 "metadata": {"name": claim}, "spec": tmpl["spec"]})
            spec.setdefault("volumes", []).append(
                {"name": tmpl["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
        sts["kind"], sts["apiVersion"] = "Deployment", "apps/v1"
        sts["spec"].pop("serviceName", None)

    # [secrets-by-podman] Secret objects are not played: 4.3 mounts them as
    # base64 text (or empty files for stringData) and cannot resolve
    # secretKeyRef to them. Each is created with `podman secret create`, in
    # the form 4.3 reads for its use: a JSON map of base64 values for
    # environment variables, a Secret document of plain text for volumes.
    # [prefixed-names] Secrets, claims and pods are machine-wide in podman,
    # and the host is shared: their names get the run's newsgrid- prefix.
    uses = {}
    workloads = of_kind(objs, "Deployment")
    present = {s["metadata"]["name"] for s in of_kind(objs, "Secret")}
    for w in workloads:
        spec = pod_spec(w)
        # [optional-secret-absent] 4.3 fails on a Secret volume marked
        # optional whose Secret does not exist; a cluster mounts an empty
        # folder there, read by nothing until settings name files in it. The
        # volume and its mounts are left out.
        absent = {v["name"] for v in spec.get("volumes", []) if "secret" in v and
                  v["secret"].get("optional") and v["secret"]["secretName"] not in present}
        spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] not in absent]
        for c in spec["containers"] + spec.get("initContainers", []):
            if "volumeMounts" in c:
                c["volumeMounts"] = [m for m in c["volumeMounts"] if m["name"] not in absent]
        for c in spec["containers"] + spec.get("initContainers", []):
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    uses.setdefault(src["secretRef"]["name"], set()).add("env")
                    src["secretRef"]["name"] = renamed(src["secretRef"]["name"])
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    uses.setdefault(ref["name"], set()).add("env")
                    ref["name"] = renamed(ref["name"])
        for v in spec.get("volumes", []):
            if "secret" in v:
                uses.setdefault(v["secret"]["secretName"], set()).add("volume")
                v["secret"]["secretName"] = renamed(v["secret"]["secretName"])
                # [secret-volume-optional] 4.3 dereferences an unset
                # `optional` and panics; false is what unset means.
                v["secret"].setdefault("optional", False)
    secrets = {}
    for s in of_kind(objs, "Secret"):
        name = s["metadata"]["name"]
        use = uses.get(name, set())
        expect(len(use) <= 1, f"Secret {name} is used both as env and as a volume")
        secrets[name] = (renamed(name), next(iter(use), "env"), secret_data(s))

    # [emptydir-names] 4.3 makes each emptyDir a podman volume named as the
    # pod names it (`tmp`, `run`): shared by every pod on the host that uses
    # the same name, and kept after the pod. Each gets the run's prefix and
    # its workload's name, so every pod has its own, removed with it.
    for w in workloads:
        spec = pod_spec(w)
        local = {v["name"]: renamed(f"{w['metadata']['name']}-{v['name']}")
                 for v in spec.get("volumes", []) if "emptyDir" in v}
        for v in spec.get("volumes", []):
            v["name"] = local.get(v["name"], v["name"])
        for c in spec["containers"] + spec.get("initContainers", []):
            for m in c.get("volumeMounts", []):
                m["name"] = local.get(m["name"], m["name"])

    # [mount-path-resolved] 4.3 resolves a volume's mount path on the host
    # when it crosses a symlink of the image (/var/run -> /run), and the new
    # volume takes the owner and mode of the host's folder (a host with
    # PostgreSQL has /run/postgresql, 2775, its own postgres user). The path
    # is given as the container resolves it: the same folder inside.
    for w in workloads:
        spec = pod_spec(w)
        for c in spec["containers"] + spec.get("initContainers", []):
            for m in c.get("volumeMounts", []):
                for link, target in IMAGE_SYMLINKS.items():
                    if m["mountPath"] == link or m["mountPath"].startswith(link + "/"):
                        m["mountPath"] = target + m["mountPath"][len(link):]

    # [restart-on-failure] Under `restartPolicy: Always` 4.3 restarts an init
    # container once it exits 0 and then fails removing it; OnFailure still
    # restarts a failing server and leaves the finished migration alone.
    for w in workloads:
        pod_spec(w)["restartPolicy"] = "OnFailure"

    # [services-as-aliases] 4.3 ignores Services (and has no use for the
    # Namespace or ServiceAccounts): each workload is played on its own with
    # the names of the Services selecting it as network aliases, which is
    # what cluster DNS resolves. Its ConfigMaps go with it.
    out = []
    for w in workloads:
        aliases = service_aliases(objs, w)
        cms = {src["configMapRef"]["name"] for c in pod_spec(w)["containers"] +
               pod_spec(w).get("initContainers", []) for src in c.get("envFrom", [])
               if "configMapRef" in src}
        original = w["metadata"]["name"]
        w["metadata"]["name"] = renamed(original)
        w["metadata"].pop("namespace", None)
        docs = [cm for cm in of_kind(objs, "ConfigMap") if cm["metadata"]["name"] in cms]
        docs += claims.get(original, []) + [w]
        out.append((original, docs, aliases))
    # PostgreSQL first: the services' migrations need it.
    out.sort(key=lambda x: x[0] not in claims)
    return out, secrets


class KubeMode:
    def __init__(self, podman, objs, grpcurl, keep):
        self.podman, self.objs, self.grpcurl, self.keep = podman, objs, grpcurl, keep
        self.target = Target(podman, objs)
        self.tmp = tempfile.TemporaryDirectory(prefix="newsgrid-kube-")

    def container_of(self, workload, container):
        pods = self.podman("pod", "ps", "--format", "{{.Name}}", "--filter",
                           f"name=^{self.podman.name(workload)}-pod").stdout.split()
        expect(len(pods) == 1, f"{workload}: pods {pods}")
        names = self.podman("ps", "-a", "--format", "{{.Names}}", "--filter",
                            f"pod={pods[0]}").stdout.split()
        name = f"{pods[0]}-{container}"
        expect(name in names, f"{workload}: no container {name} in {names}")
        return name

    def run(self):
        network = self.podman.name("net")
        self.podman("network", "create", network)
        self.podman.created_as("network", network)
        workloads, secrets = adapt_for_podman(self.objs, self.podman.prefix, PG_IMAGE)
        for name, (pname, use, data) in secrets.items():
            if use == "env":
                doc = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
            else:
                doc = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": pname},
                       "data": data}
            self.podman("secret", "create", pname, "-", input=json.dumps(doc))
            self.podman.created_as("secret", pname)
        for name, docs, aliases in workloads:
            path = Path(self.tmp.name) / f"{name}.yaml"
            path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
            net = network + "".join(f"{',' if i else ':'}alias={a}" for i, a in enumerate(aliases))
            p = self.podman("kube", "play", "--network", net, path, check=False, timeout=300)
            for pod in self.podman("pod", "ps", "--format", "{{.Name}}", "--filter",
                                   f"name=^{self.podman.name(name)}-pod").stdout.split():
                self.podman.created_as("pod", pod)
            expect(p.returncode == 0, f"kube play {name}: {p.stderr.strip()}")
            log(f"kube: played {name} ({', '.join(d['kind'] for d in docs)}), "
                f"aliases {', '.join(aliases)}")
            if name == "postgres":
                self.wait_postgres(docs[-1])
        for s in SERVICES + PAGE_SERVICES:
            self.target.container[s] = self.container_of(s, s)
        check_pair(self.target, self.grpcurl, "kube", self.keep)

    def wait_postgres(self, dep):
        c = pod_spec(dep)["containers"][0]
        name = self.target.container["postgres"] = self.container_of("postgres", c["name"])
        # The exec livenessProbe is the container's health check; podman
        # runs it on `podman healthcheck run` (no systemd timers here).
        wait_for("PostgreSQL's probe (podman healthcheck run)", lambda: self.podman(
            "healthcheck", "run", name, check=False).returncode == 0, 90, interval=1)
        self.target.db = postgres_login(self.objs)
        log("kube: postgres healthy (podman healthcheck run of its livenessProbe)")


def keep_report(podman, target):
    """--keep: where the services answer, and how to remove what was made."""
    for s in SERVICES:
        log(f"{s} is running at {target.address[s]} (grpcurl -plaintext {target.address[s]} list)")
    for s in PAGE_SERVICES:
        log(f"{s} is running at http://{target.address[s]}/")
    cmds = {"container": "podman rm --force", "pod": "podman pod rm --force",
            "network": "podman network rm", "secret": "podman secret rm", "volume": "podman volume rm"}
    log("remove them with:")
    for kind, name in reversed(podman.created):
        print(f"  {cmds[kind]} {name}", file=sys.stderr)
    print(f"  podman volume ls --format '{{{{.Name}}}}' | grep '^{podman.prefix}-' | "
          "xargs -r podman volume rm", file=sys.stderr)
    podman.created.clear()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="*", metavar="run|kube", help="default: both")
    ap.add_argument("--keep", action="store_true", help="leave what was started running")
    args = ap.parse_args()
    args.modes = args.modes or ["run", "kube"]
    for m in args.modes:
        expect(m in ("run", "kube"), f"unknown mode {m!r} (run or kube)")
    expect(os.environ.get("CONTAINERS_CONF"), "CONTAINERS_CONF is not set: run check.sh")
    objs = render("dev")
    grpcurl = Grpcurl()
    for mode in args.modes:
        podman = Podman(f"newsgrid-{mode}-{os.getpid()}")
        t0 = time.monotonic()
        passed = False
        try:
            check = (RunMode if mode == "run" else KubeMode)(podman, objs, grpcurl, args.keep)
            check.run()
            passed = True
        finally:
            # --keep leaves a passing run's objects, never a failed one's.
            if passed and args.keep:
                keep_report(podman, check.target)
            else:
                podman.cleanup()
        log(f"{mode}: passed in {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except CheckFailed as e:
        log(f"FAILED: {e}")
        sys.exit(1)
