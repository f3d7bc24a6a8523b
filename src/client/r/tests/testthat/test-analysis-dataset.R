hope_items <- c(3, 4, 2, 3, 3, 4, 3, 2, 3, 4, 3, 2) # items 3 and 6 reverse-scored: sum 34

follow_up <- list(
  visits = list(
    list(code = "baseline", label = "Baseline interview", day = 0, windowBefore = 30, windowAfter = 14),
    list(code = "m6", label = "6-month follow-up", day = 182, windowBefore = 30, windowAfter = 30),
    list(code = "m12", label = "12-month follow-up", day = 365, windowBefore = 30, windowAfter = 30)
  ),
  measures = list(
    list(code = "hope", label = "Herth Hope Index", type = "scale", items = 12, itemMin = 1, itemMax = 4,
         reverseItems = list(3, 6), score = "sum", maxMissingItems = 1, visits = list("baseline", "m6", "m12"),
         primary = TRUE),
    list(code = "employed", label = "In paid employment", type = "binary", visits = list("baseline", "m6", "m12")),
    list(code = "admissions", label = "Psychiatric admissions", type = "count", max = 50, visits = list("m6", "m12")),
    list(code = "living", label = "Living arrangement", type = "category", levels = list("alone", "family", "hostel"),
         visits = list("baseline", "m12"))
  ),
  primaryVisit = "m12"
)

# An active SMCM trial with visits and measures and three randomized service users; baseline and 6-month
# assessments for the first, a baseline for the second. The trial id and the participant ids.
follow_up_trial <- function(td) {
  trial <- td_create_trial(td, c(smcm_trial(), follow_up))
  td_add_sites(td, trial$id, c(A = "ICCMW centre A", B = "ICCMW centre B", C = "ICCMW centre C"))
  td_activate(td, trial$id)
  sites <- c("A", "B", "A")
  ids <- vapply(seq_along(sites), function(i) {
    pid <- enroll(td, trial$id, sprintf("FU-%d", i), sites[i], 30 + i, "male")
    td_randomize(td, trial$id, pid)
    pid
  }, character(1))
  today <- as.Date(format(Sys.time(), "%Y-%m-%d", tz = "UTC"))
  baseline <- td_record_assessment(td, trial$id, ids[1], "baseline", today,
                                   list(hope = list(items = hope_items), employed = FALSE, living = "family"),
                                   assessor = "IW")
  expect_equal(baseline$scores$hope$score, 34)
  td_record_assessment(td, trial$id, ids[1], "m6", today,
                       list(hope = list(items = c(hope_items[1:11], NA)), employed = TRUE, admissions = 2))
  td_record_assessment(td, trial$id, ids[2], "baseline", today, list(employed = TRUE))
  list(id = trial$id, participants = ids)
}

test_that("the analysis dataset is a typed data frame, one row per participant and visit, over pages", {
  skip_without_service()
  urls <- character(0)
  recording <- function(req) {
    urls <<- c(urls, req$url)
    httr2::req_perform(req)
  }
  td <- admin_client(page_size = 2, perform = recording)
  trial <- follow_up_trial(td)
  ids <- trial$participants

  urls <- character(0)
  data <- td_analysis_dataset(td, trial$id)
  expect_equal(sum(grepl("/analysis-dataset?", urls, fixed = TRUE)), 5) # 9 rows, 2 a page
  expect_equal(nrow(data), 9)
  expect_setequal(paste(data$participantId, data$visit), paste(rep(ids, each = 3), c("baseline", "m6", "m12")))
  expect_false(anyDuplicated(paste(data$participantId, data$visit)) > 0)
  expect_equal(levels(data$visit), c("baseline", "m6", "m12"))
  expect_equal(as.character(data$visit[data$participantId == ids[1]]), c("baseline", "m6", "m12"))
  expect_equal(levels(data$arm), c("SMCM", "TAU"))
  expect_false(anyNA(data$arm))
  expect_equal(levels(data$siteCode), c("A", "B", "C"))
  expect_equal(levels(data$living), c("alone", "family", "hostel"))
  expect_true(is.factor(data$status))
  expect_s3_class(data$randomizedOn, "Date")
  expect_s3_class(data$targetDate, "Date")
  expect_s3_class(data$assessedOn, "Date")
  expect_type(data$hope, "double")
  expect_type(data$admissions, "integer")
  expect_type(data$daysFromRandomization, "integer")
  expect_type(data$employed, "logical")
  expect_type(data$inWindow, "logical")
  expect_true(all(data$population_itt))

  m6 <- data[data$participantId == ids[1] & data$visit == "m6", ]
  expect_equal(m6$hope_baseline, 34)
  expect_equal(m6$hope, 32 / 11 * 12) # one item unanswered: prorated
  expect_false(m6$employed_baseline)
  expect_true(m6$employed)
  expect_equal(m6$admissions, 2L)
  expect_equal(as.character(m6$status), "completed")
  expect_equal(m6$daysFromRandomization, 0L)
  expect_equal(m6$targetDate, m6$randomizedOn + 182)
  expect_equal(as.character(data$living[data$participantId == ids[1] & data$visit == "baseline"]), "family")
  second <- data[data$participantId == ids[2] & data$visit == "baseline", ]
  expect_true(is.na(second$hope))
  expect_true(second$employed)
  third_m6 <- data[data$participantId == ids[3] & data$visit == "m6", ]
  expect_true(is.na(third_m6$assessedOn))
  expect_true(is.na(third_m6$admissions))
  expect_equal(as.character(data$status[data$participantId == ids[3] & data$visit == "m12"]), "not_due")

  dictionary <- td_data_dictionary(td, trial$id)
  expect_equal(dictionary$name, names(data))
  expect_equal(levels(dictionary$type), c("string", "date", "integer", "number", "boolean", "category"))
  hope <- dictionary[dictionary$name == "hope", ]
  expect_equal(hope$label, "Herth Hope Index")
  expect_equal(as.character(hope$type), "number")
  expect_equal(hope$range, "12-48")
  with_items <- td_analysis_dataset(td, trial$id, items = TRUE)
  expect_type(with_items$hope_item12, "integer")
  expect_equal(with_items$hope_item1[with_items$participantId == ids[1] & with_items$visit == "m6"], 3L)
})

test_that("a blinded key sees the analysis dataset with masked arms", {
  skip_without_service()
  td <- admin_client()
  trial <- follow_up_trial(td)
  created <- td_create_api_key(td, "Blinded statistician", "statistician", trials = trial$id, blinded = TRUE)
  blinded <- td_client(service_url(), created$key)
  data <- td_analysis_dataset(blinded, trial$id)
  expect_equal(nrow(data), 9)
  expect_setequal(levels(data$arm), c("Group 1", "Group 2"))
  expect_false(anyNA(data$arm))
  cells <- unlist(lapply(data, as.character))
  expect_false(any(c("SMCM", "TAU") %in% cells))
})
