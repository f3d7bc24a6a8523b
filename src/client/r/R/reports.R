# CONSORT, Table 1, statistics, incentives and the audit trail.

#' CONSORT flow counts and diagram
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param as_of Count what had happened by this date (`Date` or `"YYYY-MM-DD"`); today when `NULL`.
#' @param site Only this site.
#' @param file Where to save the SVG.
#' @return `td_consort()`: a `td_consort` list with `as_of` (Date), `enrollment` (the counts as the
#'   API gives them), `arms` (a data frame, one row per arm, `arm` a factor in the trial's order),
#'   `excluded` (one row per exclusion reason) and `raw`. `td_consort_svg()`: the file, invisibly.
#' @export
td_consort <- function(client, trial, as_of = NULL, site = NULL) {
  trial_config <- td_trial(client, trial)
  report <- td_request(client, "getConsortCounts", list(trialId = trial), list(asOf = as_of, siteCode = site))
  arms <- td_frame(report$arms, list(
    td_col("arm", "arm", "category", td_codes(trial_config$arms)), td_col("allocated"),
    td_col("received", "receivedAllocatedIntervention"),
    td_col("did_not_receive", "didNotReceiveAllocatedIntervention.total"),
    td_col("lost_to_follow_up", "lostToFollowUp.total"), td_col("discontinued", "discontinuedIntervention.total"),
    td_col("excluded_from_analysis", "excludedFromAnalysis.total"), td_col("analysed")
  ))
  boxes <- c("notMeetingInclusionCriteria", "declinedToParticipate", "otherReasons")
  reasons <- unlist(lapply(boxes, function(box) {
    lapply(report$enrollment$excluded[[box]]$reasons, function(reason) c(list(box = box), reason))
  }), recursive = FALSE)
  excluded <- td_frame(reasons, list(td_col("box", kind = "category", levels = boxes), td_col("reason"),
                                     td_col("text"), td_col("count")))
  structure(list(trial_id = report$trialId, as_of = as.Date(report$asOf), enrollment = report$enrollment,
                 arms = arms, excluded = excluded, raw = report), class = "td_consort")
}

#' @export
print.td_consort <- function(x, ...) {
  e <- x$enrollment
  cat(sprintf("CONSORT as of %s: assessed %d, excluded %d, pending %d, randomized %d\n", format(x$as_of),
              e$assessedForEligibility, e$excluded$total, e$pendingRandomization, e$randomized))
  print(x$arms, row.names = FALSE)
  invisible(x)
}

#' @rdname td_consort
#' @export
td_consort_svg <- function(client, trial, file, as_of = NULL, site = NULL) {
  svg <- td_request(client, "getConsortDiagram", list(trialId = trial),
                    list(asOf = as_of, siteCode = site, format = "svg"))
  writeLines(svg, file, useBytes = TRUE, sep = "")
  invisible(file)
}

#' Baseline comparison between arms ("Table 1")
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param role `service_user` (by allocated arm) or `case_worker` (by assigned arm).
#' @param tests `welch`, `student` or `none`.
#' @param as_of Only participants randomized (assigned) by this date.
#' @return A `td_table1` list: `arms` (arm, n), `variables` (one row per variable: SMD, test,
#'   statistic, df, p), `numbers` (n, missing, mean, sd, median, q1, q3, min, max by variable and
#'   arm), `categories` (count and percent by variable, arm and level), `note` and `raw`. `arm`,
#'   `variable` and `level` are factors in the trial's order.
#' @export
td_table1 <- function(client, trial, role = NULL, tests = "welch", as_of = NULL) {
  trial_config <- td_trial(client, trial)
  table <- td_request(client, "getBaselineTable", list(trialId = trial), list(role = role, tests = tests, asOf = as_of))
  arm_levels <- td_codes(trial_config$arms)
  variable_levels <- vapply(table$variables, function(v) v$name, character(1))
  level_levels <- unique(unlist(lapply(trial_config$baselineVariables, function(v) unlist(v$levels))))
  variables <- lapply(table$variables, function(v) {
    test <- v$test %||% list()
    list(variable = v$name, label = v$label, unit = v$unit, type = v$type, smd = v$smd,
         test = test$method, statistic = test$statistic, df = test$df, p = test$p)
  })
  numbers <- list()
  categories <- list()
  for (v in table$variables) {
    for (arm in names(v$byArm)) {
      summary <- v$byArm[[arm]]
      if (identical(v$type, "category")) {
        for (level in summary$levels) {
          categories[[length(categories) + 1]] <- c(list(variable = v$name, arm = arm), level)
        }
      } else {
        numbers[[length(numbers) + 1]] <- c(list(variable = v$name, arm = arm), summary)
      }
    }
  }
  variable_col <- td_col("variable", kind = "category", levels = variable_levels)
  arm_col <- td_col("arm", kind = "category", levels = arm_levels)
  structure(list(
    trial_id = table$trialId, role = table$role, as_of = if (is.null(table$asOf)) NULL else as.Date(table$asOf),
    arms = td_frame(table$arms, list(arm_col, td_col("n"))),
    variables = td_frame(variables, list(
      variable_col, td_col("label"), td_col("unit"),
      td_col("type", kind = "category", levels = td_enum("BaselineVariable/properties/type")),
      td_col("smd"), td_col("test"), td_col("statistic"), td_col("df"), td_col("p")
    )),
    numbers = td_frame(numbers, c(list(variable_col, arm_col),
                                  lapply(c("n", "missing", "mean", "sd", "median", "q1", "q3", "min", "max"), td_col))),
    categories = td_frame(categories, list(variable_col, arm_col,
                                           td_col("level", kind = "category", levels = level_levels),
                                           td_col("count"), td_col("percent"))),
    note = table$note, raw = table
  ), class = "td_table1")
}

