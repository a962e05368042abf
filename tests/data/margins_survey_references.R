# The R references quoted in tests/test_stats_issue18.py (margins with interactions and options,
# expected-information variances, survey designs), and how they were made. Not run by the test
# suite (it needs R). On Debian 12: apt-get install r-base-core r-cran-survey (R 4.2.2, survey
# 4.1-1), then, from this folder: Rscript margins_survey_references.R
# Data: apistrat.csv and apiclus1.csv are the survey package's `api` data (California Academic
# Performance Index, 2000), the columns used here; mtcars.csv is R's datasets::mtcars.
suppressMessages(library(survey))
options(digits = 15, width = 200)
strat <- read.csv("apistrat.csv", stringsAsFactors = TRUE)
clus1 <- read.csv("apiclus1.csv", stringsAsFactors = TRUE)
for (d in c("strat", "clus1")) {
  x <- get(d); x$yes <- as.numeric(x$sch.wide == "Yes"); x$award <- as.numeric(x$awards == "Yes")
  x$large <- factor(ifelse(x$enroll > 500, "Yes", "No")); assign(d, x)
}

# Margins as Stata's margins computes them: predictions from R's own model.matrix (interactions
# built by R), derivatives by central differences, delta-method SEs from a numerical Jacobian
# and vcov() (Stata's margins differentiates numerically too).
design_of <- function(fit, data) {
  tt <- delete.response(terms(fit))
  model.matrix(tt, model.frame(tt, data, xlev = fit$xlevels))
}
mu_of <- function(fit, beta, data, scale = "response") {
  eta <- drop(design_of(fit, data) %*% beta)
  if (scale == "linear") eta else fit$family$linkinv(eta)
}
ctl <- glm.control(epsilon = 1e-14, maxit = 100)  # converged well below the printed digits
gradient <- function(f, beta, h = rep(1e-5, length(beta))) {
  sapply(seq_along(beta), function(j) { e <- replace(0 * beta, j, h[j]); (f(beta + e) - f(beta - e)) / (2 * h[j]) })
}
# Each coefficient stepped by 1e-4 of its standard error (an interaction's coefficient is small).
delta <- function(f, fit, V = vcov(fit)) {
  beta <- coef(fit); J <- gradient(f, beta, 1e-4 * sqrt(diag(V))); J <- if (is.matrix(J)) J else matrix(J, nrow = 1)
  cbind(estimate = f(beta), se = sqrt(diag(J %*% V %*% t(J))))
}
wmean <- function(x, w) sum(w * x) / sum(w)
dydx <- function(fit, data, v, w = rep(1, nrow(data)), transform = "dydx") function(beta) {
  h <- 1e-4 * max(1, sd(data[[v]]))
  up <- data; up[[v]] <- up[[v]] + h; dn <- data; dn[[v]] <- dn[[v]] - h
  slope <- (mu_of(fit, beta, up) - mu_of(fit, beta, dn)) / (2 * h)
  mu <- mu_of(fit, beta, data); x <- data[[v]]
  wmean(switch(transform, dydx = slope, eyex = slope * x / mu, dyex = slope * x, eydx = slope / mu), w)
}
at_level <- function(data, v, level) { data[[v]] <- factor(rep(level, nrow(data)), levels = levels(data[[v]])); data }
change <- function(fit, data, v, level, base, w = rep(1, nrow(data))) function(beta)
  wmean(mu_of(fit, beta, at_level(data, v, level)) - mu_of(fit, beta, at_level(data, v, base)), w)
predictive <- function(fit, data, v, w = rep(1, nrow(data))) function(beta)
  sapply(levels(data[[v]]), function(l) wmean(mu_of(fit, beta, at_level(data, v, l)), w))

cat("== 1. Interactions: logit yes ~ ell + meals + stype + stype:meals (apistrat, unweighted) ==\n")
m1 <- glm(yes ~ ell + meals + stype + stype:meals, binomial, data = strat, control = ctl)
print(coef(summary(m1))[, 1:2])
print(rbind(ell = delta(dydx(m1, strat, "ell"), m1), meals = delta(dydx(m1, strat, "meals"), m1),
            H = delta(change(m1, strat, "stype", "H", "E"), m1), M = delta(change(m1, strat, "stype", "M", "E"), m1)))
cat("-- continuous x continuous: logit yes ~ ell + meals + ell:meals --\n")
m2 <- glm(yes ~ ell + meals + ell:meals, binomial, data = strat, control = ctl)
print(coef(summary(m2))[, 1:2])
print(rbind(ell = delta(dydx(m2, strat, "ell"), m2), meals = delta(dydx(m2, strat, "meals"), m2)))
cat("-- factor x factor: probit award ~ meals + stype * large (large: enroll > 500) --\n")
m3 <- glm(award ~ meals + stype * large, binomial(link = "probit"), data = strat, control = ctl)
print(coef(summary(m3))[, 1:2])
print(rbind(meals = delta(dydx(m3, strat, "meals"), m3), H = delta(change(m3, strat, "stype", "H", "E"), m3),
            M = delta(change(m3, strat, "stype", "M", "E"), m3), large = delta(change(m3, strat, "large", "Yes", "No"), m3)))
