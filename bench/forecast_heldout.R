#!/usr/bin/env Rscript
# Writes the twelve series RESULTS.md's "Series never seen" checks the
# default forecaster on (R's datasets package, the format of
# ../shared/data/classic-ts-public: time, year, period, value), into DIR:
#
#   Rscript bench/forecast_heldout.R DIR
#   Rscript ../shared/anchors/forecast-r/forecast_anchor.R DIR > r.tsv
#   sh bench/forecast_r.sh recur DIR r.tsv
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "heldout"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(x, name) {
  d <- data.frame(time = round(as.numeric(time(x)), 4), year = floor(as.numeric(time(x)) + 1e-9),
                  period = as.integer(cycle(x)), value = as.numeric(x))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
w(Nile, "Nile"); w(lynx, "lynx"); w(co2, "co2"); w(UKgas, "UKgas"); w(nottem, "nottem")
w(USAccDeaths, "USAccDeaths"); w(JohnsonJohnson, "JohnsonJohnson"); w(austres, "austres")
w(UKDriverDeaths, "UKDriverDeaths"); w(fdeaths, "fdeaths")
# Every fifth trading day, as the public set's DAX weekly.
w(ts(EuStockMarkets[seq(1, nrow(EuStockMarkets), 5), "SMI"], start = 1, frequency = 52), "EuStockMarkets_SMI_weekly")
w(BJsales.lead, "BJsales_lead")