#' @export
print.td_table1 <- function(x, ...) {
  cat(sprintf("Table 1 (%s): %s\n", x$role, paste(sprintf("%s n=%d", x$arms$arm, x$arms$n), collapse = ", ")))
  print(x$variables[, c("variable", "type", "smd", "test", "statistic", "df", "p")], row.names = FALSE)
  invisible(x)
}

#' Welch or Student t-test, computed by the service
#'
#' @param client A `td_client`.
#' @param groups A list of two groups, each `list(label, values)` or `list(label, mean, sd, n)`.
#' @param method `welch` or `student`.
#' @param alternative `two-sided`, `less` or `greater`.
#' @param confidence_level The interval's level.
#' @return The result as a list (`t`, `df`, `p`, `meanDifference`, `confidenceInterval`, ...).
#' @export
td_t_test <- function(client, groups, method = "welch", alternative = "two-sided", confidence_level = 0.95) {
  groups <- lapply(groups, function(g) {
    if (!is.null(g$values)) g$values <- as.list(g$values)
    g
  })
  td_request(client, "tTest", body = list(groups = groups, method = method, alternative = alternative,
                                          confidenceLevel = confidence_level))
}

#' The incentive ledger
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param participant A participant id.
#' @param incentive The incentive code.
#' @param issued_on The date it was handed over.
#' @param reference E.g. the coupon serial; unique in the trial.
#' @param note A note.
#' @param idempotency_key,retries,backoff As for [td_randomize()].
#' @param site Only this site.
#' @param issued_from,issued_to Only entries issued in this range of dates (inclusive).
#' @return `td_issue_incentive()` the entry; `td_incentives()` a data frame (site, incentive and kind
#'   as factors, `issued_on` as Date); `td_incentive_summary()` the totals as a list.
#' @export
td_issue_incentive <- function(client, trial, participant, incentive, issued_on, reference, note = NULL,
                               idempotency_key = NULL, retries = 3, backoff = 0.2) {
  key <- if (is.null(idempotency_key)) td_new_idempotency_key() else idempotency_key
  body <- td_drop_null(list(incentive = incentive, issuedOn = issued_on, reference = reference, note = note))
  td_retrying(function() {
    td_request(client, "issueIncentive", list(trialId = trial, participantId = participant), body = body,
               headers = list(`Idempotency-Key` = key))
  }, retries, backoff)
}

#' @rdname td_issue_incentive
#' @export
td_incentives <- function(client, trial, site = NULL, participant = NULL, issued_from = NULL, issued_to = NULL) {
  trial_config <- td_trial(client, trial)
  rows <- td_pages(client, "listIncentives", list(trialId = trial),
                   list(siteCode = site, participantId = participant, from = issued_from, to = issued_to))
  td_frame(rows, list(
    td_col("id"), td_col("participant_id", "participantId"),
    td_col("site", "siteCode", "category", td_codes(trial_config$sites)),
    td_col("incentive", "incentive", "category", td_codes(trial_config$incentives)),
    td_col("kind", "kind", "category", td_enum("IncentiveEntry/properties/kind")),
    td_col("amount"), td_col("currency"), td_col("issued_on", "issuedOn", "date"), td_col("reference"),
    td_col("note"), td_col("voided"), td_col("voids"), td_col("reason"),
    td_col("recorded_at", "recordedAt", "instant")
  ))
}

#' @rdname td_issue_incentive
#' @export
td_incentive_summary <- function(client, trial) td_request(client, "summarizeIncentives", list(trialId = trial))

#' The audit trail
#'
#' @param client A `td_client` (admin or monitor).
#' @param trial A trial id.
#' @param entity_type,entity_id Only events of this entity.
#' @return `td_audit()` a data frame, oldest first (`occurred_at` as POSIXct, `before` and `after`
#'   as list columns); `td_verify_audit()` the hash-chain verification as a list.
#' @export
td_audit <- function(client, trial, entity_type = NULL, entity_id = NULL) {
  rows <- td_pages(client, "listTrialAuditEvents", list(trialId = trial),
                   list(entityType = entity_type, entityId = entity_id), cursor = "after")
  td_frame(rows, list(
    td_col("lane"), td_col("sequence"), td_col("occurred_at", "occurredAt", "instant"),
    td_col("actor_role", "actor.role"),
    td_col("actor_key_id", "actor.keyId"), td_col("action"), td_col("entity_type", "entityType"),
    td_col("entity_id", "entityId"), td_col("reason"), td_col("before", kind = "list"),
    td_col("after", kind = "list"), td_col("request_id", "requestId"), td_col("id"),
    td_col("previous_hash", "previousHash"), td_col("hash")
  ))
}

#' @rdname td_audit
#' @export
td_verify_audit <- function(client, trial) {
  td_request(client, "verifyTrialAuditChain", list(trialId = trial))
}