cat("-- mtcars: logit am ~ cyl + hp + wt + hp:wt (Stata: logit am cyl c.hp##c.wt) --\n")
cars <- read.csv("mtcars.csv")
m4 <- suppressWarnings(glm(am ~ cyl + hp + wt + hp:wt, binomial, data = cars, control = ctl))
print(coef(summary(m4))[, 1:2])
print(rbind(cyl = delta(dydx(m4, cars, "cyl"), m4), hp = delta(dydx(m4, cars, "hp"), m4), wt = delta(dydx(m4, cars, "wt"), m4)))

cat("== 2. Margins options on m1 ==\n")
cat("-- predictive margins of stype (margins i.stype) --\n")
print(delta(predictive(m1, strat, "stype"), m1))
cat("-- at(meals=(20 60)): AME of ell --\n")
for (value in c(20, 60)) { d <- strat; d$meals <- value; print(delta(dydx(m1, d, "ell"), m1)) }
cat("-- at((mean) meals): AME of ell, stype H --\n")
d <- strat; d$meals <- mean(strat$meals)
print(rbind(ell = delta(dydx(m1, d, "ell"), m1), H = delta(change(m1, d, "stype", "H", "E"), m1)))
cat("-- at((median) ell): AME of meals --\n")
d <- strat; d$ell <- median(strat$ell); print(delta(dydx(m1, d, "meals"), m1))
cat("-- over(awards): AME of ell and meals in each group, and the contrast Yes - No --\n")
grp <- function(level) strat$awards == level
f_over <- function(beta) c(sapply(c("No", "Yes"), function(l) c(dydx(m1, strat[grp(l), ], "ell")(beta), dydx(m1, strat[grp(l), ], "meals")(beta))))
print(delta(f_over, m1))
f_contrast <- function(beta) { e <- f_over(beta); e[3:4] - e[1:2] }
print(delta(f_contrast, m1))
cat("-- elasticities of ell and meals: eyex, dyex, eydx --\n")
for (t in c("eyex", "dyex", "eydx")) print(rbind(ell = delta(dydx(m1, strat, "ell", transform = t), m1),
                                                meals = delta(dydx(m1, strat, "meals", transform = t), m1)))

cat("== 4. Expected information (summary.glm) ==\n")
p1 <- glm(yes ~ ell + meals + mobility, binomial(link = "probit"), data = strat, control = ctl)
print(coef(summary(p1))[, 1:2])
g1 <- glm(api00 ~ ell + meals + mobility, Gamma(link = "log"), data = strat, control = ctl)
print(coef(summary(g1))[, 1:2]); print(summary(g1)$dispersion)

