#!/bin/sh
# The default forecaster against R's forecast package (issue 14): test RMSE
# on the public classic series of ../shared/data/classic-ts-public (last 20%
# of the points, one step ahead, everything fitted on the rest: the
# protocol of ../shared/anchors/forecast-r/forecast_anchor.R) and on
# AirPassengers' 67/33 split, next to the better of R's ets and auto.arima
# from that anchor's README (2026-12-07, R 4.2.2, forecast 8.20).
#
#   sh bench/forecast_r.sh [RECUR] [DATA_DIR] [R_TSV] [-- extra recur train flags]
#
# R_TSV, the output of forecast_anchor.R on DATA_DIR, takes the place of
# the embedded figures: any folder of time,year,period,value series can be
# checked (AirPassengers is then left out). Prints one line per series
# (recur, R's best, their ratio, the form chosen) and the count of series
# where recur is at most R's best, with the median ratio.
set -eu
RECUR=${1:-recur}
DATA=${2:-../shared/data/classic-ts-public}
RTSV=
[ $# -ge 3 ] && [ "$3" != "--" ] && RTSV=$3
shift $(( $# < 2 ? $# : 2 ))
[ -n "$RTSV" ] && shift
[ "${1:-}" = "--" ] && shift
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rmse() { grep -o 'test RMSE [0-9.e+-]*' "$1" | awk '{print $3}'; }
{
while read -r name rbest; do
	if [ "$name" = AirPassengers ]; then
		"$RECUR" train --out "$TMP/run" --overwrite --no-report "$@" </dev/null >"$TMP/log" 2>&1 || true
	else
		"$RECUR" train --data "$DATA/$name.csv" --target value --time time --test-fraction 0.2 --fill interpolate \
			--out "$TMP/run" --overwrite --no-report "$@" </dev/null >"$TMP/log" 2>&1 || true
	fi
	form=$(grep -o 'form: [^,(]*' "$TMP/log" | head -1 | sed 's/form: //; s/ *$//')
	echo "$name $(rmse "$TMP/log") $rbest ${form:-?}"
done <<R
$(if [ -n "$RTSV" ]; then awk -F'\t' 'NR > 1 { b = ($7 < $8) ? $7 : $8; print $1, b }' "$RTSV"; else cat <<'EMBEDDED'
airmiles 2524.86
BJsales 0.8835
discoveries 1.3295
EuStockMarkets_DAX_weekly 156.0551
LakeHuron 0.8110
lh 0.6338
nhtemp 0.6841
presidents 8.8339
sunspot_month 19.8209
sunspot_year 22.7903
WWWusage 3.1557
AirPassengers 14.64
EMBEDDED
fi)
R
} | awk '{
	# recur prints 4 significant digits: R is rounded alike, so that the
	# same model fitted by both is a tie, not a loss by rounding.
	r = ($2 == "") ? 99 : $2 / sprintf("%.4g", $3); form = $4; for (i = 5; i <= NF; i++) form = form " " $i
	printf "%-28s recur %-10s R best %-10s ratio %.3f  (%s)\n", $1, $2, $3, r, form
	rat[NR] = r; if (r <= 1) wins++
} END {
	n = NR; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (rat[j] < rat[i]) { t = rat[i]; rat[i] = rat[j]; rat[j] = t }
	med = (n % 2) ? rat[(n + 1) / 2] : (rat[n / 2] + rat[n / 2 + 1]) / 2
	printf "recur at or below R on %d of %d series; median ratio %.3f\n", wins, n, med
}'
