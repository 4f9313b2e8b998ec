# Virtualenvs kept in a cache folder and linked into the working tree. Source this file, then:
#   cached_venv KIND LINK PYTHON INPUT... -- PIP_ARGS...
# makes LINK a symbolic link to a virtualenv made with PYTHON and `pip install PIP_ARGS`, kept
# under PRODUCT_SEARCH_CACHE (default ~/.cache/product-search) in a folder named after KIND
# and the hash of the INPUT files (requirements, sources installed): the same inputs reuse it, any
# change makes another (and those of the same kind unused for a week are removed). Installs
# run under a lock, so two checkouts never build one at once.

cached_venv() {
  local kind=$1 link=$2 python=$3
  shift 3
  local inputs=()
  while (($#)) && [[ $1 != -- ]]; do
    inputs+=("$1")
    shift
  done
  shift
  local cache=${PRODUCT_SEARCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/product-search}
  local hash
  hash=$( (cat "${inputs[@]}"; "$python" --version) | sha256sum | cut -c1-16)
  local venv="$cache/venv-$kind-$hash"
  mkdir -p "$cache"
  (
    flock 9
    if [[ ! -f $venv/.complete ]]; then
      rm -rf "$venv"
      "$python" -m venv "$venv" || exit 1
      "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" || exit 1
    fi
    touch "$venv/.complete"
    find "$cache" -maxdepth 2 -path "$cache/venv-$kind-*/.complete" -mtime +7 -printf '%h\n' | xargs -r rm -rf
  ) 9>"$venv.lock" || return 1
  if [[ -e $link && ! -L $link ]]; then
    rm -rf "$link"
  fi
  ln -sfn "$venv" "$link"
}
