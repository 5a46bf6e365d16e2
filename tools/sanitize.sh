#!/usr/bin/env bash
# Build moerates with AddressSanitizer and UndefinedBehaviorSanitizer into a
# library of its own and run the test suite under them twice: on the default
# kernels (the AVX2 code where the processor has it) and on the portable code
# (options(moerates.kernels = "portable"), set through an R profile so that
# every R process of the run, future workers included, gets it).
# Exits non-zero on any sanitizer report, test failure or crash.
#
# Usage: tools/sanitize.sh [--out DIR] [--tarball FILE] [--filter REGEX]
#   --out DIR       where the library, logs and sanitizer reports go
#                   (default: a new temporary directory)
#   --tarball FILE  install this source tarball (default: build one from the
#                   checkout this script belongs to)
#   --filter REGEX  run only the test files that match, as testthat's filter
#                   (e.g. "fit-gmoe"; default: all)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=""
tarball=""
filter=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --tarball) tarball=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    *) echo "tools/sanitize.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$out" ] || out=$(mktemp -d "${TMPDIR:-/tmp}/moerates-sanitize.XXXXXX")
mkdir -p "$out"
out=$(cd "$out" && pwd)
lib=$out/library
rm -rf "$lib" "$out"/logs "$out"/logs-* "$out"/*.log "$out"/*.Rprofile "$out"/*.counts \
  "$out"/*.seconds "$out"/failures
mkdir -p "$lib" "$out/logs"

# float-cast-overflow (a double out of an integer's range converted to it) is
# undefined behaviour that -fsanitize=undefined leaves out under GCC.
san="-fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined,float-cast-overflow -fno-omit-frame-pointer"
cat >"$out/Makevars" <<EOF
CXXFLAGS = -g -O1 $san
CXX11FLAGS = -g -O1 $san
CXX14FLAGS = -g -O1 $san
CXX17FLAGS = -g -O1 $san
LDFLAGS = $san
EOF

if [ -z "$tarball" ]; then
  (cd "$out" && R CMD build --no-build-vignettes --no-manual "$root" >build.log 2>&1) ||
    { cat "$out/build.log"; exit 1; }
  tarball=$(ls "$out"/moerates_*.tar.gz | tail -n 1)
fi
# No test load: the instrumented library cannot be loaded without libasan preloaded.
R_MAKEVARS_USER="$out/Makevars" R CMD INSTALL --no-test-load --library="$lib" "$tarball" \
  >"$out/install.log" 2>&1 || { grep -iE "error" "$out/install.log" | tail -n 30; exit 1; }

# R itself is not instrumented, so the ASan runtime has to be loaded first.
cxx=$(R CMD config CXX | awk '{print $1}')
libasan=$($cxx -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "tools/sanitize.sh: libasan not found ($libasan)" >&2; exit 1; }

# R leaks by design (memory freed at exit by the OS), hence no leak detection.
# ASan writes its reports to files named after each process, so that reports
# from worker processes, whose output nobody reads, are seen too. UBSan ignores
# log_path next to ASan's runtime and writes to stderr, kept in the run's log;
# in a worker, the report's abort fails the test that started the worker.
export ASAN_OPTIONS="detect_leaks=0:print_legend=0:log_path=$out/logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
report_start='ERROR: (Address|Leak)Sanitizer|runtime error:'
report_any="$report_start|WARNING: AddressSanitizer|AddressSanitizer:DEADLYSIGNAL|SUMMARY: (Address|UndefinedBehavior)Sanitizer"
# Stack frames inside R's interpreter (hundreds of them) are left out of what
# is shown; the files in $out keep them.
r_frame='^ +#[0-9]+ 0x[0-9a-f]+ .*/libR\.so'

run_tests() {  # name, R profile code; writes $out/<name>.log, .counts, .seconds
  local name=$1 start status=0
  start=$(date +%s)
  printf '%s\n' "$2" >"$out/$name.Rprofile"
  (cd "$root/tests/testthat" && LD_PRELOAD="$libasan" R_PROFILE_USER="$out/$name.Rprofile" \
     R_LIBS="$lib" NOT_CRAN=true SANITIZE_FILTER="$filter" SANITIZE_COUNTS="$out/$name.counts" \
     Rscript -e '
       library(testthat); library(moerates)
       path <- moerates:::kernel_path()
       cat("kernels option:", format(getOption("moerates.kernels", "unset")),
           "| code path of the fits:", path, "\n")
       if (identical(getOption("moerates.kernels"), "portable") && path != "portable") {
         stop("the portable run would not run the portable code")
       }
       filter <- Sys.getenv("SANITIZE_FILTER")
       r <- as.data.frame(test_dir(".", filter = if (nzchar(filter)) filter, package = "moerates",
                                   load_package = "installed", reporter = "summary",
                                   stop_on_failure = FALSE))
       writeLines(as.character(c(sum(r$passed), sum(r$failed) + sum(r$error))), Sys.getenv("SANITIZE_COUNTS"))
     ') >"$out/$name.log" 2>&1 || status=$?
  echo $(( $(date +%s) - start )) >"$out/$name.seconds"
  grep -vE "$r_frame" "$out/$name.log" || true
  echo
  return $status
}

summary=""
failures=0
for run in avx2 portable; do
  if [ $run = avx2 ]; then
    label="AVX2 path"; profile=""
  else
    label="portable path"; profile='options(moerates.kernels = "portable")'
  fi
  echo "== sanitizers: $label =="
  status=0
  run_tests $run "$profile" || status=$?
  mkdir -p "$out/logs-$run"
  mv "$out"/logs/* "$out/logs-$run/" 2>/dev/null || true
  reports=$(cat "$out/$run.log" "$out/logs-$run"/* 2>/dev/null | grep -cE "$report_start" || true)
  report_lines=$(cat "$out/$run.log" "$out/logs-$run"/* 2>/dev/null | grep -cE "$report_any" || true)
  part="$label: "
  if [ -f "$out/$run.counts" ] && [ "$status" -eq 0 ]; then
    { read -r passed; read -r failed; } <"$out/$run.counts"
    part+="$passed tests passed, $failed failed"
    failures=$((failures + failed))
  else
    part+="the test run stopped (exit status $status)"
    failures=$((failures + 1))
  fi
  if [ "$report_lines" -gt 0 ]; then
    part+=", sanitizer reports: $reports"
    [ "$status" -ne 0 ] || failures=$((failures + 1))
    echo "== sanitizer reports, $label =="
    for f in "$out/logs-$run"/*; do [ -f "$f" ] && { echo "-- $f"; grep -vE "$r_frame" "$f"; }; done
    grep -E "$report_any" "$out/$run.log" || true
  else
    part+=", no sanitizer reports"
  fi
  summary+="${summary:+; }$part ($(cat "$out/$run.seconds") s)"
done
echo "$failures" >"$out/failures"
echo "sanitizers: $summary${filter:+ (test files matching \"$filter\")}; logs in $out"
[ "$failures" -eq 0 ]
