#!/usr/bin/env Rscript
# Writes the twelve series RESULTS.md's "Series never seen" checks the
# default forecaster on (R's datasets package, the format of
# ../shared/data/classic-ts-public: time, year, period, value), into DIR;
# with "second", twelve others (datasets and forecast's own), kept aside
# for checking once changes made after the first twelve had been seen:
#
#   Rscript bench/forecast_heldout.R DIR [second]
#   Rscript ../shared/anchors/forecast-r/forecast_anchor.R DIR > r.tsv
#   sh bench/forecast_r.sh recur DIR r.tsv
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "heldout"
second <- length(args) > 1 && args[2] == "second"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(x, name) {
  d <- data.frame(time = round(as.numeric(time(x)), 4), year = floor(as.numeric(time(x)) + 1e-9),
                  period = as.integer(cycle(x)), value = as.numeric(x))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
weekly <- function(col) ts(EuStockMarkets[seq(1, nrow(EuStockMarkets), 5), col], start = 1, frequency = 52)
if (second) {
  w(mdeaths, "mdeaths"); w(ldeaths, "ldeaths"); w(uspop, "uspop"); w(freeny.y, "freeny_y")
  w(Seatbelts[, "front"], "Seatbelts_front"); w(Seatbelts[, "rear"], "Seatbelts_rear")
  w(Seatbelts[, "VanKilled"], "Seatbelts_VanKilled")
  w(weekly("CAC"), "EuStockMarkets_CAC_weekly"); w(weekly("FTSE"), "EuStockMarkets_FTSE_weekly")
  w(forecast::wineind, "wineind"); w(forecast::woolyrnq, "woolyrnq"); w(forecast::gas, "gas")
  quit(save = "no")
}
w(Nile, "Nile"); w(lynx, "lynx"); w(co2, "co2"); w(UKgas, "UKgas"); w(nottem, "nottem")
w(USAccDeaths, "USAccDeaths"); w(JohnsonJohnson, "JohnsonJohnson"); w(austres, "austres")
w(UKDriverDeaths, "UKDriverDeaths"); w(fdeaths, "fdeaths")
# Every fifth trading day, as the public set's DAX weekly.
w(weekly("SMI"), "EuStockMarkets_SMI_weekly")
w(BJsales.lead, "BJsales_lead")
