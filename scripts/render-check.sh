#!/usr/bin/env bash
# render-check.sh renders the failure timeline page of report/ in headless
# Chromium and checks what a browser makes of it (make html-check).
#
#  1. Installs Debian's chromium when /usr/bin/chromium is missing (as root).
#  2. Runs a failing world (seed 1, ci-before-lock, 20 s; see
#     report/html_test.go) and a clean one through the report tests, which
#     write the two pages with -report.out and -report.cleanout.
#  3. Takes a 1600x1000 screenshot of each page, and dumps each page's DOM
#     to check: a lane per member and one for the cluster in every picture,
#     the violation's name, evidence and line, and the replay command.
#
# Exits non-zero on any failure. Environment: GO (default go), OUT (the
# failure screenshot, default /tmp/etcdsim-timeline.png; the clean one is
# written beside it with -clean).
set -euo pipefail

GO=${GO:-go}
OUT=${OUT:-/tmp/etcdsim-timeline.png}
CLEAN_OUT=${OUT%.png}-clean.png
cd "$(dirname "$0")/.."

fail() { echo "render-check: FAIL: $*" >&2; exit 1; }

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" != 0 ]; then
		fail "$chromium is missing; run as root to install it (apt-get install -y chromium)"
	fi
	echo "render-check: installing chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; } ||
		fail "apt-get install chromium failed"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
page=$work/failure.html
clean=$work/clean.html

echo "render-check: rendering the pages (go test ./report)"
$GO test -count=1 ./report -run '^(TestWriteFailurePage|TestWriteCleanPage)$' \
	-args -report.out="$page" -report.cleanout="$clean" >"$work/test.log" 2>&1 ||
	{ cat "$work/test.log" >&2; fail "the report tests failed"; }
[ -s "$page" ] && [ -s "$clean" ] || fail "the tests wrote no page"

# browse runs headless chromium on a page with one action (--screenshot=…
# or --dump-dom), with no network, no profile and a time limit.
browse() {
	local action=$1 file=$2 profile
	profile=$(mktemp -d "$work/profile.XXXX")
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --window-size=1600,1000 "$action" "file://$file" 2>>"$work/chromium.log"
}

# expect checks that the DOM has pattern at least n times.
expect() {
	local dom=$1 n=$2 pattern=$3 got
	got=$(grep -oF -- "$pattern" "$dom" | wc -l)
	[ "$got" -ge "$n" ] || fail "$(basename "$dom"): want $n of '$pattern', found $got"
}

for kind in failure clean; do
	html=$work/$kind.html dom=$work/$kind.dom png=$OUT
	[ "$kind" = clean ] && png=$CLEAN_OUT
	rm -f "$png"
	browse --screenshot="$png" "$html" >/dev/null || { cat "$work/chromium.log" >&2; fail "chromium could not screenshot $kind"; }
	[ "$(stat -c %s "$png" 2>/dev/null || echo 0)" -gt 20000 ] || fail "the $kind screenshot $png is missing or blank"
	browse --dump-dom "$html" >"$dom" || { cat "$work/chromium.log" >&2; fail "chromium could not dump the $kind DOM"; }
	pictures=$(grep -o '<svg ' "$dom" | wc -l)
	[ "$pictures" -ge 1 ] || fail "$kind: no picture in the DOM"
	for lane in m1 m2 m3 cluster; do
		expect "$dom" "$pictures" "data-lane=\"$lane\""
	done
	expect "$dom" 1 '<title>'
	expect "$dom" 1 'go run ./cmd/etcdsim replay --seed'
	echo "render-check: $kind page OK: $pictures picture(s), lanes m1 m2 m3 cluster; screenshot $png"
done

# The failing page: two pictures, the violation named, its evidence, and its
# line drawn across both.
dom=$work/failure.dom
expect "$dom" 2 '<svg '
expect "$dom" 1 'id="verdict">FAIL commit-atomicity<'
expect "$dom" 1 'key bucket differs from the reference'
expect "$dom" 2 'class="viol"'
expect "$dom" 2 'commit-atomicity at t='
expect "$dom" 1 'Detail window: the last 5s before the violation'
expect "$dom" 1 'class="p p-crash"'
expect "$dom" 1 'class="b b-leader"'
grep -qF 'id="verdict">clean' "$work/clean.dom" || fail "clean: the verdict is not clean"
! grep -qF 'class="viol"' "$work/clean.dom" || fail "clean: a violation line on a clean run"
echo "render-check: OK"
