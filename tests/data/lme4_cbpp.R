# The lme4 reference numbers quoted in tests/test_concentration.py, and how they were made.
# Not run by the test suite (it needs R). On Debian 12: apt-get install r-cran-lme4
# (lme4 1.1-31-1, R 4.2.2), then: Rscript tests/data/lme4_cbpp.R
suppressMessages(library(lme4))
options(digits = 10)

# glmer fits, as the issue quotes them (cbind form): estimates, SEs, herd variance.
for (q in c(1, 25)) {
    gm <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp,
                family = binomial, nAGQ = q)
    cat("nAGQ =", q, "\n")
    print(summary(gm)$coefficients[, 1:2])
    print(getME(gm, "theta")^2)
    if (q == 1) print(sqrt(diag(as.matrix(vcov(gm, use.hessian = FALSE)))))   # glmer's RX fallback
}
#  nAGQ = 1:  -1.398342864 -0.991924975 -1.128216216 -1.579745414
#             SE 0.2312140481 0.3031506445 0.3228301532 0.4220491594; variance 0.4122537921
#             SE from RX (use.hessian = FALSE) 0.2278523702 0.3053475089 0.3260011864 0.4287018666
#  nAGQ = 25: -1.3992237278 -0.9914088838 -1.1278095942 -1.5794809507
#             SE 0.2335113780 0.3067682008 0.3267671626 0.4275957098; variance 0.4192820397

# glmer's second-stage deviance function on one row per animal, at four (theta, beta).
animals <- do.call(rbind, lapply(seq_len(nrow(cbpp)), function(i) data.frame(
    herd = cbpp$herd[i], period = cbpp$period[i],
    y = c(rep(1, cbpp$incidence[i]), rep(0, cbpp$size[i] - cbpp$incidence[i])))))
points <- rbind(c(0.642069538672, -1.398329065438, -0.991922321917, -1.128215756343, -1.579744306308),
                c(0.6, -1.2, -0.8, -1.3, -1.4), c(0.9, -1.5, -1.1, -1.0, -1.7), c(0.3, -1.4, -1, -1.1, -1.6))
options(digits = 17)
for (q in c(1, 25)) {
    devfun <- glmer(y ~ period + (1 | herd), data = animals, family = binomial, nAGQ = q, devFunOnly = TRUE)
    cat("devfun, nAGQ =", q, "\n")
    print(apply(points, 1, devfun))
}
#  nAGQ = 1:  555.00445214720071 557.48871972452378 557.12308400147049 560.62161431525544
#  nAGQ = 25: 554.91897965616658 557.41210004534378 556.9545628328234  560.62118914091184

# The herd variance's standard error (from glmer's own deriv12 Hessian, delta method) and the
# likelihood-ratio test against the single-level logit.
options(digits = 12)
gm <- glmer(y ~ period + (1 | herd), data = animals, family = binomial)
theta <- getME(gm, "theta")
se_theta <- sqrt(2 * solve(gm@optinfo$derivs$Hessian)[1, 1])
print(c(theta = theta, se_theta = se_theta, se_variance = 2 * theta * se_theta))
lr <- 2 * (as.numeric(logLik(gm)) - as.numeric(logLik(glm(y ~ period, data = animals, family = binomial))))
print(c(lr = lr, p_chibar2 = 0.5 * pchisq(lr, 1, lower.tail = FALSE)))
#  theta 0.642069538672, se_theta 0.177404098847, se_variance 0.227811535810
#  lr 14.0052661998, p_chibar2 9.11496701666e-05
