// memorization/scan_plan.h: enum names, validation before any model loads, and the run identity.
#include "memorization/scan_plan.h"

#include <gtest/gtest.h>

#include "data/error.h"

namespace pythia::memorization {
namespace {

ScanPlan valid_plan() {
  ScanPlan p;
  p.data = "/data/pile/document";
  return p;
}

TEST(ScanPlan, EnumNamesRoundTrip) {
  for (EodPolicy e : {EodPolicy::kReference, EodPolicy::kAllow}) EXPECT_EQ(parse_eod_policy(to_string(e)), e);
  for (ScoreMode m : {ScoreMode::kExact, ScoreMode::kMemorizedOnly}) EXPECT_EQ(parse_score_mode(to_string(m)), m);
  for (Checksums c : {Checksums::kAuto, Checksums::kAll, Checksums::kIdx, Checksums::kNone}) {
    EXPECT_EQ(parse_checksums(to_string(c)), c);
  }
  EXPECT_THROW(parse_eod_policy("bogus"), UsageError);
  EXPECT_THROW(parse_checksums("sha1"), UsageError);
  EXPECT_THROW(parse_score_mode(""), UsageError);
}

TEST(ScanPlan, ValidateRefusesWhatCannotRun) {
  EXPECT_NO_THROW(valid_plan().validate());
  auto bad = [](auto mutate) {
    ScanPlan p = valid_plan();
    mutate(p);
    return p;
  };
  EXPECT_THROW(bad([](ScanPlan& p) { p.data.clear(); }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.batch_size = 0; }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.continuation_len = 256; }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.prefix_len = 0; }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.tau = -1; }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.step = 143001; }).validate(), UsageError);
  EXPECT_THROW(bad([](ScanPlan& p) { p.start = 5; }).validate(), UsageError);  // no end
  EXPECT_THROW(bad([](ScanPlan& p) { p.start = 5; p.end = 4; }).validate(), UsageError);
}

TEST(ScanPlan, IdentityIgnoresWhereAndHowFast) {
  ScanPlan a = valid_plan(), b = valid_plan();
  b.output = "elsewhere";
  b.batch_size = 7;
  b.progress = false;
  EXPECT_EQ(a.to_json().dump(), b.to_json().dump());
  b.tau = 0.5;
  EXPECT_NE(a.to_json().dump(), b.to_json().dump());
  b = valid_plan();
  b.eod_policy = EodPolicy::kAllow;
  EXPECT_NE(a.to_json().dump(), b.to_json().dump());
  EXPECT_EQ(a.to_json()["eod_policy"], "reference");
  EXPECT_EQ(a.to_json()["score_mode"], "exact");
}

}  // namespace
}  // namespace pythia::memorization
