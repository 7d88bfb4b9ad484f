#!/bin/sh
# Text transfer learning on IMDB, reproducibly: a word language model
# pre-trained on unlabelled review text lends its vocabulary, embedding and
# recurrent stack to a sentiment classifier trained on 1,000 labelled
# reviews (ULMFiT, Howard and Ruder 2018), compared with the same
# classifier trained from scratch on the same reviews; both are scored on
# the full test set (25,000 reviews).
#
#	sh examples/transfer/imdb.sh --data DIR [--work DIR] [--seeds "1 2 3"]
#
# DIR holds train.tsv.gz and test.tsv.gz (label, rating, id, text; see
# /work/shared/data/imdb/SOURCE.md). Run it from the repository root.
# Every step runs with GOMAXPROCS=1: on an idle core about 6 minutes for
# the language model and 5 per classifier (training and scoring the test
# set); a shared machine stretches that several-fold. An existing
# WORK/lm/model.safetensors is reused.
#
# The splits, all from the training reviews (ids 0-12499 per label), fixed:
#   labelled-1000.tsv  the classifiers' training set: the 500 positive and
#                      500 negative reviews whose id is a multiple of 25
#   val-500.tsv        the classifiers' validation set (best epoch, early
#                      stopping): the 250 + 250 reviews with id % 50 == 1
#   lm-valid.txt       the LM's validation text: reviews with id % 100 == 50
#   lm-test.txt        the LM's test text: reviews with id % 100 == 51
#   lm-train.txt       the LM's training text: 6,000 of the other training
#                      reviews, one per line, the first in a fixed
#                      pseudo-random order ((7919·id + 5003·label) mod 25013)
# The LM text may include the labelled reviews' text (as in ULMFiT) but
# never a test review. 6,000 reviews (1.4 million words, one epoch) is
# what the LM's time budget allowed on a shared two-core machine.
set -eu
data= work= seeds="1 2 3"
while [ $# -gt 0 ]; do
	case $1 in
	--data) data=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--seeds) seeds=$2; shift 2 ;;
	*) echo "imdb.sh: unknown argument $1 (want --data DIR [--work DIR] [--seeds LIST])" >&2; exit 2 ;;
	esac
done
if [ -z "$data" ] || [ ! -f "$data/train.tsv.gz" ] || [ ! -f "$data/test.tsv.gz" ]; then
	echo "imdb.sh: --data must name a directory with train.tsv.gz and test.tsv.gz" >&2
	exit 2
fi
work=${work:-$(mktemp -d)}
mkdir -p "$work"
export GOMAXPROCS=1 LC_ALL=C # one core; sort and awk byte-wise, as on any machine

train() { zcat "$data/train.tsv.gz" | awk -F'\t' "$1"; }
train 'NR>1 && $3%100!=50 && $3%100!=51 {print ($3*7919+$1*5003)%25013 "\t" $4}' |
	sort -t "$(printf '\t')" -k1,1n | cut -f2- | head -n 6000 >"$work/lm-train.txt"
train 'NR>1 && $3%100==50 {print $4}' >"$work/lm-valid.txt"
train 'NR>1 && $3%100==51 {print $4}' >"$work/lm-test.txt"
train 'NR==1 || $3%25==0' >"$work/labelled-1000.tsv"
train 'NR==1 || $3%50==1' >"$work/val-500.tsv"

go build -o "$work/recur" ./cmd/recur
r="$work/recur"
if [ ! -f "$work/lm/model.safetensors" ]; then
	"$r" train --config recipes/transfer-imdb-lm.yaml --data "$work/lm-train.txt" \
		--valid "$work/lm-valid.txt" --test "$work/lm-test.txt" --out "$work/lm" --no-report --overwrite
fi

# Train on the 1,000 reviews, choose the epoch on val-500, then score the
# chosen weights on the 25,000 test reviews.
acc() { sed -n 's/^accuracy \([0-9.]*\).*/\1/p'; }
clf() { # name seed flags...
	name=$1 seed=$2
	shift 2
	"$r" train --data "$work/labelled-1000.tsv" --valid "$work/val-500.tsv" --test "$work/val-500.tsv" \
		--seed "$seed" --out "$work/$name$seed" --no-report --overwrite "$@" >"$work/$name$seed.log"
	"$r" eval --model "$work/$name$seed" --data "$data/test.tsv.gz" | acc
}
printf 'seed  scratch  fine-tuned  (accuracy on test.tsv.gz)\n'
for seed in $seeds; do
	s=$(clf scratch "$seed" --config recipes/transfer-imdb-scratch.yaml)
	f=$(clf ft "$seed" --config recipes/transfer-imdb-clf.yaml --init-from "$work/lm")
	printf '%4s  %7s  %10s\n' "$seed" "$s" "$f"
done
