#include "core/codec.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "core/internal/enum_table.h"
#include "core/internal/json_parse.h"
#include "core/internal/json_text.h"
#include "core/internal/key_table.h"
#include "core/internal/request_reader.h"
#include "core/json_schema.h"
#include "core/schemas.h"

namespace comity {

namespace json = boost::json;
using core_internal::KeyHash;

namespace {

// --- Reading JSON --------------------------------------------------------------------------

Status CheckSize(size_t size) {
  if (size <= kMaxDocumentBytes) return OkStatus();
  return ResourceExhaustedError("document is " + std::to_string(size) + " bytes; the limit is " +
                                std::to_string(kMaxDocumentBytes) + " bytes (1 MiB)");
}

// Per-thread parser and scratch memory for the Parse* fast path: the DOM of a typical request
// fits in `buffer`, so parsing allocates nothing from the heap.
struct ParseContext {
  static constexpr size_t kBufferBytes = 64 * 1024;
  core_internal::JsonParser parser;
  std::unique_ptr<unsigned char[]> buffer{new unsigned char[kBufferBytes]};
  bool busy = false;
};

ParseContext& Context() {
  thread_local ParseContext ctx;
  return ctx;
}

const JsonSchema& Schema(std::string_view id) {
  // The shipped schemas are part of the build; their compilation is checked by the unit tests.
  // Should it ever fail, every document is refused (see Validate) rather than accepted.
  static const JsonSchema* request = ShippedSchema(kRequestSchemaId);
  static const JsonSchema* profile = ShippedSchema(kProfileSchemaId);
  static const JsonSchema* decision = ShippedSchema(kDecisionSchemaId);
  const JsonSchema* s = id == kRequestSchemaId    ? request
                        : id == kProfileSchemaId  ? profile
                        : id == kDecisionSchemaId ? decision
                                                  : nullptr;
  return *s;
}

bool SchemasAvailable() {
  static const bool ok = ShippedSchema(kRequestSchemaId) != nullptr &&
                         ShippedSchema(kProfileSchemaId) != nullptr &&
                         ShippedSchema(kDecisionSchemaId) != nullptr;
  return ok;
}

Status SchemasMissing() {
  Status s = ShippedSchemasStatus();
  return InternalError("the shipped schemas are unavailable: " +
                       (s.ok() ? std::string("not embedded") : s.message()));
}

// --- Converting validated JSON into the model ----------------------------------------------

// Converts a value already validated against its schema. The few checks that the schemas cannot
// express (integer ranges of our fields, offence categories as keys of `criminalizes`,
// citations inside conditions) add problems to `errors_` in the same format.
class Converter {
 public:
  explicit Converter(ValidationErrors* errors) : errors_(errors) {}

  void Request(const json::object& o, comity::Request* r);
  void Profile(const json::object& o, StateProfile* p);
  void Decision(const json::object& o, comity::Decision* d);

 private:
  static std::string Str(const json::value& v) { return std::string(v.get_string()); }

  static double Number(const json::value& v) {
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    if (v.is_uint64()) return static_cast<double>(v.get_uint64());
    return v.get_double();
  }

  int32_t Int32(const json::value& v, const JsonPath* path) {
    constexpr auto kMax = std::numeric_limits<int32_t>::max();
    constexpr auto kMin = std::numeric_limits<int32_t>::min();
    double d = Number(v);
    if (v.is_int64() && v.get_int64() >= kMin && v.get_int64() <= kMax) {
      return static_cast<int32_t>(v.get_int64());
    }
    if (v.is_double() && d >= kMin && d <= kMax) return static_cast<int32_t>(d);
    errors_->Add(path, core_internal::DescribeValue(v) + " is out of range (at most " +
                           std::to_string(kMax) + " here)");
    return 0;
  }

  template <typename E>
  E Enum(const json::value& v, const JsonPath* path) {
    int i = core_internal::EnumTable<E>().Find(v.get_string());
    if (i < 0) {
      // Only reachable if enums.h and the schema disagree (a test guards against it).
      errors_->Add(path, core_internal::DescribeValue(v) + " is not a known " +
                             std::string(EnumTraits<E>::kTypeName));
      return E{};
    }
    return static_cast<E>(i);
  }

  template <typename E>
  EnumSet<E> Set(const json::value& v, const JsonPath* path) {
    EnumSet<E> s;
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      JsonPath p{path, {}, i, true};
      s.insert(Enum<E>(a[i], &p));
    }
    return s;
  }

  static StateCode State(const json::value& v) {
    std::string_view s = v.get_string();
    StateCode c;
    c.c[0] = s[0];
    c.c[1] = s[1];
    return c;
  }

  static std::vector<StateCode> States(const json::value& v) {
    std::vector<StateCode> out;
    out.reserve(v.get_array().size());
    for (const auto& x : v.get_array()) out.push_back(State(x));
    return out;
  }

  static std::vector<std::string> Strings(const json::value& v) {
    std::vector<std::string> out;
    out.reserve(v.get_array().size());
    for (const auto& x : v.get_array()) out.push_back(Str(x));
    return out;
  }

