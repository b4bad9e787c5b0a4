# Shared by scripts/*: locate the project, install missing system packages.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROOT

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ensure_packages PKG... : apt-get install the Debian packages that are not installed yet.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The system packages every build needs.
BUILD_PACKAGES=(libcurl4-openssl-dev libsqlite3-dev pkg-config curl)

# ensure_s3_venv: the S3 test endpoint (moto) and the signer's reference (botocore) in .build/venv, from PyPI.
# When pip cannot install them, says so loudly and the S3 tests fail, unless ASSETS_SKIP_S3=1 (then they are
# skipped, loudly).
S3_VENV="${ASSETS_TEST_VENV:-$ROOT/.build/venv}"
ensure_s3_venv() {
    if [ -x "$S3_VENV/bin/python" ] && "$S3_VENV/bin/python" -c 'import moto.server, botocore' 2>/dev/null; then
        return 0
    fi
    log "installing moto and botocore into $S3_VENV (scripts/lib/s3/requirements.txt)"
    if python3 -m venv "$S3_VENV" && "$S3_VENV/bin/pip" install -q -r "$ROOT/scripts/lib/s3/requirements.txt"; then
        return 0
    fi
    if [ "${ASSETS_SKIP_S3:-}" = "1" ]; then
        log "*** moto/botocore could not be installed: ASSETS_SKIP_S3=1, so the S3 tests are SKIPPED ***"
        return 0
    fi
    # The other tests still run; each S3 test then fails with this reason.
    log "*** moto/botocore could not be installed from PyPI: the S3 tests will FAIL (ASSETS_SKIP_S3=1 skips them) ***"
}
