# Reference numbers for tests/test_bootstrap.py: R's boot.ci percentile and BCa intervals on
# R's own replicates, written beside them so that the test feeds the same replicates (and the
# jackknife values) to migrant_health.stats.bootstrap. Run: Rscript bootstrap_boot_ci.R
# (R 4.2.2, boot 1.3-28.1).
library(boot)
options(digits = 15)

# 1. aircondit (boot's data): mean of the 12 failure times, R = 999.
set.seed(20140501)
air <- boot(aircondit$hours, function(d, i) mean(d[i]), R = 999)
L_air <- empinf(air, type = "jack")
ci_air <- boot.ci(air, conf = 0.95, type = c("perc", "bca"), L = L_air)
write.csv(data.frame(t = air$t[, 1]), "bootstrap_aircondit_t.csv", row.names = FALSE)
cat("aircondit t0", air$t0, "\n")
cat("aircondit percentile", ci_air$percent[4:5], "\n")
cat("aircondit bca", ci_air$bca[4:5], "\n")

# 2. city (boot's data): ratio of means sum(x) / sum(u), R = 1000 (quantiles interpolated).
set.seed(17)
ratio <- function(d, i) sum(d$x[i]) / sum(d$u[i])
cty <- boot(city, ratio, R = 1000)
L_cty <- empinf(cty, type = "jack")
ci_cty <- boot.ci(cty, conf = 0.95, type = c("perc", "bca"), L = L_cty)
write.csv(data.frame(t = cty$t[, 1]), "bootstrap_city_t.csv", row.names = FALSE)
cat("city t0", cty$t0, "\n")
cat("city percentile", ci_cty$percent[4:5], "\n")
cat("city bca", ci_cty$bca[4:5], "\n")
cat("city 90% bca", boot.ci(cty, conf = 0.90, type = "bca", L = L_cty)$bca[4:5], "\n")
cat("city acceleration", sum(L_cty^3) / (6 * sum(L_cty^2)^1.5), "\n")
# empinf's jackknife centres the influence values at t0, (n-1)(t0 - t_(i)); Efron and Tibshirani
# (14.15) and Stata's bca centre them at the jackknife mean, (n-1)(mean t_(.) - t_(i)), which we
# follow. boot.ci on those influence values:
n <- nrow(city)
jack <- sapply(seq_len(n), function(i) ratio(city, seq_len(n)[-i]))
L_et <- (n - 1) * (mean(jack) - jack)
cat("city bca (jackknife mean)", boot.ci(cty, conf = 0.95, type = "bca", L = L_et)$bca[4:5], "\n")
cat("city acceleration (jackknife mean)", sum(L_et^3) / (6 * sum(L_et^2)^1.5), "\n")
write.csv(city, "bootstrap_city.csv", row.names = FALSE)
write.csv(aircondit, "bootstrap_aircondit.csv", row.names = FALSE)
