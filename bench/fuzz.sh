#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of the repository, one after another, for
# a given time each, and reports the crashers.
#
#   bench/fuzz.sh [-t DURATION] [-p WORKERS] [PACKAGE...]
#
# -t is each target's -fuzztime (default 60s; 10000x counts executions),
# -p the fuzzing workers (default 1: this machine has two cores, and one of
# them usually trains). PACKAGEs (./checkpoint/ ./model/ ...) limit the run
# to their targets; without them every target runs. A target that fails
# leaves its input under PACKAGE/testdata/fuzz/FuzzX/ (the go command
# writes it there): commit it with the fix, and `go test` replays it from
# then on. The log of every target is kept in a temporary directory named
# at the end. The exit status is 1 when a target failed.
set -u -o pipefail

fuzztime=60s
workers=1
while getopts "t:p:h" opt; do
	case $opt in
	t) fuzztime=$OPTARG ;;
	p) workers=$OPTARG ;;
	*)
		sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

cd "$(dirname "$0")/.." || exit 2
logs=$(mktemp -d -t recur-fuzz.XXXXXX)

# Targets as "package name", sorted: grep finds them without building
# anything (go test -list would build every package).
targets=$(grep -r --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*' . |
	sed -E -e 's|^\./(.*)/[^/]*_test\.go:func (Fuzz.*)$|./\1/ \2|' \
		-e 's|^\./[^/]*_test\.go:func (Fuzz.*)$|./ \1|' | sort)
if [ $# -gt 0 ]; then
	keep=""
	for p in "$@"; do
		p="./${p#./}"
		p="${p%/}/"
		keep+=$(printf '%s\n' "$targets" | awk -v p="$p" '$1 == p')$'\n'
	done
	targets=$(printf '%s' "$keep" | sed '/^$/d')
fi
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 2
fi

n=$(printf '%s\n' "$targets" | wc -l)
echo "fuzz.sh: $n targets, $fuzztime each, $workers worker(s); logs in $logs"
# fuzz1 PKG NAME LOG runs one target for the set time.
fuzz1() {
	go test -run='^$' -fuzz="^${2}\$" -fuzztime="$fuzztime" -parallel="$workers" "$1" >"$3" 2>&1
}

failed=()
while read -r pkg name; do
	log="$logs/$(echo "$pkg" | tr '/.' '__')$name.log"
	start=$SECONDS
	printf '%-40s %-24s ' "$pkg" "$name"
	if fuzz1 "$pkg" "$name" "$log" ||
		# Go 1.26's fuzz coordinator can fail a target at the end of its
		# time with a bare "context deadline exceeded" and no crasher when
		# a worker is starved (golang/go#75804, fixed in Go 1.27): such a
		# failure is run once more; a crasher always counts.
		{ grep -q 'context deadline exceeded' "$log" && ! grep -q 'testdata/fuzz/' "$log" &&
			echo -n "(retried after Go's fuzz deadline race) " && fuzz1 "$pkg" "$name" "$log"; }; then
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
		echo "ok   $((SECONDS - start))s, ${execs:-?} execs"
	else
		echo "FAIL $((SECONDS - start))s"
		crasher=$(grep -o 'testdata/fuzz/[^ ]*' "$log" | head -1)
		if [ -n "$crasher" ]; then
			echo "    crasher: ${pkg}${crasher}"
			echo "    replay:  go test -run='${name}/${crasher##*/}' $pkg"
		fi
		grep -m 5 -E 'panic:|--- FAIL|fuzz_test|_test\.go:[0-9]+:|error' "$log" | sed 's/^/    /'
		failed+=("$pkg $name")
	fi
done <<<"$targets"

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: ${#failed[@]} of $n targets failed:"
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "fuzz.sh: all $n targets ran without a crasher"