  static Date DateOf(const json::value& v) {
    Date d;
    ParseDateTo(v.get_string(), &d, nullptr);  // validated by the schema's format
    return d;
  }

  static Timestamp TimeOf(const json::value& v) {
    Timestamp t;
    ParseTimestampTo(v.get_string(), &t, nullptr);  // validated by the schema's format
    return t;
  }

  template <typename T, typename F>
  void Each(const json::value& v, const JsonPath* path, std::vector<T>* out, F&& convert) {
    const auto& a = v.get_array();
    out->resize(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
      JsonPath p{path, {}, i, true};
      convert(a[i].get_object(), &p, &(*out)[i]);
    }
  }

  void Offence(const json::object& o, const JsonPath* path, comity::Offence* f);
  void Measure(const json::object& o, const JsonPath* path, comity::Measure* m);
  void Person(const json::object& o, const JsonPath* path, comity::Person* p);
  void Citation(const json::object& o, const JsonPath* path, comity::Citation* c);
  void Policy(const json::object& o, const JsonPath* path, comity::Policy* p);
  void Criminalizes(const json::object& o, const JsonPath* path, StateProfile* p);

  ValidationErrors* errors_;
};

#define COMITY_CHILD(name) \
  JsonPath name { path, kv.key(), 0, false }

void Converter::Request(const json::object& o, comity::Request* r) {
  const JsonPath* path = nullptr;
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("id"):
        r->id = Str(v);
        break;
      case KeyHash("created"):
        r->created = TimeOf(v);
        break;
      case KeyHash("requesting_state"):
        r->requesting_state = State(v);
        break;
      case KeyHash("requested_state"):
        r->requested_state = State(v);
        break;
      case KeyHash("requesting_authority"):
        for (const auto& a : v.get_object()) {
          JsonPath p{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("name"):
              r->requesting_authority.name = Str(a.value());
              break;
            case KeyHash("kind"):
              r->requesting_authority.kind = Enum<AuthorityKind>(a.value(), &p);
              break;
            case KeyHash("contact_point_24_7"):
              r->requesting_authority.contact_point_24_7 = a.value().get_bool();
              break;
          }
        }
        break;
      case KeyHash("proceeding"): {
        auto& pr = r->proceeding.emplace();
        for (const auto& a : v.get_object()) {
          JsonPath p{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("kind"):
              pr.kind = Enum<ProceedingKind>(a.value(), &p);
              break;
            case KeyHash("reference"):
              pr.reference = Str(a.value());
              break;
            case KeyHash("conducting_authority"):
              pr.conducting_authority = Str(a.value());
              break;
          }
        }
        break;
      }
      case KeyHash("offences"):
        Each(v, &here, &r->offences,
             [this](const json::object& x, const JsonPath* p, comity::Offence* f) {
               Offence(x, p, f);
             });
        break;
      case KeyHash("facts"):
        r->facts = Str(v);
        break;
      case KeyHash("purpose"):
        r->purpose = Str(v);
        break;
      case KeyHash("urgency"):
        r->urgency = Enum<Urgency>(v, &here);
        break;
      case KeyHash("emergency"): {
        auto& e = r->emergency.emplace();
        for (const auto& a : v.get_object()) {
          JsonPath p{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("risk"):
              e.risk = Enum<EmergencyRisk>(a.value(), &p);
              break;
            case KeyHash("imminent"):
              e.imminent = a.value().get_bool();
              break;
            case KeyHash("explanation"):
              e.explanation = Str(a.value());
              break;
          }
        }
        break;
      }
      case KeyHash("measures"):
        Each(v, &here, &r->measures,
             [this](const json::object& x, const JsonPath* p, comity::Measure* m) {
               Measure(x, p, m);
             });
        break;
      case KeyHash("persons"):
        Each(v, &here, &r->persons,
             [this](const json::object& x, const JsonPath* p, comity::Person* m) {
               Person(x, p, m);
             });
        break;
      case KeyHash("domestic_authorization"): {
        auto& d = r->domestic_authorization.emplace();
        for (const auto& a : v.get_object()) {
          JsonPath p{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("authority_kind"):
              d.authority_kind = Enum<DomesticAuthorityKind>(a.value(), &p);
              break;
            case KeyHash("reference"):
              d.reference = Str(a.value());
              break;
            case KeyHash("date"):
              d.date = DateOf(a.value());
              break;
          }
        }
        break;
      }
      case KeyHash("confidentiality"): {
        auto& c = r->confidentiality.emplace();
        for (const auto& a : v.get_object()) {
          switch (KeyHash(a.key())) {
            case KeyHash("requested"):
              c.requested = a.value().get_bool();
              break;
            case KeyHash("no_user_notification"):
              c.no_user_notification = a.value().get_bool();
              break;
            case KeyHash("until"):
              c.until = DateOf(a.value());
              break;
          }
        }
        break;
      }
      case KeyHash("assurances"):
        r->assurances = Set<Assurance>(v, &here);
        break;
      case KeyHash("follows_up"):
        r->follows_up = Str(v);
        break;
      case KeyHash("language"):
        r->language = Str(v);
        break;
      case KeyHash("attachments"): {
        const auto& arr = v.get_array();
        r->attachments.resize(arr.size());
        for (size_t i = 0; i < arr.size(); ++i) {
          auto& att = r->attachments[i];
          for (const auto& a : arr[i].get_object()) {
            switch (KeyHash(a.key())) {
              case KeyHash("name"):
                att.name = Str(a.value());
                break;
              case KeyHash("sha256"):
                att.sha256 = Str(a.value());
                break;
              case KeyHash("media_type"):
                att.media_type = Str(a.value());
                break;
            }
          }
        }
        break;
      }
      case KeyHash("schema"):  // checked by the schema's const
        break;
    }
  }
}

