// The lifecycle of a request, as a pure state machine (no storage, no clock).
//
// Outgoing (we are the requesting state):
//   draft --submit--> submitted --delivered--> delivered --answered--> answered --close--> closed
//   delivered/answered --information_requested--> information_requested --reply--> delivered
//   submitted/delivered/answered/information_requested --closed_by_peer--> closed (the requested
//     state closed it without a final decision, with its reasons)
//   draft --withdraw--> withdrawn
// Incoming (we are the requested state):
//   received --screened--> in_review (outcome refuse/review/incomplete) | ready (proceed)
//   in_review/ready/postponed --decide(execute|execute_with_conditions|postpone|
//                                      request_information|refuse)--> the decision's state
//   information_requested --information_received--> in_review
//   executed/executed_with_conditions/refused --close--> closed
//   postponed/information_requested --close (with reasons)--> closed (the requesting state is
//     told, with the reasons)
// Either side, closed --received_after_close--> closed: a peer's message that crossed the
// closing (a decision, an information request or reply) is accepted and recorded; nothing else
// happens to a closed request.
//
// Art. 40: refusal and postponement need written reasons; the screening's `refuse` is only a
// recommendation that a reviewer confirms or overrides, with reasons either way; conditions
// travel with an execute_with_conditions decision.
//
//   StatusOr<RequestState> next =
//       ApplyAction(Direction::kIncoming, RequestState::kInReview, Action::kRefuse, ctx);
//   // kFailedPrecondition (409) names what is allowed from the current state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/enums.h"
#include "core/status.h"

namespace comity::workflow {

#define COMITY_REQUEST_STATES(X)                         \
  X(kDraft, "draft")                                     \
  X(kSubmitted, "submitted")                             \
  X(kDelivered, "delivered")                             \
  X(kAnswered, "answered")                               \
  X(kWithdrawn, "withdrawn")                             \
  X(kReceived, "received")                               \
  X(kInReview, "in_review")                              \
  X(kReady, "ready")                                     \
  X(kExecuted, "executed")                               \
  X(kExecutedWithConditions, "executed_with_conditions") \
  X(kPostponed, "postponed")                             \
  X(kInformationRequested, "information_requested")      \
  X(kRefused, "refused")                                 \
  X(kClosed, "closed")

#define COMITY_ACTIONS(X)                                 \
  X(kSubmit, "submit")                                    \
  X(kWithdraw, "withdraw")                                \
  X(kMarkDelivered, "delivered")                          \
  X(kMarkAnswered, "answered")                            \
  X(kInformationRequestedByPeer, "information_requested") \
  X(kReplyInformation, "reply")                           \
  X(kScreened, "screened")                                \
  X(kExecute, "execute")                                  \
  X(kExecuteWithConditions, "execute_with_conditions")    \
  X(kPostpone, "postpone")                                \
  X(kRequestInformation, "request_information")           \
  X(kRefuse, "refuse")                                    \
  X(kInformationReceived, "information_received")         \
  X(kClose, "close")                                      \
  X(kClosedByPeer, "closed_by_peer")                      \
  X(kReceivedAfterClose, "received_after_close")

COMITY_DECLARE_ENUM(RequestState, COMITY_REQUEST_STATES)
COMITY_DECLARE_ENUM(Action, COMITY_ACTIONS)

}  // namespace comity::workflow

namespace comity {
COMITY_ENUM_TRAITS(workflow::RequestState, COMITY_REQUEST_STATES)
COMITY_ENUM_TRAITS(workflow::Action, COMITY_ACTIONS)
}  // namespace comity

namespace comity::workflow {

// Who may take an action. System actions are taken by the node itself (federation, screening).
enum class Actor : uint8_t { kSystem, kOfficer, kReviewer };

// Which side of a request this node is: the requesting state (outgoing) or the requested one
// (incoming). information_requested and closed are states of both, with different ways on.
enum class Direction : uint8_t { kOutgoing, kIncoming };

struct ActionContext {
  Actor actor = Actor::kSystem;
  // For kScreened: the screening's outcome.
  Outcome screening_outcome = Outcome::kProceed;
  // For reviewer decisions: the screening's recommendation and the reviewer's reasons.
  std::string reasons;
  // For kExecuteWithConditions: how many conditions the decision carries.
  int condition_count = 0;
};

// States in which the requested state has not yet decided (the overdue list counts these).
bool AwaitsDecision(RequestState s);
// Terminal states: no person acts on the request any more (a peer's late message is only
// recorded: received_after_close).
bool IsTerminal(RequestState s);
// A decision state that is sent to the requesting state.
bool IsDecision(RequestState s);

// The actions a person (officer or reviewer) may take from `s`, for 409 answers and the UI.
std::vector<Action> AllowedActions(Direction d, RequestState s);

// Who takes `a` from `s`, or nullopt when `a` is not allowed from `s`. Lets a caller that may
// act both as officer and as reviewer (a supervisor) pass the right actor to ApplyAction.
std::optional<Actor> RequiredActor(Direction d, RequestState s, Action a);

// The state after `a`, or:
//   kFailedPrecondition: `a` is not allowed from `s` (message lists the allowed actions);
//   kInvalidArgument: reasons missing where Art. 40 requires them (and to close a request
//                     without a final decision), or conditions missing for
//                     execute_with_conditions (pointer "/reasons" or "/conditions");
//   kPermissionDenied: the actor may not take this action.
StatusOr<RequestState> ApplyAction(Direction d, RequestState s, Action a, const ActionContext& ctx);

}  // namespace comity::workflow
