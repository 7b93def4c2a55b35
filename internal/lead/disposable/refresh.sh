#!/bin/sh
# Refreshes domains.txt and wildcard.txt from the npm package disposable-email-domains.
# Run from the repository root: sh internal/lead/disposable/refresh.sh
# Then check the licence (package.json "license") is still MIT, update the version in
# LICENSE, run `go test ./internal/lead/disposable/` (free-mail providers must stay
# accepted) and commit.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent disposable-email-domains >/dev/null && tar xzf disposable-email-domains-*.tgz)
grep '"license"' "$tmp/package/package.json"
grep '"version"' "$tmp/package/package.json"
for f in index:domains wildcard:wildcard; do
	node -e 'const l=require(process.argv[1]); console.log([...new Set(l.map(d=>d.trim().toLowerCase()).filter(Boolean))].sort().join("\n"))' \
		"$tmp/package/${f%%:*}.json" | LC_ALL=C sort -u >"$dir/${f#*:}.txt"
done
wc -l "$dir/domains.txt" "$dir/wildcard.txt"