void Converter::Offence(const json::object& o, const JsonPath* path, comity::Offence* f) {
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("category"):
        f->category = Enum<OffenceCategory>(v, &here);
        break;
      case KeyHash("national_provision"):
        f->national_provision = Str(v);
        break;
      case KeyHash("max_penalty_years"):
        f->max_penalty_years = Number(v);
        break;
      case KeyHash("death_penalty_possible"):
        f->death_penalty_possible = v.get_bool();
        break;
      case KeyHash("description"):
        f->description = Str(v);
        break;
    }
  }
}

void Converter::Measure(const json::object& o, const JsonPath* path, comity::Measure* m) {
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("type"):
        m->type = Enum<MeasureType>(v, &here);
        break;
      case KeyHash("data_categories"):
        m->data_categories = Set<DataCategory>(v, &here);
        break;
      case KeyHash("selectors"): {
        const auto& arr = v.get_array();
        m->selectors.resize(arr.size());
        for (size_t i = 0; i < arr.size(); ++i) {
          JsonPath item{&here, {}, i, true};
          auto& s = m->selectors[i];
          for (const auto& a : arr[i].get_object()) {
            JsonPath p{&item, a.key(), 0, false};
            switch (KeyHash(a.key())) {
              case KeyHash("kind"):
                s.kind = Enum<SelectorKind>(a.value(), &p);
                break;
              case KeyHash("value"):
                s.value = Str(a.value());
                break;
              case KeyHash("provider"):
                s.provider = Str(a.value());
                break;
            }
          }
        }
        break;
      }
      case KeyHash("all_users"):
        m->all_users = v.get_bool();
        break;
      case KeyHash("period"): {
        auto& p = m->period.emplace();
        const auto& po = v.get_object();
        p.from = DateOf(po.at("from"));
        p.to = DateOf(po.at("to"));
        break;
      }
      case KeyHash("duration_days"):
        m->duration_days = Int32(v, &here);
        break;
      case KeyHash("justification"):
        m->justification = Str(v);
        break;
    }
  }
}

void Converter::Person(const json::object& o, const JsonPath* path, comity::Person* p) {
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("role"):
        p->role = Enum<PersonRole>(v, &here);
        break;
      case KeyHash("name"):
        p->name = Str(v);
        break;
      case KeyHash("nationalities"):
        p->nationalities = States(v);
        break;
      case KeyHash("residence"):
        p->residence = State(v);
        break;
      case KeyHash("status"):
        p->status = Set<PersonStatus>(v, &here);
        break;
    }
  }
}

void Converter::Profile(const json::object& o, StateProfile* p) {
  const JsonPath* path = nullptr;
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("schema"):  // checked by the schema's const
        break;
      case KeyHash("code"):
        p->code = State(v);
        break;
      case KeyHash("name"):
        p->name = Str(v);
        break;
      case KeyHash("fictional"):
        p->fictional = v.get_bool();
        break;
      case KeyHash("uncc"):
        for (const auto& a : v.get_object()) {
          JsonPath q{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("status"):
              p->uncc.status = Enum<UnccStatus>(a.value(), &q);
              break;
            case KeyHash("reservations"):
              p->uncc.reservations = Strings(a.value());
              break;
            case KeyHash("central_authority"):
              p->uncc.central_authority = Str(a.value());
              break;
            case KeyHash("languages"):
              p->uncc.languages = Strings(a.value());
              break;
          }
        }
        break;
      case KeyHash("other_legal_bases"):
        p->other_legal_bases = Strings(v);
        break;
      case KeyHash("death_penalty"):
        p->death_penalty = Enum<DeathPenalty>(v, &here);
        break;
      case KeyHash("criminalizes"):
        Criminalizes(v.get_object(), &here, p);
        break;
      case KeyHash("policy"):
        Policy(v.get_object(), &here, &p->policy);
        break;
    }
  }
}

void Converter::Criminalizes(const json::object& o, const JsonPath* path, StateProfile* p) {
  static const std::string kCategories = [] {
    std::string s;
    for (auto n : EnumTraits<OffenceCategory>::kNames) {
      if (!s.empty()) s += ", ";
      s += n;
    }
    return s;
  }();
  for (const auto& kv : o) {
    COMITY_CHILD(here);
    int i = core_internal::EnumTable<OffenceCategory>().Find(kv.key());
    if (i < 0) {
      // Stricter than the schema: a misspelt category would silently read as "not criminal
      // here" and break dual criminality (docs/formats/request.md).
      errors_->Add(&here, "unknown offence category " + core_internal::QuoteForMessage(kv.key()) +
                              " (expected one of " + kCategories + ")");
      continue;
    }
    Criminalization c;
    for (const auto& a : kv.value().get_object()) {
      switch (KeyHash(a.key())) {
        case KeyHash("max_penalty_years"):
          c.max_penalty_years = Number(a.value());
          break;
        case KeyHash("provision"):
          c.provision = Str(a.value());
          break;
      }
    }
    p->criminalizes[static_cast<size_t>(i)] = std::move(c);
  }
}

