library(testthat)
library(trialdesk)

test_check("trialdesk")
