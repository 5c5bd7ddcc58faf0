"""deploy/README.md's steps agree with the manifests and Dockerfiles:
image names and tags, overlay paths, port-forwarded Services and ports,
health service names, Secrets the operator creates."""

import re
import unittest

from deploylib import REPO, OVERLAYS, find, main_container, of_kind, pod_spec, render

README = REPO / "deploy" / "README.md"


def rendered_images(overlay):
    return {c["image"] for w in of_kind(render(overlay), "Deployment")
            for c in pod_spec(w)["containers"] + pod_spec(w).get("initContainers", [])}


class ReadmeTest(unittest.TestCase):
    def setUp(self):
        self.text = README.read_text()

    def test_builds_and_loads_the_images_the_manifests_run(self):
        images = rendered_images("dev")
        built = dict(re.findall(r"docker build -f (\S+) -t (\S+) \.", self.text))
        self.assertEqual(set(built.values()), images)
        for dockerfile in built:
            self.assertTrue((REPO / dockerfile).is_file(), dockerfile)
        loaded = set(re.findall(r"kind load docker-image (\S+)", self.text))
        self.assertEqual(loaded, images)
        self.assertEqual(rendered_images("prod"), images)

    def test_applies_existing_overlays(self):
        paths = set(re.findall(r"kubectl (?:apply|delete) -k ([\w./-]+)", self.text))
        self.assertIn("deploy/k8s/overlays/dev", paths)
        for p in paths:
            self.assertIn(REPO / p, OVERLAYS.values(), p)

    def test_port_forwards_existing_services(self):
        objs = render("dev")
        forwards = re.findall(r"-n (\S+) port-forward svc/(\S+) (\d+):(\d+)", self.text)
        self.assertEqual(len(forwards), 3)
        for ns, name, _, port in forwards:
            svc = find(objs, "Service", name)
            self.assertIsNotNone(svc, name)
            self.assertEqual(svc["metadata"]["namespace"], ns)
            self.assertIn(int(port), [p["port"] for p in svc["spec"]["ports"]])

    def test_rollout_waits_name_real_workloads(self):
        objs = render("dev")
        for kind, name in re.findall(r"rollout status (deployment|statefulset)/(\S+)", self.text):
            self.assertIsNotNone(find(objs, kind.capitalize().replace("set", "Set"), name), name)

    def test_health_checks_use_the_probe_service_names(self):
        objs = render("dev")
        probes = {main_container(d)["readinessProbe"]["grpc"]["service"]
                  for d in of_kind(objs, "Deployment") if "grpc" in main_container(d)["readinessProbe"]}
        named = set(re.findall(r'"service": "([\w.]+)"', self.text))
        self.assertEqual(named, probes)

    def test_settings_files_named_exist(self):
        for d in of_kind(render("dev"), "Deployment"):
            self.assertTrue((OVERLAYS["base"] / f"{d['metadata']['name']}.env").is_file())


if __name__ == "__main__":
    unittest.main()