void Converter::Policy(const json::object& o, const JsonPath* path, comity::Policy* p) {
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("dual_criminality"):
        p->dual_criminality = Enum<DualCriminality>(v, &here);
        break;
      case KeyHash("interception_min_penalty_years"):
        p->interception_min_penalty_years = Number(v);
        break;
      case KeyHash("max_interception_days"):
        p->max_interception_days = Int32(v, &here);
        break;
      case KeyHash("max_stored_period_days"):
        p->max_stored_period_days = Int32(v, &here);
        break;
      case KeyHash("independent_authorization_required"):
        p->independent_authorization_required = Set<AuthorizationItem>(v, &here);
        break;
      case KeyHash("speech_offences"):
        p->speech_offences = Enum<SpeechPolicy>(v, &here);
        break;
      case KeyHash("refugee_protection"):
        p->refugee_protection = v.get_bool();
        break;
      case KeyHash("protected_status_review"):
        p->protected_status_review = Strings(v);
        for (const auto& s : p->protected_status_review) {
          int i = core_internal::EnumTable<PersonStatus>().Find(s);
          if (i >= 0) p->protected_status_review_set.insert(static_cast<PersonStatus>(i));
        }
        break;
      case KeyHash("death_penalty_assurance_required"):
        p->death_penalty_assurance_required = v.get_bool();
        break;
      case KeyHash("enhanced_scrutiny"):
        p->enhanced_scrutiny = States(v);
        break;
      case KeyHash("suspended"):
        p->suspended = States(v);
        break;
      case KeyHash("response_days"): {
        auto& r = p->response_days.emplace();
        for (const auto& a : v.get_object()) {
          JsonPath q{&here, a.key(), 0, false};
          switch (KeyHash(a.key())) {
            case KeyHash("routine"):
              r.routine = Int32(a.value(), &q);
              break;
            case KeyHash("urgent"):
              r.urgent = Int32(a.value(), &q);
              break;
            case KeyHash("emergency_hours"):
              r.emergency_hours = Int32(a.value(), &q);
              break;
          }
        }
        break;
      }
    }
  }
}

void Converter::Citation(const json::object& o, const JsonPath* path, comity::Citation* c) {
  for (const auto& kv : o) {
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("instrument"):
        c->instrument = Str(kv.value());
        break;
      case KeyHash("article"):
        c->article = Int32(kv.value(), &here);
        break;
      case KeyHash("paragraph"):
        c->paragraph = Str(kv.value());
        break;
    }
  }
}

void Converter::Decision(const json::object& o, comity::Decision* d) {
  const JsonPath* path = nullptr;
  for (const auto& kv : o) {
    const json::value& v = kv.value();
    COMITY_CHILD(here);
    switch (KeyHash(kv.key())) {
      case KeyHash("schema"):  // checked by the schema's const
        break;
      case KeyHash("request_id"):
        d->request_id = Str(v);
        break;
      case KeyHash("outcome"):
        d->outcome = Enum<Outcome>(v, &here);
        break;
      case KeyHash("findings"): {
        const auto& arr = v.get_array();
        d->findings.resize(arr.size());
        for (size_t i = 0; i < arr.size(); ++i) {
          JsonPath item{&here, {}, i, true};
          auto& f = d->findings[i];
          for (const auto& a : arr[i].get_object()) {
            JsonPath p{&item, a.key(), 0, false};
            switch (KeyHash(a.key())) {
              case KeyHash("rule"):
                f.rule = Str(a.value());
                break;
              case KeyHash("effect"):
                f.effect = Enum<Effect>(a.value(), &p);
                break;
              case KeyHash("citations"):
                Each(a.value(), &p, &f.citations,
                     [this](const json::object& x, const JsonPath* q, comity::Citation* c) {
                       Citation(x, q, c);
                     });
                break;
              case KeyHash("message"):
                f.message = Str(a.value());
                break;
              case KeyHash("pointers"):
                f.pointers = Strings(a.value());
                break;
            }
          }
        }
        break;
      }
      case KeyHash("conditions"): {
        const auto& arr = v.get_array();
        d->conditions.resize(arr.size());
        for (size_t i = 0; i < arr.size(); ++i) {
          JsonPath item{&here, {}, i, true};
          auto& c = d->conditions[i];
          for (const auto& a : arr[i].get_object()) {
            JsonPath p{&item, a.key(), 0, false};
            switch (KeyHash(a.key())) {
              case KeyHash("code"):
                c.code = Str(a.value());
                break;
              case KeyHash("text"):
                c.text = Str(a.value());
                break;
              case KeyHash("citations"): {
                // The schema leaves these items open; we hold them to the findings' citation
                // schema (docs/formats/request.md).
                static const SchemaNode* kCitation =
                    Schema(kDecisionSchemaId)
                        .Find("/properties/findings/items/properties/citations/items");
                if (kCitation == nullptr) {
                  errors_->Add(&p,
                               "cannot check citations: the decision schema has no "
                               "citation subschema");
                  break;
                }
                const auto& cs = a.value().get_array();
                c.citations.resize(cs.size());
                for (size_t k = 0; k < cs.size(); ++k) {
                  JsonPath q{&p, {}, k, true};
                  if (Schema(kDecisionSchemaId).Validate(cs[k], &q, errors_, kCitation)) {
                    Citation(cs[k].get_object(), &q, &c.citations[k]);
                  }
                }
                break;
              }
            }
          }
        }
        break;
      }
      case KeyHash("respond_by"):
        d->respond_by = TimeOf(v);
        break;
      case KeyHash("rulebase"):
        for (const auto& a : v.get_object()) {
          switch (KeyHash(a.key())) {
            case KeyHash("version"):
              d->rulebase.version = Str(a.value());
              break;
            case KeyHash("digest"):
              d->rulebase.digest = Str(a.value());
              break;
          }
        }
        break;
    }
  }
}

