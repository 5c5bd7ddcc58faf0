"""Policy over rendered manifests: what every container must have, and
that each newsgrid Deployment agrees with its binary (flags, environment,
ports, health service names, drain deadline).

    violations = check(render("prod"), "prod")   # [] when the overlay complies

Each check returns human-readable violations, so a failing test says what
to fix.
"""

import re

from deploylib import (REPO, ConfigError, binary_path, duration_seconds, effective_config,
                       find, image_name, of_kind, pod_spec, prestop_seconds, proto_services)

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# Our HTTP server (no database, no gRPC): probed on /healthz and /readyz.
HTTP_DEPLOYMENTS = ("reader-web",)
DEPLOYMENTS = {"article-service", "trending-service"} | set(HTTP_DEPLOYMENTS)
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"


def external_secrets():
    """Secrets the operator creates (documented in deploy/README.md as
    `kubectl create secret generic NAME`); only overlays other than dev may
    reference Secrets that are not in the manifests."""
    readme = REPO / "deploy" / "README.md"
    text = readme.read_text() if readme.is_file() else ""
    return set(re.findall(r"create secret generic ([\w.-]+)", text))


def _name(o):
    return f"{o['kind']}/{o['metadata']['name']}"


def _containers(spec):
    return [(c, False) for c in spec.get("containers", [])] + \
           [(c, True) for c in spec.get("initContainers", [])]


