library(testthat)
library(moerates)

test_check("moerates")