#undef COMITY_CHILD

template <typename T, typename F>
StatusOr<T> FromJson(std::string_view schema_id, const json::value& v, F&& convert) {
  if (!SchemasAvailable()) return SchemasMissing();
  ValidationErrors errors;
  if (!Schema(schema_id).Validate(v, nullptr, &errors)) return errors.ToStatus();
  T out;
  Converter c(&errors);
  convert(c, v.get_object(), &out);
  if (!errors.empty()) return errors.ToStatus();
  return out;
}

// Parses `text` into the thread's arena and hands the DOM to `from_json`.
template <typename T, typename F>
StatusOr<T> WithArena(std::string_view text, F&& from_json) {
  ParseContext& ctx = Context();
  if (ctx.busy) {
    // Re-entered on this thread (cannot happen today); take the slow path.
    ASSIGN_OR_RETURN(json::value v, ParseJson(text));
    return from_json(v);
  }
  ctx.busy = true;
  StatusOr<T> result = [&]() -> StatusOr<T> {
    json::monotonic_resource mr(ctx.buffer.get(), ParseContext::kBufferBytes);
    StatusOr<json::value> v = ctx.parser.Parse(text, json::storage_ptr(&mr));
    if (!v.ok()) return v.status();
    return from_json(*v);
  }();
  ctx.busy = false;
  return result;
}

template <typename T, typename F>
StatusOr<T> ParseText(std::string_view text, std::string_view schema_id, F&& convert) {
  RETURN_IF_ERROR(CheckSize(text.size()));
  return WithArena<T>(text,
                      [&](const json::value& v) { return FromJson<T>(schema_id, v, convert); });
}

// --- Writing JSON --------------------------------------------------------------------------

json::value NumberValue(double d) {
  // Integral values are written as integers ("8", not "8E0"); they read back equal.
  if (std::trunc(d) == d && std::fabs(d) < 9007199254740992.0) {
    return json::value(static_cast<int64_t>(d));
  }
  return json::value(d);
}

json::string StateString(StateCode c) { return json::string(std::string_view(c.c, 2)); }

template <typename E>
json::value Name(E e) {
  return json::string(EnumName(e));
}

template <typename E>
json::array Names(EnumSet<E> s) {
  json::array a;
  s.ForEach([&](E e) { a.emplace_back(json::string(EnumName(e))); });
  return a;
}

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(json::string(s));
  return a;
}

json::array StateArray(const std::vector<StateCode>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(StateString(s));
  return a;
}

json::array CitationsJson(const std::vector<Citation>& cs) {
  json::array a;
  for (const auto& c : cs) {
    json::object o;
    o["instrument"] = c.instrument;
    o["article"] = c.article;
    if (c.paragraph) o["paragraph"] = *c.paragraph;
    a.emplace_back(std::move(o));
  }
  return a;
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

void AppendCitations(std::string* out, const std::vector<Citation>& cs) {
  out->push_back('[');
  for (size_t i = 0; i < cs.size(); ++i) {
    if (i > 0) out->push_back(',');
    out->append("{\"instrument\":");
    core_internal::AppendJsonString(out, cs[i].instrument);
    out->append(",\"article\":");
    AppendInt(out, cs[i].article);
    if (cs[i].paragraph) {
      out->append(",\"paragraph\":");
      core_internal::AppendJsonString(out, *cs[i].paragraph);
    }
    out->push_back('}');
  }
  out->push_back(']');
}

}  // namespace

// --- Public API ----------------------------------------------------------------------------

StatusOr<json::value> ParseJson(std::string_view text) {
  RETURN_IF_ERROR(CheckSize(text.size()));
  thread_local core_internal::JsonParser parser;
  return parser.Parse(text, json::storage_ptr());
}

