#!/usr/bin/env bash
# Installs what checks AEGIS's own MCP server side, from the npm registry, into one folder (default
# ~/.cache/aegis/mcp-conformance, or $AEGIS_MCP_CONFORMANCE): @modelcontextprotocol/conformance (the protocol's
# conformance suite; it needs Node.js 22, installed here from the `node` package), and supergateway (serves the stdio
# `aegis mcp` over Streamable HTTP, which is all the suite speaks). Prints the folder. Quiet when already there.
set -euo pipefail
DIR="${AEGIS_MCP_CONFORMANCE:-${XDG_CACHE_HOME:-$HOME/.cache}/aegis/mcp-conformance}"
PKGS=(@modelcontextprotocol/conformance@0.1.16 node@22.23.3 supergateway@4.0.0)
command -v npm >/dev/null || { echo "mcp-conformance.sh: npm (Node.js) is missing: apt-get install nodejs npm" >&2; exit 1; }
mkdir -p "$DIR"
missing=0
for p in "${PKGS[@]}"; do
  name="${p%@*}"; want="${p##*@}"
  have=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$DIR/node_modules/$name/package.json" 2>/dev/null || true)
  [ "$have" = "$want" ] || missing=1
done
if [ "$missing" = 1 ]; then
  echo "mcp-conformance.sh: installing ${PKGS[*]} into $DIR..." >&2
  (cd "$DIR" && { [ -f package.json ] || echo '{"private":true}' > package.json; } && npm install --no-audit --no-fund --loglevel=error "${PKGS[@]}" >&2)
fi
echo "$DIR"
