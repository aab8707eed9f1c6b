#!/usr/bin/env bash
# Installs the MCP servers the tests run under AEGIS's own sandbox, from the npm registry, into one folder
# (default ~/.cache/aegis/mcp-servers, or $AEGIS_MCP_SERVERS). Prints the folder. Quiet when already there.
set -euo pipefail
DIR="${AEGIS_MCP_SERVERS:-${XDG_CACHE_HOME:-$HOME/.cache}/aegis/mcp-servers}"
PKGS=(@modelcontextprotocol/server-filesystem @modelcontextprotocol/server-everything @modelcontextprotocol/server-memory)
command -v node >/dev/null || { echo "mcp-servers.sh: node (Node.js 20+) is missing: apt-get install nodejs" >&2; exit 1; }
mkdir -p "$DIR"
missing=0
for p in "${PKGS[@]}"; do [ -f "$DIR/node_modules/$p/package.json" ] || missing=1; done
if [ "$missing" = 1 ]; then
  echo "mcp-servers.sh: installing ${PKGS[*]} into $DIR..." >&2
  (cd "$DIR" && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm install --no-audit --no-fund --loglevel=error "${PKGS[@]}" >&2)
fi
echo "$DIR"