Status ValidateAgainstSchema(std::string_view schema_id, const json::value& v) {
  const JsonSchema* s = ShippedSchema(schema_id);
  if (s == nullptr) {
    if (!ShippedSchemasStatus().ok()) return SchemasMissing();
    return NotFoundError("no shipped schema has the $id \"" + std::string(schema_id) + "\"");
  }
  return s->Check(v);
}

StatusOr<Request> core_internal::RequestFromJsonFullPath(const json::value& v) {
  return FromJson<Request>(
      kRequestSchemaId, v,
      [](Converter& c, const json::object& o, Request* r) { c.Request(o, r); });
}

StatusOr<Request> RequestFromJson(const json::value& v) {
  return core_internal::RequestFromJsonFullPath(v);
}

StatusOr<Request> ParseRequest(std::string_view text) {
  Request r;
  RETURN_IF_ERROR(ParseRequestInto(text, &r));
  return r;
}

Status ParseRequestInto(std::string_view text, Request* out) {
  RETURN_IF_ERROR(CheckSize(text.size()));
  if (!SchemasAvailable()) return SchemasMissing();
  // The streaming reader takes valid requests in one pass; anything else (or anything it is
  // unsure of) goes the full way, which also words the errors.
  if (core_internal::ReadValidRequest(Schema(kRequestSchemaId), text, out)) return OkStatus();
  ASSIGN_OR_RETURN(*out, WithArena<Request>(text, [](const json::value& v) {
    return core_internal::RequestFromJsonFullPath(v);
  }));
  return OkStatus();
}

StatusOr<StateProfile> ProfileFromJson(const json::value& v) {
  return FromJson<StateProfile>(
      kProfileSchemaId, v,
      [](Converter& c, const json::object& o, StateProfile* p) { c.Profile(o, p); });
}

StatusOr<StateProfile> ParseProfile(std::string_view text) {
  return ParseText<StateProfile>(
      text, kProfileSchemaId,
      [](Converter& c, const json::object& o, StateProfile* p) { c.Profile(o, p); });
}

StatusOr<Decision> DecisionFromJson(const json::value& v) {
  return FromJson<Decision>(
      kDecisionSchemaId, v,
      [](Converter& c, const json::object& o, Decision* d) { c.Decision(o, d); });
}

StatusOr<Decision> ParseDecision(std::string_view text) {
  return ParseText<Decision>(
      text, kDecisionSchemaId,
      [](Converter& c, const json::object& o, Decision* d) { c.Decision(o, d); });
}

json::value RequestToJson(const Request& r) {
  json::object o;
  o["schema"] = kRequestSchemaId;
  if (r.id) o["id"] = *r.id;
  if (r.created) o["created"] = FormatTimestamp(*r.created);
  o["requesting_state"] = StateString(r.requesting_state);
  o["requested_state"] = StateString(r.requested_state);
  {
    json::object a;
    a["name"] = r.requesting_authority.name;
    a["kind"] = Name(r.requesting_authority.kind);
    if (r.requesting_authority.contact_point_24_7) a["contact_point_24_7"] = true;
    o["requesting_authority"] = std::move(a);
  }
  if (r.proceeding) {
    json::object p;
    p["kind"] = Name(r.proceeding->kind);
    if (r.proceeding->reference) p["reference"] = *r.proceeding->reference;
    p["conducting_authority"] = r.proceeding->conducting_authority;
    o["proceeding"] = std::move(p);
  }
  {
    json::array offences;
    for (const auto& f : r.offences) {
      json::object x;
      x["category"] = Name(f.category);
      x["national_provision"] = f.national_provision;
      if (f.max_penalty_years) x["max_penalty_years"] = NumberValue(*f.max_penalty_years);
      if (f.death_penalty_possible) x["death_penalty_possible"] = true;
      if (f.description) x["description"] = *f.description;
      offences.emplace_back(std::move(x));
    }
    o["offences"] = std::move(offences);
  }
  if (r.facts) o["facts"] = *r.facts;
  if (r.purpose) o["purpose"] = *r.purpose;
  o["urgency"] = Name(r.urgency);
  if (r.emergency) {
    json::object e;
    e["risk"] = Name(r.emergency->risk);
    e["imminent"] = r.emergency->imminent;
    if (r.emergency->explanation) e["explanation"] = *r.emergency->explanation;
    o["emergency"] = std::move(e);
  }
  {
    json::array measures;
    for (const auto& m : r.measures) {
      json::object x;
      x["type"] = Name(m.type);
      if (!m.data_categories.empty()) x["data_categories"] = Names(m.data_categories);
      if (!m.selectors.empty()) {
        json::array sels;
        for (const auto& s : m.selectors) {
          json::object so;
          so["kind"] = Name(s.kind);
          so["value"] = s.value;
          if (s.provider) so["provider"] = *s.provider;
          sels.emplace_back(std::move(so));
        }
        x["selectors"] = std::move(sels);
      }
      if (m.all_users) x["all_users"] = true;
      if (m.period) {
        json::object p;
        p["from"] = FormatDate(m.period->from);
        p["to"] = FormatDate(m.period->to);
        x["period"] = std::move(p);
      }
      if (m.duration_days) x["duration_days"] = *m.duration_days;
      if (m.justification) x["justification"] = *m.justification;
      measures.emplace_back(std::move(x));
    }
    o["measures"] = std::move(measures);
  }
  if (!r.persons.empty()) {
    json::array persons;
    for (const auto& p : r.persons) {
      json::object x;
      x["role"] = Name(p.role);
      if (p.name) x["name"] = *p.name;
      if (!p.nationalities.empty()) x["nationalities"] = StateArray(p.nationalities);
      if (p.residence) x["residence"] = StateString(*p.residence);
      if (!p.status.empty()) x["status"] = Names(p.status);
      persons.emplace_back(std::move(x));
    }
    o["persons"] = std::move(persons);
  }
  if (r.domestic_authorization) {
    json::object d;
    d["authority_kind"] = Name(r.domestic_authorization->authority_kind);
    if (r.domestic_authorization->reference) d["reference"] = *r.domestic_authorization->reference;
    if (r.domestic_authorization->date) d["date"] = FormatDate(*r.domestic_authorization->date);
    o["domestic_authorization"] = std::move(d);
  }
  if (r.confidentiality) {
    json::object c;
    if (r.confidentiality->requested) c["requested"] = true;
    if (r.confidentiality->no_user_notification) c["no_user_notification"] = true;
    if (r.confidentiality->until) c["until"] = FormatDate(*r.confidentiality->until);
    o["confidentiality"] = std::move(c);
  }
  if (!r.assurances.empty()) o["assurances"] = Names(r.assurances);
  if (r.follows_up) o["follows_up"] = *r.follows_up;
  if (r.language) o["language"] = *r.language;
  if (!r.attachments.empty()) {
    json::array atts;
    for (const auto& a : r.attachments) {
      json::object x;
      x["name"] = a.name;
      x["sha256"] = a.sha256;
      if (a.media_type) x["media_type"] = *a.media_type;
      atts.emplace_back(std::move(x));
    }
    o["attachments"] = std::move(atts);
  }
  return o;
}

