# The transport: one operation of inst/operations.json per request, problem+json raised as conditions.

td_operations <- local({
  table <- NULL
  function() {
    if (is.null(table)) {
      path <- system.file("operations.json", package = "trialdesk", mustWork = TRUE)
      parsed <- jsonlite::read_json(path, simplifyVector = FALSE)
      ops <- parsed$operations
      names(ops) <- vapply(ops, function(op) op$operationId, character(1))
      table <<- list(operations = ops, enums = lapply(parsed$enums, unlist))
    }
    table
  }
})

td_enum <- function(name) td_operations()$enums[[name]]

#' Create a trialdesk client
#'
#' @param url The service, e.g. `http://localhost:3000`; `TRIALDESK_URL` when `NULL`.
#' @param key An API key; the environment variable `key_env` when `NULL`. Never printed.
#' @param key_env The environment variable holding the key.
#' @param page_size Items per page when following paginated lists (at most 500).
#' @param timeout Seconds before a request is abandoned.
#' @param perform The function that performs an httr2 request (tests inject failures through it).
#' @return A `td_client`.
#' @export
td_client <- function(url = NULL, key = NULL, key_env = "TRIALDESK_API_KEY", page_size = 500L,
                      timeout = 30, perform = httr2::req_perform) {
  if (is.null(url)) url <- Sys.getenv("TRIALDESK_URL")
  if (!nzchar(url)) stop("give the service URL, or set TRIALDESK_URL", call. = FALSE)
  if (is.null(key)) key <- Sys.getenv(key_env)
  if (!nzchar(key)) stop(sprintf("give an API key, or set %s", key_env), call. = FALSE)
  # The key lives in an environment so that print(), str() and unclass() never show it.
  secret <- new.env(parent = emptyenv())
  secret$key <- key
  structure(
    list(url = sub("/+$", "", url), page_size = as.integer(page_size), timeout = timeout,
         perform = perform, secret = secret),
    class = "td_client"
  )
}

#' @export
format.td_client <- function(x, ...) {
  sprintf("<trialdesk client> %s (key hidden)", x$url)
}

#' @export
print.td_client <- function(x, ...) {
  cat(format(x), "\n", sep = "")
  invisible(x)
}

# Request bodies with Date values written as YYYY-MM-DD.
td_json_value <- function(x) {
  if (inherits(x, "Date")) return(format(x, "%Y-%m-%d"))
  if (is.list(x)) return(lapply(x, td_json_value))
  x
}

# A JSON object from a named list or a named atomic vector (jsonlite writes `[]` for an empty list).
td_object <- function(x) {
  if (is.null(x)) return(NULL)
  if (length(x) == 0) return(structure(list(), names = character(0)))
  if (is.null(names(x)) || any(!nzchar(names(x)))) stop("expected named values", call. = FALSE)
  td_json_value(as.list(x))
}

td_drop_null <- function(x) x[!vapply(x, is.null, logical(1))]

td_query_value <- function(x) {
  if (inherits(x, "Date")) return(format(x, "%Y-%m-%d"))
  if (is.logical(x)) return(if (isTRUE(x)) "true" else "false")
  as.character(x)
}

#' Call one operation of the trialdesk contract
#'
#' The low-level call every other function goes through. Only the operations, query parameters
#' and headers listed in the package's `operations.json` can be sent; a CI test checks that list
#' against the contract.
#'
#' @param client A `td_client`.
#' @param operation_id The contract's `operationId`.
#' @param path Named values for the path's `{parameters}`.
#' @param query Named query parameters; `NULL` values are left out.
#' @param body A request body (a list), sent as JSON.
#' @param headers Named extra headers.
#' @return The parsed JSON body (lists), or the text for non-JSON media types.
#' @export
td_request <- function(client, operation_id, path = list(), query = list(), body = NULL,
                       headers = list()) {
  op <- td_operations()$operations[[operation_id]]
  if (is.null(op)) stop(sprintf("unknown operation %s", operation_id), call. = FALSE)
  query <- td_drop_null(query)
  undeclared <- c(setdiff(names(query), unlist(op$query)), setdiff(names(headers), unlist(op$headers)))
  if (length(undeclared) > 0) {
    stop(sprintf("%s does not declare %s in operations.json", operation_id,
                 paste(undeclared, collapse = ", ")), call. = FALSE)
  }
  url_path <- op$path
  for (name in names(path)) {
    url_path <- sub(sprintf("{%s}", name), utils::URLencode(as.character(path[[name]]), reserved = TRUE),
                    url_path, fixed = TRUE)
  }
  accept <- if (is.null(op$accept)) "application/json" else op$accept
  req <- httr2::request(paste0(client$url, url_path))
  req <- httr2::req_method(req, toupper(op$method))
  if (length(query) > 0) {
    req <- do.call(httr2::req_url_query, c(list(req), lapply(query, td_query_value)))
  }
  req <- httr2::req_headers(req, Authorization = paste("Bearer", client$secret$key), Accept = accept)
  if (length(headers) > 0) req <- do.call(httr2::req_headers, c(list(req), headers))
  if (!is.null(body)) {
    req <- httr2::req_body_json(req, td_json_value(body), auto_unbox = TRUE, null = "null", digits = NA)
  }
  req <- httr2::req_timeout(req, client$timeout)
  req <- httr2::req_error(req, is_error = function(resp) FALSE)
  resp <- client$perform(req)
  status <- httr2::resp_status(resp)
  text <- if (length(resp$body) > 0) httr2::resp_body_string(resp, encoding = "UTF-8") else ""
  if (status >= 400) td_stop_problem(status, text, resp)
  if (accept == "application/json") jsonlite::parse_json(text, simplifyVector = FALSE) else text
}

# Every item of a cursor-paginated list, following `nextCursor` until it is null.
td_pages <- function(client, operation_id, path, query = list(), cursor = "cursor") {
  query$limit <- client$page_size
  items <- list()
  repeat {
    page <- td_request(client, operation_id, path, query)
    items <- c(items, page$items)
    if (is.null(page$nextCursor)) return(items)
    query[[cursor]] <- page$nextCursor
  }
}

# Calls `call` again after a transport failure, a 5xx, a 429 or 409 idempotency-key-in-use.
td_retrying <- function(call, retries, backoff) {
  attempt <- 0
  repeat {
    outcome <- tryCatch(call(), error = function(e) e)
    if (!inherits(outcome, "error")) return(outcome)
    retryable <- !inherits(outcome, "trialdesk_problem") ||
      inherits(outcome, c("trialdesk_server_error", "trialdesk_rate_limited", "trialdesk_idempotency_key_in_use"))
    if (!retryable || attempt >= retries) stop(outcome)
    wait <- if (inherits(outcome, "trialdesk_problem") && !is.na(outcome$retry_after)) {
      outcome$retry_after
    } else {
      backoff * 2^attempt
    }
    Sys.sleep(wait)
    attempt <- attempt + 1
  }
}

# Unique without touching the session's random number stream (a set.seed() must not repeat keys).
td_new_idempotency_key <- local({
  counter <- 0L
  function() {
    counter <<- counter + 1L
    host <- Sys.info()[["nodename"]]
    sprintf("r-%s-%d-%.0f-%d", gsub("[^!-~]", "", host), Sys.getpid(), as.numeric(Sys.time()) * 1e6, counter)
  }
})
