#!/usr/bin/env bash
# Makes solc <version> available to ape-solidity / py-solc-x in the project-local folder
# $SOLCX_BINARY_PATH (default .solc/). A native `solc` of that exact version on PATH is linked
# in; otherwise a wrapper over solc-js (node_modules/solc, installed by `npm ci`) is written.
# Idempotent.
set -euo pipefail
version="${1:?usage: install-solc.sh VERSION}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="${SOLCX_BINARY_PATH:-$root/.solc}"
target="$bin_dir/solc-v$version"
mkdir -p "$bin_dir"

if command -v solc >/dev/null 2>&1 && solc --version 2>/dev/null | grep -q "Version: $version+"; then
  ln -sf "$(command -v solc)" "$target"
  echo "solc $version: native $(command -v solc)"
  exit 0
fi

js_version="$(node -p "require('$root/node_modules/solc/package.json').version" 2>/dev/null || true)"
if [ "$js_version" != "$version" ]; then
  echo "error: solc-js $version is not installed (found '${js_version:-none}'); run 'npm ci' first" >&2
  exit 1
fi
cat > "$target.tmp" <<WRAP
#!/bin/sh
exec node "$root/tools/solc-js-wrapper.cjs" "\$@"
WRAP
chmod +x "$target.tmp"
mv "$target.tmp" "$target"
"$target" --version | grep -q "Version: $version+" || { echo "error: $target does not report $version" >&2; exit 1; }
echo "solc $version: solc-js wrapper $target"