json::value ProfileToJson(const StateProfile& p) {
  json::object o;
  o["schema"] = kProfileSchemaId;
  o["code"] = StateString(p.code);
  o["name"] = p.name;
  if (p.fictional) o["fictional"] = true;
  {
    json::object u;
    u["status"] = Name(p.uncc.status);
    if (!p.uncc.reservations.empty()) u["reservations"] = StringArray(p.uncc.reservations);
    if (p.uncc.central_authority) u["central_authority"] = *p.uncc.central_authority;
    if (!p.uncc.languages.empty()) u["languages"] = StringArray(p.uncc.languages);
    o["uncc"] = std::move(u);
  }
  if (!p.other_legal_bases.empty()) o["other_legal_bases"] = StringArray(p.other_legal_bases);
  o["death_penalty"] = Name(p.death_penalty);
  {
    json::object c;
    for (size_t i = 0; i < p.criminalizes.size(); ++i) {
      if (!p.criminalizes[i]) continue;
      json::object x;
      x["max_penalty_years"] = NumberValue(p.criminalizes[i]->max_penalty_years);
      if (p.criminalizes[i]->provision) x["provision"] = *p.criminalizes[i]->provision;
      c[EnumTraits<OffenceCategory>::kNames[i]] = std::move(x);
    }
    o["criminalizes"] = std::move(c);
  }
  {
    const Policy& pol = p.policy;
    json::object x;
    x["dual_criminality"] = Name(pol.dual_criminality);
    x["interception_min_penalty_years"] = NumberValue(pol.interception_min_penalty_years);
    x["max_interception_days"] = pol.max_interception_days;
    if (pol.max_stored_period_days) x["max_stored_period_days"] = *pol.max_stored_period_days;
    x["independent_authorization_required"] = Names(pol.independent_authorization_required);
    x["speech_offences"] = Name(pol.speech_offences);
    x["refugee_protection"] = pol.refugee_protection;
    if (!pol.protected_status_review.empty()) {
      x["protected_status_review"] = StringArray(pol.protected_status_review);
    }
    if (!pol.death_penalty_assurance_required) x["death_penalty_assurance_required"] = false;
    if (!pol.enhanced_scrutiny.empty()) x["enhanced_scrutiny"] = StateArray(pol.enhanced_scrutiny);
    if (!pol.suspended.empty()) x["suspended"] = StateArray(pol.suspended);
    if (pol.response_days) {
      json::object r;
      if (pol.response_days->routine) r["routine"] = *pol.response_days->routine;
      if (pol.response_days->urgent) r["urgent"] = *pol.response_days->urgent;
      if (pol.response_days->emergency_hours) {
        r["emergency_hours"] = *pol.response_days->emergency_hours;
      }
      x["response_days"] = std::move(r);
    }
    o["policy"] = std::move(x);
  }
  return o;
}

