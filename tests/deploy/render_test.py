"""Every overlay renders with `kubectl kustomize`, and every rendered object
validates against the strict Kubernetes 1.30 JSON schemas (unknown fields
are errors)."""

import copy
import os
import unittest
from unittest import mock

import deploylib
from deploylib import of_kind, render, schema_errors


class RenderTest(unittest.TestCase):
    def test_every_overlay_renders(self):
        for overlay in deploylib.OVERLAYS:
            with self.subTest(overlay=overlay):
                objs = render(overlay)
                names = {d["metadata"]["name"] for d in of_kind(objs, "Deployment")}
                self.assertEqual(names, {"article-service", "trending-service", "reader-web"})

    def test_overlays_put_everything_in_the_namespace(self):
        for overlay in ("dev", "prod"):
            with self.subTest(overlay=overlay):
                for o in render(overlay):
                    if o["kind"] != "Namespace":
                        self.assertEqual(o["metadata"].get("namespace"), "newsgrid",
                                         f"{o['kind']}/{o['metadata']['name']}")


class SchemaTest(unittest.TestCase):
    def test_every_object_validates_strictly(self):
        deploylib.schema_dir()  # a clear error first when the schemas are missing
        for overlay in deploylib.OVERLAYS:
            for obj in render(overlay):
                with self.subTest(overlay=overlay, obj=f"{obj['kind']}/{obj['metadata']['name']}"):
                    self.assertEqual(schema_errors(obj), [])

    def test_unknown_field_is_an_error(self):
        dep = copy.deepcopy(of_kind(render("dev"), "Deployment")[0])
        dep["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["sevrice"] = "x"
        errors = schema_errors(dep)
        self.assertTrue(any("sevrice" in e for e in errors), errors)

    def test_wrong_type_is_an_error(self):
        dep = copy.deepcopy(of_kind(render("dev"), "Deployment")[0])
        dep["spec"]["replicas"] = "one"
        self.assertTrue(schema_errors(dep))

    def test_kind_without_schema_is_reported(self):
        obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
        errors = schema_errors(obj)
        self.assertEqual(len(errors), 1)
        self.assertIn("widget-example-v1.json", errors[0])

    def test_schema_file_names(self):
        self.assertEqual(deploylib.schema_file({"apiVersion": "apps/v1", "kind": "Deployment"}),
                         "deployment-apps-v1.json")
        self.assertEqual(deploylib.schema_file({"apiVersion": "v1", "kind": "Service"}),
                         "service-v1.json")
        self.assertEqual(deploylib.schema_file(
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}),
            "networkpolicy-networking-v1.json")

    def test_missing_schema_folder_fails_clearly(self):
        with mock.patch.dict(os.environ, {deploylib.SCHEMA_ENV: "/nonexistent/k8s-schemas"}):
            with self.assertRaises(RuntimeError) as cm:
                deploylib.schema_dir()
        self.assertIn("/nonexistent/k8s-schemas", str(cm.exception))
        self.assertIn(deploylib.SCHEMA_ENV, str(cm.exception))


if __name__ == "__main__":
    unittest.main()
