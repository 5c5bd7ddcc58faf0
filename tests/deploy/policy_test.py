"""Policy over the rendered overlays (probes, resources, securityContext,
pinned images, agreement with the binaries), and proof that each check
catches the mistake it is for."""

import copy
import unittest

import deploylib
import policy
from deploylib import find, main_container, of_kind, pod_spec, render


def _dep(objs, name="article-service"):
    return find(objs, "Deployment", name)


class OverlaysComplyTest(unittest.TestCase):
    def test_every_overlay_complies(self):
        for overlay in deploylib.OVERLAYS:
            with self.subTest(overlay=overlay):
                self.assertEqual(policy.check(render(overlay), overlay), [])

    def test_binary_flags_and_env_are_read_from_the_binary(self):
        for image, rel in deploylib.OUR_IMAGES.items():
            info = deploylib.binary_info(deploylib.BUILD / rel)
            self.assertIn("drain_deadline", info.flags)
            self.assertEqual(info.env_aliases.get("DATABASE_URL"), "pg_dsn")
            want_prefix = {"newsgrid/article-service": "ARTICLE", "newsgrid/trending-service": "TRENDING",
                           "newsgrid/reader-web": "READER"}[image]
            self.assertEqual(info.env_prefix, want_prefix)
            self.assertEqual(info.flag_for_env(f"{want_prefix}_LOG_LEVEL"), "log_level")
            self.assertIsNone(info.flag_for_env(f"{want_prefix}_NO_SUCH_FLAG"))

    def test_effective_ports_are_the_manifest_ports(self):
        objs = render("dev")
        want = {"article-service": ("50051", "9091"), "trending-service": ("50052", "9092"),
                "reader-web": ("8080", "9093")}
        for name, (port, metrics) in want.items():
            cfg = deploylib.effective_config(objs, main_container(_dep(objs, name)))
            self.assertEqual((cfg["port"], cfg["metrics_port"]), (port, metrics))
            if name != "reader-web":  # no database
                self.assertEqual(cfg["migrate"], "off")


