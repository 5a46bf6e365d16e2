# The README's main job: simulate from published model 1, fit k = 4 from the
# published near-truth start, print the fit and its Voronoi loss.
library(moerates)
set.seed(2024)
truth <- gmoe_paper_truth(1)
n <- 10000
sim <- rgmoe(n, truth)
start <- init_near_truth(truth, k = 4, n = n)
fit <- fit_gmoe(sim$x, sim$y, k = 4, init = start)
print(fit)
cat("\nVoronoi loss (Type I) against the truth:\n")
print(voronoi_loss(fit, truth, detail = TRUE))
one_step <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(max_iter = 1))
cat(sprintf("\nPublished one-step mode: loss %.6f after 1 EM step; converged EM: loss %.6f after %d steps\n",
            voronoi_loss(one_step, truth), voronoi_loss(fit, truth), fit$iterations))
