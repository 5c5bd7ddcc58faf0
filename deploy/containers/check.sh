#!/usr/bin/env bash
# Builds every image of deploy/docker/ with podman and runs them for real:
#   deploy/containers/check.sh            # everything below
#   deploy/containers/check.sh --build    # base images and image builds only
#   deploy/containers/check.sh --keep     # leave the containers and pods running
#
# 1. Base images: no registry is needed. debian:bookworm and
#    debian:bookworm-slim are made with mmdebstrap from Debian's mirror and
#    imported as localhost/newsgrid-debian:{bookworm,bookworm-slim}, once;
#    later runs reuse them (NEWSGRID_FRESH_BASE=1 makes them again). The
#    Dockerfiles build unchanged: `--build-context debian:bookworm=...` points
#    their FROM lines at these images.
# 2. Every deploy/docker/<name>.Dockerfile becomes newsgrid/<name>:<tag> (the
#    tag of deploy/k8s/base/kustomization.yaml); prints build time, size and
#    layer count, and checks each image's contents (tests/deploy/image_test.py,
#    BuiltImageTest: the libraries its binary loads, no compiler, the user).
# 3. deploy/containers/check.py: the images and PostgreSQL on a podman network,
#    started as the dev overlay's Deployments start them, then the overlay
#    itself through `podman kube play` (adapted for podman 4.3, each change
#    named there); the same grpcurl smoke against both.
#
# Runs as root on Debian 12 (installs podman, buildah, mmdebstrap, runc, ...).
# Podman reads deploy/containers/containers.conf (CONTAINERS_CONF), not
# /etc. Everything it creates is named newsgrid-*; it removes its containers,
# pods, networks, volumes and secrets at the end and keeps the images (the
# next run's build cache).
set -euo pipefail
source "$(dirname "$0")/../local/common.sh"
HERE=$NEWSGRID_ROOT/deploy/containers

BUILD_ONLY=0
CHECK_ARGS=()
for a in "$@"; do
  case $a in
    --build) BUILD_ONLY=1 ;;
    *) CHECK_ARGS+=("$a") ;;
  esac
done

# What the check needs besides the project's own packages: podman and its
# network stack, buildah, mmdebstrap; python for check.py; protoc and the
# health/reflection and google.rpc protos for the grpcurl work-alike (used when the real
# grpcurl is not installed); kubectl renders the overlays.
CONTAINER_PACKAGES=(
  podman buildah runc conmon netavark aardvark-dns iptables catatonit mmdebstrap
  python3-yaml python3-grpcio python3-protobuf
  protobuf-compiler protobuf-compiler-grpc grpc-proto golang-github-gogo-googleapis-dev
)
trap summary EXIT

export CONTAINERS_CONF=$HERE/containers.conf
# Build logs (shown when a build fails); removed when everything passed.
LOGS=$(mktemp -d /tmp/newsgrid-containers.XXXXXX)