class ChecksCatchMistakesTest(unittest.TestCase):
    """Each mutation of the dev overlay must be reported."""

    def assertReported(self, objs, fragment, overlay="dev"):
        violations = policy.check(objs, overlay)
        self.assertTrue(any(fragment in v for v in violations),
                        f"{fragment!r} not in {violations}")

    def mutate(self, fn, overlay="dev"):
        objs = copy.deepcopy(render(overlay))
        fn(objs)
        return objs

    def test_latest_tag(self):
        def f(objs):
            main_container(_dep(objs))["image"] = "newsgrid/article-service:latest"
        self.assertReported(self.mutate(f), "version tag")

    def test_untagged_image(self):
        def f(objs):
            pod_spec(_dep(objs))["initContainers"][0]["image"] = "newsgrid/article-service"
        self.assertReported(self.mutate(f), "version tag")

    def test_missing_probe(self):
        def f(objs):
            del main_container(_dep(objs, "trending-service"))["livenessProbe"]
        self.assertReported(self.mutate(f), "no livenessProbe")

    def test_missing_limits(self):
        def f(objs):
            del main_container(_dep(objs))["resources"]["limits"]["memory"]
        self.assertReported(self.mutate(f), "resources.limits.memory")

    def test_writable_root(self):
        def f(objs):
            main_container(_dep(objs))["securityContext"]["readOnlyRootFilesystem"] = False
        self.assertReported(self.mutate(f), "readOnlyRootFilesystem")

    def test_capabilities_kept(self):
        def f(objs):
            pod_spec(_dep(objs))["initContainers"][0]["securityContext"]["capabilities"] = {}
        self.assertReported(self.mutate(f), "drop ALL")

    def test_root_allowed(self):
        def f(objs):
            del pod_spec(_dep(objs))["securityContext"]["runAsNonRoot"]
        self.assertReported(self.mutate(f), "runAsNonRoot")

    def test_probe_port_not_served(self):
        def f(objs):
            main_container(_dep(objs))["readinessProbe"]["grpc"]["port"] = 50052
        self.assertReported(self.mutate(f), "readinessProbe port 50052")

    def test_probe_service_unknown(self):
        def f(objs):
            main_container(_dep(objs))["startupProbe"]["grpc"]["service"] = "news.article.v1.Articles"
        self.assertReported(self.mutate(f), "'news.article.v1.Articles' is no gRPC service")

    def test_port_changed_in_args_only(self):
        def f(objs):
            main_container(_dep(objs))["args"][0] = "--port=6000"
        self.assertReported(self.mutate(f), "listens on 6000")

    def test_unknown_flag(self):
        def f(objs):
            main_container(_dep(objs))["args"].append("--trending_service_adr=x:1")
        self.assertReported(self.mutate(f), "--trending_service_adr is not a flag")

    def test_unknown_env_var(self):
        def f(objs):
            main_container(_dep(objs))["env"].append({"name": "ARTICLE_POOL", "value": "3"})
        self.assertReported(self.mutate(f), "ARTICLE_POOL sets no flag")

    def test_other_services_prefix(self):
        def f(objs):
            cm = [c for c in of_kind(objs, "ConfigMap")
                  if c["metadata"]["name"].startswith("article-service-config")][0]
            cm["data"]["TRENDING_LOG_LEVEL"] = "info"
        self.assertReported(self.mutate(f), "TRENDING_LOG_LEVEL sets no flag")

    def test_missing_secret_key(self):
        def f(objs):
            main_container(_dep(objs))["env"][0]["valueFrom"]["secretKeyRef"]["key"] = "url"
        self.assertReported(self.mutate(f), "has no key url")

    def test_grace_period_below_drain(self):
        def f(objs):
            pod_spec(_dep(objs))["terminationGracePeriodSeconds"] = 12
        self.assertReported(self.mutate(f), "terminationGracePeriodSeconds 12")

    def test_drain_deadline_raised_in_config(self):
        def f(objs):
            cm = [c for c in of_kind(objs, "ConfigMap")
                  if c["metadata"]["name"].startswith("trending-service-config")][0]
            cm["data"]["TRENDING_DRAIN_DEADLINE"] = "1m"
        self.assertReported(self.mutate(f), "drain deadline 60.0s")

    def test_metrics_annotation_wrong(self):
        def f(objs):
            _dep(objs)["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] = "9092"
        self.assertReported(self.mutate(f), "prometheus.io/port '9092'")

    def test_server_migrates_too(self):
        def f(objs):
            main_container(_dep(objs))["args"].remove("--migrate=off")
        self.assertReported(self.mutate(f), "runs --migrate=auto")

    def test_service_target_port_missing(self):
        def f(objs):
            find(objs, "Service", "trending-service-peers")["spec"]["ports"][0]["targetPort"] = "rpc"
        self.assertReported(self.mutate(f), "targetPort rpc")

    def test_no_headless_service(self):
        def f(objs):
            objs.remove(find(objs, "Service", "article-service-peers"))
        self.assertReported(self.mutate(f), "no headless Service")

    def test_prod_needs_pdb(self):
        def f(objs):
            for p in of_kind(objs, "PodDisruptionBudget"):
                objs.remove(p)
        self.assertReported(self.mutate(f, "prod"), "no PodDisruptionBudget", "prod")

    def test_prod_postgres_reachable_from_everyone(self):
        def f(objs):
            deny = find(objs, "NetworkPolicy", "default-deny")
            deny["spec"]["egress"] = [{}]
        self.assertReported(self.mutate(f, "prod"), "allowed to reach PostgreSQL", "prod")

    def test_prod_trending_ingest_open_to_all(self):
        def f(objs):
            np = find(objs, "NetworkPolicy", "trending-service")
            np["spec"]["ingress"][0]["from"] = [{}]
        self.assertReported(self.mutate(f, "prod"), "trending-service port 50052", "prod")

    def test_prod_secret_must_be_documented(self):
        def f(objs):
            main_container(_dep(objs))["env"][0]["valueFrom"]["secretKeyRef"]["name"] = "db-url"
        self.assertReported(self.mutate(f, "prod"), "Secret db-url is not in the manifests", "prod")


if __name__ == "__main__":
    unittest.main()
