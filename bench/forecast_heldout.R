#!/usr/bin/env Rscript
# Writes the twelve series RESULTS.md's "Series never seen" checks the
# default forecaster on (R's datasets package, the format of
# ../shared/data/classic-ts-public: time, year, period, value), into DIR;
# with "second", twelve others (datasets and forecast's own), kept aside
# for checking once changes made after the first twelve had been seen;
# with "third", twelve from the AER package and Seatbelts' other columns,
# kept aside for the seasonal ARIMA family (chosen after the first two
# sets had been seen); with "fourth", twelve more from AER, kept aside for
# the changes made after the third had been seen:
#
#   Rscript bench/forecast_heldout.R DIR [second|third|fourth]
#   Rscript ../shared/anchors/forecast-r/forecast_anchor.R DIR > r.tsv
#   sh bench/forecast_r.sh recur DIR r.tsv
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) > 0) args[1] else "heldout"
second <- length(args) > 1 && args[2] == "second"
third <- length(args) > 1 && args[2] == "third"
fourth <- length(args) > 1 && args[2] == "fourth"
aer <- function(name) { e <- new.env(); data(list = name, package = "AER", envir = e); get(name, envir = e) }
dir.create(out, showWarnings = FALSE, recursive = TRUE)
w <- function(x, name) {
  d <- data.frame(time = round(as.numeric(time(x)), 4), year = floor(as.numeric(time(x)) + 1e-9),
                  period = as.integer(cycle(x)), value = as.numeric(x))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
weekly <- function(col) ts(EuStockMarkets[seq(1, nrow(EuStockMarkets), 5), col], start = 1, frequency = 52)
if (fourth) {
  w(aer("USMacroSWQ")[, "gdp"], "USMacroSWQ_gdp"); w(aer("USMoney")[, "m1"], "USMoney_m1")
  w(aer("OrangeCounty")[, "employment"], "OrangeCounty_employment"); w(aer("USMacroG")[, "invest"], "USMacroG_invest")
  w(aer("USMacroB")[, "tbill"], "USMacroB_tbill"); w(aer("USMacroSW")[, "gbpusd"], "USMacroSW_gbpusd")
  w(aer("MotorCycles2"), "MotorCycles2"); w(aer("UKInflation")[, "actual"], "UKInflation_actual")
  w(aer("USConsump1993")[, "income"], "USConsump1993_income"); w(aer("FrozenJuice")[, "price"], "FrozenJuice_price")
  w(aer("DJFranses"), "DJFranses"); w(aer("ConsumerGood")[, "price"], "ConsumerGood_price")
  quit(save = "no")
}
if (third) {
  w(aer("ArgentinaCPI"), "ArgentinaCPI"); w(aer("BondYield"), "BondYield"); w(aer("UKNonDurables"), "UKNonDurables")
  w(aer("GermanUnemployment")[, "unadjusted"], "GermanUnemployment"); w(aer("USProdIndex")[, "unadjusted"], "USProdIndex")
  w(aer("DutchSales"), "DutchSales"); w(aer("PepperPrice")[, "black"], "PepperPrice_black")
  w(aer("USMacroG")[, "cpi"], "USMacroG_cpi"); w(aer("USMacroSW")[, "unemp"], "USMacroSW_unemp")
  w(Seatbelts[, "kms"], "Seatbelts_kms"); w(Seatbelts[, "PetrolPrice"], "Seatbelts_PetrolPrice")
  w(aer("USConsump1993")[, "expenditure"], "USConsump1993_expenditure")
  quit(save = "no")
}
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
