#include "workflow/lifecycle.h"

#include <algorithm>
#include <cctype>

namespace comity::workflow {
namespace {

using S = RequestState;
using A = Action;

using D = Direction;

struct Transition {
  D direction;
  S from;
  A action;
  S to;
  Actor actor;
};

// The whole machine. kScreened's target depends on the outcome and is resolved in ApplyAction.
constexpr Transition kTransitions[] = {
    // Outgoing.
    {D::kOutgoing, S::kDraft, A::kSubmit, S::kSubmitted, Actor::kOfficer},
    {D::kOutgoing, S::kDraft, A::kWithdraw, S::kWithdrawn, Actor::kOfficer},
    {D::kOutgoing, S::kSubmitted, A::kMarkDelivered, S::kDelivered, Actor::kSystem},
    {D::kOutgoing, S::kDelivered, A::kMarkAnswered, S::kAnswered, Actor::kSystem},
    {D::kOutgoing, S::kSubmitted, A::kMarkAnswered, S::kAnswered, Actor::kSystem},
    {D::kOutgoing, S::kDelivered, A::kInformationRequestedByPeer, S::kInformationRequested,
     Actor::kSystem},
    {D::kOutgoing, S::kAnswered, A::kInformationRequestedByPeer, S::kInformationRequested,
     Actor::kSystem},
    {D::kOutgoing, S::kInformationRequested, A::kReplyInformation, S::kDelivered, Actor::kOfficer},
    {D::kOutgoing, S::kAnswered, A::kMarkAnswered, S::kAnswered, Actor::kSystem},
    {D::kOutgoing, S::kAnswered, A::kClose, S::kClosed, Actor::kOfficer},
    // The requested state closed it without a final decision (its answer "closed").
    {D::kOutgoing, S::kSubmitted, A::kClosedByPeer, S::kClosed, Actor::kSystem},
    {D::kOutgoing, S::kDelivered, A::kClosedByPeer, S::kClosed, Actor::kSystem},
    {D::kOutgoing, S::kAnswered, A::kClosedByPeer, S::kClosed, Actor::kSystem},
    {D::kOutgoing, S::kInformationRequested, A::kClosedByPeer, S::kClosed, Actor::kSystem},
    // A peer's message that crossed the closing: recorded, nothing changes.
    {D::kOutgoing, S::kClosed, A::kReceivedAfterClose, S::kClosed, Actor::kSystem},
    // Incoming.
    {D::kIncoming, S::kReceived, A::kScreened, S::kInReview, Actor::kSystem},
    {D::kIncoming, S::kInReview, A::kExecute, S::kExecuted, Actor::kReviewer},
    {D::kIncoming, S::kInReview, A::kExecuteWithConditions, S::kExecutedWithConditions,
     Actor::kReviewer},
    {D::kIncoming, S::kInReview, A::kPostpone, S::kPostponed, Actor::kReviewer},
    {D::kIncoming, S::kInReview, A::kRequestInformation, S::kInformationRequested,
     Actor::kReviewer},
    {D::kIncoming, S::kInReview, A::kRefuse, S::kRefused, Actor::kReviewer},
    {D::kIncoming, S::kReady, A::kExecute, S::kExecuted, Actor::kReviewer},
    {D::kIncoming, S::kReady, A::kExecuteWithConditions, S::kExecutedWithConditions,
     Actor::kReviewer},
    {D::kIncoming, S::kReady, A::kPostpone, S::kPostponed, Actor::kReviewer},
    {D::kIncoming, S::kReady, A::kRequestInformation, S::kInformationRequested, Actor::kReviewer},
    {D::kIncoming, S::kReady, A::kRefuse, S::kRefused, Actor::kReviewer},
    {D::kIncoming, S::kPostponed, A::kExecute, S::kExecuted, Actor::kReviewer},
    {D::kIncoming, S::kPostponed, A::kExecuteWithConditions, S::kExecutedWithConditions,
     Actor::kReviewer},
    {D::kIncoming, S::kPostponed, A::kRefuse, S::kRefused, Actor::kReviewer},
    {D::kIncoming, S::kPostponed, A::kRequestInformation, S::kInformationRequested,
     Actor::kReviewer},
    {D::kIncoming, S::kInformationRequested, A::kInformationReceived, S::kInReview, Actor::kSystem},
    {D::kIncoming, S::kExecuted, A::kClose, S::kClosed, Actor::kReviewer},
    {D::kIncoming, S::kExecutedWithConditions, A::kClose, S::kClosed, Actor::kReviewer},
    {D::kIncoming, S::kRefused, A::kClose, S::kClosed, Actor::kReviewer},
    // Without a final decision (it stays postponed, or the information never came): with reasons.
    {D::kIncoming, S::kPostponed, A::kClose, S::kClosed, Actor::kReviewer},
    {D::kIncoming, S::kInformationRequested, A::kClose, S::kClosed, Actor::kReviewer},
    {D::kIncoming, S::kClosed, A::kReceivedAfterClose, S::kClosed, Actor::kSystem},
};

bool Blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

}  // namespace

bool AwaitsDecision(RequestState s) {
  return s == S::kReceived || s == S::kInReview || s == S::kReady || s == S::kPostponed ||
         s == S::kInformationRequested;
}

bool IsTerminal(RequestState s) { return s == S::kClosed || s == S::kWithdrawn; }

bool IsDecision(RequestState s) {
  return s == S::kExecuted || s == S::kExecutedWithConditions || s == S::kPostponed ||
         s == S::kInformationRequested || s == S::kRefused;
}

std::vector<Action> AllowedActions(Direction d, RequestState s) {
  std::vector<Action> out;
  for (const Transition& t : kTransitions) {
    if (t.direction == d && t.from == s && t.actor != Actor::kSystem &&
        std::find(out.begin(), out.end(), t.action) == out.end()) {
      out.push_back(t.action);
    }
  }
  return out;
}

std::optional<Actor> RequiredActor(Direction d, RequestState s, Action a) {
  for (const Transition& t : kTransitions) {
    if (t.direction == d && t.from == s && t.action == a) return t.actor;
  }
  return std::nullopt;
}

StatusOr<RequestState> ApplyAction(Direction d, RequestState s, Action a,
                                   const ActionContext& ctx) {
  const Transition* found = nullptr;
  for (const Transition& t : kTransitions) {
    if (t.direction == d && t.from == s && t.action == a) {
      found = &t;
      break;
    }
  }
  if (found == nullptr) {
    std::string allowed;
    for (Action x : AllowedActions(d, s)) {
      if (!allowed.empty()) allowed += ", ";
      allowed += EnumName(x);
    }
    return FailedPreconditionError("cannot " + std::string(EnumName(a)) + " a request in state " +
                                   std::string(EnumName(s)) +
                                   "; allowed: " + (allowed.empty() ? "nothing" : allowed));
  }
  if (found->actor != ctx.actor) {
    if (found->actor == Actor::kSystem) {
      return PermissionDeniedError(std::string(EnumName(a)) +
                                   " is recorded by the node itself, not by a person");
    }
    return PermissionDeniedError(std::string(EnumName(a)) + " must be taken by " +
                                 (found->actor == Actor::kOfficer ? "an officer" : "a reviewer"));
  }
  switch (a) {
    case A::kRefuse:
      if (Blank(ctx.reasons)) {
        return InvalidArgumentError(
            "a refusal must give its reasons (UNCC Art. 40); reasons are empty", "/reasons");
      }
      break;
    case A::kPostpone:
      if (Blank(ctx.reasons)) {
        return InvalidArgumentError(
            "a postponement must give its reasons (UNCC Art. 40); reasons are empty", "/reasons");
      }
      break;
    case A::kExecute:
    case A::kExecuteWithConditions:
      if (ctx.screening_outcome == Outcome::kRefuse && Blank(ctx.reasons)) {
        return InvalidArgumentError(
            "the screening recommended refusal; executing overrides it and needs the reviewer's "
            "reasons",
            "/reasons");
      }
      if (a == A::kExecuteWithConditions && ctx.condition_count == 0) {
        return InvalidArgumentError("execute_with_conditions needs at least one condition",
                                    "/conditions");
      }
      break;
    case A::kRequestInformation:
      if (Blank(ctx.reasons)) {
        return InvalidArgumentError("say what information is needed", "/reasons");
      }
      break;
    case A::kClose:
      if ((s == S::kPostponed || s == S::kInformationRequested) && Blank(ctx.reasons)) {
        return InvalidArgumentError("closing a request that was not finally decided (it is " +
                                        std::string(EnumName(s)) +
                                        ") must give its reasons; reasons are empty",
                                    "/reasons");
      }
      break;
    case A::kScreened:
      return ctx.screening_outcome == Outcome::kProceed ? S::kReady : S::kInReview;
    default:
      break;
  }
  return found->to;
}

}  // namespace comity::workflow
