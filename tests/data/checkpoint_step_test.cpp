// data/checkpoint_step.h: the one revision-name parser.
#include "data/checkpoint_step.h"

#include <gtest/gtest.h>

namespace {
using pythia::data::step_of_revision;

TEST(CheckpointStep, StepAndGlobalStepNames) {
  EXPECT_EQ(step_of_revision("step0").value_or(-1), 0);
  EXPECT_EQ(step_of_revision("step143000").value_or(-1), 143000);
  EXPECT_EQ(step_of_revision("global_step71500").value_or(-1), 71500);
  EXPECT_EQ(step_of_revision("step999999999999999999").value_or(-1), 999999999999999999);  // 18 digits
}

TEST(CheckpointStep, EverythingElseIsNoStep) {
  for (const char* name : {"main", "step", "step12a", "step-1", "mystep3", "global_step", "Step3",
                           "step1234567890123456789", "step 3", ""}) {
    EXPECT_FALSE(step_of_revision(name).has_value()) << name;
  }
}

}  // namespace
