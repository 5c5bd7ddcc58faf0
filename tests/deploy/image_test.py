"""The container images, checked without a Docker engine: the Dockerfiles'
Debian packages exist, the runtime stage provides every shared library the
built binaries load (ldd -> dpkg -S) and nothing they do not, and the
images agree with the manifests (user id, ports, entrypoint) and with the
build (CMake folders not excluded by .dockerignore).

BuiltImageTest checks the same of the images themselves, built by podman:
deploy/containers/check.sh runs it with NEWSGRID_IMAGES naming them (it is
skipped otherwise)."""

import fnmatch
import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import deploylib
from deploylib import REPO, find, main_container, pod_spec, render

DOCKER_DIR = REPO / "deploy" / "docker"


def dockerfile(path):
    """[(base image, [(instruction, argument text)])] per stage, with line
    continuations joined and comments dropped."""
    lines, buf = [], ""
    for raw in path.read_text().splitlines():
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        lines.append(buf + s)
        buf = ""
    stages = []
    for line in lines:
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            stages.append((rest.split()[0], []))
        elif stages:
            stages[-1][1].append((instr, rest.strip()))
    return stages


def apt_installs(stage):
    """Packages of the stage's `apt-get install` commands."""
    pkgs = []
    for instr, arg in stage[1]:
        if instr != "RUN":
            continue
        for cmd in re.split(r"&&|;", arg):
            words = shlex.split(cmd)
            words = [w for w in words if "=" not in w or w.startswith("-")]  # VAR=x prefixes
            if words[:2] == ["apt-get", "install"]:
                pkgs.extend(w for w in words[2:] if not w.startswith("-"))
    return pkgs


