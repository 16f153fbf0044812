#!/usr/bin/env bash
# render-check.sh renders the pages of report/ in headless Chromium and
# checks what a browser makes of them (make html-check).
#
#  1. Finds Chromium: $CHROMIUM, else chromium, chromium-browser or
#     google-chrome on the PATH. When none is there it installs Debian's
#     package `chromium` as root (apt-get), and otherwise stops and says how
#     to get it.
#  2. Runs the report tests, which write three pages: a failing world
#     (ci-before-lock, seed 1 up, 20 s; see report/html_test.go), the
#     corpus's first linearizability failure, and a clean world.
#  3. Takes a 1600x1000 screenshot of each page, then loads each with a
#     small script appended that measures, in the laid-out page, that the
#     key elements are there and visible (not hidden, not empty, within the
#     window's width; the story on the first screen and not covered): the
#     verdict, the story (evidence, chain of events, invariant, bug mode),
#     the legend and an entry for every kind of mark drawn, a lane per
#     member (members=N of the run's header) and one for the cluster in
#     every picture, the violation line,
#     the detail window (on the evidence's requests for a linearizability
#     failure, drawn there), porcupine's link only for linearizability,
#     the table, and the shrink and replay commands at the bottom.
#
# Exits non-zero on any failure. Environment: GO (default go), CHROMIUM,
# OUT (the failure screenshot, default /tmp/etcdsim-timeline.png; the
# others are written beside it with -linearizable and -clean).
set -euo pipefail

GO=${GO:-go}
OUT=${OUT:-/tmp/etcdsim-timeline.png}
cd "$(dirname "$0")/.."

fail() { echo "render-check: FAIL: $*" >&2; exit 1; }

# findChromium prints the Chromium to use, or nothing.
findChromium() {
	if [ -n "${CHROMIUM:-}" ]; then
		command -v "$CHROMIUM" || true
		return
	fi
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null; then
			command -v "$c"
			return
		fi
	done
}

howto="install Debian's package 'chromium' (as root: apt-get install -y chromium; on Ubuntu the package is chromium-browser), or set CHROMIUM to a Chrome or Chromium binary"
chromium=$(findChromium)
if [ -z "$chromium" ]; then
	[ -z "${CHROMIUM:-}" ] || fail "CHROMIUM=$CHROMIUM is not an executable; $howto"
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		fail "no Chromium found (looked for chromium, chromium-browser, google-chrome); $howto"
	fi
	echo "render-check: installing Debian's chromium"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1; } ||
		fail "apt-get could not install chromium; $howto"
	chromium=$(findChromium)
	[ -n "$chromium" ] || fail "chromium installed but not on the PATH; $howto"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "render-check: rendering the pages (go test ./report)"
$GO test -count=1 ./report -run '^(TestWriteFailurePage|TestWriteCleanPage|TestWindowOfACorpusSeed)$' \
	-args -report.out="$work/failure.html" -report.linout="$work/linearizable.html" -report.cleanout="$work/clean.html" >"$work/test.log" 2>&1 ||
	{ cat "$work/test.log" >&2; fail "the report tests failed"; }
for kind in failure linearizable clean; do
	[ -s "$work/$kind.html" ] || fail "the tests wrote no $kind page (is there a linearizability seed in seeds/?)"
done

# browse runs headless Chromium on a page with one action (--screenshot=…
# or --dump-dom), with no network, a fresh profile and a time limit.
browse() {
	local action=$1 file=$2 profile
	profile=$(mktemp -d "$work/profile.XXXX")
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$profile" --window-size=1600,1000 "$action" "file://$file" 2>>"$work/chromium.log"
}

