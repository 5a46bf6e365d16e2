# A batchtools configuration for running moerates studies on a Slurm
# cluster with the job script shipped in the package. Copy it to your
# project directory (or to ~/.batchtools.conf.R), adjust the resources to
# your cluster, then
#
#   future::plan(future.batchtools::batchtools_custom,
#                conf.file = "batchtools.conf.R")
#
# runs every study through Slurm; batchtools' own functions read it too.
# On SGE, PBS/Torque or LSF, use makeClusterFunctionsSGE(),
# makeClusterFunctionsTORQUE() or makeClusterFunctionsLSF() with a job
# script for that scheduler instead.

cluster.functions <- batchtools::makeClusterFunctionsSlurm(
  template = system.file("templates", "slurm.tmpl", package = "moerates"))

# Asked of Slurm for every job unless a plan gives its own `resources`: one
# CPU (a run of a study is single-threaded), memory per CPU in megabytes and
# a time limit in seconds. Add `partition`, `account`, `qos` or `modules`
# (see the job script) as your cluster requires.
default.resources <- list(ncpus = 1, memory = 2048, walltime = 3600)

# At most this many jobs of one study in the queue at once (some clusters
# limit a user's queued jobs).
max.concurrent.jobs <- 500
