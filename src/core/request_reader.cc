#include "core/internal/request_reader.h"

#include <boost/json/basic_parser_impl.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "core/internal/enum_table.h"
#include "core/internal/fast_json.h"
#include "core/internal/json_parse.h"
#include "core/internal/key_table.h"
#include "core/internal/schema_node.h"
#include "core/time.h"

namespace comity::core_internal {

namespace json = boost::json;

namespace {

const SchemaNode* Deref(const SchemaNode* n) {
  while (n != nullptr && n->ref != nullptr && n->only_ref) n = n->ref;
  return n;
}

// An object schema the reader can check by itself: known properties only (no
// additionalProperties schema), required properties all among them, no const or enum, no $ref
// next to other keywords.
struct Obj {
  const SchemaNode* node = nullptr;
  std::vector<uint64_t> hash;  // KeyHash of each property name, by property index
  uint64_t required = 0;       // property-index bits
};

bool MakeObj(const SchemaNode* n, Obj* out) {
  n = Deref(n);
  if (n == nullptr || n->reject_all || n->ref != nullptr || n->const_value != nullptr ||
      n->enum_values != nullptr || (n->types != 0 && !(n->types & kTObject)) ||
      n->additional != Additional::kForbid) {
    return false;
  }
  out->node = n;
  for (std::string_view name : n->prop_names) out->hash.push_back(KeyHash(name));
  for (int i : n->required_index) {
    if (i < 0) return false;
    out->required |= uint64_t{1} << i;
  }
  return true;
}

// An array schema the reader can check by itself. Uniqueness is only established for items
// that are strings of an enum (by the enum's bit set).
const SchemaNode* ArrayNode(const SchemaNode* n) {
  n = Deref(n);
  if (n == nullptr || n->reject_all || n->ref != nullptr || n->const_value != nullptr ||
      n->enum_values != nullptr || (n->types != 0 && !(n->types & kTArray)) ||
      n->items == nullptr) {
    return nullptr;
  }
  if (n->unique) {
    const SchemaNode* items = Deref(n->items);
    if (items == nullptr || !items->enum_all_strings || items->enum_values->size() > 64) {
      return nullptr;
    }
  }
  return n;
}

const SchemaNode* Prop(const Obj& o, std::string_view name) {
  if (o.node == nullptr) return nullptr;
  int i = o.node->prop_table.Find(name);
  return i < 0 ? nullptr : o.node->prop_nodes[static_cast<size_t>(i)];
}

// What the reader knows of comity.request/v1, resolved once.
struct Bindings {
  const JsonSchema* schema = nullptr;
  bool ok = false;
  Obj root, authority, proceeding, offence, emergency, measure, selector, period, person, domestic,
      confidentiality, attachment;
  const SchemaNode *offences = nullptr, *measures = nullptr, *persons = nullptr,
                   *attachments = nullptr, *selectors = nullptr, *data_categories = nullptr,
                   *status = nullptr, *assurances = nullptr, *nationalities = nullptr;

