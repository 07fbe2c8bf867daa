# What the shell tests share, sourced after `set -u`: KILN (the binary given as $1), WORK (a
# temporary folder removed on exit), check NAME CONDITION... (counts a pass or prints a failure),
# contains TEXT PART, matches TEXT REGEX, and finish (prints the counts, fails on any failure).
KILN=$(realpath "$1")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
passes=0

check() {
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); else failures=$((failures + 1)); echo "FAIL: $name"; fi
}
contains() { grep -qF -- "$2" <<<"$1"; }
matches() { grep -qE -- "$2" <<<"$1"; }
finish() {
  echo "$passes passed, $failures failed"
  test $failures -eq 0
}
