#!/usr/bin/env bash
# Builds the DocC documentation of every library product (swift-docc-plugin) and fails when DocC
# reports anything: a warning is a parameter without documentation, a link that does not resolve
# or a doc block inherited where its links break, and each of those is a broken page for a user.
# Run with `make docs`; about a minute on 2 cores once the modules are built.
#
# The targets are read from Package.swift's `.library(...)` products, so a new library is checked
# as soon as it is declared. Each target is built on its own, so a link into another module does
# not resolve: write other modules' symbols in code font (`RandomGenerator`), not as ``links``.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=$(grep -o '\.library(name: "[^"]*", targets: \[[^]]*\]' Package.swift | sed 's/.*targets: //' | grep -o '"[^"]*"' | tr -d '"')
if [ -z "$targets" ]; then
  echo "docs.sh: found no .library(name:targets:) products in Package.swift" >&2
  exit 2
fi
echo "building documentation for:" $targets

arguments=()
for target in $targets; do arguments+=(--target "$target"); done
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# nice: the machine's cores are shared with other builds.
nice -n 19 swift package generate-documentation "${arguments[@]}" > "$log" 2>&1 || status=$?

# Each diagnostic with the ` --> file:line` line DocC prints under it (in a module with a
# catalogue the path is relative to its `.docc` folder: `../MLP.swift` is Sources/TesseraNN/MLP.swift).
# SwiftPM's note that a dependency ships files it does not declare (swift-distributed-tracing's
# CMakeLists.txt, under Hummingbird) is about that package, not about these docs: left out.
grep -vE "^warning: 'swift-[^']+': found [0-9]+ file\(s\) which are unhandled" "$log" > "$log.docc" || true
mv "$log.docc" "$log"
problems=$(awk '/^(warning|error):/ { print; if ((getline next_line) > 0 && next_line ~ /^ *--> /) print next_line }' "$log")
count=$(grep -cE '^(warning|error):' "$log" || true)
if [ "$count" -gt 0 ]; then
  echo "$problems"
  echo "docs.sh: $count DocC warnings or errors" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  tail -n 30 "$log"
  echo "docs.sh: swift package generate-documentation exited with $status" >&2
  exit "$status"
fi
echo "documentation built without warnings: .build/plugins/Swift-DocC/outputs/"