def check_containers(objs):
    """Every container: requests and limits, the hardened securityContext,
    a pinned image; every regular container: the three probes."""
    out = []
    for w in [o for o in objs if o["kind"] in WORKLOADS]:
        spec = pod_spec(w)
        psc = spec.get("securityContext", {})
        for c, is_init in _containers(spec):
            where = f"{_name(w)} container {c['name']}"
            res = c.get("resources", {})
            for section in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(section, {}):
                        out.append(f"{where}: no resources.{section}.{r}")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                out.append(f"{where}: allowPrivilegeEscalation must be false")
            if sc.get("readOnlyRootFilesystem") is not True:
                out.append(f"{where}: readOnlyRootFilesystem must be true")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                out.append(f"{where}: capabilities must drop ALL")
            if sc.get("capabilities", {}).get("add"):
                out.append(f"{where}: adds capabilities")
            if sc.get("privileged"):
                out.append(f"{where}: privileged")
            if sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
                out.append(f"{where}: runAsNonRoot must be true")
            if sc.get("runAsUser", psc.get("runAsUser")) == 0:
                out.append(f"{where}: runs as uid 0")
            seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {}))
            if seccomp.get("type") != "RuntimeDefault":
                out.append(f"{where}: seccompProfile must be RuntimeDefault")
            _, tag = image_name(c.get("image", ""))
            if not tag or tag == "latest":
                out.append(f"{where}: image {c.get('image')!r} needs a version tag (not latest)")
            if not is_init:
                for p in ("startupProbe", "readinessProbe", "livenessProbe"):
                    if p not in c:
                        out.append(f"{where}: no {p}")
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            known = {v["name"] for v in spec.get("volumes", [])} | \
                    {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
            for m in mounts - known:
                out.append(f"{where}: mounts undefined volume {m}")
    return out


def _selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _pods_of(objs, selector):
    return [w for w in objs if w["kind"] in WORKLOADS
            and _selects(selector, w["spec"]["template"]["metadata"].get("labels", {}))]


def check_services(objs):
    """Every Service selects pods and its target ports exist on them."""
    out = []
    for s in of_kind(objs, "Service"):
        pods = _pods_of(objs, s["spec"].get("selector", {}))
        if not pods:
            out.append(f"{_name(s)}: selects no workload")
            continue
        for p in s["spec"]["ports"]:
            target = p.get("targetPort", p["port"])
            for w in pods:
                ports = [cp for c in pod_spec(w)["containers"] for cp in c.get("ports", [])]
                if not any(cp.get("name") == target or cp["containerPort"] == target
                           for cp in ports):
                    out.append(f"{_name(s)}: targetPort {target} is no port of {_name(w)}")
    return out


def check_http_probes(where, c, port):
    """reader-web: liveness on /healthz, startup and readiness on /readyz,
    all on the port the binary serves HTTP on."""
    out = []
    named = {p.get("name"): p["containerPort"] for p in c.get("ports", []) if p.get("name")}
    want = {"startupProbe": "/readyz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    for p, path in want.items():
        probe = c.get(p, {})
        if "httpGet" not in probe:
            out.append(f"{where}: {p} must be an httpGet probe")
            continue
        pport = probe["httpGet"]["port"]
        pport = named.get(pport, pport) if isinstance(pport, str) else pport
        if pport != port:
            out.append(f"{where}: {p} port {probe['httpGet']['port']} but the binary serves HTTP "
                       f"on {port}")
        if probe["httpGet"].get("path") != path:
            out.append(f"{where}: {p} path {probe['httpGet'].get('path')!r}; want {path}")
    return out


def check_deployment(objs, dep, external=()):
    """One newsgrid Deployment against its binary."""
    out = []
    where = _name(dep)
    name = dep["metadata"]["name"]
    spec = pod_spec(dep)
    main = [c for c in spec["containers"] if c["name"] == name]
    if not main:
        return [f"{where}: no container named {name}"]
    c = main[0]
    if binary_path(c["image"]) is None:
        return [f"{where}: image {c['image']} is not a newsgrid image"]
    try:
        cfg = effective_config(objs, c, external)
    except ConfigError as e:
        return [f"{where}: {e}"]
    port, metrics_port = int(cfg["port"]), int(cfg["metrics_port"])
    declared = {p["containerPort"]: p.get("name") for p in c.get("ports", [])}
    named = {v: k for k, v in declared.items() if v}
    for want in (port, metrics_port):
        if want not in declared:
            out.append(f"{where}: the binary listens on {want} but the container declares "
                       f"ports {sorted(declared)}")
    # "" (overall) and "liveness" (the process answers; see runtime/server.h)
    # are health names every binary serves besides its proto services.
    services = proto_services() | {"", "liveness"}
    http = name in HTTP_DEPLOYMENTS
    if http:
        out.extend(check_http_probes(where, c, port))
    for p in () if http else ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = c.get(p, {})
        if "grpc" not in probe:
            out.append(f"{where}: {p} must be a native gRPC probe")
            continue
        pport = probe["grpc"]["port"]
        pport = named.get(pport, pport) if isinstance(pport, str) else pport
        if pport != port:
            out.append(f"{where}: {p} port {probe['grpc']['port']} but the binary serves gRPC "
                       f"on {port}")
        svc = probe["grpc"].get("service", "")
        if svc not in services:
            out.append(f"{where}: {p} service {svc!r} is no gRPC service of proto/ "
                       f"({sorted(services - {''})})")
    ann = dep["spec"]["template"]["metadata"].get("annotations", {})
    if ann.get("prometheus.io/scrape") != "true":
        out.append(f"{where}: no prometheus.io/scrape: \"true\"")
    if ann.get("prometheus.io/port") != str(metrics_port):
        out.append(f"{where}: prometheus.io/port {ann.get('prometheus.io/port')!r} but metrics "
                   f"are served on {metrics_port}")
    try:
        pause = prestop_seconds(c)
    except ConfigError as e:
        out.append(f"{where}: {e}")
        pause = 0
    if pause <= 0:
        out.append(f"{where}: no preStop pause for the endpoints to update")
    drain = duration_seconds(cfg["drain_deadline"])
    grace = spec.get("terminationGracePeriodSeconds", 30)
    if grace <= pause + drain:
        out.append(f"{where}: terminationGracePeriodSeconds {grace} is not above preStop "
                   f"{pause}s + drain deadline {drain}s")
    # Migrations: exactly one init container applies them, and the server
    # then requires the schema current instead of migrating again.
    migrators = []
    for ic in spec.get("initContainers", []):
        try:
            icfg = effective_config(objs, ic, external)
        except ConfigError as e:
            out.append(f"{where} init container {ic['name']}: {e}")
            continue
        if image_name(ic["image"]) != image_name(c["image"]):
            out.append(f"{where}: init container {ic['name']} runs another image")
        if icfg["migrate"] == "only":
            migrators.append(ic["name"])
    if http:
        if migrators:
            out.append(f"{where}: has no database but migrates in {migrators}")
    elif len(migrators) != 1:
        out.append(f"{where}: want one init container with --migrate=only, have {migrators}")
    if not http and cfg["migrate"] != "off":
        out.append(f"{where}: the server runs --migrate={cfg['migrate']}; want off (the init "
                   "container migrates)")
    sa = spec.get("serviceAccountName")
    if not sa or find(objs, "ServiceAccount", sa) is None:
        out.append(f"{where}: serviceAccountName {sa!r} is not in the manifests")
    if not any(t["topologyKey"] == "kubernetes.io/hostname"
               for t in spec.get("topologySpreadConstraints", [])):
        out.append(f"{where}: no topology spread over nodes")
    if c.get("securityContext", {}).get("readOnlyRootFilesystem"):
        mounted = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        if "emptyDir" not in vols.get(mounted.get("/tmp"), {}):
            out.append(f"{where}: read-only root but no emptyDir at /tmp")
    labels = dep["spec"]["template"]["metadata"]["labels"]
    fronts = [s for s in of_kind(objs, "Service") if _selects(s["spec"].get("selector"), labels)]
    if not http and not any(s["spec"].get("clusterIP") == "None" for s in fronts):
        out.append(f"{where}: no headless Service for gRPC peers")
    if not any(s["spec"].get("clusterIP") != "None" for s in fronts):
        out.append(f"{where}: no ClusterIP Service")
    for s in fronts:
        for p in s["spec"]["ports"]:
            if p["port"] != port:
                out.append(f"{_name(s)}: port {p['port']} differs from the server port {port}")
    return out


def _np_allows(policies, pod_labels, direction, port):
    """Rules of NetworkPolicies selecting pod_labels that open `port` in
    `direction` ('ingress'/'egress'); each rule as its peers list."""
    peers = []
    for np in policies:
        if not _selects_or_all(np["spec"]["podSelector"], pod_labels):
            continue
        for rule in np["spec"].get(direction, []):
            ports = [p.get("port") for p in rule.get("ports", [])]
            if not ports or port in ports:
                peers.extend(rule.get("from" if direction == "ingress" else "to", [{}]))
    return peers


def _selects_or_all(selector, labels):
    ml = selector.get("matchLabels", {})
    return not ml or all(labels.get(k) == v for k, v in ml.items())


def _peer_names(peers):
    out = set()
    for p in peers:
        if "namespaceSelector" in p and "podSelector" not in p:
            out.add("ns:" + p["namespaceSelector"].get("matchLabels", {})
                    .get("kubernetes.io/metadata.name", "*"))
        elif "podSelector" in p and "namespaceSelector" not in p:
            out.add("pod:" + p["podSelector"].get("matchLabels", {})
                    .get("app.kubernetes.io/name", "*"))
        elif "ipBlock" in p:
            out.add("ip:" + p["ipBlock"]["cidr"])
        elif not p:
            out.add("*")
    return out


def check_network_policies(objs):
    """prod: default deny; PostgreSQL only from the two services; trending
    gRPC from article-service, reader-web and the ingress namespace;
    reader-web's pages from the ingress namespace; metrics from the
    monitoring namespace."""
    out = []
    nps = of_kind(objs, "NetworkPolicy")
    if not any(np["spec"]["podSelector"] == {} and
               set(np["spec"].get("policyTypes", [])) == {"Ingress", "Egress"} and
               not np["spec"].get("ingress") and not np["spec"].get("egress") for np in nps):
        out.append("no default-deny NetworkPolicy for ingress and egress")
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
            for d in of_kind(objs, "Deployment") + of_kind(objs, "StatefulSet")}
    pods["<any other pod>"] = {"app.kubernetes.io/name": "other"}
    reach_pg = {n for n, labels in pods.items() if _np_allows(nps, labels, "egress", 5432)}
    if reach_pg != {"article-service", "trending-service"}:
        out.append(f"pods allowed to reach PostgreSQL (5432): {sorted(reach_pg)}; want the two "
                   "services only")
    want = {
        ("trending-service", 50052): {"pod:article-service", "pod:reader-web",
                                      f"ns:{INGRESS_NAMESPACE}"},
        ("trending-service", 9092): {f"ns:{MONITORING_NAMESPACE}"},
        ("article-service", 9091): {f"ns:{MONITORING_NAMESPACE}"},
        ("reader-web", 8080): {f"ns:{INGRESS_NAMESPACE}"},
        ("reader-web", 9093): {f"ns:{MONITORING_NAMESPACE}"},
    }
    for (name, port), peers in want.items():
        have = _peer_names(_np_allows(nps, pods[name], "ingress", port))
        if have != peers:
            out.append(f"{name} port {port} open to {sorted(have)}; want {sorted(peers)}")
    have = _peer_names(_np_allows(nps, pods["article-service"], "ingress", 50051))
    if f"ns:{INGRESS_NAMESPACE}" not in have or "*" in have:
        out.append(f"article-service gRPC open to {sorted(have)}; want the ingress namespace "
                   "(and its peers) only")
    for name in sorted(DEPLOYMENTS):
        if not any(p.get("port") == 53 for np in nps
                   if _selects_or_all(np["spec"]["podSelector"], pods[name])
                   for r in np["spec"].get("egress", []) for p in r.get("ports", [])):
            out.append(f"{name}: no DNS egress")
    return out


def check_overlay(objs, overlay):
    out = []
    deps = {d["metadata"]["name"]: d for d in of_kind(objs, "Deployment")}
    if set(deps) != DEPLOYMENTS:
        out.append(f"Deployments {sorted(deps)}; want {sorted(DEPLOYMENTS)}")
    want_replicas = {"dev": 1, "prod": 3}.get(overlay)
    for name, d in deps.items():
        if want_replicas and d["spec"].get("replicas") != want_replicas:
            out.append(f"{overlay}: {name} has {d['spec'].get('replicas')} replicas; want "
                       f"{want_replicas}")
    if overlay == "dev":
        pg = of_kind(objs, "StatefulSet")
        if not any(image_name(c["image"])[0] == "postgres" and
                   re.match(r"15(\.|-|$)", image_name(c["image"])[1] or "")
                   for s in pg for c in pod_spec(s)["containers"]):
            out.append("dev: no PostgreSQL 15 StatefulSet")
        if not any(s["spec"].get("volumeClaimTemplates") for s in pg):
            out.append("dev: PostgreSQL has no PersistentVolumeClaim")
    if overlay == "prod":
        if of_kind(objs, "StatefulSet"):
            out.append("prod: PostgreSQL is external; no StatefulSet expected")
        for name, d in deps.items():
            hpa = [h for h in of_kind(objs, "HorizontalPodAutoscaler")
                   if h["spec"]["scaleTargetRef"]["name"] == name
                   and h["spec"]["scaleTargetRef"]["kind"] == "Deployment"]
            if len(hpa) != 1 or hpa[0]["spec"].get("minReplicas") != d["spec"].get("replicas"):
                out.append(f"prod: {name} needs one HPA with minReplicas == replicas")
            labels = d["spec"]["template"]["metadata"]["labels"]
            if not any(_selects(p["spec"]["selector"].get("matchLabels"), labels)
                       for p in of_kind(objs, "PodDisruptionBudget")):
                out.append(f"prod: no PodDisruptionBudget selects {name}")
            anti = pod_spec(d).get("affinity", {}).get("podAntiAffinity", {})
            if not anti:
                out.append(f"prod: {name} has no pod anti-affinity")
        out.extend(check_network_policies(objs))
    return out


def check(objs, overlay):
    external = () if overlay == "dev" else tuple(external_secrets())
    out = check_containers(objs) + check_services(objs)
    for d in of_kind(objs, "Deployment"):
        out.extend(check_deployment(objs, d, external))
    if overlay != "base":
        out.extend(check_overlay(objs, overlay))
    return out
