#!/usr/bin/env Rscript
# Writes a collection of related monthly series from R's datasets and
# forecast packages (deaths, road casualties, CO2, temperatures, wine, gas,
# airline passengers) in the format of ../shared/data/classic-ts-public
# (time, year, period, value), into DIR, for the global forecaster
# (one network across the series) against R and recur's per-series forms:
#
#   Rscript bench/forecast_global.R DIR
#   Rscript ../shared/anchors/forecast-r/forecast_anchor.R DIR > r.tsv
#   sh bench/forecast_global.sh recur DIR r.tsv
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "monthly"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(x, name) {
  d <- data.frame(time = round(as.numeric(time(x)), 4), year = floor(as.numeric(time(x)) + 1e-9),
                  period = as.integer(cycle(x)), value = as.numeric(x))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
w(AirPassengers, "AirPassengers"); w(co2, "co2"); w(nottem, "nottem")
w(USAccDeaths, "USAccDeaths"); w(UKDriverDeaths, "UKDriverDeaths")
w(ldeaths, "ldeaths"); w(mdeaths, "mdeaths"); w(fdeaths, "fdeaths")
for (k in c("DriversKilled", "front", "rear", "VanKilled")) w(Seatbelts[, k], paste0("Seatbelts_", k))
w(wineind, "wineind"); w(gas, "gas")