  explicit Bindings(const JsonSchema& s) : schema(&s) {
    ok = MakeObj(s.Find(""), &root) && MakeObj(Prop(root, "requesting_authority"), &authority) &&
         MakeObj(Prop(root, "proceeding"), &proceeding) &&
         MakeObj(Prop(root, "emergency"), &emergency) &&
         MakeObj(Prop(root, "domestic_authorization"), &domestic) &&
         MakeObj(Prop(root, "confidentiality"), &confidentiality) &&
         (offences = ArrayNode(Prop(root, "offences"))) && MakeObj(offences->items, &offence) &&
         (measures = ArrayNode(Prop(root, "measures"))) && MakeObj(measures->items, &measure) &&
         (persons = ArrayNode(Prop(root, "persons"))) && MakeObj(persons->items, &person) &&
         (attachments = ArrayNode(Prop(root, "attachments"))) &&
         MakeObj(attachments->items, &attachment) &&
         (assurances = ArrayNode(Prop(root, "assurances"))) &&
         (selectors = ArrayNode(Prop(measure, "selectors"))) &&
         MakeObj(selectors->items, &selector) && MakeObj(Prop(measure, "period"), &period) &&
         (data_categories = ArrayNode(Prop(measure, "data_categories"))) &&
         (status = ArrayNode(Prop(person, "status"))) &&
         (nationalities = ArrayNode(Prop(person, "nationalities")));
  }
};

enum class Type : uint8_t {
  // objects
  kRoot,
  kAuthority,
  kProceeding,
  kOffence,
  kEmergency,
  kMeasure,
  kSelector,
  kPeriod,
  kPerson,
  kDomestic,
  kConfidentiality,
  kAttachment,
  // arrays
  kOffences,
  kMeasures,
  kPersons,
  kAttachments,
  kSelectors,
  kDataCategories,
  kStatus,
  kAssurances,
  kNationalities,
};

struct Frame {
  Type type = Type::kRoot;
  const Obj* obj = nullptr;          // object frames
  const SchemaNode* node = nullptr;  // array frames: the array's schema
  void* target = nullptr;
  uint64_t seen = 0;                   // object frames: properties read, by index
  size_t count = 0;                    // array frames: items read
  uint64_t enum_bits = 0;              // unique enum arrays: items read
  const SchemaNode* member = nullptr;  // object frames: the property whose value comes next
  uint64_t member_hash = 0;
};

StateCode State(std::string_view s) {
  StateCode c;
  c.c[0] = s[0];
  c.c[1] = s[1];
  return c;
}

template <typename E>
bool Enum(std::string_view s, E* out) {
  int i = EnumTable<E>().Find(s);
  if (i < 0) return false;
  *out = static_cast<E>(i);
  return true;
}

// Adds one item of a unique enum array; false on a repeat (the full path reports it).
template <typename E>
bool AddUnique(std::string_view s, EnumSet<E>* set) {
  E e;
  if (!Enum(s, &e) || set->contains(e)) return false;
  set->insert(e);
  return true;
}

bool Int32(const Scalar& v, int32_t* out) {
  if (v.kind == Scalar::Kind::kInt64 && v.i >= INT32_MIN && v.i <= INT32_MAX) {
    *out = static_cast<int32_t>(v.i);
    return true;
  }
  if (v.kind == Scalar::Kind::kDouble && v.d >= INT32_MIN && v.d <= INT32_MAX) {
    *out = static_cast<int32_t>(v.d);
    return true;
  }
  return false;
}

double Number(const Scalar& v) {
  switch (v.kind) {
    case Scalar::Kind::kInt64:
      return static_cast<double>(v.i);
    case Scalar::Kind::kUint64:
      return static_cast<double>(v.u);
    default:
      return v.d;
  }
}

// Storage taken from the previous request read into the same Request, handed out again: a
// caller that reads many requests into one Request (ParseRequestInto, screen --batch) then
// allocates almost nothing per request. Harvest() takes every string and array buffer out of a
// Request and resets it to a default Request, so nothing of the previous request can remain.
// Per thread; holds at most the storage of one request (the schema bounds its size).
class Recycler {
 public:
  void Harvest(Request* r) {
    Take(&r->id);
    Take(&r->facts);
    Take(&r->purpose);
    Take(&r->follows_up);
    Take(&r->language);
    Take(&r->requesting_authority.name);
    if (r->proceeding) {
      Take(&r->proceeding->reference);
      Take(&r->proceeding->conducting_authority);
    }
    if (r->emergency) Take(&r->emergency->explanation);
    if (r->domestic_authorization) Take(&r->domestic_authorization->reference);
    for (Offence& o : r->offences) {
      Take(&o.national_provision);
      Take(&o.description);
    }
    for (Measure& m : r->measures) {
      for (Selector& sel : m.selectors) {
        Take(&sel.value);
        Take(&sel.provider);
      }
      TakeVector(&m.selectors, &selectors_);
      Take(&m.justification);
    }
    for (Person& p : r->persons) {
      Take(&p.name);
      TakeVector(&p.nationalities, &nationalities_);
    }
    for (Attachment& a : r->attachments) {
      Take(&a.name);
      Take(&a.sha256);
      Take(&a.media_type);
    }
    KeepVector(&r->offences, &offences_);
    KeepVector(&r->measures, &measures_);
    KeepVector(&r->persons, &persons_);
    KeepVector(&r->attachments, &attachments_);
    *r = Request();  // what is left owns no heap storage
  }

