# Follow-up: assessments, the analysis dataset and its data dictionary.

#' Record the outcome assessment of a visit
#'
#' @param client A `td_client` (admin or coordinator; a blinded key works).
#' @param trial A trial id.
#' @param participant A participant id.
#' @param visit The visit code (`baseline`, `m6`, ...).
#' @param assessed_on The date of the assessment (`Date` or `"YYYY-MM-DD"`).
#' @param values A named list, one value per measure: a scale as `list(items = c(3, 4, NA, ...))`
#'   (`NA` for an unanswered item), other measures as the value.
#' @param assessor Initials or code of the assessor.
#' @return The assessment with its computed scores, as a list.
#' @export
td_record_assessment <- function(client, trial, participant, visit, assessed_on, values, assessor = NULL) {
  values <- lapply(values, function(v) {
    if (is.list(v) && !is.null(v$items)) v$items <- lapply(v$items, function(i) if (is.na(i)) NULL else i)
    v
  })
  body <- td_drop_null(list(visit = visit, assessedOn = assessed_on, assessor = assessor, values = td_object(values)))
  td_request(client, "recordAssessment", list(trialId = trial, participantId = participant), body = body)
}

#' The analysis dataset and its data dictionary
#'
#' The long-format dataset a statistician analyses: one row per randomized service user and visit.
#' Column names are the service's, as the dictionary lists them (`participantId`, `siteCode`, `arm`,
#' `randomizedOn`, `visit`, ..., `population_itt`, then each measure's score and `<measure>_baseline`).
#'
#' @param client A `td_client` (admin or statistician).
#' @param trial A trial id.
#' @param items Also every scale item as entered (`<measure>_item<n>`).
#' @return `td_analysis_dataset()`: a data frame typed by the dictionary: dates as Date, integers as
#'   integer, scores as numeric, flags as logical; `siteCode`, `arm` (masked as `Group n` for blinded
#'   keys), `visit` (in the trial's visit order), `status` and category measures as factors with the
#'   trial's levels in order. `td_data_dictionary()`: a data frame, one row per column (`name`, `label`,
#'   `type` as a factor, `unit`, `range`, `scoring`).
#' @export
td_analysis_dataset <- function(client, trial, items = FALSE) {
  trial_config <- td_trial(client, trial)
  dictionary <- td_request(client, "getAnalysisDatasetDictionary", list(trialId = trial), list(items = items))
  rows <- td_pages(client, "getAnalysisDataset", list(trialId = trial), list(items = items))
  measure_levels <- list()
  for (measure in trial_config$measures) {
    if (identical(measure$type, "category")) {
      measure_levels[[measure$code]] <- unlist(measure$levels)
      measure_levels[[paste0(measure$code, "_baseline")]] <- unlist(measure$levels)
    }
  }
  factors <- list(siteCode = td_codes(trial_config$sites), arm = td_codes(trial_config$arms),
                  visit = td_codes(trial_config$visits), status = td_enum("VisitStatus"))
  cols <- lapply(dictionary$columns, function(column) {
    name <- column$name
    if (!is.null(factors[[name]])) return(td_col(name, kind = "category", levels = factors[[name]]))
    switch(column$type,
      date = td_col(name, kind = "date"),
      category = td_col(name, kind = "category", levels = measure_levels[[name]]),
      td_col(name, kind = column$type)
    )
  })
  td_frame(rows, cols)
}

#' @rdname td_analysis_dataset
#' @export
td_data_dictionary <- function(client, trial, items = FALSE) {
  dictionary <- td_request(client, "getAnalysisDatasetDictionary", list(trialId = trial), list(items = items))
  td_frame(dictionary$columns, list(
    td_col("name"), td_col("label"),
    td_col("type", kind = "category",
           levels = td_enum("AnalysisDatasetDictionary/properties/columns/items/properties/type")),
    td_col("unit"), td_col("range"), td_col("scoring")
  ))
}
