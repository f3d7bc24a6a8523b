test_that("a blinded key sees masked groups and no allocation list", {
  skip_without_service()
  td <- admin_client()
  id <- active_trial(td)
  sites <- c("A", "A", "B", "C")
  for (i in seq_along(sites)) td_randomize(td, id, enroll(td, id, sprintf("SU-%d", i), sites[i], 30 + i, "female"))
  created <- td_create_api_key(td, "Blinded statistician", "statistician", trials = id, blinded = TRUE)
  expect_true(created$blinded)
  blinded <- td_client(service_url(), created$key)
  expect_false(grepl(created$key, paste(capture.output(print(blinded), str(blinded)), collapse = "\n"), fixed = TRUE))

  masked <- c("Group 1", "Group 2")
  expect_setequal(vapply(td_trial(blinded, id)$arms, function(a) a$code, ""), masked)
  consort <- td_consort(blinded, id)
  expect_setequal(levels(consort$arms$arm), masked)
  expect_equal(sum(consort$arms$allocated), 4)
  table1 <- td_table1(blinded, id)
  expect_setequal(as.character(table1$arms$arm), masked)
  expect_false(any(c("SMCM", "TAU") %in% as.character(table1$numbers$arm)))
  refused <- expect_error(td_allocations(blinded, id), class = "trialdesk_forbidden")
  expect_equal(refused$status, 403)
  expect_false(grepl(created$key, conditionMessage(refused), fixed = TRUE))
})

test_that("lists are followed across pages", {
  skip_without_service()
  urls <- character(0)
  recording <- function(req) {
    urls <<- c(urls, req$url)
    httr2::req_perform(req)
  }
  td <- admin_client(page_size = 2, perform = recording)
  id <- active_trial(td)
  labels <- sprintf("SU-P%d", 0:6)
  for (label in labels) enroll(td, id, label, "A", 50, "male")

  urls <- character(0)
  participants <- td_participants(td, id)
  expect_equal(participants$label, labels)
  expect_equal(sum(grepl("/participants", urls, fixed = TRUE)), 4) # 2 + 2 + 2 + 1
  expect_equal(sum(grepl("cursor=", urls, fixed = TRUE)), 3)

  audit <- td_audit(td, id)
  expect_gt(nrow(audit), 2)
  expect_equal(audit$sequence, seq_len(nrow(audit)))
  expect_true(any(grepl("after=", urls, fixed = TRUE)))
})

test_that("an idempotent retry after a lost answer randomizes once", {
  skip_without_service()
  td <- admin_client()
  id <- active_trial(td)
  pid <- enroll(td, id, "SU-R1", "B", 44, "female")

  keys <- character(0)
  lose_first_answer <- function(req) {
    resp <- httr2::req_perform(req)
    if (grepl("/randomization$", req$url)) {
      keys <<- c(keys, req$headers[["Idempotency-Key"]])
      if (length(keys) == 1) stop("connection reset after the request was sent")
    }
    resp
  }
  flaky <- admin_client(perform = lose_first_answer)
  allocation <- td_randomize(flaky, id, pid, backoff = 0.01)

  expect_length(keys, 2)
  expect_equal(keys[1], keys[2])
  expect_true(nzchar(keys[1]))
  expect_equal(td_allocations(td, id)$participant_id, pid)
  expect_equal(td_participant(td, id, pid)$allocation$allocationId, allocation$allocationId)
  expect_equal(sum(td_audit(td, id)$action == "participant.randomized"), 1)
})

test_that("problems are conditions classed by type, with their pointers", {
  skip_without_service()
  td <- admin_client()
  id <- active_trial(td)
  expect_error(td_trial(td, "00000000-0000-4000-8000-000000000000"), class = "trialdesk_not_found")
  bad_key <- paste0("td_not-a-key-", strrep("x", 30))
  unauthorized <- expect_error(td_trials(td_client(service_url(), bad_key)), class = "trialdesk_unauthorized")
  expect_false(grepl(strrep("x", 30), conditionMessage(unauthorized), fixed = TRUE))
  invalid <- expect_error(
    td_screen(td, id, site = "A", label = "SU-X", screened_on = "2018-13-45", eligibility = list()),
    class = "trialdesk_validation_failed"
  )
  expect_s3_class(invalid, "trialdesk_problem")
  expect_equal(invalid$status, 422)
  expect_true("/screenedOn" %in% invalid$errors$pointer)
  expect_match(conditionMessage(invalid), "/screenedOn", fixed = TRUE)
  expect_match(invalid$instance, "^urn:trialdesk:request:")
  caught <- tryCatch(td_screen(td, id, site = "A", label = "SU-Y", screened_on = "2018-13-45", eligibility = list()),
                     trialdesk_validation_failed = function(e) "handled by class")
  expect_equal(caught, "handled by class")
})

test_that("the client sends only what operations.json declares", {
  td <- td_client("http://127.0.0.1:9", "not-used-offline")
  expect_error(td_request(td, "listParticipants", list(trialId = "x"), list(sort = "label")), "does not declare")
})

test_that("an answer that is not problem+json still becomes a classed condition", {
  p <- td_problem(502, list(type = "about:blank", title = "Bad Gateway", status = 502, detail = "proxy"))
  expect_s3_class(p, "trialdesk_server_error")
  conflict <- td_problem(409, list(type = "https://trialdesk.dev/problems/list-exhausted", title = "Conflict",
                                   status = 409, detail = "d"))
  expect_equal(class(conflict)[1:3], c("trialdesk_list_exhausted", "trialdesk_conflict", "trialdesk_problem"))
})
