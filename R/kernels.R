# The two code paths of the passes over the data. Where the processor has
# AVX2 and FMA (x86-64 Linux and macOS), the E-steps can run vectorised code
# that differs from the portable code at rounding level; fits that stop on
# the flat ridges of over-fitted likelihoods can then stop at different
# iterations. The `kernels` control (default: the option
# `moerates.kernels`, else "auto") chooses, and every fit records the path
# it ran.

check_kernels <- function(kernels, arg = "kernels") {
  if (!is.character(kernels) || length(kernels) != 1 || is.na(kernels) ||
      !kernels %in% c("auto", "portable")) {
    stop_arg(arg, "must be \"auto\" or \"portable\", not ",
             paste(format(kernels), collapse = " "), ".")
  }
  kernels
}

# The path that `kernels` resolves to on this machine: "avx2" for "auto"
# where the build and the processor support it, otherwise "portable". The
# rate-study engine records it for each worker.
kernel_path <- function(kernels = getOption("moerates.kernels", "auto"),
                        arg = "options(moerates.kernels)") {
  if (check_kernels(kernels, arg) == "auto" && .avx2_supported_cpp()) "avx2" else "portable"
}
