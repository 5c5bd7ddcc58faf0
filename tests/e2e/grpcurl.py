"""grpcurl for the tests: the real binary when there is one, else a work-alike.

    tool = grpcurl.find()                  # $GRPCURL, then PATH, then ../shared/bin/grpcurl
    print(tool.name)                       # "grpcurl v1.8.7 (/usr/local/bin/grpcurl)"
    r = tool.run("grpcurl -plaintext -format-error -d '{...}' localhost:50051 SERVICE/METHOD")
    r.ok, r.code, r.outputs, r.error, r.details

Tests that check what grpcurl users see go through here, so they run the
real grpcurl whenever the machine has it (CI does) and say which one they
used. The work-alike (`Workalike`, also runnable as
`grpcurl.py -plaintext [-d JSON] [-H 'k: v'] [-format-error] HOST:PORT ...`)
is the fallback for machines without it. It knows no .proto files: like
grpcurl it asks the server's reflection for descriptors, builds the request
from JSON, and decodes error details by asking reflection for their types
(so details a server does not describe stay undecoded, as in grpcurl).
Where grpcurl's JSON rules differ from other proto3 JSON clients it follows
grpcurl, so that it cannot pass what users would see fail: a
google.protobuf.FieldMask must be written `{"paths": ["a", "b"]}`; the
string form "a,b" is refused like grpcurl refuses it.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading

import grpc
from google.protobuf import json_format, message_factory

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class GrpcurlResult:
    def __init__(self, code, outputs, error="", details=None):
        self.code = code          # grpc.StatusCode name ("OK", "INVALID_ARGUMENT", ...)
        self.outputs = outputs    # responses as dicts; list/describe output as strings;
        #                           with -format-error, a failed call's status as a dict
        self.error = error        # the status message, or why the call was not made
        self.details = details or []  # decoded error details (dicts with "@type")

    @property
    def ok(self):
        return self.code == "OK"


def _split(argv):
    if isinstance(argv, str):
        argv = shlex.split(argv)
    argv = list(argv)
    if argv and os.path.basename(argv[0]) in ("grpcurl", "grpcurl.py"):
        argv = argv[1:]
    return argv


def _code_name(value):
    for c in grpc.StatusCode:
        if c.value[0] == value:
            return c.name
    return "UNKNOWN"


def _json_values(text):
    """The JSON values printed one after another (grpcurl's stream output)."""
    decoder, out, i = json.JSONDecoder(), [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        value, i = decoder.raw_decode(text, i)
        out.append(value)


class Real:
    """The grpcurl binary, run as a user runs it."""

    def __init__(self, path):
        self.path = path
        version = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=10)
        self.version = (version.stdout + version.stderr).strip().replace("grpcurl ", "")
        self.name = f"grpcurl {self.version} ({path})"

    def run(self, argv, max_messages=1, timeout=10):
        args = _split(argv)
        format_error = "-format-error" in args
        proc = subprocess.Popen([self.path] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        # A server stream goes on until the server ends it (or Ctrl-C, as
        # the README says): stop after max_messages, as a user would.
        chunks, stop, eof = [], threading.Event(), threading.Event()

        def read():
            buf = ""
            for line in proc.stdout:
                chunks.append(line)
                buf += line
                try:
                    if len(_json_values(buf)) >= max_messages and not format_error:
                        stop.set()
                except ValueError:
                    pass  # a message not complete yet, or not JSON (list, describe)
            eof.set()
            stop.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        stop.wait(timeout)
        stopped_by_us = False
        if not eof.wait(0.2):
            stopped_by_us = True
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(5)
        stdout, stderr = "".join(chunks), proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        if stopped_by_us or proc.returncode == 0:
            values = _json_values(stdout) if stdout.lstrip().startswith(("{", "[")) else \
                [l for l in stdout.splitlines() if l.strip()]
            if not stopped_by_us or values:
                return GrpcurlResult("OK", values[:max_messages] if stopped_by_us else values)
            return GrpcurlResult("DEADLINE_EXCEEDED", [], f"no message within {timeout}s")
        if proc.returncode < 64:
            # Not an RPC status: grpcurl refused the input or could not connect.
            return GrpcurlResult("GRPCURL_ERROR", [], (stderr or stdout).strip())
        code = _code_name(proc.returncode - 64)
        if format_error:  # the status as JSON, on stderr
            status = _json_values(stderr)[-1]
            return GrpcurlResult(code, [status], status.get("message", ""), status.get("details", []))
        m = re.search(r"Message: (.*?)(?:\n  Details:|\Z)", stderr, re.S)
        details = [json.loads(d) for d in re.findall(r"^\s*\d+\)\s*(\{.*\})\s*$", stderr, re.M)]
        return GrpcurlResult(code, _json_values(stdout) if stdout.strip() else [],
                             m.group(1).strip() if m else stderr.strip(), details)


class Workalike:
    """grpcurl's behaviour for the commands the tests and README use,
    on grpcio and server reflection."""

    name = "grpcurl work-alike (tests/e2e/grpcurl.py; no grpcurl binary found)"

    def run(self, argv, max_messages=1, timeout=10):
        from reflection_client import ReflectionClient

        data, headers, rest, format_error = None, [], [], False
        args = _split(argv)
        i = 0
        while i < len(args):
            a = args[i]
            if a == "-plaintext":
                pass
            elif a == "-format-error":
                format_error = True
            elif a == "-d":
                i += 1
                data = args[i]
            elif a == "-H":
                i += 1
                k, _, v = args[i].partition(":")
                headers.append((k.strip().lower(), v.strip()))
            elif a.startswith("-"):
                raise ValueError(f"the work-alike does not support grpcurl flag {a}")
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
                return GrpcurlResult("OK", _describe(client, verb[1]).splitlines())
            service, _, method = verb[0].partition("/")
            client.file_containing(service)
            mdesc = client.pool.FindServiceByName(service).methods_by_name[method]
            factory = message_factory.MessageFactory(client.pool)
            req_cls = factory.GetPrototype(mdesc.input_type)
            resp_cls = factory.GetPrototype(mdesc.output_type)
            try:
                body = json.loads(data or "{}")
                _fieldmasks_as_grpcurl(body, mdesc.input_type)
                request = json_format.ParseDict(body, req_cls())
            except (ValueError, json_format.ParseError) as e:
                return GrpcurlResult("GRPCURL_ERROR", [],
                                     f'Error invoking method "{verb[0]}": error getting request '
                                     f"data: bad input: {e}")
            path = f"/{service}/{method}"
            kw = dict(request_serializer=req_cls.SerializeToString,
                      response_deserializer=resp_cls.FromString)
            to_json = json_format.MessageToDict  # grpcurl prints lowerCamel JSON
            try:
                if mdesc.client_streaming and mdesc.server_streaming:
                    raise ValueError("bidi streaming not supported")
                if mdesc.client_streaming:
                    resp = channel.stream_unary(path, **kw)(iter([request]), metadata=headers,
                                                            timeout=timeout)
                    return GrpcurlResult("OK", [to_json(resp)])
                if mdesc.server_streaming:
                    call = channel.unary_stream(path, **kw)(request, metadata=headers,
                                                            timeout=timeout)
                    out = []
                    for m in call:
                        out.append(to_json(m))
                        if len(out) >= max_messages:
                            call.cancel()
                            break
                    return GrpcurlResult("OK", out)
                resp = channel.unary_unary(path, **kw)(request, metadata=headers, timeout=timeout)
                return GrpcurlResult("OK", [to_json(resp)])
            except grpc.RpcError as e:
                details = _decode_details(e, client, factory)
                outputs = []
                if format_error:
                    outputs = [{"code": e.code().value[0], "message": e.details(),
                                "details": details}]
                return GrpcurlResult(e.code().name, outputs, e.details(), details)
        finally:
            channel.close()


_SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64",
            7: "fixed32", 8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32",
            16: "sfixed64", 17: "sint32", 18: "sint64"}


def _describe(client, symbol):
    """grpcurl's describe output for a service, method or top-level message:
    what it is, its leading comment, its declaration."""
    d = client.describe(symbol)
    owner = d.containing_service if hasattr(d, "input_type") else d
    proto = client.files[owner.file.name]

    def comment(path, indent=""):
        text = client.comment(proto.name, path).rstrip("\n")
        return [f"{indent}//{l}" for l in text.split("\n")] if text else []

    def type_of(f):
        t = f".{f.message_type.full_name}" if f.message_type else \
            f".{f.enum_type.full_name}" if f.enum_type else _SCALARS[f.type]
        return ("repeated " if f.label == f.LABEL_REPEATED else "") + t

    services = [x.name for x in proto.service]
    messages = [x.name for x in proto.message_type]
    if hasattr(d, "methods_by_name"):
        si = services.index(d.name)
        lines = [f"{d.full_name} is a service:"] + comment([6, si]) + [f"service {d.name} {{"]
        for mi, m in enumerate(d.methods):
            lines += comment([6, si, 2, mi], "  ") + [_rpc(m, "  ")]
        return "\n".join(lines + ["}"])
    if hasattr(d, "input_type"):
        si = services.index(d.containing_service.name)
        mi = [m.name for m in d.containing_service.methods].index(d.name)
        return "\n".join([f"{d.full_name} is a method:"] + comment([6, si, 2, mi]) + [_rpc(d, "")])
    lines = [f"{d.full_name} is a message:"]
    mi = messages.index(d.name) if d.containing_type is None and d.name in messages else None
    if mi is not None:
        lines += comment([4, mi])
    lines.append(f"message {d.name} {{")
    for fi, f in enumerate(d.fields):
        if mi is not None:
            lines += comment([4, mi, 2, fi], "  ")
        lines.append(f"  {type_of(f)} {f.name} = {f.number};")
    return "\n".join(lines + ["}"])


def _rpc(m, indent):
    stream_in = "stream " if m.client_streaming else ""
    stream_out = "stream " if m.server_streaming else ""
    return (f"{indent}rpc {m.name} ( {stream_in}.{m.input_type.full_name} ) returns "
            f"( {stream_out}.{m.output_type.full_name} );")


def _fieldmasks_as_grpcurl(value, descriptor):
    """Rewrites {"paths": [...]} FieldMasks into the form json_format reads,
    and refuses the string form, as grpcurl does."""
    if not isinstance(value, dict):
        return
    for key, v in list(value.items()):
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        if field is None or field.message_type is None:
            continue
        items = v if field.label == field.LABEL_REPEATED and isinstance(v, list) else [v]
        if field.message_type.full_name == "google.protobuf.FieldMask":
            if not isinstance(v, dict):
                raise ValueError(f"expecting start of JSON object: '{{' ; instead got {v}")
            value[key] = ",".join(_camel(p) for p in v.get("paths", []))
            continue
        if field.message_type.GetOptions().map_entry:
            continue
        for item in items:
            _fieldmasks_as_grpcurl(item, field.message_type)


def _camel(path):
    return ".".join(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), p) for p in path.split("."))