# The checks, run by the browser in the laid-out page; KIND is the page's
# kind. They write one line per check into <pre id="render-check">.
cat >"$work/check.js" <<'EOF'
(function () {
  var out = [], H = window.innerHeight, W = window.innerWidth;
  function say(s) { out.push(s); }
  function visible(el, what, top) {
    if (!el) { say('FAIL ' + what + ': missing'); return false; }
    var r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    var why = r.width < 1 || r.height < 1 ? 'has no size' :
      cs.display === 'none' || cs.visibility === 'hidden' || +cs.opacity === 0 ? 'is hidden' :
      r.left < -1 || r.right > W + 1 ? 'is outside the window\'s width (' + Math.round(r.left) + '..' + Math.round(r.right) + ')' :
      top && r.bottom > H ? 'is below the first screen (bottom at ' + Math.round(r.bottom) + ' of ' + H + ')' : '';
    if (!why && top) {
      var f = el.getClientRects()[0] || r; // an inline element's first line
      var hit = document.elementFromPoint(f.left + Math.min(f.width / 2, 24), f.top + Math.min(f.height / 2, 8));
      if (!hit || !(hit === el || el.contains(hit))) why = 'is covered by ' + (hit ? hit.tagName : 'nothing');
    }
    say((why ? 'FAIL ' : 'OK ') + what + (why ? ' ' + why : ''));
    return !why;
  }
  function has(sel, what, text) {
    var el = document.querySelector(sel);
    if (el && el.textContent.indexOf(text) < 0) say('FAIL ' + what + ' lacks "' + text + '": ' + el.textContent.slice(0, 120));
    return el;
  }
  function none(sel, what) { if (document.querySelector(sel)) say('FAIL ' + what + ' present'); }
  var failed = KIND !== 'clean';
  visible(has('#verdict', 'the verdict', failed ? 'FAIL' : 'clean'), 'the verdict', true);
  if (failed) {
    ['#story', '#evidence', '#where', '#chain', '#invariant', '#story .bug'].forEach(function (s) { visible(document.querySelector(s), s, true); });
    document.querySelectorAll('#chain li').forEach(function (li, i) { visible(li, 'chain event ' + (i + 1), true); });
    visible(has('#shrink', 'the shrink command', ' shrink '), 'the shrink command', false);
  } else {
    none('#story', 'a story on a clean page');
    none('#shrink', 'a shrink command on a clean page');
  }
  if (KIND === 'linearizable') visible(document.querySelector('#linearizability'), 'the link to porcupine\'s page', true);
  else none('#linearizability', 'a link to porcupine\'s page');
  visible(document.querySelector('#legend'), 'the legend', false);
  var keys = {};
  document.querySelectorAll('#legend [data-legend]').forEach(function (e) {
    keys[e.getAttribute('data-legend')] = true;
    visible(e, 'legend entry ' + e.getAttribute('data-legend'), false);
  });
  document.querySelectorAll('svg g.b, svg g.p, svg g.t, svg g.ev, svg g.viol, svg g.win').forEach(function (g) {
    var k = g.classList[g.classList.length - 1];
    if (!keys[k]) { say('FAIL the legend does not explain ' + k); keys[k] = true; }
  });
  var svgs = document.querySelectorAll('section.view svg');
  var want = KIND === 'clean' ? 1 : 2;
  if (svgs.length !== want) say('FAIL ' + svgs.length + ' pictures, want ' + want);
  var members = +((document.querySelector('#run-header') || {}).textContent || '').replace(/^[^]*?members=(\d+)[^]*$/, '$1');
  if (!(members > 0)) say('FAIL the run header names no member count');
  var lanes = ['cluster'];
  for (var id = members; id > 0; id--) lanes.unshift('m' + id);
  svgs.forEach(function (svg, i) {
    var n = 'picture ' + (i + 1);
    visible(svg, n, false);
    lanes.forEach(function (l) { visible(svg.querySelector('g[data-lane="' + l + '"]'), n + ' lane ' + l, false); });
    if (KIND === 'failure') visible(svg.querySelector('g.viol'), n + ' violation line', false);
  });
  var detail = document.querySelector('#detail');
  if (failed) {
    var h = detail && detail.querySelector('h2').textContent;
    var want2 = KIND === 'linearizable' ? 'Detail window around the requests the evidence names' : 'Detail window: the last';
    if (!h || h.indexOf(want2) < 0) say('FAIL the detail window\'s heading is "' + h + '", want "' + want2 + '"');
  }
  if (KIND === 'linearizable' && detail) {
    var ev = detail.querySelectorAll('g.ev');
    if (!ev.length) say('FAIL the detail window draws no request of the evidence');
    ev.forEach(function (g, i) { visible(g, 'evidence request ' + (i + 1), false); });
    visible(document.querySelector('#overview g.viol'), 'the violation line on the whole run', false);
  }
  visible(document.querySelector('#marks table'), 'the table of marks', false);
  visible(document.querySelector('#next'), 'the next commands', false);
  visible(has('#replay', 'the replay command', ' replay '), 'the replay command', false);
  var pre = document.createElement('pre');
  pre.id = 'render-check';
  pre.textContent = '\n' + out.join('\n') + '\n';
  document.body.appendChild(pre);
})();
EOF

for kind in failure linearizable clean; do
	html=$work/$kind.html png=$OUT
	[ "$kind" = failure ] || png=${OUT%.png}-$kind.png
	rm -f "$png"
	browse --screenshot="$png" "$html" >/dev/null || { cat "$work/chromium.log" >&2; fail "chromium could not screenshot the $kind page"; }
	[ "$(stat -c %s "$png" 2>/dev/null || echo 0)" -gt 20000 ] || fail "the $kind screenshot $png is missing or blank"
	probe=$work/$kind-probe.html
	{ sed '/^<\/body>$/,$d' "$html"; printf '<script>var KIND = "%s";\n' "$kind"; cat "$work/check.js"; printf '</script>\n</body>\n</html>\n'; } >"$probe"
	browse --dump-dom "$probe" >"$work/$kind.dom" || { cat "$work/chromium.log" >&2; fail "chromium could not load the $kind page"; }
	sed -n '/<pre id="render-check">/,/<\/pre>/p' "$work/$kind.dom" | grep -E '^(OK|FAIL) ' >"$work/$kind.checks" ||
		fail "the $kind page's checks did not run (no JavaScript in chromium?)"
	if grep -q '^FAIL ' "$work/$kind.checks"; then
		grep '^FAIL ' "$work/$kind.checks" | sed "s/^FAIL /render-check: $kind: /" >&2
		fail "the $kind page: $(grep -c '^FAIL ' "$work/$kind.checks") check(s) failed; screenshot $png"
	fi
	echo "render-check: $kind page OK: $(grep -c '^OK ' "$work/$kind.checks") elements visible; screenshot $png"
done
echo "render-check: OK"
