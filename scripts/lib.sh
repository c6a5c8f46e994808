# Shared by scripts/demo and scripts/test: make sure the tools exist, installing what is missing.
# Debian/Ubuntu: missing system packages are installed with apt-get (as root, or through sudo).

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

_apt_updated=""
apt_install() {  # apt_install PKG... : install the Debian packages that are missing
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  if [ -z "$_apt_updated" ]; then as_root apt-get update -qq; _apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

ensure_python() {  # a python3 that can create virtual environments
  if ! command -v python3 >/dev/null; then apt_install python3 python3-venv; fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
  python3 -c 'import sys; assert sys.version_info >= (3, 10), sys.version' || {
    echo "ara-realtime needs Python 3.10 or newer" >&2; return 1; }
}

ensure_uv() {  # sets UV to a uv binary (from PATH, or installed from PyPI into .tmp/uv)
  if command -v uv >/dev/null; then UV=$(command -v uv); return 0; fi
  if [ ! -x .tmp/uv/bin/uv ]; then
    python3 -m venv .tmp/uv
    .tmp/uv/bin/pip install -q uv
  fi
  UV=$PWD/.tmp/uv/bin/uv
}