def _decode_details(rpc_error, client, factory):
    """The status details as grpcurl shows them: decoded when reflection
    describes their type, else an "@error" with the raw bytes."""
    import base64
    import harness  # noqa: F401  (google.rpc stubs on the path)
    from google.rpc import status_pb2
    for key, value in rpc_error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        out = []
        for detail in status_pb2.Status.FromString(value).details:
            type_name = detail.type_url.rpartition("/")[2]
            try:
                client.file_containing(type_name)
                cls = factory.GetPrototype(client.pool.FindMessageTypeByName(type_name))
                msg = cls.FromString(detail.value)
                out.append({"@type": detail.type_url, **json_format.MessageToDict(msg)})
            except (LookupError, KeyError):
                out.append({"@type": detail.type_url,
                             "@error": f"{type_name} is not recognized; see @value for raw "
                                       "binary message data",
                             "@value": base64.b64encode(detail.value).decode()})
        return out
    return []


def find():
    """The real grpcurl ($GRPCURL, then PATH, then ../shared/bin/grpcurl
    beside the repository) or the work-alike."""
    candidates = [os.environ.get("GRPCURL"), shutil.which("grpcurl"),
                  os.path.join(ROOT, "..", "shared", "bin", "grpcurl")]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return Real(os.path.abspath(path))
    return Workalike()


_DEFAULT = None


def tool():
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = find()
        print(f"grpcurl used: {_DEFAULT.name}", file=sys.stderr)
    return _DEFAULT


def run(argv, max_messages=1, timeout=10):
    """Runs one grpcurl command line (a list of args, or a string) with tool()."""
    return tool().run(argv, max_messages=max_messages, timeout=timeout)


def main():
    r = Workalike().run(sys.argv[1:])
    if not r.ok:
        print(f"ERROR:\n  Code: {r.code}\n  Message: {r.error}", file=sys.stderr)
        sys.exit(1)
    for o in r.outputs:
        print(json.dumps(o, indent=2) if isinstance(o, dict) else o)


if __name__ == "__main__":
    main()
