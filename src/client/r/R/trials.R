# Service, trials, keys and participants.

#' Service health
#' @param client A `td_client`.
#' @return A list with `status`, `database` and `version`.
#' @export
td_health <- function(client) td_request(client, "getHealth")

#' Trials: read, list, create, add sites, activate
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param status Only trials in this status (`setup`, `active`, `closed`).
#' @param configuration The trial as a list, shaped as the contract's `TrialInput`.
#' @param sites A named character vector or list (`c(A = "Centre A")`), or a list of lists with
#'   `code` and `name`.
#' @return `td_trial()`, `td_create_trial()` and `td_activate()` return the trial as a list (arms
#'   masked as `Group n` for blinded keys); `td_trials()` a data frame; `td_add_sites()` the sites.
#' @export
td_trial <- function(client, trial) td_request(client, "getTrial", list(trialId = trial))

#' @rdname td_trial
#' @export
td_trials <- function(client, status = NULL) {
  rows <- td_pages(client, "listTrials", list(), list(status = status))
  td_frame(rows, list(
    td_col("id"), td_col("code"), td_col("title"), td_col("registry"),
    td_col("status", kind = "category", levels = c("setup", "active", "closed")),
    td_col("version"), td_col("created_at", "createdAt", "instant"),
    td_col("activated_at", "activatedAt", "instant"), td_col("closed_at", "closedAt", "instant")
  ))
}

#' @rdname td_trial
#' @export
td_create_trial <- function(client, configuration) td_request(client, "createTrial", body = configuration)

#' @rdname td_trial
#' @export
td_add_sites <- function(client, trial, sites) {
  if (!is.null(names(sites))) {
    sites <- Map(function(code, name) list(code = code, name = name), names(sites), unname(as.character(sites)))
  }
  unname(lapply(sites, function(site) td_request(client, "createSite", list(trialId = trial), body = site)))
}

#' @rdname td_trial
#' @export
td_activate <- function(client, trial) td_request(client, "activateTrial", list(trialId = trial))

#' Create an API key
#'
#' @param client A `td_client` with an unscoped admin key.
#' @param name A name that says whose key it is.
#' @param role `admin`, `coordinator`, `statistician` or `monitor`.
#' @param trials Trial ids the key is limited to (`NULL`: all).
#' @param sites Site codes (coordinators, with exactly one trial).
#' @param blinded A blinded key sees arms as `Group 1`, `Group 2`, ...
#' @return The key as a list; the secret is in `$key` and is shown only once.
#' @export
td_create_api_key <- function(client, name, role, trials = NULL, sites = NULL, blinded = FALSE) {
  body <- td_drop_null(list(name = name, role = role, trialIds = as.list(trials), siteCodes = as.list(sites),
                            blinded = blinded))
  if (length(body$trialIds) == 0) body$trialIds <- NULL
  if (length(body$siteCodes) == 0) body$siteCodes <- NULL
  td_request(client, "createApiKey", body = body)
}

#' Participants: list, read, screen, consent, withdraw, assign case workers
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param participant A participant id.
#' @param site,role,status Filters (`td_participants()`), or the site and role of a new participant.
#' @param label The site's pseudonymous identifier.
#' @param screened_on,signed_on,withdrawn_on Dates (`Date` or `"YYYY-MM-DD"`).
#' @param eligibility A named logical vector or list: one answer per criterion.
#' @param baseline A named list of baseline values.
#' @param form,version The consent form and its version.
#' @param decision `granted` or `declined`.
#' @param obtained_by Who obtained the consent.
#' @param method `written`, `electronic` or `witnessed_verbal`.
#' @param reason Why (consent, withdrawal, assignment).
#' @param consent A consent id.
#' @param scope `intervention`, `follow_up` or `all`.
#' @param arm The arm code a case worker delivers.
#' @return `td_participants()` a data frame (site, role and status as factors, `screened_on` as
#'   Date, `created_at` as POSIXct); the others the participant or consent as a list.
#' @export
td_participants <- function(client, trial, site = NULL, role = NULL, status = NULL) {
  trial_config <- td_trial(client, trial)
  rows <- td_pages(client, "listParticipants", list(trialId = trial),
                   list(siteCode = site, role = role, status = status))
  td_frame(rows, list(
    td_col("id"), td_col("label"),
    td_col("site", "siteCode", "category", td_codes(trial_config$sites)),
    td_col("role", "role", "category", td_enum("ParticipantRole")),
    td_col("status", "status", "category", td_enum("ParticipantStatus")),
    td_col("screened_on", "screenedOn", "date"), td_col("eligible"),
    td_col("unmet_criteria", "unmetCriteria", "list"), td_col("reconsent_required", "reconsentRequired"),
    td_col("created_at", "createdAt", "instant")
  ))
}

