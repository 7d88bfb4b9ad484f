#!/bin/sh
# Transfer learning on a small forecasting set, reproducibly.
#
# The source model learns the first 96 months of AirPassengers
# (1949-1956); the target set is months 85-144 (1956-1960), 60 months
# of which the last 33% (20 windows, 1959-1960) are the test part, months
# the source never saw. For seeds 1-5 a forecaster is trained on the target
# set from scratch, and one is fine-tuned from the source model with its
# recurrent stack frozen (--init-from SRC --freeze rnn); the script prints
# both test RMSEs next to the seasonal-naive baseline.
#
#	sh examples/transfer/airpassengers.sh [workdir]
#
# Run it from the repository root; it takes about 15 s on one core.
set -eu
work=${1:-$(mktemp -d)}
mkdir -p "$work"
csv=data/dataset/airpassengers/AirPassengers.csv
head -n 97 "$csv" >"$work/src.csv"                            # header + months 1-96
{ head -n 1 "$csv"; sed -n '86,145p' "$csv"; } >"$work/tgt.csv" # header + months 85-144
go build -o "$work/recur" ./cmd/recur
r="$work/recur"
"$r" train --data "$work/src.csv" --out "$work/src" --no-report --quiet >/dev/null
rmse() { sed -n 's/^test RMSE \([0-9.]*\).*/\1/p'; }
printf 'seed  scratch  fine-tuned\n'
for seed in 1 2 3 4 5; do
	s=$("$r" train --data "$work/tgt.csv" --seed $seed --out "$work/scratch$seed" --no-report --quiet | rmse)
	f=$("$r" train --data "$work/tgt.csv" --seed $seed --out "$work/ft$seed" --no-report --quiet \
		--init-from "$work/src" --freeze rnn | rmse)
	printf '%4d  %7s  %10s\n' $seed "$s" "$f"
done
"$r" train --data "$work/tgt.csv" --epochs 1 --out "$work/base" --no-report --quiet | sed -n 's/^baselines: //p'
