#!/bin/sh
# Installs the Debian packages outpost needs to build, run and test.
# Idempotent: a no-op (no apt-get at all) when every package is present.
# Uses sudo when not root. Safe to run on every `make run` / `make test`.
set -eu

PKGS="build-essential cmake pkg-config curl ca-certificates openssl
libcurl4-openssl-dev libmicrohttpd-dev libyaml-dev libcmocka-dev libjansson-dev
libpcre2-dev zlib1g-dev libssl-dev libc-ares-dev libsqlite3-dev sqlite3 tzdata
libgnutls28-dev libcrypt-dev apache2-utils
prometheus clang libclang-rt-14-dev clang-format python3 python3-pytest python3-pytest-xdist python3-scipy
prometheus-alertmanager python3-yaml nodejs
prometheus-blackbox-exporter dnsmasq-base python3-grpcio chromium
debhelper dpkg-dev help2man lintian debootstrap systemd systemd-container man-db iproute2"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# kubectl renders the Kubernetes manifests in the tests. Any kubectl will do (one
# may come with a cloud SDK, which Debian's package would collide with): install
# Debian's only when there is none.
if ! command -v kubectl >/dev/null 2>&1; then
    missing="$missing kubernetes-client"
fi

[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Services shipped by packages (prometheus) must not start here: tests start
# their own instances on free loopback ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
