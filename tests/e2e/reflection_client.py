"""A server-reflection client (grpc.reflection.v1alpha), as grpcurl uses it.

    client = ReflectionClient(channel)
    client.list_services()                     # ["grpc.health.v1.Health", ...]
    client.describe("news.article.v1.ArticleService.CreateArticle")
"""

from google.protobuf import descriptor_pb2, descriptor_pool

import harness  # noqa: F401  (makes grpc.reflection importable)
from grpc.reflection.v1alpha import reflection_pb2, reflection_pb2_grpc


class ReflectionClient:
    def __init__(self, channel):
        self.stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        self.pool = descriptor_pool.DescriptorPool()
        self.files = {}

    def _ask(self, **request):
        responses = list(self.stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(**request)]), timeout=10))
        assert len(responses) == 1, responses
        r = responses[0]
        if r.HasField("error_response"):
            raise LookupError(f"{r.error_response.error_code}: {r.error_response.error_message}")
        return r

    def list_services(self):
        r = self._ask(list_services="")
        return sorted(s.name for s in r.list_services_response.service)

    def _add_files(self, response):
        protos = [descriptor_pb2.FileDescriptorProto.FromString(b)
                  for b in response.file_descriptor_response.file_descriptor_proto]
        for p in protos:
            self.files[p.name] = p
        # Dependencies first, as the pool requires.
        added = True
        while added:
            added = False
            for p in protos:
                try:
                    self.pool.FindFileByName(p.name)
                    continue
                except KeyError:
                    pass
                if all(self._known(d) for d in p.dependency):
                    self.pool.Add(p)
                    added = True

    def _known(self, name):
        try:
            self.pool.FindFileByName(name)
            return True
        except KeyError:
            return False

    def file_containing(self, symbol):
        r = self._ask(file_containing_symbol=symbol)
        self._add_files(r)
        return [descriptor_pb2.FileDescriptorProto.FromString(b)
                for b in r.file_descriptor_response.file_descriptor_proto]

    def describe(self, symbol):
        """The descriptor (service, method or message) for a fully qualified symbol."""
        self.file_containing(symbol)
        for finder in (self.pool.FindServiceByName, self.pool.FindMessageTypeByName):
            try:
                return finder(symbol)
            except KeyError:
                pass
        service, _, method = symbol.rpartition(".")
        return self.pool.FindServiceByName(service).methods_by_name[method]

    def comment(self, file_name, path):
        """The leading comment at a SourceCodeInfo path in a fetched file ('' if none)."""
        proto = self.files[file_name]
        for loc in proto.source_code_info.location:
            if list(loc.path) == list(path):
                return loc.leading_comments
        return ""
