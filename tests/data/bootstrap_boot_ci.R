# Reference numbers for tests/test_bootstrap.py: R's boot.ci percentile and BCa intervals on
# R's own replicates, written beside them so that the test feeds the same replicates (and the
# jackknife values) to migrant_health.stats.bootstrap. Run: Rscript bootstrap_boot_ci.R
# (R 4.2.2, boot 1.3-28.1).
library(boot)
options(digits = 15)

# A bootstrap of `statistic` on `data` from `seed`, its jackknife influence values (empinf), its
# replicates written to `file` and its t0, percentile and BCa 95% intervals printed under `name`.
reference <- function(name, data, statistic, R, seed, file) {
  set.seed(seed)
  b <- boot(data, statistic, R = R)
  L <- empinf(b, type = "jack")
  ci <- boot.ci(b, conf = 0.95, type = c("perc", "bca"), L = L)
  write.csv(data.frame(t = b$t[, 1]), file, row.names = FALSE)
  cat(name, "t0", b$t0, "\n")
  cat(name, "percentile", ci$percent[4:5], "\n")
  cat(name, "bca", ci$bca[4:5], "\n")
  list(boot = b, L = L)
}

# 1. aircondit (boot's data): mean of the 12 failure times, R = 999.
air <- reference("aircondit", aircondit$hours, function(d, i) mean(d[i]), 999, 20140501, "bootstrap_aircondit_t.csv")

# 2. city (boot's data): ratio of means sum(x) / sum(u), R = 1000 (quantiles interpolated).
ratio <- function(d, i) sum(d$x[i]) / sum(d$u[i])
cty <- reference("city", city, ratio, 1000, 17, "bootstrap_city_t.csv")
cat("city 90% bca", boot.ci(cty$boot, conf = 0.90, type = "bca", L = cty$L)$bca[4:5], "\n")
cat("city acceleration", sum(cty$L^3) / (6 * sum(cty$L^2)^1.5), "\n")
# empinf's jackknife centres the influence values at t0, (n-1)(t0 - t_(i)); Efron and Tibshirani
# (14.15) and Stata's bca centre them at the jackknife mean, (n-1)(mean t_(.) - t_(i)), which we
# follow. boot.ci on those influence values:
n <- nrow(city)
jack <- sapply(seq_len(n), function(i) ratio(city, seq_len(n)[-i]))
L_et <- (n - 1) * (mean(jack) - jack)
cat("city bca (jackknife mean)", boot.ci(cty$boot, conf = 0.95, type = "bca", L = L_et)$bca[4:5], "\n")
cat("city acceleration (jackknife mean)", sum(L_et^3) / (6 * sum(L_et^2)^1.5), "\n")
write.csv(city, "bootstrap_city.csv", row.names = FALSE)
write.csv(aircondit, "bootstrap_aircondit.csv", row.names = FALSE)
