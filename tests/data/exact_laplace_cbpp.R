# The exact Laplace reference quoted in tests/test_stats_issue18.py for melogit's
# `approximation: exact_laplace` (what Stata's melogit, intmethod(laplace), maximises), on lme4's
# cbpp data (cbpp.csv). Base R only (R 4.2.2): each herd's integral over its random intercept is
# approximated at its exact mode (Newton's method to 1e-12) and curvature; the log-likelihood
# is maximised over (b, log s) by optim's BFGS, restarted from its optimum, and the standard
# errors are those of optimHess's Hessian (the observed information, as melogit's).
# Not run by the test suite. Rscript exact_laplace_cbpp.R
options(digits = 12)
cbpp <- read.csv("cbpp.csv")
X <- model.matrix(~ factor(period), cbpp)
herd <- as.integer(factor(cbpp$herd))
laplace <- function(theta) {
  b <- theta[1:4]; s <- exp(theta[5]); eta0 <- drop(X %*% b); total <- 0
  for (j in unique(herd)) {
    rows <- herd == j; u <- 0
    for (it in 1:100) {
      p <- plogis(eta0[rows] + s * u)
      d1 <- s * sum(cbpp$incidence[rows] - cbpp$size[rows] * p) - u
      d2 <- -s^2 * sum(cbpp$size[rows] * p * (1 - p)) - 1
      step <- d1 / d2; u <- u - step
      if (abs(step) < 1e-12) break
    }
    eta <- eta0[rows] + s * u; p <- plogis(eta)
    g <- sum(cbpp$incidence[rows] * eta - cbpp$size[rows] * log1p(exp(eta))) - u^2 / 2
    H <- s^2 * sum(cbpp$size[rows] * p * (1 - p)) + 1
    total <- total + g - 0.5 * log(H)
  }
  total + sum(lchoose(cbpp$size, cbpp$incidence))
}
fit <- optim(c(-1.4, -1, -1.1, -1.6, log(0.64)), laplace, method = "BFGS",
             control = list(fnscale = -1, reltol = 1e-15, maxit = 1000))
fit <- optim(fit$par, laplace, method = "BFGS", control = list(fnscale = -1, reltol = 1e-15, maxit = 1000))
V <- solve(-optimHess(fit$par, laplace))
s <- exp(fit$par[5])
print(c(loglik = fit$value, loglik_bernoulli_rows = fit$value - sum(lchoose(cbpp$size, cbpp$incidence))))
print(c(b = fit$par[1:4], se = sqrt(diag(V))[1:4]))
print(c(variance = s^2, variance_se = 2 * s^2 * sqrt(V[5, 5])))