# ---------------------------------------------------------------- base images
BASE_REPO=localhost/newsgrid-debian
# The Debian archive as the official images list it (deb822).
DEBIAN_SOURCES='Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg'
# The official images' apt settings: no .deb files or package caches left in
# a layer after an install, no translations.
APT_CLEAN='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::GzipIndexes "true";
APT::AutoRemove::SuggestsImportant "false";'
# -slim: documentation, manuals and translations are never unpacked (what the
# official slim variant does).
SLIM_DPKG=(
  path-exclude=/usr/share/doc/* path-include=/usr/share/doc/*/copyright
  path-exclude=/usr/share/man/* path-exclude=/usr/share/groff/* path-exclude=/usr/share/info/*
  path-exclude=/usr/share/lintian/* path-exclude=/usr/share/linda/*
  path-exclude=/usr/share/locale/* path-include=/usr/share/locale/locale.alias
)
# The official images' PATH (a pod's containers get no other).
BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# The recipe's hash is a label of the image: a changed recipe makes it again.
base_recipe() { printf '%s\n' "$DEBIAN_SOURCES" "$APT_CLEAN" "$1" "${SLIM_DPKG[*]}" "minbase merged-usr $BASE_PATH"; }

make_base() {  # make_base bookworm|bookworm-slim
  local flavour=$1 image=$BASE_REPO:$1 recipe have
  recipe=$(base_recipe "$flavour" | sha256sum | cut -c1-16)
  have=$(podman image inspect --format '{{index .Labels "newsgrid.recipe"}}' "$image" 2>/dev/null || true)
  if [ "$have" = "$recipe" ] && [ -z "${NEWSGRID_FRESH_BASE:-}" ]; then
    log "$image: cached (recipe $recipe)"
    return 0
  fi
  local tmp opts=()
  tmp=$(mktemp -d /tmp/newsgrid-base.XXXXXX)
  printf '%s\n' "$DEBIAN_SOURCES" >"$tmp/debian.sources"
  if [ "$flavour" = bookworm-slim ]; then
    for o in "${SLIM_DPKG[@]}"; do opts+=(--dpkgopt="$o"); done
  fi
  log "$image: mmdebstrap --variant=minbase bookworm"
  # merged-usr: the /usr symlinks and usr-is-merged, as the official images
  # have (else apt picks usrmerge, which pulls in perl). The host's
  # resolv.conf and hostname stay out (podman provides both at run time), and
  # so do apt's package caches.
  mmdebstrap --quiet --variant=minbase --format=tar "${opts[@]}" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --customize-hook="printf '%s\n' '$APT_CLEAN' >\"\$1/etc/apt/apt.conf.d/docker-clean\"" \
    --customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname" "$1"/var/cache/apt/*.bin' \
    bookworm "$tmp/rootfs.tar" "$tmp/debian.sources" >"$tmp/mmdebstrap.log" 2>&1 \
    || { cat "$tmp/mmdebstrap.log" >&2; rm -rf "$tmp"; return 1; }
  local old
  old=$(image_id "$image")
  podman import --quiet --change "ENV PATH=$BASE_PATH" --change 'CMD ["bash"]' \
    --change "LABEL newsgrid.recipe=$recipe" \
    "$tmp/rootfs.tar" "$image" >/dev/null
  rm -rf "$tmp"
  drop_replaced "$old" "$image"
  log "$image: $(image_facts "$image")"
}

image_facts() {  # "<size> MB, <n> layers"
  podman image inspect --format '{{.Size}} {{len .RootFS.Layers}}' "$1" \
    | awk '{printf "%.0f MB, %d layers", $1/1e6, $2}'
}

# ---------------------------------------------------------------- images
# The FROM lines of the Dockerfiles, pointed at the local base images.
BASE_CONTEXTS=(
  --build-context "debian:bookworm=container-image://$BASE_REPO:bookworm"
  --build-context "debian:bookworm-slim=container-image://$BASE_REPO:bookworm-slim"
)

image_tag() {  # the tag kustomize gives newsgrid/<name>, else "dev"
  /usr/bin/python3 - "$NEWSGRID_ROOT/deploy/k8s/base/kustomization.yaml" "newsgrid/$1" <<'EOF'
import sys, yaml
k = yaml.safe_load(open(sys.argv[1]))
print(next((i.get("newTag") for i in k.get("images", []) if i["name"] == sys.argv[2]), None) or "dev")
EOF
}

BUILT=()
REPORT=()
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# The images a build replaced: ours, removed (with the layers only they
# used) unless something still uses them. Keeps the build cache to the
# current sources.
drop_replaced() {  # drop_replaced OLD_ID IMAGE
  [ -n "$1" ] && [ "$1" != "$(image_id "$2")" ] || return 0
  podman rmi "$1" >/dev/null 2>&1 || true
}

build_image() {  # build_image deploy/docker/<name>.Dockerfile
  local file=$1 name image t0=$SECONDS old old_stage
  name=$(basename "$file" .Dockerfile)
  image=newsgrid/$name:$(image_tag "$name")
  log "building $image from ${file#"$NEWSGRID_ROOT"/}"
  old=$(image_id "$image")
  podman build --layers "${BASE_CONTEXTS[@]}" -f "$file" -t "$image" "$NEWSGRID_ROOT" \
    >"$LOGS/build-$name.log" 2>&1 \
    || { tail -n 60 "$LOGS/build-$name.log" >&2; log "building $image failed (log: $LOGS/build-$name.log)"; return 1; }
  # The build stage (from the cache just filled) under a name of ours, so
  # the stage of older sources can be dropped like an old image.
  if grep -qiE '^FROM .* AS build$' "$file"; then
    old_stage=$(image_id "localhost/newsgrid-build/$name:cache")
    podman build --layers --quiet "${BASE_CONTEXTS[@]}" --target build -f "$file" \
      -t "localhost/newsgrid-build/$name:cache" "$NEWSGRID_ROOT" >/dev/null
    drop_replaced "$old_stage" "localhost/newsgrid-build/$name:cache"
  fi
  drop_replaced "$old" "$image"
  BUILT+=("$image")
  REPORT+=("$(printf '%-36s %4d s  %s' "$image" $((SECONDS - t0)) "$(image_facts "$image")")")
}

build_images() {
  local files=("$NEWSGRID_ROOT"/deploy/docker/*.Dockerfile)
  [ -e "${files[0]}" ] || { log "no Dockerfiles in deploy/docker"; return 1; }
  for f in "${files[@]}"; do build_image "$f"; done
  log "images (build time, size, layers):"; printf '  %s\n' "${REPORT[@]}" >&2
}

# PostgreSQL for the check (deploy/containers/postgres), on the slim base.
build_postgres() {
  local old
  old=$(image_id localhost/newsgrid-postgres:15)
  podman build --layers "${BASE_CONTEXTS[@]}" -t localhost/newsgrid-postgres:15 \
    "$HERE/postgres" >"$LOGS/build-postgres.log" 2>&1 \
    || { tail -n 60 "$LOGS/build-postgres.log" >&2; return 1; }
  drop_replaced "$old" localhost/newsgrid-postgres:15
  log "localhost/newsgrid-postgres:15: $(image_facts localhost/newsgrid-postgres:15)"
}

run_image_test() {
  (cd "$NEWSGRID_ROOT/tests/deploy" && NEWSGRID_IMAGES="${BUILT[*]}" PYTHONDONTWRITEBYTECODE=1 \
     /usr/bin/python3 -m unittest -v image_test.BuiltImageTest)
}

# One function, so the whole script is read before it runs.
main() {
  [ "$(id -u)" -eq 0 ] || { log "run as root (podman builds and networks as root)"; exit 1; }
  timed "packages" install_missing "${CONTAINER_PACKAGES[@]}"
  timed "base image debian:bookworm" make_base bookworm
  timed "base image debian:bookworm-slim" make_base bookworm-slim
  timed "image builds" build_images
  timed "image contents" run_image_test
  [ $BUILD_ONLY -eq 0 ] || { rm -rf "$LOGS"; return 0; }
  timed "postgres image" build_postgres
  timed "containers and kube play" /usr/bin/python3 "$HERE/check.py" ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"}
  rm -rf "$LOGS"
}
main
