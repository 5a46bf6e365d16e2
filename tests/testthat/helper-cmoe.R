# Reference computations for the contaminated-MoE tests, written out from
# the definitions in ?pretrained_model and ?cmoe_params rather than taken
# from the package.

ref_expert <- function(expert, z) {
  switch(expert, linear = z, sigmoid = 1 / (1 + exp(-z)), tanh = tanh(z))
}

# h(a'x + b) for eta = c(a, b) at the rows of x.
ref_location <- function(expert, eta, x) {
  d <- length(eta) - 1
  ref_expert(expert, as.vector(as.matrix(x) %*% eta[seq_len(d)]) + eta[[d + 1]])
}

# log f0(y | x); `spec` is a pretrained_model() or a list with its fields.
ref_logf0 <- function(spec, x, y) {
  if (spec$family == "user") return(spec$logdensity(x, y))
  s <- sqrt(spec$nu0)
  u <- (y - ref_location(spec$expert, spec$eta0, x)) / s
  switch(spec$family,
         gaussian = -0.5 * log(2 * pi) - log(s) - u^2 / 2,
         laplace = -log(2 * s) - abs(u),
         student = lgamma((spec$df + 1) / 2) - lgamma(spec$df / 2) -
           0.5 * log(spec$df * pi) - (spec$df + 1) / 2 * log1p(u^2 / spec$df) - log(s))
}

make_pre <- function(spec) {
  if (spec$family == "user") {
    return(pretrained_model(logdensity = spec$logdensity, simulate = spec$simulate))
  }
  pretrained_model(spec$family, expert = spec$expert, eta0 = spec$eta0, nu0 = spec$nu0,
                   df = spec$df)
}