  // A string holding `v`, in recycled storage when `v` does not fit in the string itself.
  std::string Make(std::string_view v) {
    if (v.size() <= kInline || strings_.empty()) return std::string(v);
    std::string s = std::move(strings_.back());
    strings_.pop_back();
    s.assign(v.data(), v.size());
    return s;
  }
  void Set(std::string* s, std::string_view v) {
    if (v.size() <= s->capacity()) {
      s->assign(v.data(), v.size());
    } else {
      *s = Make(v);
    }
  }
  void Set(std::optional<std::string>* s, std::string_view v) { s->emplace(Make(v)); }

  // An empty array with the capacity a previous request's array had.
  template <typename T>
  void Give(std::vector<T>* v) {
    std::vector<T>* pool = nullptr;
    if constexpr (std::is_same_v<T, Offence>) pool = &offences_;
    if constexpr (std::is_same_v<T, Measure>) pool = &measures_;
    if constexpr (std::is_same_v<T, Person>) pool = &persons_;
    if constexpr (std::is_same_v<T, Attachment>) pool = &attachments_;
    if (pool != nullptr) {
      if (v->empty() && v->capacity() == 0) std::swap(*v, *pool);
      return;
    }
    std::vector<std::vector<T>>* pools = nullptr;
    if constexpr (std::is_same_v<T, Selector>) pools = &selectors_;
    if constexpr (std::is_same_v<T, StateCode>) pools = &nationalities_;
    if (pools != nullptr && !pools->empty() && v->empty() && v->capacity() == 0) {
      std::swap(*v, pools->back());
      pools->pop_back();
    }
  }

 private:
  static constexpr size_t kInline = 15;  // libstdc++ keeps up to 15 chars in the string

  void Take(std::string* s) {
    if (s->capacity() > kInline) strings_.push_back(std::move(*s));
  }
  void Take(std::optional<std::string>* s) {
    if (*s) Take(&**s);
  }
  template <typename T>
  static void TakeVector(std::vector<T>* v, std::vector<std::vector<T>>* pool) {
    if (v->capacity() == 0) return;
    v->clear();
    pool->push_back(std::move(*v));
  }
  template <typename T>
  static void KeepVector(std::vector<T>* v, std::vector<T>* pool) {
    if (v->capacity() == 0) return;
    v->clear();
    if (pool->capacity() < v->capacity()) std::swap(*v, *pool);
  }

  std::vector<std::string> strings_;
  std::vector<Offence> offences_;
  std::vector<Measure> measures_;
  std::vector<Person> persons_;
  std::vector<Attachment> attachments_;
  std::vector<std::vector<Selector>> selectors_;
  std::vector<std::vector<StateCode>> nationalities_;
};

Recycler& ThreadRecycler() {
  thread_local Recycler r;
  return r;
}

class Reader {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  // Resets *out (recycling its storage) and reads into it.
  void Start(const Bindings* b, Request* out) {
    b_ = b;
    out_ = out;
    pool_ = &ThreadRecycler();
    pool_->Harvest(out);
    depth_ = 0;
    done_ = false;
    partial_.clear();
  }
  bool done() const { return done_; }

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }

