test_that("the README walkthrough runs from R", {
  skip_without_service()
  td <- admin_client()
  expect_equal(td_health(td)$status, "ok")
  printed <- paste(capture.output(print(td), str(td)), collapse = "\n")
  expect_false(grepl(admin_key(), printed, fixed = TRUE))
  expect_match(format(td), "key hidden")

  # Trial set-up, sites, activation.
  trial <- td_create_trial(td, smcm_trial())
  expect_equal(trial$status, "setup")
  id <- trial$id
  sites <- td_add_sites(td, id, c(A = "ICCMW centre A", B = "ICCMW centre B", C = "ICCMW centre C"))
  expect_equal(vapply(sites, function(s) s$code, ""), c("A", "B", "C"))
  active <- td_activate(td, id)
  expect_equal(active$status, "active")
  expect_equal(nchar(active$allocationCommitment), 64)
  expect_error(td_add_sites(td, id, c(D = "a new centre would add a stratum")), class = "trialdesk_conflict")
  expect_true(id %in% td_trials(td, status = "active")$id)

  # Screening: eligible, ineligible with reasons, refused with every missing answer named.
  su <- td_screen(td, id, site = "A", label = "SU-0042", screened_on = as.Date("2018-03-01"), eligibility = eligible,
                  baseline = list(age = 45, sex = "female", diagnosis = "depression", onsetYears = 11))
  expect_equal(su$status, "eligible")
  ineligible <- td_screen(td, id, site = "B", label = "SU-0043", screened_on = "2018-03-01",
                          eligibility = modifyList(eligible, list(chinese = FALSE, overt_symptoms = TRUE)))
  expect_equal(ineligible$status, "ineligible")
  expect_equal(unlist(ineligible$unmetCriteria), c("chinese", "overt_symptoms"))
  invalid <- expect_error(
    td_screen(td, id, site = "B", label = "SU-0044", screened_on = "2018-03-01", eligibility = c(age18 = TRUE)),
    class = "trialdesk_validation_failed"
  )
  expect_true("/eligibility/chinese" %in% invalid$errors$pointer)
  expect_match(conditionMessage(invalid), "/eligibility/chinese", fixed = TRUE)

  # Consent, then withdrawal before randomization.
  consent <- td_consent(td, id, su$id, form = "trial", version = "1.0", signed_on = "2018-03-02", obtained_by = "IW")
  expect_equal(td_participant(td, id, su$id)$status, "consented")
  withdrawn <- td_withdraw_consent(td, id, su$id, consent$id, withdrawn_on = "2018-09-01",
                                   reason = "moved out of the district", scope = "intervention")
  expect_equal(withdrawn$withdrawal$scope, "intervention")
  expect_equal(td_participant(td, id, su$id)$status, "withdrawn")

  # Case workers, assigned to the arm whose service they deliver.
  experience <- list(SMCM = c(4.5, 2, 6.5, 3), TAU = c(12, 5.5, 1, 20))
  for (arm in names(experience)) {
    for (i in seq_along(experience[[arm]])) {
      cw <- td_screen(td, id, site = "A", role = "case_worker", label = sprintf("CW-%s-%d", arm, i),
                      screened_on = "2018-02-20", eligibility = list(),
                      baseline = list(experienceYears = experience[[arm]][[i]]))
      expect_equal(td_assign_case_worker(td, id, cw$id, arm = arm, reason = "trained")$assignment$arm, arm)
    }
  }

  # Randomization with an Idempotency-Key: a replay returns the same allocation, a new request is refused.
  people <- data.frame(label = c("SU-0101", "SU-0102", "SU-0103", "SU-0104"), site = c("A", "A", "B", "C"),
                       age = c(52, 47, 61, 38), sex = c("female", "male", "female", "female"))
  ids <- vapply(seq_len(nrow(people)), function(i) {
    enroll(td, id, people$label[i], people$site[i], people$age[i], people$sex[i])
  }, "")
  allocations <- lapply(ids, function(pid) td_randomize(td, id, pid, idempotency_key = paste0("rand-", pid)))
  arms <- vapply(allocations, function(a) a$arm, "")
  expect_true(all(arms %in% c("SMCM", "TAU")))
  expect_equal(vapply(allocations, function(a) a$stratum$site, ""), c("A", "A", "B", "C"))
  replay <- td_randomize(td, id, ids[1], idempotency_key = paste0("rand-", ids[1]))
  expect_equal(replay$allocationId, allocations[[1]]$allocationId)
  again <- expect_error(td_randomize(td, id, ids[1], retries = 0), class = "trialdesk_already_randomized")
  expect_s3_class(again, "trialdesk_conflict")

  # Follow-up, then CONSORT (counts, and the diagram saved as SVG).
  today <- as.Date(format(Sys.time(), tz = "UTC"))
  td_record_event(td, id, ids[2], type = "lost_to_follow_up", occurred_on = today, reason = "moved to mainland China")
  td_record_event(td, id, ids[3], type = "follow_up_completed", occurred_on = today)
  consort <- td_consort(td, id)
  expect_s3_class(consort$as_of, "Date")
  expect_equal(consort$as_of, today)
  expect_equal(consort$enrollment$assessedForEligibility, 6)
  expect_equal(consort$enrollment$excluded$total, 2)
  expect_equal(consort$enrollment$randomized, 4)
  expect_equal(levels(consort$arms$arm), c("SMCM", "TAU"))
  expect_equal(sum(consort$arms$allocated), 4)
  expect_equal(sum(consort$arms$lost_to_follow_up), 1)
  expect_equal(sum(consort$arms$analysed), 4)
  expect_equal(consort$enrollment$excluded$notMeetingInclusionCriteria$total, 1)
  reasons <- consort$excluded[consort$excluded$count > 0, ]
  expect_equal(paste(reasons$box, reasons$reason),
               c("notMeetingInclusionCriteria chinese", "notMeetingInclusionCriteria overt_symptoms",
                 "declinedToParticipate withdrew consent"))
  svg_file <- tempfile(fileext = ".svg")
  expect_equal(td_consort_svg(td, id, svg_file), svg_file)
  svg <- paste(readLines(svg_file, warn = FALSE), collapse = "\n")
  expect_match(svg, "<svg", fixed = TRUE)
  expect_match(svg, "data-pointer=\"/enrollment/randomized\"", fixed = TRUE)

  # The allocation list, with factors in the trial's order.
  allocation_list <- td_allocations(td, id)
  expect_setequal(allocation_list$participant_id, ids)
  expect_equal(levels(allocation_list$stratum_site), c("A", "B", "C"))
  expect_equal(levels(allocation_list$arm), c("SMCM", "TAU"))
  expect_s3_class(allocation_list$randomized_at, "POSIXct")

  # Table 1 of the service users: the ages by allocated arm, compared with R's own mean.
  table1 <- td_table1(td, id)
  ages <- setNames(people$age, ids)
  for (arm in c("SMCM", "TAU")) {
    row <- table1$numbers[table1$numbers$variable == "age" & table1$numbers$arm == arm, ]
    values <- ages[ids[arms == arm]]
    # Four people in three strata can all land in one arm; an empty arm has n = 0 and no mean.
    if (nrow(row) == 0) {
      expect_length(values, 0)
      next
    }
    expect_equal(row$n, length(values))
    if (length(values) > 0) {
      expect_equal(row$mean, mean(values), tolerance = 1e-12)
    } else {
      expect_true(is.na(row$mean))
    }
  }
  expect_equal(as.character(table1$variables$variable), c("age", "sex", "diagnosis", "onsetYears"))
  expect_equal(levels(table1$categories$level)[1:2], c("female", "male"))
  expect_equal(sum(table1$arms$n), 4)

  # Table 1 of the case workers: the Welch test on experience, against R's t.test.
  workers <- td_table1(td, id, role = "case_worker", tests = "welch")
  row <- workers$variables[workers$variables$variable == "experienceYears", ]
  reference <- t.test(experience$SMCM, experience$TAU)
  expect_equal(row$test, "welch")
  expect_equal(row$statistic, unname(reference$statistic), tolerance = 1e-10)
  expect_equal(row$df, unname(reference$parameter), tolerance = 1e-10)
  expect_equal(row$p, reference$p.value, tolerance = 1e-10)

  # The seed paper's comparison from its summary statistics: t(6.76) = -1.29, p = 0.24.
  paper <- td_t_test(td, list(list(label = "SMCM", mean = 4.29, sd = 2.08, n = 7),
                              list(label = "TAU", mean = 8.43, sd = 8.24, n = 7)))
  expect_equal(round(c(paper$t, paper$df, paper$p), 2), c(-1.29, 6.76, 0.24))

  # Participants: dates as Date, factors with the trial's levels.
  participants <- td_participants(td, id)
  expect_equal(nrow(participants), 14)
  expect_s3_class(participants$screened_on, "Date")
  expect_equal(levels(participants$site), c("A", "B", "C"))
  expect_equal(sum(participants$status == "randomized"), 4)

  # Coupons: the ledger and its totals.
  coupon <- td_issue_incentive(td, id, ids[3], incentive = "interview_coupon", issued_on = "2019-07-23",
                               reference = "coupon serial 004512")
  expect_equal(c(coupon$amount, coupon$currency), c(50, "HKD"))
  ledger <- td_incentives(td, id)
  expect_equal(nrow(ledger), 1)
  expect_equal(ledger$issued_on, as.Date("2019-07-23"))
  expect_equal(levels(ledger$incentive), "interview_coupon")
  expect_equal(td_incentive_summary(td, id)$byType[[1]]$netAmount, 50)

  # The audit trail and its hash chain.
  audit <- td_audit(td, id)
  expect_equal(audit$action[1:5], c("trial.created", "site.created", "site.created", "site.created", "trial.activated"))
  expect_equal(audit$sequence, seq_len(nrow(audit)))
  expect_s3_class(audit$occurred_at, "POSIXct")
  verification <- td_verify_audit(td, id)
  expect_true(verification$valid)
  expect_equal(verification$rowsChecked, nrow(audit))
})
