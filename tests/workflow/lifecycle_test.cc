#include "workflow/lifecycle.h"

#include <gtest/gtest.h>

namespace comity::workflow {
namespace {

using S = RequestState;
using A = Action;

ActionContext Officer() {
  ActionContext c;
  c.actor = Actor::kOfficer;
  return c;
}
ActionContext Reviewer(std::string reasons = {}, Outcome screening = Outcome::kReview,
                       int conditions = 0) {
  ActionContext c;
  c.actor = Actor::kReviewer;
  c.reasons = std::move(reasons);
  c.screening_outcome = screening;
  c.condition_count = conditions;
  return c;
}
ActionContext System(Outcome o = Outcome::kProceed) {
  ActionContext c;
  c.actor = Actor::kSystem;
  c.screening_outcome = o;
  return c;
}

TEST(LifecycleTest, OutgoingHappyPath) {
  S s = S::kDraft;
  s = *ApplyAction(s, A::kSubmit, Officer());
  EXPECT_EQ(s, S::kSubmitted);
  s = *ApplyAction(s, A::kMarkDelivered, System());
  EXPECT_EQ(s, S::kDelivered);
  s = *ApplyAction(s, A::kMarkAnswered, System());
  EXPECT_EQ(s, S::kAnswered);
  s = *ApplyAction(s, A::kClose, Officer());
  EXPECT_EQ(s, S::kClosed);
  EXPECT_TRUE(IsTerminal(s));
}

TEST(LifecycleTest, ScreeningRoutesByOutcome) {
  EXPECT_EQ(*ApplyAction(S::kReceived, A::kScreened, System(Outcome::kProceed)), S::kReady);
  for (Outcome o : {Outcome::kReview, Outcome::kIncomplete, Outcome::kRefuse}) {
    EXPECT_EQ(*ApplyAction(S::kReceived, A::kScreened, System(o)), S::kInReview);
  }
}

TEST(LifecycleTest, RefusalAndPostponementNeedReasons) {
  auto r = ApplyAction(S::kInReview, A::kRefuse, Reviewer(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().pointer(), "/reasons");
  EXPECT_EQ(ApplyAction(S::kInReview, A::kRefuse, Reviewer("   \n")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*ApplyAction(S::kInReview, A::kRefuse, Reviewer("Art. 6: speech offence")),
            S::kRefused);
  EXPECT_FALSE(ApplyAction(S::kReady, A::kPostpone, Reviewer("")).ok());
  EXPECT_EQ(*ApplyAction(S::kReady, A::kPostpone, Reviewer("domestic investigation")),
            S::kPostponed);
}

TEST(LifecycleTest, OverridingARefuseRecommendationNeedsReasons) {
  auto r = ApplyAction(S::kInReview, A::kExecute, Reviewer("", Outcome::kRefuse));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("recommended refusal"), std::string::npos);
  EXPECT_EQ(
      *ApplyAction(S::kInReview, A::kExecute, Reviewer("assurance received", Outcome::kRefuse)),
      S::kExecuted);
  // A review recommendation may be executed without reasons.
  EXPECT_EQ(*ApplyAction(S::kInReview, A::kExecute, Reviewer("", Outcome::kReview)), S::kExecuted);
}

TEST(LifecycleTest, ConditionsRequiredForConditionalExecution) {
  auto r = ApplyAction(S::kReady, A::kExecuteWithConditions, Reviewer("", Outcome::kProceed, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().pointer(), "/conditions");
  EXPECT_EQ(*ApplyAction(S::kReady, A::kExecuteWithConditions, Reviewer("", Outcome::kProceed, 2)),
            S::kExecutedWithConditions);
}

TEST(LifecycleTest, InvalidTransitionNamesWhatIsAllowed) {
  auto r = ApplyAction(S::kDraft, A::kRefuse, Reviewer("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "cannot refuse a request in state draft; allowed: submit, withdraw");
  auto closed = ApplyAction(S::kClosed, A::kClose, Officer());
  EXPECT_EQ(closed.status().message(), "cannot close a request in state closed; allowed: nothing");
}

TEST(LifecycleTest, ActorsAreChecked) {
  EXPECT_EQ(ApplyAction(S::kInReview, A::kRefuse, Officer()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ApplyAction(S::kSubmitted, A::kMarkDelivered, Officer()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ApplyAction(S::kDraft, A::kSubmit, Reviewer()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(LifecycleTest, InformationRoundTrip) {
  S in = *ApplyAction(S::kInReview, A::kRequestInformation, Reviewer("which account?"));
  EXPECT_EQ(in, S::kInformationRequested);
  EXPECT_TRUE(AwaitsDecision(in));
  EXPECT_EQ(*ApplyAction(in, A::kInformationReceived, System()), S::kInReview);
  S out = *ApplyAction(S::kDelivered, A::kInformationRequestedByPeer, System());
  EXPECT_EQ(*ApplyAction(out, A::kReplyInformation, Officer()), S::kDelivered);
}

TEST(LifecycleTest, EveryStateHasAWayForwardOrIsTerminal) {
  for (size_t i = 0; i < EnumCount<RequestState>(); ++i) {
    auto s = static_cast<RequestState>(i);
    bool any = IsTerminal(s);
    for (size_t j = 0; j < EnumCount<Action>(); ++j) {
      ActionContext ctx;
      for (Actor actor : {Actor::kSystem, Actor::kOfficer, Actor::kReviewer}) {
        ctx.actor = actor;
        ctx.reasons = "reasons";
        ctx.condition_count = 1;
        if (ApplyAction(s, static_cast<Action>(j), ctx).ok()) any = true;
      }
    }
    EXPECT_TRUE(any) << EnumName(s);
  }
}

TEST(LifecycleTest, RequiredActorNamesWhoTakesEachAction) {
  EXPECT_EQ(RequiredActor(RequestState::kDraft, Action::kSubmit), Actor::kOfficer);
  EXPECT_EQ(RequiredActor(RequestState::kInReview, Action::kRefuse), Actor::kReviewer);
  EXPECT_EQ(RequiredActor(RequestState::kReceived, Action::kScreened), Actor::kSystem);
  EXPECT_EQ(RequiredActor(RequestState::kAnswered, Action::kClose), Actor::kOfficer);
  EXPECT_EQ(RequiredActor(RequestState::kRefused, Action::kClose), Actor::kReviewer);
  // Not allowed from that state: no actor.
  EXPECT_EQ(RequiredActor(RequestState::kDraft, Action::kRefuse), std::nullopt);
  EXPECT_EQ(RequiredActor(RequestState::kClosed, Action::kClose), std::nullopt);
}

}  // namespace
}  // namespace comity::workflow
