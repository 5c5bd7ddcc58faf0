"""A small grpcurl work-alike built only on server reflection, for tests.

    grpcurl.py -plaintext [-d JSON] [-H 'key: value'] HOST:PORT list|describe SYMBOL|SERVICE/METHOD

It knows no .proto files: like grpcurl it asks the server for descriptors
(grpc.reflection.v1alpha), builds the request from JSON, calls the method and
prints each response as JSON (server streams: every message, until `max_messages`).
Exit code 0 on OK, else 1 with "ERROR: Code: ... Message: ..." like grpcurl.
"""

import json
import shlex
import sys

import grpc
from google.protobuf import json_format, message_factory

from reflection_client import ReflectionClient


class GrpcurlResult:
    def __init__(self, code, outputs, error=""):
        self.code = code          # grpc.StatusCode name
        self.outputs = outputs    # list of dicts (responses) or strings (list/describe)
        self.error = error

    @property
    def ok(self):
        return self.code == "OK"


def run(argv, max_messages=1, timeout=10):
    """Runs one grpcurl command line (a list of args, or a string)."""
    if isinstance(argv, str):
        argv = shlex.split(argv)
    if argv and argv[0] == "grpcurl":
        argv = argv[1:]
    data, headers, rest = None, [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-plaintext":
            pass
        elif a == "-d":
            i += 1
            data = argv[i]
        elif a == "-H":
            i += 1
            k, _, v = argv[i].partition(":")
            headers.append((k.strip().lower(), v.strip()))
        elif a.startswith("-"):
            raise ValueError(f"unsupported grpcurl flag {a}")
        else:
            rest.append(a)
        i += 1
    address, verb = rest[0], rest[1:]
    channel = grpc.insecure_channel(address)
    try:
        client = ReflectionClient(channel)
        if verb == ["list"]:
            return GrpcurlResult("OK", client.list_services())
        if verb and verb[0] == "describe":
            d = client.describe(verb[1])
            return GrpcurlResult("OK", [d.full_name])
        service, _, method = verb[0].partition("/")
        client.file_containing(service)
        mdesc = client.pool.FindServiceByName(service).methods_by_name[method]
        factory = message_factory.MessageFactory(client.pool)
        req_cls = factory.GetPrototype(mdesc.input_type)
        resp_cls = factory.GetPrototype(mdesc.output_type)
        requests = [json_format.Parse(data or "{}", req_cls())]
        path = f"/{service}/{method}"
        kw = dict(request_serializer=req_cls.SerializeToString, response_deserializer=resp_cls.FromString)
        to_json = lambda m: json_format.MessageToDict(m)  # noqa: E731 (grpcurl prints lowerCamel JSON)
        try:
            if mdesc.client_streaming and mdesc.server_streaming:
                raise ValueError("bidi streaming not supported")
            if mdesc.client_streaming:
                resp = channel.stream_unary(path, **kw)(iter(requests), metadata=headers, timeout=timeout)
                return GrpcurlResult("OK", [to_json(resp)])
            if mdesc.server_streaming:
                call = channel.unary_stream(path, **kw)(requests[0], metadata=headers, timeout=timeout)
                out = []
                for m in call:
                    out.append(to_json(m))
                    if len(out) >= max_messages:
                        call.cancel()
                        break
                return GrpcurlResult("OK", out)
            resp = channel.unary_unary(path, **kw)(requests[0], metadata=headers, timeout=timeout)
            return GrpcurlResult("OK", [to_json(resp)])
        except grpc.RpcError as e:
            return GrpcurlResult(e.code().name, [], e.details())
    finally:
        channel.close()


def main():
    r = run(sys.argv[1:])
    if not r.ok:
        print(f"ERROR:\n  Code: {r.code}\n  Message: {r.error}", file=sys.stderr)
        sys.exit(1)
    for o in r.outputs:
        print(json.dumps(o, indent=2) if isinstance(o, dict) else o)


if __name__ == "__main__":
    main()
