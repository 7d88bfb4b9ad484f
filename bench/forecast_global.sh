#!/bin/sh
# One network across a folder of series (recur's global forecaster) against
# the better of R's ets and auto.arima on each series, on the protocol of
# ../shared/anchors/forecast-r (last 20% of each series, one step ahead,
# everything fitted on the rest). R_TSV is forecast_anchor.R's output on
# DATA_DIR; extra flags go to recur train.
#
#   sh bench/forecast_global.sh RECUR DATA_DIR R_TSV [-- flags]
set -eu
RECUR=$1 DATA=$2 RTSV=$3
shift 3
[ "${1:-}" = "--" ] && shift
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$RECUR" train --data "$DATA" --target value --time time --test-fraction 0.2 --fill interpolate \
	--out "$TMP/run" --overwrite --no-report "$@" </dev/null >"$TMP/log" 2>&1 || { cat "$TMP/log"; exit 1; }
grep -E '^(chose|global model|holt-winters)' "$TMP/log"
# The table's rows: name, then the model's RMSE.
awk -F'\t' 'NR > 1 { b = ($7 < $8) ? $7 : $8; print $1, b }' "$RTSV" >"$TMP/r"
awk 'NR == FNR { r[$1] = $2; next } ($1 in r) && $2 ~ /^[0-9.e+-]+$/ { printf "%-28s recur %-10s R best %-10s ratio %.3f\n", $1, $2, r[$1], $2 / r[$1] }' "$TMP/r" "$TMP/log" |
	tee "$TMP/rows"
awk '{ rat[NR] = $8; if ($8 <= 1) wins++ } END {
	n = NR; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rat[j] < rat[i]) { t = rat[i]; rat[i] = rat[j]; rat[j] = t }
	med = (n % 2) ? rat[(n + 1) / 2] : (rat[n / 2] + rat[n / 2 + 1]) / 2
	printf "recur at or below R on %d of %d series; median ratio %.3f\n", wins, n, med
}' "$TMP/rows"
