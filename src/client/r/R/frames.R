# API rows (lists) to data frames: dates as Date, instants as POSIXct (UTC), categories as factors
# with the trial's levels in order, list-valued members as list columns.

td_col <- function(name, source = name, kind = "value", levels = NULL) {
  list(name = name, source = strsplit(source, ".", fixed = TRUE)[[1]], kind = kind, levels = levels)
}

td_get <- function(row, path) {
  for (part in path) {
    if (!is.list(row)) return(NULL)
    row <- row[[part]]
  }
  row
}

td_scalars <- function(values) {
  if (length(values) == 0) return(logical(0))
  values <- lapply(values, function(v) if (is.null(v)) NA else v)
  unlist(values, use.names = FALSE)
}

td_parse_instant <- function(x) {
  as.POSIXct(sub("Z$", "", x), format = "%Y-%m-%dT%H:%M:%OS", tz = "UTC")
}

td_column <- function(rows, col) {
  values <- lapply(rows, td_get, path = col$source)
  switch(col$kind,
    list = I(values),
    date = as.Date(as.character(td_scalars(values))),
    integer = as.integer(td_scalars(values)),
    number = as.numeric(td_scalars(values)),
    boolean = as.logical(td_scalars(values)),
    string = as.character(td_scalars(values)),
    instant = td_parse_instant(as.character(td_scalars(values))),
    category = {
      chr <- as.character(td_scalars(values))
      levels <- if (is.null(col$levels)) unique(chr[!is.na(chr)]) else col$levels
      unknown <- setdiff(chr[!is.na(chr)], levels)
      if (length(unknown) > 0) {
        stop(sprintf("column %s: %s not among the levels %s", col$name, paste(unknown, collapse = ", "),
                     paste(levels, collapse = ", ")), call. = FALSE)
      }
      factor(chr, levels = levels)
    },
    td_scalars(values)
  )
}

td_frame <- function(rows, cols) {
  columns <- lapply(cols, td_column, rows = rows)
  names(columns) <- vapply(cols, function(col) col$name, character(1))
  frame <- data.frame(row.names = seq_len(length(rows)))
  for (name in names(columns)) frame[[name]] <- columns[[name]]
  frame
}

td_codes <- function(items, member = "code") vapply(items, function(item) item[[member]], character(1))

td_levels_of <- function(trial, factor_name) {
  if (factor_name == "site") return(td_codes(trial$sites))
  for (variable in trial$baselineVariables) {
    if (variable$name == factor_name) return(unlist(variable$levels))
  }
  NULL
}