cat("== 3. Survey designs ==\n")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
dclus1_wr <- svydesign(id = ~dnum, weights = ~pw, data = clus1)
cat("degf:", degf(dstrat), degf(dclus1), "\n")
cat("-- svymean(~api00): stratified with fpc; one-stage cluster with fpc; without fpc --\n")
print(svymean(~api00, dstrat)); print(svymean(~api00, dclus1)); print(svymean(~api00, dclus1_wr))
cat("-- svyglm gaussian: api00 ~ ell + meals + mobility (dstrat) --\n")
s1 <- svyglm(api00 ~ ell + meals + mobility, design = dstrat, control = ctl)
print(coef(summary(s1))[, 1:2])
cat("-- svyglm logit: yes ~ ell + meals + stype (dclus1) --\n")
s2 <- svyglm(yes ~ ell + meals + stype, design = dclus1, family = quasibinomial, control = ctl)
print(coef(summary(s2))[, 1:2])
cat("-- svyglm probit: yes ~ ell + meals (dstrat) --\n")
s3 <- svyglm(yes ~ ell + meals, design = dstrat, family = quasibinomial(link = "probit"), control = ctl)
print(coef(summary(s3))[, 1:2])
cat("-- svyglm Poisson log: enroll ~ ell + meals (dclus1) --\n")
s4 <- svyglm(enroll ~ ell + meals, design = dclus1, family = quasipoisson, control = ctl)
print(coef(summary(s4))[, 1:2])
cat("-- svyglm Gamma log: api00 ~ ell + meals + mobility (dclus1, without fpc) --\n")
s5 <- svyglm(api00 ~ ell + meals + mobility, design = dclus1_wr, family = Gamma(link = "log"), control = ctl)
print(coef(summary(s5))[, 1:2])
# R's svyglm linearises with the expected information as bread (its IRLS cov.unscaled); Stata's svy
# uses the observed information (the ML Hessian). They agree for canonical links (logit, Poisson log,
# Gaussian identity) and differ for others (probit, Gamma log). The Stata convention from R's own
# pieces: svyrecvar of the scores times the inverse of the observed information (numerical Hessian).
observed_influence <- function(fit) {
  X <- model.matrix(fit); y <- fit$y; w <- fit$prior.weights; fam <- fit$family
  scores <- function(beta) { eta <- drop(X %*% beta); mu <- fam$linkinv(eta)
    X * (w * (y - mu) * fam$mu.eta(eta) / fam$variance(mu)) }
  H <- gradient(function(beta) colSums(scores(beta)), coef(fit))
  scores(coef(fit)) %*% solve(-H)
}
oim_se <- function(fit, design) sqrt(diag(svyrecvar(observed_influence(fit), design$cluster, design$strata, design$fpc)))
cat("observed-information bread (Stata's svy): probit s3", oim_se(s3, dstrat), "\n")
cat("observed-information bread (Stata's svy): Gamma log s5", oim_se(s5, dclus1_wr), "\n")
cat("-- subpopulation: logit yes ~ ell + meals among stype E (dclus1, subset keeps the design) --\n")
s6 <- svyglm(yes ~ ell + meals, design = subset(dclus1, stype == "E"), family = quasibinomial, control = ctl)
print(coef(summary(s6))[, 1:2]); cat("degf (R counts the PSUs with rows):", degf(subset(dclus1, stype == "E")), "\n")
cat("-- subpopulation: gaussian api00 ~ ell + meals among meals > 50 (dstrat) --\n")
s7 <- svyglm(api00 ~ ell + meals, design = subset(dstrat, meals > 50), control = ctl)
print(coef(summary(s7))[, 1:2])
cat("-- single-PSU stratum: stratum 'E1' holds one school (apistrat, no fpc) --\n")
single <- strat; single$str <- as.character(single$stype); single$str[which(single$stype == "E")[1]] <- "E1"
dsingle <- svydesign(id = ~1, strata = ~str, weights = ~pw, data = single)
for (lonely in c("certainty", "adjust", "average")) {
  options(survey.lonely.psu = lonely)
  cat(lonely, "\n"); print(coef(summary(svyglm(api00 ~ ell + meals, design = dsingle, control = ctl)))[, 1:2])
}
options(survey.lonely.psu = "fail")
cat("-- survey margins: AMEs after s2 (logit, dclus1), weighted by pw --\n")
w1 <- clus1$pw
print(rbind(ell = delta(dydx(s2, clus1, "ell", w1), s2), H = delta(change(s2, clus1, "stype", "H", "E", w1), s2)))
cat("-- survey predictive margins of stype after s2 --\n")
print(delta(predictive(s2, clus1, "stype", w1), s2))
cat("-- survey two-part: P(yes) by logit, E[api00 | yes] by Gamma log, joint linearisation (dclus1) --\n")
# survey 4.1-1's svyglm(influence = TRUE) fails on these designs ("object 'estfun' not found"), so the
# influence functions are formed as its svy.varcoef forms them: estfun %*% cov.unscaled.
influence <- function(fit) (model.matrix(fit) * resid(fit, "working") * fit$weights) %*% summary.glm(fit)$cov.unscaled
first <- svyglm(yes ~ ell + meals, design = dclus1, family = quasibinomial, control = ctl)
second <- svyglm(api00 ~ ell + meals, design = subset(dclus1, yes == 1), family = Gamma(link = "log"), control = ctl)
inf1 <- influence(first); inf2 <- observed_influence(second)  # Stata's convention for the Gamma-log part
cat("influence rows:", nrow(inf1), nrow(inf2), "\n")
joint <- matrix(0, nrow(clus1), 6); joint[, 1:3] <- inf1
joint[match(rownames(inf2), rownames(clus1)), 4:6] <- inf2
Vj <- svyrecvar(joint, dclus1$cluster, dclus1$strata, dclus1$fpc)
print(sqrt(diag(Vj))); print(c(sqrt(diag(vcov(first))), sqrt(diag(vcov(second)))))
both <- function(beta) {
  pr <- function(d) plogis(drop(cbind(1, d$ell, d$meals) %*% beta[1:3])) * exp(drop(cbind(1, d$ell, d$meals) %*% beta[4:6]))
  h <- 1e-4 * sd(clus1$ell); up <- clus1; up$ell <- up$ell + h; dn <- clus1; dn$ell <- dn$ell - h
  wmean((pr(up) - pr(dn)) / (2 * h), w1)
}
beta <- c(coef(first), coef(second)); J <- gradient(both, beta)
cat("combined AME of ell:", both(beta), "SE (joint):", sqrt(drop(J %*% Vj %*% J)), "\n")
cat("-- concentration index of yes by api99 rank (standard index; convenient regression under dclus1) --\n")
frac_rank <- function(x, w) { o <- order(x); u <- sort(unique(x)); g <- match(x, u); W <- tapply(w, g, sum)
  before <- cumsum(W) - W; (before[g] + 0.5 * W[g]) / sum(w) }
r <- frac_rank(clus1$api99, w1); mu <- wmean(clus1$yes, w1); vr <- wmean((r - wmean(r, w1))^2, w1)
clus1$lhs <- 2 * vr * clus1$yes / mu; clus1$rank <- r
dci <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
print(coef(summary(svyglm(lhs ~ rank, design = dci, control = ctl)))[, 1:2])
