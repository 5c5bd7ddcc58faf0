"""TLS and mTLS on a real server with certificates made at test time (openssl)."""

import os
import subprocess
import tempfile
import unittest

import grpc

from harness import ServiceProcess, create_database
from grpc.health.v1 import health_pb2, health_pb2_grpc


def make_pki(folder):
    """A CA, a server certificate for localhost/127.0.0.1 and a client certificate."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=newsgrid test CA",
        "-keyout", "ca.key", "-out", "ca.pem")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name in ("server", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "san.ext", "-out", f"{name}.pem")
    return {n: open(os.path.join(folder, n), "rb").read()
            for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def check(channel):
    return health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="newsgrid-pki.")
        cls.pki = make_pki(cls.dir)
        p = lambda n: os.path.join(cls.dir, n)  # noqa: E731
        cls.svc = ServiceProcess("article-service", create_database(), args=[
            f"--tls_cert_file={p('server.pem')}", f"--tls_key_file={p('server.key')}",
            f"--tls_client_ca_file={p('ca.pem')}"])
        cls.svc.start(wait_serving=False)
        cls.addr = f"localhost:{cls.svc.port}"

    @classmethod
    def tearDownClass(cls):
        cls.svc.kill()

    def mtls_channel(self):
        creds = grpc.ssl_channel_credentials(root_certificates=self.pki["ca.pem"],
                                             private_key=self.pki["client.key"],
                                             certificate_chain=self.pki["client.pem"])
        return grpc.secure_channel(self.addr, creds)

    def test_mtls_client_is_served(self):
        import time
        deadline = time.monotonic() + 30
        while True:
            try:
                self.assertEqual(check(self.mtls_channel()), health_pb2.HealthCheckResponse.SERVING)
                return
            except (grpc.RpcError, AssertionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def test_client_without_certificate_is_refused(self):
        self.test_mtls_client_is_served()
        creds = grpc.ssl_channel_credentials(root_certificates=self.pki["ca.pem"])
        with self.assertRaises(grpc.RpcError) as e:
            check(grpc.secure_channel(self.addr, creds))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_plaintext_client_is_refused(self):
        self.test_mtls_client_is_served()
        with self.assertRaises(grpc.RpcError) as e:
            check(grpc.insecure_channel(self.addr))
        self.assertEqual(e.exception.code(), grpc.StatusCode.UNAVAILABLE)


class TlsConfigErrorTest(unittest.TestCase):
    def test_missing_key_file_exits_2(self):
        svc = ServiceProcess("article-service", "host=/nonexistent", args=[
            "--tls_cert_file=/nonexistent/cert.pem", "--tls_key_file=/nonexistent/key.pem"])
        r = subprocess.run(svc.command(), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tls_cert_file", r.stderr)


if __name__ == "__main__":
    unittest.main()