json::value DecisionToJson(const Decision& d) {
  json::object o;
  o["schema"] = kDecisionSchemaId;
  if (d.request_id) o["request_id"] = *d.request_id;
  o["outcome"] = Name(d.outcome);
  json::array findings;
  for (const auto& f : d.findings) {
    json::object x;
    x["rule"] = f.rule;
    x["effect"] = Name(f.effect);
    x["citations"] = CitationsJson(f.citations);
    x["message"] = f.message;
    if (!f.pointers.empty()) x["pointers"] = StringArray(f.pointers);
    findings.emplace_back(std::move(x));
  }
  o["findings"] = std::move(findings);
  if (!d.conditions.empty()) {
    json::array conditions;
    for (const auto& c : d.conditions) {
      json::object x;
      x["code"] = c.code;
      x["text"] = c.text;
      if (!c.citations.empty()) x["citations"] = CitationsJson(c.citations);
      conditions.emplace_back(std::move(x));
    }
    o["conditions"] = std::move(conditions);
  }
  if (d.respond_by) o["respond_by"] = FormatTimestamp(*d.respond_by);
  json::object rb;
  rb["version"] = d.rulebase.version;
  rb["digest"] = d.rulebase.digest;
  o["rulebase"] = std::move(rb);
  return o;
}

void AppendDecision(const Decision& d, std::string* out_string) {
  size_t estimate = 160 + d.rulebase.version.size() + d.rulebase.digest.size();
  for (const auto& f : d.findings) {
    estimate += 96 + f.rule.size() + f.message.size() + f.citations.size() * 48;
    for (const auto& p : f.pointers) estimate += p.size() + 4;
  }
  for (const auto& c : d.conditions) estimate += 48 + c.code.size() + c.text.size();
  std::string& out = *out_string;
  out.reserve(out.size() + estimate);
  out.append("{\"schema\":\"comity.decision/v1\"");
  if (d.request_id) {
    out.append(",\"request_id\":");
    core_internal::AppendJsonString(&out, *d.request_id);
  }
  out.append(",\"outcome\":\"");
  out.append(EnumName(d.outcome));
  out.append("\",\"findings\":[");
  for (size_t i = 0; i < d.findings.size(); ++i) {
    const Finding& f = d.findings[i];
    if (i > 0) out.push_back(',');
    out.append("{\"rule\":");
    core_internal::AppendJsonString(&out, f.rule);
    out.append(",\"effect\":\"");
    out.append(EnumName(f.effect));
    out.append("\",\"citations\":");
    AppendCitations(&out, f.citations);
    out.append(",\"message\":");
    core_internal::AppendJsonString(&out, f.message);
    if (!f.pointers.empty()) {
      out.append(",\"pointers\":[");
      for (size_t k = 0; k < f.pointers.size(); ++k) {
        if (k > 0) out.push_back(',');
        core_internal::AppendJsonString(&out, f.pointers[k]);
      }
      out.push_back(']');
    }
    out.push_back('}');
  }
  out.push_back(']');
  if (!d.conditions.empty()) {
    out.append(",\"conditions\":[");
    for (size_t i = 0; i < d.conditions.size(); ++i) {
      const Condition& c = d.conditions[i];
      if (i > 0) out.push_back(',');
      out.append("{\"code\":");
      core_internal::AppendJsonString(&out, c.code);
      out.append(",\"text\":");
      core_internal::AppendJsonString(&out, c.text);
      if (!c.citations.empty()) {
        out.append(",\"citations\":");
        AppendCitations(&out, c.citations);
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  if (d.respond_by) {
    out.append(",\"respond_by\":\"");
    AppendTimestamp(*d.respond_by, &out);
    out.push_back('"');
  }
  out.append(",\"rulebase\":{\"version\":");
  core_internal::AppendJsonString(&out, d.rulebase.version);
  out.append(",\"digest\":");
  core_internal::AppendJsonString(&out, d.rulebase.digest);
  out.append("}}");
}

std::string SerializeDecision(const Decision& d) {
  std::string out;
  AppendDecision(d, &out);
  return out;
}

void AppendJsonString(std::string* out, std::string_view s) {
  core_internal::AppendJsonString(out, s);
}

void AppendJsonStringContent(std::string* out, std::string_view s) {
  core_internal::AppendJsonStringContent(out, s);
}

StatusOr<StateProfile> LoadProfileFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string msg = path + ": cannot open: " + std::strerror(err);
    if (err == ENOENT) return NotFoundError(std::move(msg));
    if (err == EACCES) return PermissionDeniedError(std::move(msg));
    return Status(StatusCode::kUnavailable, std::move(msg));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    return InvalidArgumentError(path + ": is a directory, not a profile file");
  }
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > kMaxDocumentBytes) {
    return CheckSize(static_cast<size_t>(st.st_size)).WithContext(path);
  }
  // Read at most one byte past the limit, whatever fstat said (pipes, /proc, growing files).
  std::string text;
  text.resize(kMaxDocumentBytes + 1);
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kUnavailable, path + ": cannot read: " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > kMaxDocumentBytes) {
    return ResourceExhaustedError("file is larger than the limit of " +
                                  std::to_string(kMaxDocumentBytes) + " bytes (1 MiB)")
        .WithContext(path);
  }
  text.resize(got);
  StatusOr<StateProfile> p = ParseProfile(text);
  if (!p.ok()) return p.status().WithContext(path);
  return p;
}

}  // namespace comity
