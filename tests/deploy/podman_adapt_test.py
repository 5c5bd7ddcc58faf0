"""deploy/containers/check.py plays the dev overlay with `podman kube play`
4.3 after the named adaptations of adapt_for_podman. These tests hold those
adaptations to what they claim: the manifests themselves are untouched, the
played documents are kinds podman plays, every Secret reference resolves to
a podman secret the check creates, every Service name a workload's settings
use is a network alias, and the containers keep their args, ports, probes,
security context and resources."""

import importlib.util
import re
import unittest
from urllib.parse import urlparse

from deploylib import REPO, find, of_kind, pod_spec, render

_spec = importlib.util.spec_from_file_location("container_check",
                                               REPO / "deploy" / "containers" / "check.py")
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

PREFIX = "newsgrid-kube-test"
PG_IMAGE = "localhost/newsgrid-postgres:15"


class AdaptTest(unittest.TestCase):
    def setUp(self):
        self.objs = render("dev")
        self.workloads, self.secrets = check.adapt_for_podman(self.objs, PREFIX, PG_IMAGE)
        self.played = {name: docs for name, docs, _ in self.workloads}
        self.aliases = {name: aliases for name, _, aliases in self.workloads}

    def played_deployment(self, name):
        return [d for d in self.played[name] if d["kind"] == "Deployment"][0]

    def test_manifests_are_not_changed(self):
        self.assertEqual(self.objs, render("dev"))

    def test_only_kinds_podman_plays(self):
        kinds = {d["kind"] for docs in self.played.values() for d in docs}
        self.assertLessEqual(kinds, {"ConfigMap", "PersistentVolumeClaim", "Deployment"})
        self.assertLessEqual({"postgres", "article-service", "trending-service"}, set(self.played))
        self.assertEqual(self.workloads[0][0], "postgres", "PostgreSQL is played first")

    def test_every_secret_reference_is_created_with_the_prefix(self):
        created = {pname: use for pname, use, _ in self.secrets.values()}
        self.assertEqual(set(self.secrets), {s["metadata"]["name"] for s in of_kind(self.objs, "Secret")})
        for docs in self.played.values():
            for d in docs:
                if d["kind"] != "Deployment":
                    continue
                spec = pod_spec(d)
                for c in spec["containers"] + spec.get("initContainers", []):
                    for src in c.get("envFrom", []):
                        if "secretRef" in src:
                            self.assertEqual(created.get(src["secretRef"]["name"]), "env")
                    for e in c.get("env", []):
                        ref = e.get("valueFrom", {}).get("secretKeyRef")
                        if ref:
                            self.assertEqual(created.get(ref["name"]), "env", ref)
                for v in spec.get("volumes", []):
                    if "secret" in v:
                        self.assertIn("optional", v["secret"])
                        if not v["secret"]["optional"]:
                            self.assertEqual(created.get(v["secret"]["secretName"]), "volume", v)
        for pname in created:
            self.assertTrue(pname.startswith(PREFIX + "-"), pname)
        # The values are the manifests' own.
        auth = [n for n in self.secrets if n.startswith("article-service-auth")]
        pname, _, data = self.secrets[auth[0]]
        self.assertIn("dev-editor-token", data["tokens"])

    def test_services_named_in_settings_are_aliases(self):
        self.assertEqual(self.aliases["article-service"], ["article-service", "article-service-peers"])
        every_alias = {a for aliases in self.aliases.values() for a in aliases}
        self.assertEqual(every_alias, {s["metadata"]["name"] for s in of_kind(self.objs, "Service")})
        hosts = set()
        for cm in of_kind(self.objs, "ConfigMap"):
            for v in cm["data"].values():
                m = re.match(r"dns:///([\w.-]+):\d+$", v)
                if m:
                    hosts.add(m.group(1))
        for _, _, data in self.secrets.values():
            for v in data.values():
                if v.startswith("postgresql://"):
                    hosts.add(urlparse(v).hostname)
        self.assertIn("postgres", hosts)
        self.assertLessEqual(hosts, every_alias)

    def test_containers_keep_what_the_cluster_gets(self):
        kept = ("args", "ports", "startupProbe", "readinessProbe", "livenessProbe",
                "securityContext", "resources", "lifecycle")
        secrets = {s["metadata"]["name"] for s in of_kind(self.objs, "Secret")}
        for name in ("article-service", "trending-service"):
            orig, played = find(self.objs, "Deployment", name), self.played_deployment(name)
            self.assertEqual(played["metadata"]["name"], f"{PREFIX}-{name}")
            self.assertEqual(pod_spec(played)["securityContext"], pod_spec(orig)["securityContext"])
            self.assertEqual(pod_spec(played)["restartPolicy"], "OnFailure")
            for kind in ("containers", "initContainers"):
                for c0, c1 in zip(pod_spec(orig)[kind], pod_spec(played)[kind]):
                    self.assertEqual(c1["image"], c0["image"])
                    for k in kept:
                        self.assertEqual(c1.get(k), c0.get(k), f"{name} {c0['name']} {k}")
                    # Only the mounts of optional Secrets the manifests lack are left out.
                    volumes = {v["name"]: v for v in pod_spec(orig)["volumes"]}
                    paths = {m["mountPath"] for m in c1.get("volumeMounts", [])}
                    dropped = [m for m in c0.get("volumeMounts", []) if m["mountPath"] not in paths]
                    for m in dropped:
                        secret = volumes[m["name"]]["secret"]
                        self.assertTrue(secret["optional"])
                        self.assertNotIn(secret["secretName"], secrets)
                    if kind == "containers":
                        self.assertEqual([m["name"] for m in dropped], ["tls"])

    def test_empty_dirs_are_volumes_of_their_own(self):
        names = []
        for docs in self.played.values():
            spec = pod_spec([d for d in docs if d["kind"] == "Deployment"][0])
            empty = [v["name"] for v in spec["volumes"] if "emptyDir" in v]
            self.assertTrue(empty)
            names += empty
            mounted = {m["name"] for c in spec["containers"] + spec.get("initContainers", [])
                       for m in c.get("volumeMounts", [])}
            self.assertLessEqual(mounted, {v["name"] for v in spec["volumes"]})
        self.assertEqual(len(names), len(set(names)), names)
        for n in names:
            self.assertTrue(n.startswith(PREFIX + "-"), n)

    def test_postgres_statefulset_becomes_a_deployment_with_its_claim(self):
        sts = of_kind(self.objs, "StatefulSet")[0]
        docs = self.played["postgres"]
        dep = [d for d in docs if d["kind"] == "Deployment"][0]
        claim = [d for d in docs if d["kind"] == "PersistentVolumeClaim"][0]
        self.assertEqual(claim["metadata"]["name"], f"{PREFIX}-data-postgres-0")
        self.assertIn({"name": "data", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}},
                      pod_spec(dep)["volumes"])
        c0, c1 = pod_spec(sts)["containers"][0], pod_spec(dep)["containers"][0]
        self.assertEqual(c1["image"], PG_IMAGE)
        self.assertEqual({k: v for k, v in c1.items() if k not in ("image", "envFrom", "volumeMounts")},
                         {k: v for k, v in c0.items() if k not in ("image", "envFrom", "volumeMounts")})
        # The same folders, /var/run/postgresql as the container resolves it.
        self.assertEqual([m["mountPath"] for m in c0["volumeMounts"]],
                         ["/var/lib/postgresql/data", "/var/run/postgresql", "/tmp"])
        self.assertEqual([m["mountPath"] for m in c1["volumeMounts"]],
                         ["/var/lib/postgresql/data", "/run/postgresql", "/tmp"])
        self.assertEqual(pod_spec(dep)["securityContext"], pod_spec(sts)["securityContext"])


if __name__ == "__main__":
    unittest.main()
