#include "workflow/lifecycle.h"

#include <gtest/gtest.h>

namespace comity::workflow {
namespace {

using S = RequestState;
using A = Action;
constexpr Direction kOut = Direction::kOutgoing;
constexpr Direction kIn = Direction::kIncoming;

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
  s = *ApplyAction(kOut, s, A::kSubmit, Officer());
  EXPECT_EQ(s, S::kSubmitted);
  s = *ApplyAction(kOut, s, A::kMarkDelivered, System());
  EXPECT_EQ(s, S::kDelivered);
  s = *ApplyAction(kOut, s, A::kMarkAnswered, System());
  EXPECT_EQ(s, S::kAnswered);
  s = *ApplyAction(kOut, s, A::kClose, Officer());
  EXPECT_EQ(s, S::kClosed);
  EXPECT_TRUE(IsTerminal(s));
}

TEST(LifecycleTest, ScreeningRoutesByOutcome) {
  EXPECT_EQ(*ApplyAction(kIn, S::kReceived, A::kScreened, System(Outcome::kProceed)), S::kReady);
  for (Outcome o : {Outcome::kReview, Outcome::kIncomplete, Outcome::kRefuse}) {
    EXPECT_EQ(*ApplyAction(kIn, S::kReceived, A::kScreened, System(o)), S::kInReview);
  }
}

TEST(LifecycleTest, RefusalAndPostponementNeedReasons) {
  auto r = ApplyAction(kIn, S::kInReview, A::kRefuse, Reviewer(""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().pointer(), "/reasons");
  EXPECT_EQ(ApplyAction(kIn, S::kInReview, A::kRefuse, Reviewer("   \n")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*ApplyAction(kIn, S::kInReview, A::kRefuse, Reviewer("Art. 6: speech offence")),
            S::kRefused);
  EXPECT_FALSE(ApplyAction(kIn, S::kReady, A::kPostpone, Reviewer("")).ok());
  EXPECT_EQ(*ApplyAction(kIn, S::kReady, A::kPostpone, Reviewer("domestic investigation")),
            S::kPostponed);
}

TEST(LifecycleTest, OverridingARefuseRecommendationNeedsReasons) {
  auto r = ApplyAction(kIn, S::kInReview, A::kExecute, Reviewer("", Outcome::kRefuse));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("recommended refusal"), std::string::npos);
  EXPECT_EQ(*ApplyAction(kIn, S::kInReview, A::kExecute,
                         Reviewer("assurance received", Outcome::kRefuse)),
            S::kExecuted);
  // A review recommendation may be executed without reasons.
  EXPECT_EQ(*ApplyAction(kIn, S::kInReview, A::kExecute, Reviewer("", Outcome::kReview)),
            S::kExecuted);
}

TEST(LifecycleTest, ConditionsRequiredForConditionalExecution) {
  auto r =
      ApplyAction(kIn, S::kReady, A::kExecuteWithConditions, Reviewer("", Outcome::kProceed, 0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().pointer(), "/conditions");
  EXPECT_EQ(
      *ApplyAction(kIn, S::kReady, A::kExecuteWithConditions, Reviewer("", Outcome::kProceed, 2)),
      S::kExecutedWithConditions);
}

TEST(LifecycleTest, InvalidTransitionNamesWhatIsAllowed) {
  auto r = ApplyAction(kOut, S::kDraft, A::kRefuse, Reviewer("x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "cannot refuse a request in state draft; allowed: submit, withdraw");
  auto closed = ApplyAction(kOut, S::kClosed, A::kClose, Officer());
  EXPECT_EQ(closed.status().message(), "cannot close a request in state closed; allowed: nothing");
}

TEST(LifecycleTest, ActorsAreChecked) {
  EXPECT_EQ(ApplyAction(kIn, S::kInReview, A::kRefuse, Officer()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ApplyAction(kOut, S::kSubmitted, A::kMarkDelivered, Officer()).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ApplyAction(kOut, S::kDraft, A::kSubmit, Reviewer()).status().code(),
            StatusCode::kPermissionDenied);
}

TEST(LifecycleTest, InformationRoundTrip) {
  S in = *ApplyAction(kIn, S::kInReview, A::kRequestInformation, Reviewer("which account?"));
  EXPECT_EQ(in, S::kInformationRequested);
  EXPECT_TRUE(AwaitsDecision(in));
  EXPECT_EQ(*ApplyAction(kIn, in, A::kInformationReceived, System()), S::kInReview);
  S out = *ApplyAction(kOut, S::kDelivered, A::kInformationRequestedByPeer, System());
  EXPECT_EQ(*ApplyAction(kOut, out, A::kReplyInformation, Officer()), S::kDelivered);
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
        for (Direction d : {kOut, kIn}) {
          if (ApplyAction(d, s, static_cast<Action>(j), ctx).ok()) any = true;
        }
      }
    }
    EXPECT_TRUE(any) << EnumName(s);
  }
}

// The requested state may close a request without a final decision; the requesting state's
// node then closes its side, from wherever it waits. A closed request, on either side, only
// records a peer's message that crossed the closing. Both are the node's, never a person's.
TEST(LifecycleTest, APeersClosingAndMessagesAfterItAreRecordedByTheNode) {
  for (S s : {S::kSubmitted, S::kDelivered, S::kAnswered, S::kInformationRequested}) {
    EXPECT_EQ(*ApplyAction(kOut, s, A::kClosedByPeer, System()), S::kClosed) << EnumName(s);
    EXPECT_EQ(ApplyAction(kOut, s, A::kClosedByPeer, Officer()).status().code(),
              StatusCode::kPermissionDenied);
  }
  for (S s : {S::kDraft, S::kWithdrawn, S::kClosed}) {
    EXPECT_EQ(ApplyAction(kOut, s, A::kClosedByPeer, System()).status().code(),
              StatusCode::kFailedPrecondition)
        << EnumName(s);
  }
  EXPECT_EQ(ApplyAction(kIn, S::kPostponed, A::kClosedByPeer, System()).status().code(),
            StatusCode::kFailedPrecondition);
  for (Direction d : {kOut, kIn}) {
    EXPECT_EQ(*ApplyAction(d, S::kClosed, A::kReceivedAfterClose, System()), S::kClosed);
    EXPECT_EQ(ApplyAction(d, S::kClosed, A::kReceivedAfterClose, Reviewer("r")).status().code(),
              StatusCode::kPermissionDenied);
    EXPECT_TRUE(AllowedActions(d, S::kClosed).empty());
    EXPECT_TRUE(IsTerminal(S::kClosed));
  }
  for (S s : {S::kAnswered, S::kInReview, S::kWithdrawn}) {
    for (Direction d : {kOut, kIn}) {
      EXPECT_FALSE(ApplyAction(d, s, A::kReceivedAfterClose, System()).ok()) << EnumName(s);
    }
  }
}

TEST(LifecycleTest, RequiredActorNamesWhoTakesEachAction) {
  EXPECT_EQ(RequiredActor(kOut, RequestState::kDraft, Action::kSubmit), Actor::kOfficer);
  EXPECT_EQ(RequiredActor(kIn, RequestState::kInReview, Action::kRefuse), Actor::kReviewer);
  EXPECT_EQ(RequiredActor(kIn, RequestState::kReceived, Action::kScreened), Actor::kSystem);
  EXPECT_EQ(RequiredActor(kOut, RequestState::kAnswered, Action::kClose), Actor::kOfficer);
  EXPECT_EQ(RequiredActor(kIn, RequestState::kRefused, Action::kClose), Actor::kReviewer);
  // Not allowed from that state: no actor.
  EXPECT_EQ(RequiredActor(kOut, RequestState::kDraft, Action::kRefuse), std::nullopt);
  EXPECT_EQ(RequiredActor(kOut, RequestState::kClosed, Action::kClose), std::nullopt);
}

// information_requested is a state of both sides: the requesting state replies, the requested
// state waits for the reply (or closes the request, with reasons); neither takes the other's
// actions, and no side takes the other side's actions from its states.
TEST(LifecycleTest, EachSideHasItsOwnWaysOn) {
  EXPECT_EQ(AllowedActions(kOut, S::kInformationRequested),
            std::vector<Action>{A::kReplyInformation});
  EXPECT_EQ(AllowedActions(kIn, S::kInformationRequested), std::vector<Action>{A::kClose});
  auto reply = ApplyAction(kIn, S::kInformationRequested, A::kReplyInformation, Officer());
  EXPECT_EQ(reply.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reply.status().message(),
            "cannot reply a request in state information_requested; allowed: close");
  EXPECT_EQ(ApplyAction(kOut, S::kInformationRequested, A::kInformationReceived, System())
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyAction(kIn, S::kDraft, A::kSubmit, Officer()).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ApplyAction(kOut, S::kReady, A::kExecute, Reviewer()).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(RequiredActor(kOut, S::kInformationRequested, A::kClose), std::nullopt);
  EXPECT_EQ(RequiredActor(kIn, S::kInformationRequested, A::kClose), Actor::kReviewer);
}

// An incoming request left postponed, or waiting for information that never came, can be
// closed by a reviewer, who must say why; a decided one is closed without reasons.
TEST(LifecycleTest, ClosingWithoutAFinalDecisionNeedsReasons) {
  for (S s : {S::kPostponed, S::kInformationRequested}) {
    auto r = ApplyAction(kIn, s, A::kClose, Reviewer(" "));
    ASSERT_FALSE(r.ok()) << EnumName(s);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().pointer(), "/reasons");
    EXPECT_NE(r.status().message().find(EnumName(s)), std::string::npos);
    EXPECT_EQ(*ApplyAction(kIn, s, A::kClose, Reviewer("the requesting state did not reply")),
              S::kClosed);
    EXPECT_EQ(ApplyAction(kIn, s, A::kClose, Officer()).status().code(),
              StatusCode::kPermissionDenied);
  }
  EXPECT_EQ(*ApplyAction(kIn, S::kExecuted, A::kClose, Reviewer()), S::kClosed);
  EXPECT_EQ(*ApplyAction(kOut, S::kAnswered, A::kClose, Officer()), S::kClosed);
}

}  // namespace
}  // namespace comity::workflow
