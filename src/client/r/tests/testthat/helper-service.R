# The tests run against a live trialdesk service: TRIALDESK_TEST_URL and TRIALDESK_TEST_ADMIN_KEY (an
# unscoped admin key). scripts/test-clients.sh starts one on the embedded database and sets both.

service_url <- function() Sys.getenv("TRIALDESK_TEST_URL")
admin_key <- function() Sys.getenv("TRIALDESK_TEST_ADMIN_KEY")

skip_without_service <- function() {
  skip_if(!nzchar(service_url()) || !nzchar(admin_key()),
          "no service: set TRIALDESK_TEST_URL and TRIALDESK_TEST_ADMIN_KEY (scripts/test-clients.sh does)")
}

admin_client <- function(...) td_client(service_url(), admin_key(), ...)

eligible <- list(age18 = TRUE, chinese = TRUE, cantonese = TRUE, written_consent = TRUE,
                 immediate_risk = FALSE, overt_symptoms = FALSE)

unique_code <- function() {
  sprintf("SMCM-R-%d-%s", Sys.getpid(), paste(sample(c(letters, 0:9), 10, replace = TRUE), collapse = ""))
}

# The README walkthrough's SMCM trial (seed paper: SMCM vs TAU, three Hong Kong centres).
smcm_trial <- function(code = unique_code()) {
  list(
    code = code,
    title = "Strengths model case management vs treatment as usual",
    registry = "ACTRN12617001435370",
    arms = list(list(code = "SMCM", name = "Strengths model case management", ratio = 1),
                list(code = "TAU", name = "Treatment as usual", ratio = 1)),
    randomization = list(method = "permuted_block", blockSizes = list(2, 4, 6), stratifyBy = list("site")),
    eligibility = list(
      list(code = "age18", kind = "inclusion", text = "Aged 18 or above"),
      list(code = "chinese", kind = "inclusion", text = "Ethnically Chinese"),
      list(code = "cantonese", kind = "inclusion", text = "Cantonese speaking"),
      list(code = "written_consent", kind = "inclusion", text = "Able to give written informed consent"),
      list(code = "immediate_risk", kind = "exclusion", text = "Likely to engage in immediate risk behaviour"),
      list(code = "overt_symptoms", kind = "exclusion", text = "Overt symptoms")
    ),
    consentForms = list(list(code = "trial", version = "1.0", required = TRUE),
                        list(code = "audio", version = "1.0", required = FALSE)),
    baselineVariables = list(
      list(name = "age", type = "number", unit = "years", min = 18, max = 120),
      list(name = "sex", type = "category", levels = list("female", "male")),
      list(name = "diagnosis", type = "category",
           levels = list("schizophrenia", "depression", "bipolar", "adjustment", "anxiety", "other")),
      list(name = "onsetYears", type = "number", unit = "years", min = 0),
      list(name = "experienceYears", type = "number", unit = "years", min = 0, roles = list("case_worker"))
    ),
    incentives = list(list(code = "interview_coupon", description = "Supermarket coupon for the interview",
                           amount = 50, currency = "HKD", roles = list("service_user"), maxPerParticipant = 1))
  )
}

active_trial <- function(td) {
  trial <- td_create_trial(td, smcm_trial())
  td_add_sites(td, trial$id, c(A = "ICCMW centre A", B = "ICCMW centre B", C = "ICCMW centre C"))
  td_activate(td, trial$id)
  trial$id
}

# Screens an eligible service user and records written consent; the participant id.
enroll <- function(td, trial, label, site, age, sex) {
  p <- td_screen(td, trial, site = site, label = label, screened_on = "2018-03-05", eligibility = eligible,
                 baseline = list(age = age, sex = sex, diagnosis = "schizophrenia", onsetYears = 8))
  td_consent(td, trial, p$id, form = "trial", version = "1.0", signed_on = "2018-03-06", obtained_by = "IW")
  p$id
}