  bool on_object_begin(json::error_code& ec) {
    if (depth_ == 0) return Push({Type::kRoot, &b_->root, nullptr, out_}, ec);
    Frame& top = Top();
    if (top.obj != nullptr) {
      const uint64_t h = top.member_hash;
      switch (top.type) {
        case Type::kRoot: {
          auto* r = static_cast<Request*>(top.target);
          switch (h) {
            case KeyHash("requesting_authority"):
              return Push({Type::kAuthority, &b_->authority, nullptr, &r->requesting_authority},
                          ec);
            case KeyHash("proceeding"):
              return Push({Type::kProceeding, &b_->proceeding, nullptr, &r->proceeding.emplace()},
                          ec);
            case KeyHash("emergency"):
              return Push({Type::kEmergency, &b_->emergency, nullptr, &r->emergency.emplace()}, ec);
            case KeyHash("domestic_authorization"):
              return Push(
                  {Type::kDomestic, &b_->domestic, nullptr, &r->domestic_authorization.emplace()},
                  ec);
            case KeyHash("confidentiality"):
              return Push({Type::kConfidentiality, &b_->confidentiality, nullptr,
                           &r->confidentiality.emplace()},
                          ec);
          }
          return Bail(ec);
        }
        case Type::kMeasure:
          if (h == KeyHash("period")) {
            auto* m = static_cast<Measure*>(top.target);
            return Push({Type::kPeriod, &b_->period, nullptr, &m->period.emplace()}, ec);
          }
          return Bail(ec);
        default:
          return Bail(ec);
      }
    }
    // An item of an array of objects.
    ++top.count;
    switch (top.type) {
      case Type::kOffences:
        return Push({Type::kOffence, &b_->offence, nullptr, &Emplace<Offence>(top)}, ec);
      case Type::kMeasures:
        return Push({Type::kMeasure, &b_->measure, nullptr, &Emplace<Measure>(top)}, ec);
      case Type::kPersons:
        return Push({Type::kPerson, &b_->person, nullptr, &Emplace<Person>(top)}, ec);
      case Type::kAttachments:
        return Push({Type::kAttachment, &b_->attachment, nullptr, &Emplace<Attachment>(top)}, ec);
      case Type::kSelectors:
        return Push({Type::kSelector, &b_->selector, nullptr, &Emplace<Selector>(top)}, ec);
      default:
        return Bail(ec);
    }
  }

  bool on_object_end(std::size_t, json::error_code& ec) {
    Frame& top = Top();
    if ((top.seen & top.obj->required) != top.obj->required) return Bail(ec);
    return Pop();
  }

  bool on_array_begin(json::error_code& ec) {
    if (depth_ == 0) return Bail(ec);
    Frame& top = Top();
    if (top.obj == nullptr) return Bail(ec);  // arrays of arrays
    const uint64_t h = top.member_hash;
    switch (top.type) {
      case Type::kRoot: {
        auto* r = static_cast<Request*>(top.target);
        switch (h) {
          case KeyHash("offences"):
            return PushArray(Type::kOffences, b_->offences, Given(&r->offences), ec);
          case KeyHash("measures"):
            return PushArray(Type::kMeasures, b_->measures, Given(&r->measures), ec);
          case KeyHash("persons"):
            return PushArray(Type::kPersons, b_->persons, Given(&r->persons), ec);
          case KeyHash("attachments"):
            return PushArray(Type::kAttachments, b_->attachments, Given(&r->attachments), ec);
          case KeyHash("assurances"):
            return PushArray(Type::kAssurances, b_->assurances, &r->assurances, ec);
        }
        return Bail(ec);
      }
      case Type::kMeasure: {
        auto* m = static_cast<Measure*>(top.target);
        if (h == KeyHash("selectors")) {
          return PushArray(Type::kSelectors, b_->selectors, Given(&m->selectors), ec);
        }
        if (h == KeyHash("data_categories")) {
          return PushArray(Type::kDataCategories, b_->data_categories, &m->data_categories, ec);
        }
        return Bail(ec);
      }
      case Type::kPerson: {
        auto* p = static_cast<Person*>(top.target);
        if (h == KeyHash("status")) return PushArray(Type::kStatus, b_->status, &p->status, ec);
        if (h == KeyHash("nationalities")) {
          return PushArray(Type::kNationalities, b_->nationalities, Given(&p->nationalities), ec);
        }
        return Bail(ec);
      }
      default:
        return Bail(ec);
    }
  }

  bool on_array_end(std::size_t, json::error_code& ec) {
    Frame& top = Top();
    if (top.count < top.node->min_items || top.count > top.node->max_items) return Bail(ec);
    return Pop();
  }

  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    partial_.append(s.data(), s.size());
    return true;
  }

  bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
    std::string_view key = Complete(s);
    Frame& top = Top();
    int i = top.obj->node->prop_table.Find(key);
    partial_.clear();
    if (i < 0) return Bail(ec);  // unknown property
    const uint64_t bit = uint64_t{1} << i;
    if (top.seen & bit) return Bail(ec);  // duplicate key
    top.seen |= bit;
    top.member = top.obj->node->prop_nodes[static_cast<size_t>(i)];
    top.member_hash = top.obj->hash[static_cast<size_t>(i)];
    // The member's own schema must accept a container if one comes: checked in Push*.
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    partial_.append(s.data(), s.size());
    return true;
  }

  bool on_string(json::string_view s, std::size_t, json::error_code& ec) {
    Scalar v;
    v.kind = Scalar::Kind::kString;
    v.s = Complete(s);
    bool ok = Value(v);
    partial_.clear();
    return ok || Bail(ec);
  }

  bool on_number_part(json::string_view s, json::error_code&) {
    partial_.append(s.data(), s.size());
    return true;
  }

  bool on_int64(std::int64_t i, json::string_view, json::error_code& ec) {
    partial_.clear();
    Scalar v;
    v.kind = Scalar::Kind::kInt64;
    v.i = i;
    return Value(v) || Bail(ec);
  }

  bool on_uint64(std::uint64_t u, json::string_view, json::error_code& ec) {
    partial_.clear();
    Scalar v;
    v.kind = Scalar::Kind::kUint64;
    v.u = u;
    return Value(v) || Bail(ec);
  }

  bool on_double(double d, json::string_view s, json::error_code& ec) {
    Scalar v;
    v.kind = Scalar::Kind::kDouble;
    v.d = ExactDouble(d, Complete(s));
    partial_.clear();
    if (!std::isfinite(v.d)) return Bail(ec);
    return Value(v) || Bail(ec);
  }

  bool on_bool(bool b, json::error_code& ec) {
    Scalar v;
    v.kind = Scalar::Kind::kBool;
    v.b = b;
    return Value(v) || Bail(ec);
  }

  bool on_null(json::error_code& ec) { return Value(Scalar()) || Bail(ec); }

  bool on_comment_part(json::string_view, json::error_code& ec) { return Bail(ec); }
  bool on_comment(json::string_view, json::error_code& ec) { return Bail(ec); }

 private:
  static constexpr int kMaxFrames = 8;  // requests nest 5 deep; deeper is for the full path

  static bool Bail(json::error_code& ec) {
    ec = json::error::exception;  // any error stops the parser; the caller takes the full path
    return false;
  }

  std::string_view Complete(json::string_view last) {
    if (partial_.empty()) return {last.data(), last.size()};
    partial_.append(last.data(), last.size());
    return partial_;
  }

  Frame& Top() { return frames_[depth_ - 1]; }

  // The array, with recycled capacity.
  template <typename T>
  std::vector<T>* Given(std::vector<T>* v) {
    pool_->Give(v);
    return v;
  }

  template <typename T>
  T& Emplace(Frame& array) {
    return static_cast<std::vector<T>*>(array.target)->emplace_back();
  }

  // Pushes an object frame. The member that holds it (if any) must accept an object.
  bool Push(Frame f, json::error_code& ec) {
    if (depth_ > 0 && Top().obj != nullptr && Deref(Top().member) != f.obj->node) return Bail(ec);
    if (depth_ == kMaxFrames) return Bail(ec);
    frames_[depth_++] = f;
    return true;
  }

  bool PushArray(Type type, const SchemaNode* node, void* target, json::error_code& ec) {
    if (Deref(Top().member) != node || depth_ == kMaxFrames) return Bail(ec);
    Frame f;
    f.type = type;
    f.node = node;
    f.target = target;
    frames_[depth_++] = f;
    return true;
  }

  bool Pop() {
    --depth_;
    if (depth_ == 0) done_ = true;
    return true;
  }

  // A scalar: valid against its schema, then stored.
  bool Value(const Scalar& v) {
    if (depth_ == 0) return false;
    Frame& top = Top();
    if (top.obj == nullptr) {  // an array item
      ++top.count;
      if (!ScalarAccepts(*top.node->items, v) || v.kind != Scalar::Kind::kString) return false;
      switch (top.type) {
        case Type::kDataCategories:
          return AddUnique(v.s, static_cast<EnumSet<DataCategory>*>(top.target));
        case Type::kStatus:
          return AddUnique(v.s, static_cast<EnumSet<PersonStatus>*>(top.target));
        case Type::kAssurances:
          return AddUnique(v.s, static_cast<EnumSet<Assurance>*>(top.target));
        case Type::kNationalities:
          static_cast<std::vector<StateCode>*>(top.target)->push_back(State(v.s));
          return true;
        default:
          return false;
      }
    }
    if (!ScalarAccepts(*top.member, v)) return false;
    const uint64_t h = top.member_hash;
    const bool str = v.kind == Scalar::Kind::kString;
    const bool boolean = v.kind == Scalar::Kind::kBool;
    switch (top.type) {
      case Type::kRoot: {
        auto* r = static_cast<Request*>(top.target);
        switch (h) {
          case KeyHash("schema"):
            return true;  // the const was checked
          case KeyHash("id"):
            return str && (pool_->Set(&r->id, v.s), true);
          case KeyHash("created"):
            return str && ParseTimestampTo(v.s, &r->created.emplace(), nullptr);
          case KeyHash("requesting_state"):
            return str && (r->requesting_state = State(v.s), true);
          case KeyHash("requested_state"):
            return str && (r->requested_state = State(v.s), true);
          case KeyHash("facts"):
            return str && (pool_->Set(&r->facts, v.s), true);
          case KeyHash("purpose"):
            return str && (pool_->Set(&r->purpose, v.s), true);
          case KeyHash("urgency"):
            return str && Enum(v.s, &r->urgency);
          case KeyHash("follows_up"):
            return str && (pool_->Set(&r->follows_up, v.s), true);
          case KeyHash("language"):
            return str && (pool_->Set(&r->language, v.s), true);
        }
        return false;
      }
      case Type::kAuthority: {
        auto* a = static_cast<RequestingAuthority*>(top.target);
        switch (h) {
          case KeyHash("name"):
            return str && (pool_->Set(&a->name, v.s), true);
          case KeyHash("kind"):
            return str && Enum(v.s, &a->kind);
          case KeyHash("contact_point_24_7"):
            return boolean && (a->contact_point_24_7 = v.b, true);
        }
        return false;
      }
      case Type::kProceeding: {
        auto* p = static_cast<Proceeding*>(top.target);
        switch (h) {
          case KeyHash("kind"):
            return str && Enum(v.s, &p->kind);
          case KeyHash("reference"):
            return str && (pool_->Set(&p->reference, v.s), true);
          case KeyHash("conducting_authority"):
            return str && (pool_->Set(&p->conducting_authority, v.s), true);
        }
        return false;
      }
      case Type::kOffence: {
        auto* f = static_cast<Offence*>(top.target);
        switch (h) {
          case KeyHash("category"):
            return str && Enum(v.s, &f->category);
          case KeyHash("national_provision"):
            return str && (pool_->Set(&f->national_provision, v.s), true);
          case KeyHash("max_penalty_years"):
            return !str && !boolean && (f->max_penalty_years = Number(v), true);
          case KeyHash("death_penalty_possible"):
            return boolean && (f->death_penalty_possible = v.b, true);
          case KeyHash("description"):
            return str && (pool_->Set(&f->description, v.s), true);
        }
        return false;
      }
      case Type::kEmergency: {
        auto* e = static_cast<EmergencyInfo*>(top.target);
        switch (h) {
          case KeyHash("risk"):
            return str && Enum(v.s, &e->risk);
          case KeyHash("imminent"):
            return boolean && (e->imminent = v.b, true);
          case KeyHash("explanation"):
            return str && (pool_->Set(&e->explanation, v.s), true);
        }
        return false;
      }
      case Type::kMeasure: {
        auto* m = static_cast<Measure*>(top.target);
        switch (h) {
          case KeyHash("type"):
            return str && Enum(v.s, &m->type);
          case KeyHash("all_users"):
            return boolean && (m->all_users = v.b, true);
          case KeyHash("duration_days"):
            return Int32(v, &m->duration_days.emplace());
          case KeyHash("justification"):
            return str && (pool_->Set(&m->justification, v.s), true);
        }
        return false;
      }
      case Type::kSelector: {
        auto* s = static_cast<Selector*>(top.target);
        switch (h) {
          case KeyHash("kind"):
            return str && Enum(v.s, &s->kind);
          case KeyHash("value"):
            return str && (pool_->Set(&s->value, v.s), true);
          case KeyHash("provider"):
            return str && (pool_->Set(&s->provider, v.s), true);
        }
        return false;
      }
      case Type::kPeriod: {
        auto* p = static_cast<Period*>(top.target);
        switch (h) {
          case KeyHash("from"):
            return str && ParseDateTo(v.s, &p->from, nullptr);
          case KeyHash("to"):
            return str && ParseDateTo(v.s, &p->to, nullptr);
        }
        return false;
      }
      case Type::kPerson: {
        auto* p = static_cast<Person*>(top.target);
        switch (h) {
          case KeyHash("role"):
            return str && Enum(v.s, &p->role);
          case KeyHash("name"):
            return str && (pool_->Set(&p->name, v.s), true);
          case KeyHash("residence"):
            return str && (p->residence = State(v.s), true);
        }
        return false;
      }
      case Type::kDomestic: {
        auto* d = static_cast<DomesticAuthorization*>(top.target);
        switch (h) {
          case KeyHash("authority_kind"):
            return str && Enum(v.s, &d->authority_kind);
          case KeyHash("reference"):
            return str && (pool_->Set(&d->reference, v.s), true);
          case KeyHash("date"):
            return str && ParseDateTo(v.s, &d->date.emplace(), nullptr);
        }
        return false;
      }
      case Type::kConfidentiality: {
        auto* c = static_cast<Confidentiality*>(top.target);
        switch (h) {
          case KeyHash("requested"):
            return boolean && (c->requested = v.b, true);
          case KeyHash("no_user_notification"):
            return boolean && (c->no_user_notification = v.b, true);
          case KeyHash("until"):
            return str && ParseDateTo(v.s, &c->until.emplace(), nullptr);
        }
        return false;
      }
      case Type::kAttachment: {
        auto* a = static_cast<Attachment*>(top.target);
        switch (h) {
          case KeyHash("name"):
            return str && (pool_->Set(&a->name, v.s), true);
          case KeyHash("sha256"):
            return str && (pool_->Set(&a->sha256, v.s), true);
          case KeyHash("media_type"):
            return str && (pool_->Set(&a->media_type, v.s), true);
        }
        return false;
      }
      default:
        return false;
    }
  }

  const Bindings* b_ = nullptr;
  Request* out_ = nullptr;
  Recycler* pool_ = nullptr;
  Frame frames_[kMaxFrames];
  int depth_ = 0;
  bool done_ = false;
  std::string partial_;  // a key, string or number that arrived in pieces
};

