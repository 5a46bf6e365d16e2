# Shared by the tests of the information, vcov and bootstrap of GMoE fits.

# Central differences of f at theta, step h: the gradient (f scalar) or the
# Jacobian (f vector-valued), one column per coordinate.
central_diff <- function(f, theta, h = 1e-5) {
  cols <- lapply(seq_along(theta), function(i) {
    e <- replace(numeric(length(theta)), i, h)
    (f(theta + e) - f(theta - e)) / (2 * h)
  })
  if (length(cols[[1]]) == 1) unlist(cols) else do.call(cbind, cols)
}

# The GMoE of x' = s x + t, y' = sy y + ty.
in_units_shift <- function(p, s, t, sy, ty) {
  k <- length(p$pi)
  d <- length(s)
  G <- p$Gamma
  for (j in seq_len(k)) G[, , j] <- G[, , j] * outer(s, s)
  a <- p$a * rep(sy / s, each = k)
  c <- p$c * rep(s, each = k) + t
  gmoe_params(p$pi, c, G, a, sy * p$b + ty - drop(a %*% rep(t, length.out = d)), p$nu * sy^2)
}