#' @rdname td_participants
#' @export
td_participant <- function(client, trial, participant) {
  td_request(client, "getParticipant", list(trialId = trial, participantId = participant))
}

#' @rdname td_participants
#' @export
td_screen <- function(client, trial, site, label, screened_on, eligibility, baseline = NULL,
                      role = "service_user") {
  body <- td_drop_null(list(siteCode = site, role = role, label = label, screenedOn = screened_on,
                            eligibility = td_object(eligibility), baseline = td_object(baseline)))
  td_request(client, "screenParticipant", list(trialId = trial), body = body)
}

#' @rdname td_participants
#' @export
td_consent <- function(client, trial, participant, form, version, signed_on, obtained_by,
                       decision = "granted", method = "written", reason = NULL) {
  body <- td_drop_null(list(form = form, version = version, decision = decision, signedOn = signed_on,
                            obtainedBy = obtained_by, method = method, reason = reason))
  td_request(client, "recordConsent", list(trialId = trial, participantId = participant), body = body)
}

#' @rdname td_participants
#' @export
td_withdraw_consent <- function(client, trial, participant, consent, withdrawn_on, reason, scope) {
  td_request(client, "withdrawConsent", list(trialId = trial, participantId = participant, consentId = consent),
             body = list(withdrawnOn = withdrawn_on, reason = reason, scope = scope))
}

#' @rdname td_participants
#' @export
td_assign_case_worker <- function(client, trial, participant, arm, reason) {
  td_request(client, "assignCaseWorker", list(trialId = trial, participantId = participant),
             body = list(arm = arm, reason = reason))
}

#' Randomize a participant, once
#'
#' Every attempt carries the same `Idempotency-Key`, so a retry after a lost answer, a 5xx, a 429
#' or a 409 `idempotency-key-in-use` returns the first allocation instead of drawing another.
#'
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param participant A participant id.
#' @param idempotency_key The key; a new unique one when `NULL`.
#' @param retries How many times to resend.
#' @param backoff Seconds before the first resend, doubled each time (or the `Retry-After`).
#' @return The allocation as a list (`allocationId`, `arm`, `stratum`, `randomizedAt`, ...).
#' @export
td_randomize <- function(client, trial, participant, idempotency_key = NULL, retries = 3, backoff = 0.2) {
  key <- if (is.null(idempotency_key)) td_new_idempotency_key() else idempotency_key
  td_retrying(function() {
    td_request(client, "randomizeParticipant", list(trialId = trial, participantId = participant),
               headers = list(`Idempotency-Key` = key))
  }, retries, backoff)
}

#' Record a follow-up event
#' @param client A `td_client`.
#' @param trial A trial id.
#' @param participant A participant id.
#' @param type The event type, e.g. `lost_to_follow_up`, `follow_up_completed`.
#' @param occurred_on The date (`Date` or `"YYYY-MM-DD"`).
#' @param reason Why, when it has a reason.
#' @return The event as a list.
#' @export
td_record_event <- function(client, trial, participant, type, occurred_on, reason = NULL) {
  td_request(client, "recordEvent", list(trialId = trial, participantId = participant),
             body = td_drop_null(list(type = type, occurredOn = occurred_on, reason = reason)))
}

#' The allocation list
#'
#' For unblinded statisticians and admins (blinded keys get a `trialdesk_forbidden` condition).
#' @param client A `td_client`.
#' @param trial A trial id.
#' @return A data frame, one row per allocation; each stratum factor as a `stratum_<name>` factor,
#'   `arm` as a factor with the trial's arms in order.
#' @export
td_allocations <- function(client, trial) {
  trial_config <- td_trial(client, trial)
  rows <- td_pages(client, "listAllocations", list(trialId = trial))
  factors <- unique(unlist(lapply(rows, function(row) names(row$stratum))))
  stratum_cols <- lapply(factors, function(name) {
    td_col(paste0("stratum_", name), paste0("stratum.", name), "category", td_levels_of(trial_config, name))
  })
  td_frame(rows, c(
    list(td_col("sequence_number", "sequenceNumber")), stratum_cols,
    list(td_col("stratum_key", "stratumKey"), td_col("block_number", "blockNumber"),
         td_col("block_size", "blockSize"), td_col("position_in_block", "positionInBlock"),
         td_col("arm", "arm", "category", td_codes(trial_config$arms)),
         td_col("participant_id", "participantId"), td_col("randomized_at", "randomizedAt", "instant"),
         td_col("error_flag", "errorFlag"))
  ))
}
