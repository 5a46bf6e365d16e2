# What the functions of a rate study use, found by the future framework's
# globals machinery (globals::globalsOf(), recursively through the user's own
# helper functions): checked before the study starts, and fingerprinted so
# that a checkpoint is never resumed by a study that reads other values.

# The globals of each function of `functions` (a named list), found
# recursively through the closures they call: for each function, a list of
# `values`, where they were found (`where`), and the packages they need.
# Functions from packages are kept with where they were found, so that the
# fingerprint records the package, not its code.
study_globals <- function(functions) {
  lapply(functions, function(f) {
    env <- list2env(list(.moerates_study_function = f), parent = baseenv())
    found <- globals::globalsOf(quote(.moerates_study_function), envir = env,
                                mustExist = FALSE, recursive = TRUE)
    keep <- names(found) != ".moerates_study_function"
    list(values = as.list(found)[keep], where = attr(found, "where")[keep],
         packages = globals::packagesOf(found))
  })
}

# Stops, naming the global, when a global cannot reach a worker of the
# current plan: a connection or an external pointer (valid in this process
# only), or a value above future's size limit.
check_exportable <- function(globals) {
  if (inherits(future::plan("next"), "uniprocess")) return(invisible())
  limit <- getOption("future.globals.maxSize", 500 * 1024^2)
  for (fn in names(globals)) for (name in names(globals[[fn]]$values)) {
    v <- globals[[fn]]$values[[name]]
    if (from_package(globals[[fn]]$where[[name]])) next
    if (is_process_bound(v)) {
      stop(sprintf(paste(
        "the global `%s` used by `%s` is a connection or an external",
        "pointer, which cannot be sent to another R process; create it inside the function",
        "that uses it, or run the study under future::plan(sequential)."), name, fn),
        call. = FALSE)
    }
    size <- as.numeric(utils::object.size(v))
    if (size > limit) {
      stop(sprintf(paste(
        "the global `%s` used by `%s` takes %s MB, more than",
        "future.globals.maxSize (%s MB) allows sending to a worker; read or create it",
        "inside the function that uses it, or raise options(future.globals.maxSize =)."),
        name, fn, format(round(size / 1024^2, 1)), format(round(limit / 1024^2, 1))),
        call. = FALSE)
    }
  }
  invisible()
}

from_package <- function(env) {
  is.environment(env) && (isNamespace(env) || identical(env, baseenv()) ||
                            startsWith(environmentName(env), "package:"))
}

is_process_bound <- function(v, depth = 0L) {
  if (typeof(v) == "externalptr" || inherits(v, "connection")) return(TRUE)
  if (is.list(v) && depth < 3L) {
    return(any(vapply(v, is_process_bound, logical(1), depth = depth + 1L)))
  }
  FALSE
}

# The fingerprint of a study: a hash of each part (the seed, each function's
# code, the value of each global each function reads) and of the whole.
# Closures are hashed by their code: what they read is among the globals.
study_fingerprint <- function(seed, functions, globals) {
  global_hashes <- lapply(globals, function(g) {
    h <- vapply(names(g$values), function(name) {
      where <- g$where[[name]]
      v <- g$values[[name]]
      if (from_package(where)) return(hash_value(environmentName(where)))
      hash_value(if (is.function(v)) deparse(v) else comparable(v))
    }, character(1))
    h[order(names(h))]
  })
  parts <- c(list(seed = hash_value(seed)),
             lapply(functions, function(f) hash_value(deparse(f))),
             list(globals = global_hashes))
  packages <- unique(unlist(lapply(globals, `[[`, "packages"), use.names = FALSE))
  packages <- vapply(packages, function(p) as.character(utils::packageVersion(p)),
                     character(1))
  list(id = hash_value(parts), parts = parts, packages = packages)
}

# What differs between two fingerprints, in words.
fingerprint_difference <- function(saved, now) {
  if (is.null(saved) || is.null(now)) return("its contents")
  out <- character(0)
  if (!identical(saved$seed, now$seed)) out <- "its seed"
  for (f in c("simulate", "fit", "metrics")) {
    if (!identical(saved[[f]], now[[f]])) out <- c(out, sprintf("the code of `%s`", f))
  }
  flat <- function(g) unlist(unname(g))
  g_old <- flat(saved$globals)
  g_new <- flat(now$globals)
  g_old <- g_old[!duplicated(paste(names(g_old), g_old))]
  g_new <- g_new[!duplicated(paste(names(g_new), g_new))]
  changed <- intersect(names(g_old), names(g_new))
  changed <- changed[vapply(changed, function(nm) {
    !setequal(g_old[names(g_old) == nm], g_new[names(g_new) == nm])
  }, logical(1))]
  if (length(changed)) {
    out <- c(out, sprintf("the value of global %s", paste0("`", changed, "`", collapse = ", ")))
  }
  added <- setdiff(names(g_new), names(g_old))
  gone <- setdiff(names(g_old), names(g_new))
  if (length(added) || length(gone)) {
    out <- c(out, sprintf("the globals used (%s)", paste(c(
      if (length(added)) paste("now also", paste0("`", added, "`", collapse = ", ")),
      if (length(gone)) paste("no longer", paste0("`", gone, "`", collapse = ", "))),
      collapse = "; ")))
  }
  if (!length(out)) out <- "its contents"
  paste(out, collapse = ", ")
}

# A data value in a form whose serialisation depends only on what it means:
# functions held in it by their code and, for closures made inside other
# functions, the values they enclose; environments by their contents, two
# levels deep.
comparable <- function(v, depth = 0L) {
  if (is.function(v)) {
    env <- environment(v)
    if (is.null(env) || from_package(env)) {
      return(paste("function from", if (is.null(env)) "base" else environmentName(env)))
    }
    return(list(code = deparse(v), enclosed = comparable_env(env, depth)))
  }
  if (is.environment(v)) return(comparable_env(v, depth))
  if (is.list(v) && !is.null(v)) {
    v[] <- lapply(v, comparable, depth = depth)
    return(v)
  }
  v
}

comparable_env <- function(env, depth) {
  if (identical(env, globalenv()) || from_package(env) || depth >= 2L) {
    return(paste("environment", environmentName(env)))
  }
  vals <- mget(setdiff(sort(ls(env, all.names = TRUE)), "..."), envir = env)
  lapply(vals, comparable, depth = depth + 1L)
}

# MD5 of the value's serialisation, without the header (which names the R
# version that wrote it).
hash_value <- function(v) {
  bytes <- serialize(v, NULL, version = 2L)
  f <- tempfile("moerates-hash-")
  on.exit(unlink(f))
  writeBin(bytes[-(1:14)], f)
  unname(tools::md5sum(f))
}