json::parse_options Options() {
  json::parse_options opt;
  opt.max_depth = kMaxJsonDepth;
  return opt;
}

}  // namespace

bool ReadValidRequest(const JsonSchema& schema, std::string_view text, Request* out) {
  static const Bindings bindings(schema);
  if (bindings.schema != &schema || !bindings.ok) return false;
  // The plain spelling that machines write goes through the small tokenizer; anything it is
  // unsure of (escapes, fractions, bad syntax) is read again from the start by Boost.JSON's
  // parser, with the same handler. A refusal by the handler is final either way.
  thread_local Reader fast;
  fast.Start(&bindings, out);
  switch (ParseFastJson(text, fast)) {
    case FastJsonResult::kDone:
      return fast.done();
    case FastJsonResult::kRefused:
      return false;
    case FastJsonResult::kUnsure:
      break;  // Start below resets *out
  }
  thread_local json::basic_parser<Reader> parser(Options());
  parser.reset();
  parser.handler().Start(&bindings, out);
  json::error_code ec;
  size_t n = 0;
  try {
    n = parser.write_some(false, text.data(), text.size(), ec);
  } catch (const std::exception&) {
    return false;  // e.g. out of memory: the full path reports it
  }
  return !ec && n == text.size() && parser.handler().done();
}

}  // namespace comity::core_internal
