# problem+json answers as R conditions, classed by problem type.

td_status_classes <- c(
  "400" = "trialdesk_malformed_request", "401" = "trialdesk_unauthorized", "403" = "trialdesk_forbidden",
  "404" = "trialdesk_not_found", "405" = "trialdesk_method_not_allowed", "409" = "trialdesk_conflict",
  "412" = "trialdesk_precondition_failed", "413" = "trialdesk_payload_too_large",
  "415" = "trialdesk_unsupported_media_type", "422" = "trialdesk_validation_failed",
  "429" = "trialdesk_rate_limited", "503" = "trialdesk_service_unavailable"
)

#' Conditions raised for trialdesk problems
#'
#' Every error answer (RFC 9457 problem+json) is raised as a condition of class
#' `trialdesk_problem`, with a class for its problem type (`trialdesk_` and the type's last path
#' segment with `_` for `-`, e.g. `trialdesk_already_randomized`, `trialdesk_validation_failed`)
#' and one for its status (`trialdesk_conflict` for every 409, `trialdesk_server_error` for every
#' 5xx, `trialdesk_not_found`, `trialdesk_forbidden`, ...). The message lists the JSON pointer
#' of every failing field. The condition carries `status`, `type`, `slug`, `title`, `detail`,
#' `instance`, `errors` (a data frame of `pointer` and `detail`), `retry_after` and `body`.
#'
#' @param status The HTTP status.
#' @param body The problem as a list (`type`, `title`, `status`, `detail`, ...).
#' @param retry_after Seconds from a `Retry-After` header, or `NA`.
#' @return A condition object.
#' @examples
#' p <- td_problem(409, list(type = "https://trialdesk.dev/problems/already-randomized",
#'   title = "Conflict", status = 409, detail = "Participant is already randomized."))
#' class(p)
#' @export
td_problem <- function(status, body, retry_after = NA_real_) {
  type <- if (is.character(body$type)) body$type else "about:blank"
  slug <- sub(".*/", "", type)
  errors <- body$errors
  pointers <- data.frame(
    pointer = vapply(errors, function(e) as.character(e$pointer %||% ""), character(1)),
    detail = vapply(errors, function(e) as.character(e$detail %||% ""), character(1)),
    stringsAsFactors = FALSE
  )
  detail <- as.character(body$detail %||% "")
  lines <- c(sprintf("%s %s: %s", status, body$title %||% "", detail),
             if (nrow(pointers) > 0) sprintf("  %s: %s", ifelse(nzchar(pointers$pointer), pointers$pointer, "(body)"),
                                             pointers$detail),
             if (!is.null(body$instance)) sprintf("  instance: %s", body$instance))
  status_class <- unname(td_status_classes[as.character(status)])
  if (status >= 500) status_class <- c(status_class, "trialdesk_server_error")
  slug_class <- if (grepl("^https://trialdesk\\.dev/problems/", type)) paste0("trialdesk_", gsub("-", "_", slug))
  classes <- unique(c(slug_class, status_class[!is.na(status_class)], "trialdesk_problem", "error", "condition"))
  structure(
    class = classes,
    list(message = paste(lines, collapse = "\n"), call = NULL, status = status, type = type, slug = slug,
         title = body$title %||% "", detail = detail, instance = body$instance %||% "",
         errors = pointers, retry_after = retry_after, body = body)
  )
}

`%||%` <- function(a, b) if (is.null(a)) b else a

td_stop_problem <- function(status, text, resp) {
  body <- tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE), error = function(e) NULL)
  if (!is.list(body) || !is.character(body$type) || !is.numeric(body$status)) {
    body <- list(type = "about:blank", title = paste("HTTP", status), status = status,
                 detail = if (nzchar(text)) substr(text, 1, 500) else
                   sprintf("The server answered %s without a problem body.", status))
  }
  retry_after <- suppressWarnings(as.numeric(httr2::resp_header(resp, "Retry-After") %||% NA))
  stop(td_problem(status, body, retry_after))
}