def apt_closure(pkgs):
    """pkgs and everything they depend on (Depends and Pre-Depends)."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                          "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                          *pkgs], capture_output=True, text=True, check=True).stdout
    closure = set(pkgs)
    for line in out.splitlines():
        m = re.match(r"\s+\|?(?:Pre)?Depends: (\S+)", line)
        if m and not m.group(1).startswith("<"):
            closure.add(m.group(1).split(":")[0])
        elif line and not line.startswith(" ") and not line.startswith("<"):
            closure.add(line.split(":")[0])
    return closure


def apt_known(pkgs):
    """The ones of pkgs that apt knows (one `apt-cache show` for all)."""
    out = subprocess.run(["apt-cache", "show", "--no-all-versions", *pkgs],
                         capture_output=True, text=True).stdout
    return set(re.findall(r"^Package: (\S+)", out, re.M))


def shared_libraries(binary):
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            libs.append(m.group(2))
        elif "not found" in line:
            raise AssertionError(f"{binary}: {line.strip()}")
    return libs


@functools.lru_cache(maxsize=None)
def _dpkg_files():
    """Every installed file -> its package, from dpkg's file lists (what
    `dpkg -S` reads, at once)."""
    files = {}
    for lst in Path("/var/lib/dpkg/info").glob("*.list"):
        pkg = lst.name[:-len(".list")].split(":")[0]
        for line in lst.read_text(errors="replace").splitlines():
            files.setdefault(line, pkg)
    return files


def owning_packages(paths, files=None, realpath=os.path.realpath):
    """path -> Debian package, trying the /usr-merged and resolved names
    (in this machine's dpkg database, or in files: path -> package)."""
    files = _dpkg_files() if files is None else files
    owners = {}
    for p in paths:
        for c in (p, "/usr" + p if p.startswith(("/lib", "/bin")) else p, realpath(p)):
            if c in files:
                owners[p] = files[c]
                break
    return owners


def newsgrid_packages():
    text = (REPO / "deploy" / "local" / "common.sh").read_text()
    body = re.search(r"NEWSGRID_PACKAGES=\((.*?)\)", text, re.S).group(1)
    return set(re.sub(r"#.*", "", body).split())


def dockerignored(rel):
    """Whether .dockerignore drops the path (the patterns used here: names,
    globs, a leading / for the root, **/ for any depth)."""
    patterns = [p.strip() for p in (REPO / ".dockerignore").read_text().splitlines()
                if p.strip() and not p.startswith("#")]
    for p in patterns:
        p = p.lstrip("/")
        if fnmatch.fnmatch(rel, p) or rel.startswith(p + "/"):
            return True
        if p.startswith("**/") and fnmatch.fnmatch(rel.rsplit("/", 1)[-1], p[3:]):
            return True
    return False


def _prefixes(rel):
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


SERVICES = {"article-service": "article-service/article-service",
            "trending-service": "trending-service/trending-service",
            "reader-web": "reader-web/reader-web"}


class DockerfileTest(unittest.TestCase):
    def test_one_dockerfile_per_image(self):
        self.assertEqual({f"newsgrid/{s}" for s in SERVICES}, set(deploylib.OUR_IMAGES))
        for s in SERVICES:
            self.assertTrue((DOCKER_DIR / f"{s}.Dockerfile").is_file(), s)

    def test_stages(self):
        for s in SERVICES:
            with self.subTest(service=s):
                stages = dockerfile(DOCKER_DIR / f"{s}.Dockerfile")
                self.assertEqual([b for b, _ in stages], ["debian:bookworm", "debian:bookworm-slim"])
                instrs = [i for _, st in stages for i, _ in st]
                self.assertNotIn("HEALTHCHECK", instrs)

    def test_runtime_packages_exist_and_cover_the_binary(self):
        for s, rel in SERVICES.items():
            with self.subTest(service=s):
                runtime = apt_installs(dockerfile(DOCKER_DIR / f"{s}.Dockerfile")[-1])
                self.assertTrue(runtime)
                self.assertEqual(sorted(set(runtime) - apt_known(runtime)), [],
                                 f"{s}: runtime packages not in apt")
                libs = shared_libraries(deploylib.BUILD / rel)
                owners = owning_packages(libs)
                unowned = [lib for lib in libs if lib not in owners]
                self.assertEqual(unowned, [], f"{s}: libraries of no Debian package")
                closure = apt_closure(runtime)
                missing = sorted({f"{owners[lib]} ({os.path.basename(lib)})" for lib in libs
                                  if owners[lib] not in closure})
                self.assertEqual(missing, [], f"{s}: the runtime stage lacks these packages")
                # Nothing the binary does not load directly or through them.
                unused = sorted(set(runtime) - set(owners.values()))
                self.assertEqual(unused, [], f"{s}: runtime packages the binary does not load")

    def test_services_share_one_build_stage(self):
        # Written the same in every service's Dockerfile, so an image build
        # reuses the stage another left in the build cache.
        stages = {s: dockerfile(DOCKER_DIR / f"{s}.Dockerfile")[0] for s in SERVICES}
        first = next(iter(stages.values()))
        for s, stage in stages.items():
            self.assertEqual(stage, first, f"{s}: build stage differs")
        build = " ".join(arg for instr, arg in first[1] if instr == "RUN")
        for s, rel in SERVICES.items():
            self.assertIn(s, re.search(r"--target ([\w -]+?) -j", build).group(1).split())
            self.assertIn(f"/build/{rel}", build)  # stripped

    def test_build_packages_are_the_projects(self):
        known = newsgrid_packages()
        for s in SERVICES:
            with self.subTest(service=s):
                build = apt_installs(dockerfile(DOCKER_DIR / f"{s}.Dockerfile")[0])
                self.assertTrue(build)
                self.assertEqual(sorted(set(build) - known), [],
                                 "build packages missing from NEWSGRID_PACKAGES")

    def test_image_matches_the_deployment(self):
        objs = render("dev")
        for s, rel in SERVICES.items():
            with self.subTest(service=s):
                stage = dockerfile(DOCKER_DIR / f"{s}.Dockerfile")[-1][1]
                args = {}
                for instr, arg in stage:
                    args.setdefault(instr, []).append(arg)
                user = args["USER"][-1].split(":")[0]
                self.assertTrue(user.isdigit() and int(user) != 0, "numeric non-root USER")
                dep = find(objs, "Deployment", s)
                self.assertEqual(int(user), pod_spec(dep)["securityContext"]["runAsUser"])
                exposed = {int(p.split("/")[0]) for a in args["EXPOSE"] for p in a.split()}
                declared = {p["containerPort"] for p in main_container(dep)["ports"]}
                self.assertEqual(exposed, declared)
                entry = args["ENTRYPOINT"][-1]
                self.assertEqual(entry, f'["/usr/local/bin/{s}"]')
                self.assertIn(f"--from=build /build/{rel} /usr/local/bin/{s}", args["COPY"])
                # The image's single command is the binary: the manifests
                # must not override it.
                self.assertNotIn("command", main_container(dep))

    def test_prestop_command_is_in_the_slim_image(self):
        # /bin/sleep must come from an Essential package, present in every
        # Debian image.
        objs = render("dev")
        for s in SERVICES:
            cmd = main_container(find(objs, "Deployment", s))["lifecycle"]["preStop"]["exec"]["command"]
            pkg = owning_packages([cmd[0]]).get(cmd[0])
            self.assertIsNotNone(pkg, cmd[0])
            show = subprocess.run(["apt-cache", "show", pkg], capture_output=True, text=True).stdout
            self.assertIn("Essential: yes", show, f"{cmd[0]} comes from {pkg}")

    def test_build_stage_configures_from_the_docker_context(self):
        # The files Docker would send (.dockerignore applied), configured
        # as the build stage does: the service targets must exist.
        with tempfile.TemporaryDirectory(prefix="newsgrid-context-") as tmp:
            ctx = Path(tmp) / "src"
            for f in REPO.rglob("*"):
                rel = f.relative_to(REPO).as_posix()
                if f.is_file() and not any(dockerignored(part) for part in _prefixes(rel)):
                    (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, ctx / rel)
            r = subprocess.run(["cmake", "-S", str(ctx), "-B", f"{tmp}/build",
                                "-DCMAKE_BUILD_TYPE=Release"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            targets = subprocess.run(["cmake", "--build", f"{tmp}/build", "--target", "help"],
                                     capture_output=True, text=True, check=True).stdout
            for s in SERVICES:
                self.assertIn(f"... {s}\n", targets)

    def test_dockerignore_keeps_the_build_inputs(self):
        ignored = dockerignored

        # Every folder CMake descends into, and every CMakeLists.txt.
        needed = ["CMakeLists.txt"]
        for cm in REPO.rglob("CMakeLists.txt"):
            rel = cm.relative_to(REPO).as_posix()
            if rel.startswith("build"):
                continue
            needed.append(rel)
            for sub in re.findall(r"add_subdirectory\((\w[\w/-]*)\)", cm.read_text()):
                needed.append((cm.parent.relative_to(REPO) / sub).as_posix())
        kept = [n for n in needed if not ignored(n)]
        self.assertEqual(sorted(set(needed) - set(kept)), [], ".dockerignore drops build inputs")
        for p in (".git", "build", "build-asan"):
            self.assertTrue(ignored(p), f"{p} should stay out of the build context")


# Packages that mean a compiler or build tool got into a runtime image.
BUILD_TOOLS = {"gcc", "g++", "cpp", "gcc-12", "g++-12", "cpp-12", "clang", "binutils", "make",
               "cmake", "libc6-dev", "libstdc++-12-dev", "build-essential", "protobuf-compiler"}


def podman(*args):
    return subprocess.run(["podman", *args], capture_output=True, text=True, timeout=300)


class ImageContents:
    """What a built image holds, read by running it (no network, read-only,
    no capabilities): its installed packages and dpkg file lists, and for a
    binary the libraries ldd resolves, each with its resolved path."""

    def __init__(self, image, binary=None):
        script = ("dpkg-query -W -f '${Package}\\n'; echo @@; grep -H '' /var/lib/dpkg/info/*.list; "
                  "echo @@; command -v cc c++ gcc g++ clang ld as make cmake || true; echo @@; ")
        if binary:
            script += (f"ldd {binary} | while read -r a b c d; do "
                       'case "$b $c" in "=> not"*) echo "$a not-found";; "=> /"*) echo "$c $(readlink -f "$c")";; esac; '
                       "done")
        p = podman("run", "--rm", "--network=none", "--read-only", "--cap-drop=ALL",
                   "--entrypoint=/bin/sh", image, "-c", script)
        if p.returncode != 0:
            raise AssertionError(f"{image}: {p.stderr}")
        pkgs, lists, tools, libs = p.stdout.split("@@\n")
        self.packages = set(pkgs.split())
        self.files = {}
        for line in lists.splitlines():
            lst, _, path = line.partition(".list:")
            self.files.setdefault(path, os.path.basename(lst).split(":")[0])
        self.tools = tools.split()
        self.libs = {}   # ldd path -> resolved path
        self.missing = []
        for line in libs.splitlines():
            path, resolved = line.split()
            if resolved == "not-found":
                self.missing.append(path)
            else:
                self.libs[path] = resolved


def image_config(image):
    p = podman("image", "inspect", image)
    if p.returncode != 0:
        raise AssertionError(f"{image} not built: {p.stderr}")
    return json.loads(p.stdout)[0]["Config"]


class BuiltImageTest(unittest.TestCase):
    """The images check.sh built (NEWSGRID_IMAGES: space-separated names):
    every library the binary loads present and from the packages the
    Dockerfile installs, nothing else added to the base, no compiler, and the
    user, entrypoint and ports of the manifests."""

    def setUp(self):
        self.images = os.environ.get("NEWSGRID_IMAGES", "").split()
        if not self.images:
            self.skipTest("NEWSGRID_IMAGES is not set: deploy/containers/check.sh builds the images "
                          "and runs this")
        self.base = os.environ.get("NEWSGRID_BASE_IMAGE", "localhost/newsgrid-debian:bookworm-slim")

    def service_images(self):
        out = {}
        for image in self.images:
            name, _ = deploylib.image_name(image)
            service = name.split("/")[-1]
            if service in SERVICES:
                out[service] = image
        return out

    def test_every_service_image_was_built(self):
        self.assertEqual(set(self.service_images()), set(SERVICES))

    def test_binary_libraries_come_from_the_runtime_packages(self):
        for s, image in self.service_images().items():
            with self.subTest(image=image):
                got = ImageContents(image, f"/usr/local/bin/{s}")
                self.assertEqual(got.missing, [], f"{image}: libraries ldd does not find")
                self.assertTrue(got.libs)
                owners = owning_packages(got.libs, got.files, realpath=lambda p: got.libs[p])
                self.assertEqual(sorted(set(got.libs) - set(owners)), [],
                                 f"{image}: libraries of no Debian package")
                runtime = apt_installs(dockerfile(DOCKER_DIR / f"{s}.Dockerfile")[-1])
                closure = apt_closure(runtime)
                self.assertEqual(sorted({owners[p] for p in got.libs} - closure), [],
                                 f"{image}: libraries from packages the Dockerfile does not install")
                self.assertEqual(sorted(set(runtime) - set(owners.values())), [],
                                 f"{image}: runtime packages the binary does not load")
                # Beyond the base image, only what the runtime list pulls in.
                base = ImageContents(self.base).packages
                self.assertEqual(sorted(got.packages - base - closure), [],
                                 f"{image}: packages beyond the base and the runtime list")

    def test_no_compiler_or_build_tool(self):
        for image in self.images:
            with self.subTest(image=image):
                got = ImageContents(image)
                self.assertEqual(sorted(got.packages & BUILD_TOOLS), [])
                self.assertEqual(got.tools, [])

    def test_user_entrypoint_and_ports_match_the_deployment(self):
        objs = render("dev")
        for s, image in self.service_images().items():
            with self.subTest(image=image):
                cfg = image_config(image)
                dep = find(objs, "Deployment", s)
                ctx = pod_spec(dep)["securityContext"]
                self.assertEqual(cfg["User"], f"{ctx['runAsUser']}:{ctx['runAsGroup']}")
                self.assertEqual(cfg["Entrypoint"], [f"/usr/local/bin/{s}"])
                declared = {f"{p['containerPort']}/tcp" for p in main_container(dep)["ports"]}
                self.assertEqual(set(cfg.get("ExposedPorts", {})), declared)

    def test_binary_starts_read_only_without_capabilities(self):
        for s, image in self.service_images().items():
            with self.subTest(image=image):
                p = podman("run", "--rm", "--network=none", "--read-only", "--cap-drop=ALL",
                           image, "--version")
                self.assertEqual(p.returncode, 0, p.stderr)
                self.assertIn(s, p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
