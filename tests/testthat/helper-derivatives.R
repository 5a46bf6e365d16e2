# Central differences of f at theta, step h: the gradient (f scalar) or the
# Jacobian (f vector-valued), one column per coordinate.
central_diff <- function(f, theta, h = 1e-5) {
  cols <- lapply(seq_along(theta), function(i) {
    e <- replace(numeric(length(theta)), i, h)
    (f(theta + e) - f(theta - e)) / (2 * h)
  })
  if (length(cols[[1]]) == 1) unlist(cols) else do.call(cbind, cols)
}
