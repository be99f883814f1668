// The service layer: every transition and every refusal, the federation seams between two
// nodes (messages carried by hand), the same-transaction guarantee under injected failures,
// what leaves may contain, disclosure after the embargo, and concurrent use.
#include "node/service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "node/leaf.h"
#include "tests/node/test_util.h"
#include "tlog/publish.h"
#include "tlog/verify.h"

namespace comity::node {
namespace {

namespace json = boost::json;
using testing::DraftBody;
using testing::Person;
using testing::ServiceFixture;
using workflow::Action;

const Principal kOfficer = Person("officer-ana7", Role::kOfficer);
const Principal kReviewer = Person("reviewer-rui3", Role::kReviewer);
const Principal kSupervisor = Person("supervisor-sol5", Role::kSupervisor);
const Principal kAuditor = Person("auditor-aud1", Role::kAuditor);
const Principal kAdmin = Person("admin-adm2", Role::kAdmin);

std::string Text(const json::value& v) { return json::serialize(v); }

ActionInput Do(Action a, std::string reasons = {}) {
  ActionInput in;
  in.action = a;
  in.reasons = std::move(reasons);
  return in;
}

// A valid public key's text (32 random bytes, base64).
std::string RandomKey() { return crypto::Base64Encode(crypto::RandomArray<32>()); }

void AddPeer(ServiceFixture& f, const std::string& state) {
  PeerInput p{state, "http://127.0.0.1:9", RandomKey(), RandomKey(), ""};
  auto r = f.service->AddPeer(kAdmin, p, false);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

// A LogStorage that fails WriteEntries while `fail` is set: a failure between the state change
// and its log entry.
class FailingLogStorage : public tlog::LogStorage {
 public:
  FailingLogStorage(std::unique_ptr<tlog::LogStorage> inner, std::atomic<bool>* fail)
      : inner_(std::move(inner)), fail_(fail) {}
  Status BeginWrite() override { return inner_->BeginWrite(); }
  Status Commit() override { return inner_->Commit(); }
  Status Rollback() override { return inner_->Rollback(); }
  StatusOr<std::optional<tlog::LogState>> ReadState() override { return inner_->ReadState(); }
  Status WriteState(const tlog::LogState& s) override { return inner_->WriteState(s); }
  StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) override {
    return inner_->ReadTile(level, index);
  }
  Status WriteTile(int level, uint64_t index, std::string_view hashes) override {
    return inner_->WriteTile(level, index, hashes);
  }
  Status WriteEntries(uint64_t first, std::span<const std::string> entries) override {
    if (fail_->load()) return UnavailableError("injected: the disk went away");
    return inner_->WriteEntries(first, entries);
  }
  StatusOr<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override {
    return inner_->ReadEntries(first, count);
  }
  Status WriteCheckpoint(uint64_t size, std::string_view note) override {
    return inner_->WriteCheckpoint(size, note);
  }
  StatusOr<std::optional<std::string>> ReadCheckpoint(uint64_t size) override {
    return inner_->ReadCheckpoint(size);
  }

 private:
  std::unique_ptr<tlog::LogStorage> inner_;
  std::atomic<bool>* fail_;
};

// Everything the database says about one request and the log, for before/after comparisons.
struct Snapshot {
  std::optional<store::RequestRecord> request;
  int64_t events = 0;
  int64_t records = 0;
  int64_t outbox = 0;
  uint64_t log_size = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot Take(ServiceFixture& f, const std::string& id) {
  auto db = f.OpenDb();
  auto st = store::NodeStore::Open(db.get()).value();
  auto ls = OpenNodeLogStorage(db.get()).value();
  Snapshot s;
  s.request = st->GetRequest(id).value();
  s.events = st->CountEvents().value();
  s.records = st->CountLogRecords().value();
  s.outbox = store::Outbox(db.get()).Depth().value();
  s.log_size = ls->ReadState().value()->size;
  return s;
}

// Carries every due message of `from` to `to` and records a receipt for it at `from`.
// Returns how many were carried.
int Carry(ServiceFixture& from, ServiceFixture& to) {
  auto due = from.service->DueMessages(from.clock.Now(), 100).value();
  for (const auto& m : due) {
    StatusOr<IncomingResult> r = Status();
    if (m.kind == "request") {
      r = to.service->AcceptIncomingRequest(from.state, m.message_id, m.body);
    } else if (m.kind == "decision" || m.kind == "information_request") {
      r = to.service->ApplyReceivedDecision(from.state, m.message_id, m.body);
    } else if (m.kind == "information_reply") {
      r = to.service->AcceptInformationReply(from.state, m.message_id, m.body);
    }
    EXPECT_TRUE(r.ok()) << m.kind << ": " << r.status().ToString();
    Status s = from.service->RecordDelivery(m.message_id, "receipt-of-" + m.message_id);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  return static_cast<int>(due.size());
}

std::string State(ServiceFixture& f, const std::string& id) {
  return f.service->GetRequest(id).value().record.state;
}

class ServiceTest : public ::testing::Test {
 protected:
  ServiceFixture xa{"XA"};
  ServiceFixture xb{"XB"};

  void SetUp() override {
    AddPeer(xa, "XB");
    AddPeer(xb, "XA");
  }

  std::string Draft(ServiceFixture& f, const json::object& body, const Principal& who = kOfficer) {
    auto d = f.service->CreateDraft(who, Text(body));
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? d->record.id : "";
  }

  // XA drafts and submits a clean request to XB, which receives it. Returns its id.
  std::string SendToXB() {
    const std::string id = Draft(xa, DraftBody("XA", "XB"));
    EXPECT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
    EXPECT_EQ(Carry(xa, xb), 1);
    return id;
  }
};

// --- drafts --------------------------------------------------------------------------------

TEST_F(ServiceTest, DraftIsPreScreenedLoggedAndNamedByTheNode) {
  auto d = xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB")));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(std::regex_match(d->record.id, std::regex("XA-[0-9]{4}-[0-9a-f]{16}")))
      << d->record.id;
  EXPECT_EQ(d->record.state, "draft");
  EXPECT_EQ(d->record.version, 1);
  EXPECT_EQ(d->record.created_by, "officer-ana7");
  EXPECT_EQ(d->screening.request_id, d->record.id);
  EXPECT_EQ(d->record.screening_outcome, std::string(EnumName(d->screening.outcome)));
  RequestView v = xa.service->GetRequest(d->record.id).value();
  ASSERT_EQ(v.events.size(), 1u);
  EXPECT_EQ(v.events[0].action, "create");
  EXPECT_EQ(v.events[0].actor, "officer-ana7");
  EXPECT_EQ(v.events[0].from_state, std::nullopt);
  EXPECT_EQ(v.events[0].to_state, "draft");
  EXPECT_EQ(v.events[0].log_index, 0);
  EXPECT_EQ(v.allowed, (std::vector<Action>{Action::kSubmit, Action::kWithdraw}));
  Request stored = ParseRequest(v.record.request_json).value();
  EXPECT_EQ(stored.id, std::optional<std::string>(d->record.id));
  EXPECT_TRUE(stored.created.has_value());
  EXPECT_EQ(xa.service->LogState().value().size, 1u);
}

struct BadDraft {
  const char* name;
  std::function<void(json::object&)> edit;
  StatusCode code;
  const char* pointer;
};

TEST_F(ServiceTest, BadDraftsAreRefusedWithThePointer) {
  const BadDraft cases[] = {
      {"carries an id", [](json::object& o) { o["id"] = "XA-mine"; }, StatusCode::kInvalidArgument,
       "/id"},
      {"carries created", [](json::object& o) { o["created"] = "2026-01-01T00:00:00Z"; },
       StatusCode::kInvalidArgument, "/created"},
      {"from another state", [](json::object& o) { o["requesting_state"] = "XD"; },
       StatusCode::kInvalidArgument, "/requesting_state"},
      {"to ourselves", [](json::object& o) { o["requested_state"] = "XA"; },
       StatusCode::kInvalidArgument, "/requested_state"},
      {"to a state without a profile", [](json::object& o) { o["requested_state"] = "XQ"; },
       StatusCode::kInvalidArgument, "/requested_state"},
      {"schema violation",
       [](json::object& o) { o["offences"].as_array()[0].as_object()["max_penalty_years"] = "8"; },
       StatusCode::kInvalidArgument, "/offences/0/max_penalty_years"},
      {"unknown member",
       [](json::object& o) { o["offences"].as_array()[0].as_object()["colour"] = 1; },
       StatusCode::kInvalidArgument, "/offences/0"},
  };
  for (const BadDraft& c : cases) {
    json::object body = DraftBody("XA", "XB");
    c.edit(body);
    auto d = xa.service->CreateDraft(kOfficer, Text(body));
    ASSERT_FALSE(d.ok()) << c.name;
    EXPECT_EQ(d.status().code(), c.code) << c.name << ": " << d.status().ToString();
    EXPECT_EQ(d.status().pointer(), c.pointer) << c.name << ": " << d.status().ToString();
  }
  EXPECT_EQ(xa.service->CreateDraft(kOfficer, "{not json").status().code(),
            StatusCode::kInvalidArgument);
  for (const Principal* who : {&kReviewer, &kAuditor, &kAdmin}) {
    EXPECT_EQ(xa.service->CreateDraft(*who, Text(DraftBody("XA", "XB"))).status().code(),
              StatusCode::kPermissionDenied)
        << who->name;
  }
  EXPECT_EQ(xa.service->LogState().value().size, 0u);  // nothing was logged
}

// --- outgoing ------------------------------------------------------------------------------

TEST_F(ServiceTest, SubmitQueuesTheRequestInTheSameChange) {
  const std::string id = Draft(xa, DraftBody("XA", "XB"));
  xa.clock.Advance(3600);
  auto r = xa.service->Act(kOfficer, id, Do(Action::kSubmit));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, "submitted");
  EXPECT_EQ(r->version, 2);
  EXPECT_TRUE(r->awaiting_answer);
  ASSERT_TRUE(r->respond_by.has_value());
  // created is the submission time; respond_by follows XB's routine response days.
  Request sent = ParseRequest(r->request_json).value();
  EXPECT_EQ(sent.created->seconds, xa.clock.Now().seconds);
  auto due = xa.service->DueMessages(xa.clock.Now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "request");
  EXPECT_EQ(due[0].recipient, "XB");
  EXPECT_EQ(due[0].body, r->request_json);
  EXPECT_EQ(due[0].request_id, std::optional<std::string>(id));
  auto events = xa.service->GetRequest(id).value().events;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].action, "submit");
  json::value detail = json::parse(*events[1].detail_json);
  EXPECT_EQ(detail.at("message_id").as_string(), due[0].message_id);
}

TEST_F(ServiceTest, SubmitRefusals) {
  const std::string id = Draft(xa, DraftBody("XA", "XD"));  // no peer XD
  auto noPeer = xa.service->Act(kOfficer, id, Do(Action::kSubmit));
  EXPECT_EQ(noPeer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(noPeer.status().message().find("no peer for XD"), std::string::npos);
  for (const Principal* who : {&kReviewer, &kAuditor, &kAdmin}) {
    auto r = xa.service->Act(*who, id, Do(Action::kSubmit));
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << who->name;
  }
  EXPECT_EQ(xa.service->Act(kOfficer, "XA-2026-nope", Do(Action::kSubmit)).status().code(),
            StatusCode::kNotFound);
  // A stale version is a conflict.
  const std::string ok = Draft(xa, DraftBody("XA", "XB"));
  ActionInput stale = Do(Action::kSubmit);
  stale.expected_version = 7;
  auto r = xa.service->Act(kOfficer, ok, stale);
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_NE(r.status().message().find("version 1, not 7"), std::string::npos);
  // Twice: nothing is allowed to a person from submitted.
  ASSERT_TRUE(xa.service->Act(kSupervisor, ok, Do(Action::kSubmit)).ok());
  auto twice = xa.service->Act(kOfficer, ok, Do(Action::kSubmit));
  EXPECT_EQ(twice.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(twice.status().message().find("allowed: nothing"), std::string::npos);
  // System actions are not a person's.
  EXPECT_EQ(xa.service->Act(kSupervisor, ok, Do(Action::kMarkDelivered)).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(ServiceTest, WithdrawADraft) {
  const std::string id = Draft(xa, DraftBody("XA", "XB"));
  auto r = xa.service->Act(kOfficer, id, Do(Action::kWithdraw, "sent by mistake"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, "withdrawn");
  auto v = xa.service->GetRequest(id).value();
  EXPECT_EQ(v.events.back().reason, std::optional<std::string>("sent by mistake"));
  EXPECT_TRUE(v.allowed.empty());
  EXPECT_EQ(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ServiceTest, DeliveryReceiptsMoveSubmittedToDeliveredOnce) {
  const std::string id = Draft(xa, DraftBody("XA", "XB"));
  ASSERT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  const auto m = xa.service->DueMessages(xa.clock.Now(), 10).value().at(0);
  Status failed = xa.service->RecordDeliveryFailure(
      m.message_id, Timestamp{xa.clock.Now().seconds + 60, 0}, "connection refused");
  ASSERT_TRUE(failed.ok()) << failed.ToString();
  EXPECT_TRUE(xa.service->DueMessages(xa.clock.Now(), 10).value().empty());
  EXPECT_EQ(xa.service->OutboxDepth().value(), 1);
  ASSERT_TRUE(xa.service->RecordDelivery(m.message_id, "signed receipt").ok());
  EXPECT_EQ(State(xa, id), "delivered");
  EXPECT_EQ(xa.service->OutboxDepth().value(), 0);
  // The same receipt again is a no-op; another one is refused.
  const size_t events = xa.service->GetRequest(id).value().events.size();
  EXPECT_TRUE(xa.service->RecordDelivery(m.message_id, "signed receipt").ok());
  EXPECT_EQ(xa.service->GetRequest(id).value().events.size(), events);
  EXPECT_EQ(xa.service->RecordDelivery(m.message_id, "other").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(xa.service->RecordDelivery(std::string(32, 'f'), "r").code(), StatusCode::kNotFound);
  EXPECT_EQ(xa.service->RecordDelivery(m.message_id, "").code(), StatusCode::kInvalidArgument);
}

// --- between two nodes ---------------------------------------------------------------------

TEST_F(ServiceTest, IncomingRequestIsScreenedAndDecidedAndTheAnswerComesBack) {
  const std::string id = SendToXB();
  EXPECT_EQ(State(xa, id), "delivered");
  RequestView in = xb.service->GetRequest(id).value();
  EXPECT_EQ(in.record.direction, "incoming");
  EXPECT_TRUE(in.record.state == "ready" || in.record.state == "in_review") << in.record.state;
  ASSERT_EQ(in.events.size(), 2u);
  EXPECT_EQ(in.events[0].action, "receive");
  EXPECT_EQ(in.events[1].action, "screened");
  EXPECT_EQ(in.events[1].actor, "system");
  EXPECT_TRUE(in.record.awaiting_answer);

  ActionInput conditional = Do(Action::kExecuteWithConditions);
  conditional.conditions = {
      {"use-limitation", "Only for proceedings INV-2026-0412.", std::nullopt},
      {"retention", "Delete after the trial.", ParseDate("2028-12-31").value()}};
  auto decided = xb.service->Act(kReviewer, id, conditional);
  ASSERT_TRUE(decided.ok()) << decided.status().ToString();
  EXPECT_EQ(decided->state, "executed_with_conditions");
  EXPECT_FALSE(decided->awaiting_answer);
  ASSERT_TRUE(decided->conditions_json.has_value());
  EXPECT_EQ(Carry(xb, xa), 1);
  RequestView out = xa.service->GetRequest(id).value();
  EXPECT_EQ(out.record.state, "answered");
  json::value answer = json::parse(*out.record.decision_json);
  EXPECT_EQ(answer.at("decision").as_string(), "executed_with_conditions");
  EXPECT_EQ(answer.at("conditions").as_array().size(), 2u);
  EXPECT_EQ(answer.at("conditions").as_array()[1].at("until").as_string(), "2028-12-31");
  EXPECT_FALSE(out.record.awaiting_answer);

  // Each side closes its own; the other side's role cannot.
  EXPECT_EQ(xa.service->Act(kReviewer, id, Do(Action::kClose)).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(State(xa, id), "answered");
  ASSERT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kClose, "evidence received")).ok());
  EXPECT_EQ(xb.service->Act(kOfficer, id, Do(Action::kClose)).status().code(),
            StatusCode::kPermissionDenied);
  ASSERT_TRUE(xb.service->Act(kReviewer, id, Do(Action::kClose)).ok());
  EXPECT_EQ(State(xa, id), "closed");
  EXPECT_EQ(State(xb, id), "closed");
  // Every event has its own log entry on its own node.
  for (ServiceFixture* f : {&xa, &xb}) {
    auto events = f->service->GetRequest(id).value().events;
    std::set<int64_t> indexes;
    for (const auto& e : events) indexes.insert(e.log_index);
    EXPECT_EQ(indexes.size(), events.size());
  }
}

TEST_F(ServiceTest, DecisionRefusalsFollowArticle40) {
  const std::string id = SendToXB();
  struct Case {
    ActionInput in;
    const Principal* who;
    StatusCode code;
    const char* pointer;
  };
  ActionInput with_conditions_no_list = Do(Action::kExecuteWithConditions);
  ActionInput execute_with_list = Do(Action::kExecute);
  execute_with_list.conditions = {{"retention", "x", std::nullopt}};
  ActionInput bad_code = Do(Action::kExecuteWithConditions);
  bad_code.conditions = {{"Use Limitation!", "x", std::nullopt}};
  ActionInput empty_text = Do(Action::kExecuteWithConditions);
  empty_text.conditions = {{"retention", "  ", std::nullopt}};
  ActionInput too_many = Do(Action::kExecuteWithConditions);
  too_many.conditions.assign(kMaxConditions + 1, ConditionInput{"retention", "x", std::nullopt});
  ActionInput long_reasons = Do(Action::kRefuse, std::string(kMaxReasonBytes + 1, 'r'));
  const Case cases[] = {
      {Do(Action::kRefuse), &kReviewer, StatusCode::kInvalidArgument, "/reasons"},
      {Do(Action::kRefuse, "   "), &kReviewer, StatusCode::kInvalidArgument, "/reasons"},
      {Do(Action::kPostpone), &kReviewer, StatusCode::kInvalidArgument, "/reasons"},
      {Do(Action::kRequestInformation), &kReviewer, StatusCode::kInvalidArgument, "/reasons"},
      {with_conditions_no_list, &kReviewer, StatusCode::kInvalidArgument, "/conditions"},
      {execute_with_list, &kReviewer, StatusCode::kInvalidArgument, "/conditions"},
      {bad_code, &kReviewer, StatusCode::kInvalidArgument, "/conditions/0/code"},
      {empty_text, &kReviewer, StatusCode::kInvalidArgument, "/conditions/0/text"},
      {too_many, &kReviewer, StatusCode::kInvalidArgument, "/conditions"},
      {long_reasons, &kReviewer, StatusCode::kInvalidArgument, "/reasons"},
      {Do(Action::kExecute), &kOfficer, StatusCode::kPermissionDenied, ""},
      {Do(Action::kExecute), &kAuditor, StatusCode::kPermissionDenied, ""},
      {Do(Action::kExecute), &kAdmin, StatusCode::kPermissionDenied, ""},
      {Do(Action::kClose), &kReviewer, StatusCode::kFailedPrecondition, ""},
      {Do(Action::kSubmit), &kSupervisor, StatusCode::kFailedPrecondition, ""},
  };
  for (const Case& c : cases) {
    auto r = xb.service->Act(*c.who, id, c.in);
    ASSERT_FALSE(r.ok()) << EnumName(c.in.action);
    EXPECT_EQ(r.status().code(), c.code) << EnumName(c.in.action) << ": " << r.status().ToString();
    EXPECT_EQ(r.status().pointer(), c.pointer) << r.status().ToString();
  }
  EXPECT_EQ(xb.service->OutboxDepth().value(), 0);  // nothing was sent
  // Postponed, then executed by a supervisor.
  ASSERT_TRUE(xb.service->Act(kReviewer, id, Do(Action::kPostpone, "the provider is down")).ok());
  EXPECT_TRUE(xb.service->GetRequest(id).value().record.awaiting_answer);
  ASSERT_TRUE(xb.service->Act(kSupervisor, id, Do(Action::kExecute)).ok());
  EXPECT_EQ(Carry(xb, xa), 2);
  EXPECT_EQ(State(xa, id), "answered");  // postponed, then executed
}

TEST_F(ServiceTest, ScreeningRefusalIsARecommendationAReviewerConfirmsOrOverridesWithReasons) {
  // XB asks XA about a speech offence, which XA's profile refuses.
  const std::string id = Draft(xb, testing::RefusedDraftBody("XB", "XA"));
  EXPECT_EQ(xb.service->GetRequest(id).value().record.screening_outcome,
            std::optional<std::string>("refuse"));
  ASSERT_TRUE(xb.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  RequestView in = xa.service->GetRequest(id).value();
  EXPECT_EQ(in.record.state, "in_review");
  EXPECT_EQ(in.record.screening_outcome, std::optional<std::string>("refuse"));
  // Overriding the recommendation needs reasons.
  auto silent = xa.service->Act(kReviewer, id, Do(Action::kExecute));
  EXPECT_EQ(silent.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(silent.status().pointer(), "/reasons");
  // So does confirming it.
  EXPECT_EQ(xa.service->Act(kReviewer, id, Do(Action::kRefuse)).status().pointer(), "/reasons");
  auto refused = xa.service->Act(kReviewer, id, Do(Action::kRefuse, "Art. 6: speech offence."));
  ASSERT_TRUE(refused.ok()) << refused.status().ToString();
  ASSERT_EQ(Carry(xa, xb), 1);
  RequestView out = xb.service->GetRequest(id).value();
  EXPECT_EQ(out.record.state, "answered");
  json::value answer = json::parse(*out.record.decision_json);
  EXPECT_EQ(answer.at("decision").as_string(), "refused");
  EXPECT_EQ(answer.at("reasons").as_string(), "Art. 6: speech offence.");
  EXPECT_EQ(out.events.back().reason, std::optional<std::string>("Art. 6: speech offence."));
}

TEST_F(ServiceTest, OverrideOfARefusalWithReasonsIsRecorded) {
  const std::string id = Draft(xb, testing::RefusedDraftBody("XB", "XA"));
  ASSERT_TRUE(xb.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  auto r = xa.service->Act(kReviewer, id,
                           Do(Action::kExecute, "The conduct is fraud, not speech, on the facts."));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, "executed");
  EXPECT_EQ(xa.service->GetRequest(id).value().events.back().reason,
            std::optional<std::string>("The conduct is fraud, not speech, on the facts."));
}

TEST_F(ServiceTest, InformationRequestAndReplyGoRoundTheLoop) {
  const std::string id = SendToXB();
  ASSERT_TRUE(
      xb.service->Act(kReviewer, id, Do(Action::kRequestInformation, "Which account, exactly?"))
          .ok());
  EXPECT_EQ(State(xb, id), "information_requested");
  auto due = xb.service->DueMessages(xb.clock.Now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "information_request");
  ASSERT_EQ(Carry(xb, xa), 1);
  EXPECT_EQ(State(xa, id), "information_requested");
  // Each side has its own way on from information_requested: the requesting state replies, the
  // requested state waits (or closes it, with reasons) and cannot reply to itself.
  EXPECT_EQ(xa.service->GetRequest(id).value().allowed,
            std::vector<Action>{Action::kReplyInformation});
  EXPECT_EQ(xb.service->GetRequest(id).value().allowed, std::vector<Action>{Action::kClose});
  ActionInput own = Do(Action::kReplyInformation);
  own.information = "an answer to itself";
  auto wrong_side = xb.service->Act(kSupervisor, id, own);
  EXPECT_EQ(wrong_side.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong_side.status().message(),
            "cannot reply a request in state information_requested; allowed: close");
  // The reply needs its information; then it goes back.
  EXPECT_EQ(xa.service->Act(kOfficer, id, Do(Action::kReplyInformation)).status().pointer(),
            "/information");
  ActionInput reply = Do(Action::kReplyInformation);
  reply.information = "The account is kit-admin; see the attached order.";
  auto r = xa.service->Act(kOfficer, id, reply);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, "delivered");
  ASSERT_EQ(Carry(xa, xb), 1);
  RequestView back = xb.service->GetRequest(id).value();
  EXPECT_EQ(back.record.state, "in_review");
  EXPECT_EQ(back.events.back().action, "information_received");
  EXPECT_NE(back.events.back().detail_json->find("kit-admin"), std::string::npos);
}

// An incoming request left postponed (or waiting for information that never came) is closed
// by a reviewer who says why: the reasons are in its history, it is no longer awaited (nor
// overdue), the log records the closing, and the requesting state is told, with the reasons
// (answer "closed"): its request is closed too, by its node, and no longer awaited there.
TEST_F(ServiceTest, APostponedRequestIsClosedWithReasonsAndTheRequestingStateIsTold) {
  const std::string id = SendToXB();
  ASSERT_TRUE(xb.service->Act(kReviewer, id, Do(Action::kPostpone, "the provider is down")).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  EXPECT_EQ(State(xa, id), "answered");
  const uint64_t log_size = xb.service->LogState().value().size;
  const uint64_t xa_log_size = xa.service->LogState().value().size;
  auto bare = xb.service->Act(kReviewer, id, Do(Action::kClose));
  EXPECT_EQ(bare.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bare.status().pointer(), "/reasons");
  EXPECT_EQ(xb.service->Act(kOfficer, id, Do(Action::kClose, "x")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(xb.service->OutboxDepth().value(), 0);  // nothing sent by the refused attempts
  auto closed =
      xb.service->Act(kReviewer, id, Do(Action::kClose, "the investigation was discontinued"));
  ASSERT_TRUE(closed.ok()) << closed.status().ToString();
  EXPECT_EQ(closed->state, "closed");
  RequestView v = xb.service->GetRequest(id).value();
  EXPECT_FALSE(v.record.awaiting_answer);
  EXPECT_FALSE(v.overdue);
  EXPECT_TRUE(v.allowed.empty());
  EXPECT_EQ(v.events.back().action, "close");
  EXPECT_EQ(v.events.back().from_state, "postponed");
  EXPECT_EQ(v.events.back().reason, "the investigation was discontinued");
  EXPECT_EQ(xb.service->LogState().value().size, log_size + 1);
  auto due = xb.service->DueMessages(xb.clock.Now(), 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].kind, "decision");
  json::value sent = json::parse(due[0].body);
  EXPECT_EQ(sent.at("decision").as_string(), "closed");
  EXPECT_EQ(sent.at("reasons").as_string(), "the investigation was discontinued");
  EXPECT_EQ(json::parse(*v.record.decision_json), sent);  // the last answer sent
  ASSERT_EQ(Carry(xb, xa), 1);
  RequestView out = xa.service->GetRequest(id).value();
  EXPECT_EQ(out.record.state, "closed");
  EXPECT_FALSE(out.record.awaiting_answer);
  EXPECT_TRUE(out.allowed.empty());
  EXPECT_EQ(out.events.back().action, "closed_by_peer");
  EXPECT_EQ(out.events.back().actor, "system");
  EXPECT_EQ(out.events.back().from_state, "answered");
  EXPECT_EQ(out.events.back().reason, "the investigation was discontinued");
  EXPECT_EQ(json::parse(*out.record.decision_json), sent);
  EXPECT_EQ(xa.service->LogState().value().size, xa_log_size + 1);
  // Each side's view lists the messages it sent about the request, not those it received.
  RequestView in = xb.service->GetRequest(id).value();
  ASSERT_EQ(in.messages.size(), 2u);
  EXPECT_EQ(json::parse(in.messages[0].body).at("decision").as_string(), "postponed");
  EXPECT_EQ(in.messages[1].message_id, due[0].message_id);
  EXPECT_TRUE(in.messages[1].delivered.has_value());
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_EQ(out.messages[0].kind, "request");
  // A request closed after a final decision tells nothing more: the requesting state has it.
  const std::string other = SendToXB();
  ASSERT_TRUE(xb.service->Act(kReviewer, other, Do(Action::kExecute)).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  ASSERT_TRUE(xb.service->Act(kReviewer, other, Do(Action::kClose)).ok());
  EXPECT_EQ(xb.service->OutboxDepth().value(), 0);
  EXPECT_EQ(State(xa, other), "answered");
}

// Messages that cross a closing are not refused for ever (the sender would retry them without
// end): a reply to an information request that the requested state closed meanwhile, and an
// answer to a request the requesting state closed meanwhile, are accepted, recorded in the
// request's history and the log, and leave the request closed.
TEST_F(ServiceTest, MessagesThatCrossAClosingAreRecordedAndChangeNothing) {
  const std::string id = SendToXB();
  ASSERT_TRUE(
      xb.service->Act(kReviewer, id, Do(Action::kRequestInformation, "Which account?")).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  // XB closes; before its notice arrives, XA's officer replies.
  ASSERT_TRUE(xb.service->Act(kReviewer, id, Do(Action::kClose, "no longer needed")).ok());
  ActionInput reply = Do(Action::kReplyInformation);
  reply.information = "The account is kit-admin.";
  ASSERT_TRUE(xa.service->Act(kOfficer, id, reply).ok());
  const uint64_t xb_log = xb.service->LogState().value().size;
  ASSERT_EQ(Carry(xa, xb), 1);  // accepted (and receipted), not refused
  RequestView in = xb.service->GetRequest(id).value();
  EXPECT_EQ(in.record.state, "closed");
  EXPECT_EQ(in.events.back().action, "received_after_close");
  EXPECT_EQ(in.events.back().from_state, "closed");
  EXPECT_EQ(in.events.back().to_state, "closed");
  EXPECT_NE(in.events.back().detail_json->find("kit-admin"), std::string::npos);
  EXPECT_EQ(xb.service->LogState().value().size, xb_log + 1);
  ASSERT_EQ(Carry(xb, xa), 1);  // the closing notice reaches XA's delivered request
  EXPECT_EQ(State(xa, id), "closed");
  EXPECT_EQ(xa.service->GetRequest(id).value().events.back().from_state, "delivered");

  // XA closes an answered (postponed) request; XB then executes it.
  const std::string other = SendToXB();
  ASSERT_TRUE(xb.service->Act(kReviewer, other, Do(Action::kPostpone, "later")).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  ASSERT_TRUE(xa.service->Act(kOfficer, other, Do(Action::kClose)).ok());
  ASSERT_TRUE(xb.service->Act(kReviewer, other, Do(Action::kExecute)).ok());
  ASSERT_EQ(Carry(xb, xa), 1);
  RequestView out = xa.service->GetRequest(other).value();
  EXPECT_EQ(out.record.state, "closed");
  EXPECT_EQ(out.events.back().action, "received_after_close");
  EXPECT_EQ(json::parse(*out.record.decision_json).at("decision").as_string(), "executed");
  EXPECT_EQ(xa.service->OutboxDepth().value(), 0);
  EXPECT_EQ(xb.service->OutboxDepth().value(), 0);
  // Persons cannot record such things themselves.
  for (Action a : {Action::kReceivedAfterClose, Action::kClosedByPeer}) {
    EXPECT_EQ(xa.service->Act(kSupervisor, other, Do(a)).status().code(),
              StatusCode::kPermissionDenied);
  }
  // A withdrawn draft was never sent: an answer for it is still refused.
  const std::string draft = Draft(xa, DraftBody("XA", "XB"));
  ASSERT_TRUE(xa.service->Act(kOfficer, draft, Do(Action::kWithdraw)).ok());
  json::object late{{"schema", "comity.answer/v1"},
                    {"request_id", draft},
                    {"decision", "executed"},
                    {"decided", "2026-11-07T10:00:00Z"}};
  EXPECT_EQ(xa.service->ApplyReceivedDecision("XB", federation::NewMessageId(), Text(late))
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(ServiceTest, IncomingMessagesAreIdempotentAndChecked) {
  const std::string id = Draft(xa, DraftBody("XA", "XB"));
  ASSERT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  const auto m = xa.service->DueMessages(xa.clock.Now(), 10).value().at(0);
  auto first = xb.service->AcceptIncomingRequest("XA", m.message_id, m.body);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->duplicate);
  const uint64_t size = xb.service->LogState().value().size;
  auto seen = xb.service->FindInboxMessage(m.message_id).value();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->sender, "XA");
  EXPECT_EQ(seen->request_id, std::optional<std::string>(id));
  EXPECT_EQ(xb.service->FindInboxMessage(std::string(32, 'c')).value(), std::nullopt);
  auto sent = xa.service->FindOutboxMessage(m.message_id).value();
  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->kind, "request");
  EXPECT_EQ(sent->delivered, std::nullopt);
  auto again = xb.service->AcceptIncomingRequest("XA", m.message_id, m.body);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->request_id, id);
  EXPECT_EQ(again->state, first->state);
  EXPECT_EQ(xb.service->LogState().value().size, size);  // exactly-once effect
  // The same id with other content is a replay.
  auto replay = xb.service->AcceptIncomingRequest("XA", m.message_id, m.body + " ");
  EXPECT_EQ(replay.status().code(), StatusCode::kAlreadyExists);
  // A new message for a request id already known.
  auto dup_request = xb.service->AcceptIncomingRequest("XA", std::string(32, 'e'), m.body);
  EXPECT_EQ(dup_request.status().code(), StatusCode::kAlreadyExists);

  json::object body = json::parse(m.body).as_object();
  auto send = [&](const std::string& from, json::object b) {
    return xb.service->AcceptIncomingRequest(from, federation::NewMessageId(), Text(b));
  };
  json::object other = body;
  other["id"] = "XA-2026-00000000000000aa";
  EXPECT_EQ(send("XD", other).status().pointer(), "/requesting_state");  // sent by someone else
  json::object misaddressed = other;
  misaddressed["requested_state"] = "XD";
  EXPECT_EQ(send("XA", misaddressed).status().pointer(), "/requested_state");
  json::object foreign_id = other;
  foreign_id["id"] = "XD-2026-00000000000000aa";
  EXPECT_EQ(send("XA", foreign_id).status().pointer(), "/id");
  json::object no_id = other;
  no_id.erase("id");
  EXPECT_EQ(send("XA", no_id).status().pointer(), "/id");
  EXPECT_EQ(xb.service->AcceptIncomingRequest("XA", "not-an-id", Text(other)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(xb.service->AcceptIncomingRequest("xa", federation::NewMessageId(), Text(other))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(xb.service->LogState().value().size, size);  // none of that was logged
}

// Two messages for one request in one batch (one transaction, the log appended once at its
// end): the second change numbers its event after the first one's, which is staged and not yet
// in the table.
TEST_F(ServiceTest, TwoMessagesForOneRequestInOneBatchAreNumberedInTurn) {
  const std::string id = SendToXB();
  const size_t events = xa.service->GetRequest(id).value().events.size();
  const uint64_t size = xa.service->LogState().value().size;
  auto checkpoints = [&] {  // one per append: one per transaction that logged something
    auto db = xa.OpenDb();
    auto st = db->Prepare("SELECT count(*) FROM tlog_checkpoints").value();
    EXPECT_TRUE(st->Step().value());
    return st->Int64(0);
  };
  const int64_t appended = checkpoints();
  json::object decision{{"schema", "comity.answer/v1"},
                        {"request_id", id},
                        {"decision", "refused"},
                        {"reasons", "No."},
                        {"decided", "2026-11-07T10:00:00Z"}};
  json::object question = decision;
  question["decision"] = "information_requested";
  question["reasons"] = "Which account, exactly?";
  const std::string ids[2] = {federation::NewMessageId(), federation::NewMessageId()};
  const std::string bodies[2] = {Text(decision), Text(question)};
  const std::vector<IncomingMessage> batch = {{"XB", ids[0], "decision", bodies[0]},
                                              {"XB", ids[1], "information_request", bodies[1]}};
  auto r = xa.service->AcceptIncomingBatch(batch);
  ASSERT_EQ(r.size(), 2u);
  ASSERT_TRUE(r[0].ok()) << r[0].status().ToString();
  ASSERT_TRUE(r[1].ok()) << r[1].status().ToString();
  RequestView v = xa.service->GetRequest(id).value();
  EXPECT_EQ(v.record.state, "information_requested");
  ASSERT_EQ(v.events.size(), events + 2);
  for (size_t i = 0; i < v.events.size(); ++i) {
    EXPECT_EQ(v.events[i].seq, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(v.events[events].to_state, "answered");
  EXPECT_EQ(v.events[events + 1].to_state, "information_requested");
  EXPECT_EQ(v.events[events + 1].log_index, v.events[events].log_index + 1);
  EXPECT_EQ(xa.service->LogState().value().size, size + 2);
  EXPECT_EQ(checkpoints(), appended + 1) << "not one transaction (the batch fell back)";
}

TEST_F(ServiceTest, ReceivedAnswersAreChecked) {
  const std::string id = SendToXB();
  auto answer = [&](json::object o) {
    return xa.service->ApplyReceivedDecision("XB", federation::NewMessageId(), Text(o));
  };
  json::object good{{"schema", "comity.answer/v1"},
                    {"request_id", id},
                    {"decision", "refused"},
                    {"reasons", "No."},
                    {"decided", "2026-11-07T10:00:00Z"}};
  json::object no_reasons = good;
  no_reasons.erase("reasons");
  EXPECT_EQ(answer(no_reasons).status().pointer(), "/reasons");
  json::object bad_decision = good;
  bad_decision["decision"] = "maybe";
  EXPECT_EQ(answer(bad_decision).status().pointer(), "/decision");
  json::object extra = good;
  extra["colour"] = "red";
  EXPECT_EQ(answer(extra).status().pointer(), "/colour");
  json::object wrong_schema = good;
  wrong_schema["schema"] = "comity.other/v1";
  EXPECT_EQ(answer(wrong_schema).status().pointer(), "/schema");
  json::object conditional = good;
  conditional["decision"] = "executed_with_conditions";
  EXPECT_EQ(answer(conditional).status().pointer(), "/conditions");
  // "closed" (closed without a final decision) needs its reasons, and carries no conditions.
  json::object closed_silently = no_reasons;
  closed_silently["decision"] = "closed";
  EXPECT_EQ(answer(closed_silently).status().pointer(), "/reasons");
  json::object closed_with_conditions = good;
  closed_with_conditions["decision"] = "closed";
  closed_with_conditions["conditions"] =
      json::array{json::object{{"code", "retention"}, {"text", "x"}}};
  EXPECT_EQ(answer(closed_with_conditions).status().pointer(), "/conditions");
  json::object unknown = good;
  unknown["request_id"] = "XA-2026-ffffffffffffffff";
  EXPECT_EQ(answer(unknown).status().code(), StatusCode::kNotFound);
  // Only the requested state answers.
  auto impostor = xa.service->ApplyReceivedDecision("XD", federation::NewMessageId(), Text(good));
  EXPECT_EQ(impostor.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(State(xa, id), "delivered");
  auto ok = answer(good);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->state, "answered");
}

TEST_F(ServiceTest, SupervisorsReassign) {
  const std::string id = SendToXB();
  ASSERT_TRUE(xb.service->AddUser(kAdmin, "rui", Role::kReviewer).ok());
  ASSERT_TRUE(xb.service->AddUser(kAdmin, "aud", Role::kAuditor).ok());
  EXPECT_EQ(xb.service->Assign(kReviewer, id, "rui", std::nullopt).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(xb.service->Assign(kSupervisor, id, "aud", std::nullopt).status().pointer(),
            "/assignee");
  EXPECT_EQ(xb.service->Assign(kSupervisor, id, "nobody", std::nullopt).status().pointer(),
            "/assignee");
  auto r = xb.service->Assign(kSupervisor, id, "rui", std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->assignee, std::optional<std::string>("rui"));
  RequestView v = xb.service->GetRequest(id).value();
  EXPECT_EQ(v.events.back().action, "assign");
  EXPECT_EQ(v.events.back().from_state, v.events.back().to_state);
  EXPECT_EQ(xb.service->Assign(kSupervisor, id, "rui", 1).status().code(), StatusCode::kAborted);
}

TEST_F(ServiceTest, OverdueRequestsAreListedAndCounted) {
  const std::string id = SendToXB();
  RequestView v = xb.service->GetRequest(id).value();
  ASSERT_TRUE(v.record.respond_by.has_value());
  EXPECT_FALSE(v.overdue);
  RequestQuery overdue;
  overdue.overdue = true;
  EXPECT_TRUE(xb.service->ListRequests(overdue).value().items.empty());
  xb.clock.Set(FromMicros(*v.record.respond_by).seconds + 1);
  auto late = xb.service->ListRequests(overdue).value();
  ASSERT_EQ(late.items.size(), 1u);
  EXPECT_EQ(late.items[0].id, id);
  EXPECT_TRUE(xb.service->GetRequest(id).value().overdue);
  EXPECT_EQ(xb.service->Stats().value().overdue, 1);
  // Deciding stops the clock.
  ASSERT_TRUE(xb.service->Act(kReviewer, id, Do(Action::kExecute)).ok());
  EXPECT_EQ(xb.service->Stats().value().overdue, 0);
  // XA waits for the answer with XB's deadline too.
  xa.clock.Set(xb.clock.Now().seconds);
  EXPECT_EQ(xa.service->Stats().value().overdue, 1);
}

TEST_F(ServiceTest, ListingPagesAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Draft(xa, DraftBody("XA", "XB")));
    xa.clock.Advance(1);
  }
  RequestQuery q;
  q.limit = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = xa.service->ListRequests(q).value();
    for (const auto& r : page.items) seen.push_back(r.id);
    if (page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>(ids.rbegin(), ids.rend())));
  RequestQuery bad;
  bad.cursor = "garbage";
  EXPECT_EQ(xa.service->ListRequests(bad).status().code(), StatusCode::kInvalidArgument);
  bad.cursor.clear();
  bad.state = "sleeping";
  EXPECT_EQ(xa.service->ListRequests(bad).status().code(), StatusCode::kInvalidArgument);
  bad.state.clear();
  bad.direction = "sideways";
  EXPECT_EQ(xa.service->ListRequests(bad).status().code(), StatusCode::kInvalidArgument);
  bad.direction.clear();
  bad.requested_state = "xb";
  EXPECT_EQ(xa.service->ListRequests(bad).status().code(), StatusCode::kInvalidArgument);
  RequestQuery drafts;
  drafts.state = "draft";
  drafts.requested_state = "XB";
  EXPECT_EQ(xa.service->ListRequests(drafts).value().items.size(), 5u);
  drafts.direction = "incoming";
  EXPECT_TRUE(xa.service->ListRequests(drafts).value().items.empty());
  EXPECT_EQ(DecodeCursor(EncodeCursor(12, "XA-1")).value(),
            std::make_pair(int64_t{12}, std::string("XA-1")));
}

// --- the same-transaction guarantee --------------------------------------------------------

TEST(ServiceAtomicityTest, ALogFailureLeavesNeitherTheEventNorTheStateChange) {
  std::atomic<bool> fail{false};
  ServiceFixture xa("XA", Disclosure::kEmbargo, [&fail](std::unique_ptr<tlog::LogStorage> inner) {
    return std::make_unique<FailingLogStorage>(std::move(inner), &fail);
  });
  AddPeer(xa, "XB");
  const std::string id = xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB")))->record.id;
  const Snapshot before = Take(xa, id);
  fail = true;
  auto r = xa.service->Act(kOfficer, id, Do(Action::kSubmit));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("injected"), std::string::npos);
  EXPECT_EQ(Take(xa, id), before);  // no state change, no event, no record, no message, no leaf
  // A new draft fails the same way: no request row without its leaf.
  auto d = xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB")));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(xa.service->ListRequests({}).value().items.size(), 1u);
  fail = false;
  auto ok = xa.service->Act(kOfficer, id, Do(Action::kSubmit));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  const Snapshot after = Take(xa, id);
  EXPECT_EQ(after.events, before.events + 1);
  EXPECT_EQ(after.log_size, before.log_size + 1);
  EXPECT_EQ(after.records, after.events);
  EXPECT_EQ(after.outbox, 1);
}

TEST(ServiceAtomicityTest, AFailureAfterTheLogAppendRollsTheEntryBack) {
  ServiceFixture xa("XA");
  AddPeer(xa, "XB");
  const std::string id = xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB")))->record.id;
  const Snapshot before = Take(xa, id);
  // Occupy the private-record slot of the next leaf: the write after the append fails.
  {
    auto db = xa.OpenDb();
    auto st = store::NodeStore::Open(db.get()).value();
    ASSERT_TRUE(st->InsertLogRecord({static_cast<int64_t>(before.log_size), "00", "{}", 1}).ok());
  }
  auto r = xa.service->Act(kOfficer, id, Do(Action::kSubmit));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  Snapshot now = Take(xa, id);
  EXPECT_EQ(now.request, before.request);
  EXPECT_EQ(now.events, before.events);
  EXPECT_EQ(now.outbox, 0);
  EXPECT_EQ(now.log_size, before.log_size);  // the appended entry went with the rollback
  {
    auto db = xa.OpenDb();
    ASSERT_TRUE(db->Exec("DELETE FROM log_records WHERE record = '{}'").ok());
  }
  // The writer notices the rolled-back append and carries on from the committed tree.
  ASSERT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  auto db = xa.OpenDb();
  auto storage = OpenNodeLogStorage(db.get()).value();
  tlog::LogPublisher pub(storage.get());
  tlog::PublisherFetcher fetcher(&pub);
  auto verifier = tlog::ParseVerifierKey(xa.service->LogVerifierKey()).value();
  auto verified = tlog::VerifyLog(fetcher, *verifier, {});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->checkpoint.size, before.log_size + 1);
}

// --- what leaves say -----------------------------------------------------------------------

TEST_F(ServiceTest, LeavesHoldNoNamesSelectorsTextOrIds) {
  const std::string marker = "Zebulon-Quux";
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    const std::string id = Draft(xa, DraftBody("XA", "XB", marker));
    ids.push_back(id);
    ASSERT_TRUE(xa.service->Act(kOfficer, id, Do(Action::kSubmit)).ok());
  }
  ASSERT_EQ(Carry(xa, xb), 2);
  ASSERT_TRUE(
      xb.service->Act(kReviewer, ids[0], Do(Action::kRefuse, "Reasons naming " + marker)).ok());
  ASSERT_TRUE(xb.service->AddUser(kAdmin, "assignee-asg9", Role::kReviewer).ok());
  ASSERT_TRUE(xb.service->Assign(kSupervisor, ids[1], "assignee-asg9", std::nullopt).ok());
  ASSERT_TRUE(
      xb.service->Act(kReviewer, ids[1], Do(Action::kRequestInformation, "Ask about " + marker))
          .ok());
  ASSERT_EQ(Carry(xb, xa), 2);
  ActionInput reply = Do(Action::kReplyInformation);
  reply.information = "Information on " + marker;
  ASSERT_TRUE(xa.service->Act(kOfficer, ids[1], reply).ok());
  ASSERT_EQ(Carry(xa, xb), 1);

  const std::set<std::string> allowed_keys = {"v",         "kind",     "month",     "requesting",
                                              "requested", "measures", "offences",  "outcome",
                                              "screening", "rules",    "commitment"};
  for (ServiceFixture* f : {&xa, &xb}) {
    auto db = f->OpenDb();
    auto storage = OpenNodeLogStorage(db.get()).value();
    auto st = store::NodeStore::Open(db.get()).value();
    const uint64_t size = storage->ReadState().value()->size;
    ASSERT_GT(size, 4u);
    auto entries = storage->ReadEntries(0, size).value();
    for (uint64_t i = 0; i < size; ++i) {
      const std::string& leaf = entries[i];
      for (const std::string& secret :
           {marker, ids[0], ids[1], std::string("officer-ana7"), std::string("reviewer-rui3"),
            std::string("assignee-asg9"), std::string("INV-2026-0412"), std::string("kit-admin"),
            std::string("phishing"), std::string("2026-11-06"), std::string("message_id")}) {
        EXPECT_EQ(leaf.find(secret), std::string::npos) << secret << " in leaf " << leaf;
      }
      json::value v = json::parse(leaf);
      for (const auto& kv : v.as_object()) {
        EXPECT_EQ(allowed_keys.count(std::string(kv.key())), 1u) << kv.key() << " in " << leaf;
      }
      // Each leaf has its private record, which the commitment covers and which names the
      // request.
      auto rec = st->GetLogRecord(static_cast<int64_t>(i)).value();
      ASSERT_TRUE(rec.has_value()) << "leaf " << i;
      EXPECT_TRUE(VerifyCommitment(leaf, rec->salt_hex, rec->record).value());
      const bool names_one = rec->record.find(ids[0]) != std::string::npos ||
                             rec->record.find(ids[1]) != std::string::npos;
      EXPECT_TRUE(names_one) << rec->record;
    }
  }
}

// --- disclosure ----------------------------------------------------------------------------

TEST(ServiceDisclosureTest, EntriesAreDisclosedAfterTheEmbargo) {
  ServiceFixture xa("XA");  // 90 days
  const Timestamp t0 = xa.clock.Now();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB"))).ok());
  }
  EXPECT_EQ(xa.service->DiscloseDue().value(), 0u);
  EXPECT_EQ(xa.service->LogResource("tile/entries/000.p/1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(xa.service->LogResource("tile/0/000.p/3").ok());  // hashes are public at once
  xa.clock.Set(t0.seconds + 89 * 86400);
  EXPECT_EQ(xa.service->DiscloseDue().value(), 0u);
  ASSERT_TRUE(xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB"))).ok());  // day 89
  xa.clock.Set(t0.seconds + 90 * 86400 + 1);
  EXPECT_EQ(xa.service->DiscloseDue().value(), 3u);  // the fourth is still under embargo
  EXPECT_EQ(xa.service->LogState().value().disclosed, 3u);
  EXPECT_TRUE(xa.service->LogResource("tile/entries/000.p/3").ok());
  EXPECT_FALSE(xa.service->LogResource("tile/entries/000.p/4").ok());
  xa.clock.Advance(89 * 86400);
  EXPECT_EQ(xa.service->DiscloseDue().value(), 4u);
}

TEST(ServiceDisclosureTest, ImmediateDisclosure) {
  ServiceFixture xa("XA", Disclosure::kImmediate);
  ASSERT_TRUE(xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB"))).ok());
  EXPECT_EQ(xa.service->LogState().value().disclosed, 1u);
  EXPECT_TRUE(xa.service->LogResource("tile/entries/000.p/1").ok());
  EXPECT_EQ(xa.service->DiscloseDue().value(), 1u);
}

// --- directory through the service ---------------------------------------------------------

TEST(ServiceDirectoryTest, UsersPeersProfilesAreForAdmins) {
  ServiceFixture xa("XA");
  EXPECT_EQ(xa.service->AddUser(kOfficer, "x", Role::kOfficer).status().code(),
            StatusCode::kPermissionDenied);
  auto u = xa.service->AddUser(kAdmin, "ana", Role::kOfficer);
  ASSERT_TRUE(u.ok());
  auto who = xa.service->Authenticate(u->token);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "ana");
  EXPECT_EQ(who->role, Role::kOfficer);
  EXPECT_EQ(xa.service->Authenticate("comity_" + std::string(64, '0')).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(xa.service->Authenticate("garbage").status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(xa.service->RevokeUser(kSupervisor, "ana").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(xa.service->RevokeUser(kAdmin, "ana").ok());
  EXPECT_EQ(xa.service->Authenticate(u->token).status().code(), StatusCode::kUnauthenticated);
  // The last admin stays.
  ASSERT_TRUE(xa.service->AddUser(kAdmin, "root", Role::kAdmin).ok());
  EXPECT_EQ(xa.service->RevokeUser(kAdmin, "root").code(), StatusCode::kFailedPrecondition);

  PeerInput p{"XB", "http://127.0.0.1:9", RandomKey(), RandomKey(), ""};
  EXPECT_EQ(xa.service->AddPeer(kSupervisor, p, false).status().code(),
            StatusCode::kPermissionDenied);
  struct BadPeer {
    std::function<void(PeerInput&)> edit;
    const char* pointer;
  };
  for (const BadPeer& b :
       std::initializer_list<BadPeer>{{[](PeerInput& x) { x.state = "XA"; }, "/state"},
                                      {[](PeerInput& x) { x.state = "B"; }, "/state"},
                                      {[](PeerInput& x) { x.url = "ftp://b"; }, "/url"},
                                      {[](PeerInput& x) { x.url = "not a url"; }, "/url"},
                                      {[](PeerInput& x) { x.sign_key = "AAAA"; }, "/sign_key"},
                                      {[](PeerInput& x) { x.box_key = "!!"; }, "/box_key"},
                                      {[](PeerInput& x) { x.log_vkey = "nope"; }, "/log_vkey"}}) {
    PeerInput bad = p;
    b.edit(bad);
    EXPECT_EQ(xa.service->AddPeer(kAdmin, bad, false).status().pointer(), b.pointer);
  }
  ASSERT_TRUE(xa.service->AddPeer(kAdmin, p, false).ok());
  EXPECT_EQ(xa.service->AddPeer(kAdmin, p, false).status().code(), StatusCode::kAlreadyExists);
  p.url = "http://127.0.0.1:10";
  ASSERT_TRUE(xa.service->AddPeer(kAdmin, p, true).ok());
  EXPECT_EQ(xa.service->ListPeers().value().at(0).url, "http://127.0.0.1:10");

  std::string xb = testing::ReadFile(testing::SourceDir() + "/profiles/XB.json");
  EXPECT_EQ(xa.service->PutProfile(kOfficer, "XB", xb).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(xa.service->PutProfile(kAdmin, "XD", xb).status().pointer(), "/code");
  json::value broken = json::parse(xb);
  broken.as_object()["policy"].as_object()["max_interception_days"] = "long";
  EXPECT_EQ(xa.service->PutProfile(kAdmin, "XB", Text(broken)).status().pointer(),
            "/policy/max_interception_days");
  auto put = xa.service->PutProfile(kAdmin, "XB", xb);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->updated_by, "admin-adm2");
}

TEST(ServiceDirectoryTest, AReplacedProfileChangesTheNextScreening) {
  ServiceFixture xb("XB");
  json::value profile = json::parse(testing::ReadFile(testing::SourceDir() + "/profiles/XA.json"));
  const json::object body = testing::RefusedDraftBody("XB", "XA");
  EXPECT_EQ(xb.service->CreateDraft(kOfficer, Text(body))->screening.outcome, Outcome::kRefuse);
  // XA now criminalises the conduct and reviews speech offences rather than refusing them.
  profile.as_object()["policy"].as_object()["speech_offences"] = "review";
  profile.as_object()["criminalizes"].as_object()["false_information"] =
      json::object{{"max_penalty_years", 2}};
  auto put = xb.service->PutProfile(kAdmin, "XA", Text(profile));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(xb.service->CreateDraft(kOfficer, Text(body))->screening.outcome, Outcome::kReview);
}

// --- concurrency ---------------------------------------------------------------------------

TEST(ServiceConcurrencyTest, ConcurrentWritersAndReadersKeepEveryEventWithItsLeaf) {
  ServiceFixture xa("XA");
  AddPeer(xa, "XB");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto d = xa.service->CreateDraft(kOfficer, Text(DraftBody("XA", "XB")));
        if (!d.ok() || !xa.service->Act(kOfficer, d->record.id, Do(Action::kSubmit)).ok()) {
          ++failures;
        }
        if (!xa.service->ListRequests({}).ok() || !xa.service->Stats().ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const uint64_t n = kThreads * kPerThread;
  EXPECT_EQ(xa.service->LogState().value().size, 2 * n);
  EXPECT_EQ(xa.service->OutboxDepth().value(), static_cast<int64_t>(n));
  auto db = xa.OpenDb();
  auto st = store::NodeStore::Open(db.get()).value();
  EXPECT_EQ(st->CountEvents().value(), static_cast<int64_t>(2 * n));
  EXPECT_EQ(st->CountLogRecords().value(), static_cast<int64_t>(2 * n));
}

}  // namespace
}  // namespace comity::node
