#include "federation/federation_store.h"

#include <algorithm>
#include <charconv>

#include "crypto/encoding.h"
#include "crypto/random.h"

namespace comity::federation {
namespace {

using store::Database;
using store::Statement;

// Portable SQL (the node store's conventions): TEXT and BIGINT columns, explicit keys, `?`
// placeholders, ON CONFLICT DO NOTHING.
constexpr store::Migration kMigrations[] = {
    {1, "federation tables",
     "CREATE TABLE federation_security_events ("
     " id TEXT PRIMARY KEY,"
     " at BIGINT NOT NULL,"
     " kind TEXT NOT NULL,"
     " http_status INTEGER NOT NULL,"
     " remote TEXT NOT NULL,"
     " claimed_from TEXT NOT NULL,"
     " claimed_id TEXT NOT NULL,"
     " size BIGINT NOT NULL,"
     " envelope_sha256 TEXT NOT NULL,"
     " detail TEXT NOT NULL);"
     "CREATE INDEX federation_security_events_by_at ON federation_security_events (at, id);"
     "CREATE TABLE federation_receipts ("
     " message_id TEXT PRIMARY KEY,"
     " sender TEXT NOT NULL,"
     " body_sha256 TEXT NOT NULL,"
     " received BIGINT NOT NULL,"
     " receipt TEXT NOT NULL);"
     "CREATE TABLE federation_witness ("
     " origin TEXT PRIMARY KEY,"
     " peer TEXT NOT NULL,"
     " size BIGINT NOT NULL,"
     " note TEXT NOT NULL,"
     " cosigned_note TEXT NOT NULL,"
     " updated BIGINT NOT NULL,"
     " cosigned BIGINT NOT NULL);"
     "CREATE TABLE federation_cosignatures ("
     " origin TEXT NOT NULL,"
     " size BIGINT NOT NULL,"
     " peer TEXT NOT NULL,"
     " cosigned_note TEXT NOT NULL,"
     " at BIGINT NOT NULL,"
     " PRIMARY KEY (origin, size));"
     "CREATE TABLE federation_alerts ("
     " id TEXT PRIMARY KEY,"
     " at BIGINT NOT NULL,"
     " kind TEXT NOT NULL,"
     " peer TEXT NOT NULL,"
     " origin TEXT NOT NULL,"
     " first_note TEXT NOT NULL,"
     " second_note TEXT NOT NULL,"
     " detail TEXT NOT NULL);",
     ""},
};

std::string Clip(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  // Cut on a UTF-8 boundary so that what is stored stays valid text.
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n)) + "…";
}

// Attacker-controlled header text: printable ASCII only, bounded.
std::string Printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, kMaxClaimedFieldBytes)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

std::string NewId() { return crypto::HexEncode(crypto::RandomString(8)); }

std::string EncodeCursor(int64_t at, std::string_view id) {
  return std::to_string(at) + "_" + std::string(id);
}

StatusOr<std::pair<int64_t, std::string>> DecodeCursor(std::string_view cursor) {
  const Status bad =
      InvalidArgumentError("cursor \"" + Printable(cursor) + "\" is not one this node issued");
  const size_t sep = cursor.find('_');
  if (sep == std::string_view::npos || sep == 0 || cursor.size() - sep - 1 != 16) return bad;
  int64_t at = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + sep, at);
  if (ec != std::errc() || end != cursor.data() + sep) return bad;
  std::string id(cursor.substr(sep + 1));
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad;
  }
  return std::make_pair(at, id);
}

SecurityEvent ReadEvent(Statement* s) {
  SecurityEvent e;
  e.id = s->Text(0);
  e.at_us = s->Int64(1);
  e.kind = s->Text(2);
  e.http_status = static_cast<int>(s->Int64(3));
  e.remote = s->Text(4);
  e.claimed_from = s->Text(5);
  e.claimed_id = s->Text(6);
  e.size = s->Int64(7);
  e.envelope_sha256 = s->Text(8);
  e.detail = s->Text(9);
  return e;
}

}  // namespace

StatusOr<std::unique_ptr<FederationStore>> FederationStore::Open(
    std::unique_ptr<store::Database> durable, std::unique_ptr<store::Database> fast) {
  if (!durable) return InvalidArgumentError("the federation store needs a database");
  RETURN_IF_ERROR(store::ApplyMigrations(*durable, "federation", kMigrations));
  return std::unique_ptr<FederationStore>(new FederationStore(std::move(durable), std::move(fast)));
}

// --- security events -------------------------------------------------------------------------

Status FederationStore::RecordSecurityEvent(SecurityEvent e) {
  if (e.id.empty()) e.id = NewId();
  e.claimed_from = Printable(e.claimed_from);
  e.claimed_id = Printable(e.claimed_id);
  e.remote = Printable(e.remote);
  e.detail = Clip(e.detail, kMaxSecurityDetailBytes);
  // On the fast connection: a flood of bad envelopes must not cost an fsync each. The next
  // durable commit on this database (the node commits all the time) makes it durable too.
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(
      Statement * st,
      fast().Prepare("INSERT INTO federation_security_events (id, at, kind, "
                     "http_status, remote, claimed_from, claimed_id, size, "
                     "envelope_sha256, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  RETURN_IF_ERROR(st->Bind(e.id, e.at_us, e.kind, e.http_status, e.remote, e.claimed_from,
                           e.claimed_id, e.size, e.envelope_sha256, e.detail));
  return st->Run();
}

StatusOr<SecurityEventPage> FederationStore::ListSecurityEvents(std::string_view kind,
                                                                std::string_view cursor,
                                                                int limit) {
  if (limit < 1 || limit > kMaxListLimit) {
    return InvalidArgumentError("limit must be between 1 and " + std::to_string(kMaxListLimit),
                                "/limit");
  }
  std::pair<int64_t, std::string> after{INT64_MAX, std::string(16, 'g')};  // above every id
  if (!cursor.empty()) {
    ASSIGN_OR_RETURN(after, DecodeCursor(cursor));
  }
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(
      Statement * st,
      fast().Prepare("SELECT id, at, kind, http_status, remote, claimed_from, claimed_id, size, "
                     "envelope_sha256, detail FROM federation_security_events "
                     "WHERE (? = '' OR kind = ?) AND (at < ? OR (at = ? AND id < ?)) "
                     "ORDER BY at DESC, id DESC LIMIT ?"));
  const int64_t n = limit + 1;
  RETURN_IF_ERROR(st->Bind(kind, kind, after.first, after.first, after.second, n));
  SecurityEventPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    page.items.push_back(ReadEvent(st));
  }
  st->Reset();
  if (page.items.size() > static_cast<size_t>(limit)) {
    page.items.pop_back();
    page.next_cursor = EncodeCursor(page.items.back().at_us, page.items.back().id);
  }
  return page;
}

StatusOr<std::vector<std::pair<std::string, int64_t>>> FederationStore::CountSecurityEvents() {
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(Statement * st,
                   fast().Prepare("SELECT kind, count(*) FROM federation_security_events "
                                  "GROUP BY kind ORDER BY kind"));
  std::vector<std::pair<std::string, int64_t>> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.emplace_back(st->Text(0), st->Int64(1));
  }
  st->Reset();
  return out;
}

// --- receipts --------------------------------------------------------------------------------

Status FederationStore::PutReceipts(const std::vector<IssuedReceipt>& receipts) {
  if (receipts.empty()) return OkStatus();
  std::lock_guard<std::mutex> lock(fast_mu());
  Database& db = fast();
  store::Transaction tx(&db);
  RETURN_IF_ERROR(tx.Begin());
  // Several rows per statement; a failure is reported by the commit.
  static const store::MultiRowInsert insert(
      "INSERT INTO federation_receipts (message_id, sender, body_sha256, received, receipt) "
      "VALUES ",
      "(?, ?, ?, ?, ?)", 5, " ON CONFLICT (message_id) DO NOTHING");
  RETURN_IF_ERROR(insert.Run(&db, std::span(receipts),
                             [](Statement* st, int p, const IssuedReceipt& r) -> Status {
                               RETURN_IF_ERROR(st->BindAt(p, r.message_id));
                               RETURN_IF_ERROR(st->BindAt(p + 1, r.sender));
                               RETURN_IF_ERROR(st->BindAt(p + 2, r.body_sha256));
                               RETURN_IF_ERROR(st->BindAt(p + 3, r.received_us));
                               return st->BindAt(p + 4, r.receipt);
                             }));
  return tx.Commit();
}

StatusOr<std::optional<IssuedReceipt>> FederationStore::GetReceipt(std::string_view message_id) {
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(Statement * st,
                   fast().Prepare("SELECT message_id, sender, body_sha256, received, receipt "
                                  "FROM federation_receipts WHERE message_id = ?"));
  RETURN_IF_ERROR(st->Bind(message_id));
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) {
    st->Reset();
    return std::optional<IssuedReceipt>();
  }
  IssuedReceipt r{st->Text(0), st->Text(1), st->Text(2), st->Int64(3), st->Text(4)};
  st->Reset();
  return std::optional<IssuedReceipt>(std::move(r));
}

// --- witnessing ------------------------------------------------------------------------------

StatusOr<std::optional<std::string>> FederationStore::WitnessLatest(std::string_view origin) {
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(Statement * st,
                   fast().Prepare("SELECT note FROM federation_witness WHERE origin = ?"));
  RETURN_IF_ERROR(st->Bind(origin));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> out;
  if (row) out = st->Text(0);
  st->Reset();
  return out;
}

Status FederationStore::WitnessUpdate(std::string_view peer, std::string_view origin,
                                      std::optional<uint64_t> expected_size, uint64_t size,
                                      std::string_view note) {
  if (size > static_cast<uint64_t>(INT64_MAX)) return OutOfRangeError("log size over 2^63 - 1");
  std::lock_guard<std::mutex> lock(fast_mu());
  Database& db = fast();
  store::Transaction tx(&db);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(Statement * get,
                   db.Prepare("SELECT size FROM federation_witness WHERE origin = ?"));
  RETURN_IF_ERROR(get->Bind(origin));
  ASSIGN_OR_RETURN(bool row, get->Step());
  std::optional<uint64_t> current;
  if (row) current = static_cast<uint64_t>(get->Int64(0));
  get->Reset();
  if (current != expected_size) {
    return AbortedError("the witness state for " + std::string(origin) + " changed meanwhile");
  }
  const int64_t n = static_cast<int64_t>(size);
  if (!row) {
    ASSIGN_OR_RETURN(Statement * ins,
                     db.Prepare("INSERT INTO federation_witness (origin, peer, size, note, "
                                "cosigned_note, updated, cosigned) VALUES (?, ?, ?, ?, '', 0, 0)"));
    RETURN_IF_ERROR(ins->Bind(origin, peer, n, note));
    RETURN_IF_ERROR(ins->Run());
  } else {
    ASSIGN_OR_RETURN(Statement * up, db.Prepare("UPDATE federation_witness SET peer = ?, size = ?, "
                                                "note = ? WHERE origin = ?"));
    RETURN_IF_ERROR(up->Bind(peer, n, note, origin));
    RETURN_IF_ERROR(up->Run());
  }
  return tx.Commit();
}

Status FederationStore::RecordCosignature(std::string_view peer, std::string_view origin,
                                          uint64_t size, std::string_view cosigned_note,
                                          int64_t at_us) {
  if (size > static_cast<uint64_t>(INT64_MAX)) return OutOfRangeError("log size over 2^63 - 1");
  const int64_t n = static_cast<int64_t>(size);
  std::lock_guard<std::mutex> lock(fast_mu());
  Database& db = fast();
  store::Transaction tx(&db);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(Statement * ins,
                   db.Prepare("INSERT INTO federation_cosignatures (origin, size, peer, "
                              "cosigned_note, at) VALUES (?, ?, ?, ?, ?) "
                              "ON CONFLICT (origin, size) DO NOTHING"));
  RETURN_IF_ERROR(ins->Bind(origin, n, peer, cosigned_note, at_us));
  RETURN_IF_ERROR(ins->Run());
  if (db.changes() == 1) {
    ASSIGN_OR_RETURN(Statement * up,
                     db.Prepare("UPDATE federation_witness SET cosigned_note = ?, updated = ?, "
                                "cosigned = cosigned + 1 WHERE origin = ? AND size = ?"));
    RETURN_IF_ERROR(up->Bind(cosigned_note, at_us, origin, n));
    RETURN_IF_ERROR(up->Run());
  }
  return tx.Commit();
}

StatusOr<std::vector<WitnessedLog>> FederationStore::ListWitnessed() {
  std::lock_guard<std::mutex> lock(fast_mu());
  ASSIGN_OR_RETURN(Statement * st,
                   fast().Prepare("SELECT origin, peer, size, note, cosigned_note, updated, "
                                  "cosigned FROM federation_witness ORDER BY peer, origin"));
  std::vector<WitnessedLog> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(WitnessedLog{st->Text(0), st->Text(1), static_cast<uint64_t>(st->Int64(2)),
                               st->Text(3), st->Text(4), st->Int64(5), st->Int64(6)});
  }
  st->Reset();
  return out;
}

// --- alerts ----------------------------------------------------------------------------------

Status FederationStore::RecordAlert(Alert a) {
  if (a.id.empty()) a.id = NewId();
  a.detail = Clip(a.detail, kMaxSecurityDetailBytes);  // bound values must outlive Run()
  std::lock_guard<std::mutex> lock(durable_mu_);
  ASSIGN_OR_RETURN(Statement * st,
                   durable_->Prepare("INSERT INTO federation_alerts (id, at, kind, peer, origin, "
                                     "first_note, second_note, detail) VALUES (?, ?, ?, ?, ?, ?, "
                                     "?, ?)"));
  RETURN_IF_ERROR(
      st->Bind(a.id, a.at_us, a.kind, a.peer, a.origin, a.first_note, a.second_note, a.detail));
  return st->Run();
}

StatusOr<std::vector<Alert>> FederationStore::ListAlerts() {
  std::lock_guard<std::mutex> lock(durable_mu_);
  ASSIGN_OR_RETURN(Statement * st,
                   durable_->Prepare("SELECT id, at, kind, peer, origin, first_note, second_note, "
                                     "detail FROM federation_alerts ORDER BY at DESC, id DESC"));
  std::vector<Alert> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back(Alert{st->Text(0), st->Int64(1), st->Text(2), st->Text(3), st->Text(4),
                        st->Text(5), st->Text(6), st->Text(7)});
  }
  st->Reset();
  return out;
}

StatusOr<int64_t> FederationStore::CountAlerts() {
  std::lock_guard<std::mutex> lock(durable_mu_);
  ASSIGN_OR_RETURN(Statement * st, durable_->Prepare("SELECT count(*) FROM federation_alerts"));
  ASSIGN_OR_RETURN(bool row, st->Step());
  const int64_t n = row ? st->Int64(0) : 0;
  st->Reset();
  return n;
}

// --- PeerWitnessStore ------------------------------------------------------------------------

StatusOr<std::optional<std::string>> PeerWitnessStore::Latest(std::string_view origin) {
  return store_->WitnessLatest(origin);
}

Status PeerWitnessStore::Update(std::string_view origin, std::optional<uint64_t> expected_size,
                                uint64_t size, std::string_view note) {
  return store_->WitnessUpdate(peer_, origin, expected_size, size, note);
}

Status PeerWitnessStore::RecordSplitView(const tlog::SplitViewEvidence& e) {
  Alert a;
  a.at_us = e.detected_at > 0 ? e.detected_at * 1'000'000 : now_us_;
  a.kind = "split_view";
  a.peer = peer_;
  a.origin = e.origin;
  a.first_note = e.first_note;
  a.second_note = e.second_note;
  a.detail = e.detail;
  return store_->RecordAlert(std::move(a));
}

StatusOr<std::vector<tlog::SplitViewEvidence>> PeerWitnessStore::SplitViews() {
  ASSIGN_OR_RETURN(std::vector<Alert> alerts, store_->ListAlerts());
  std::vector<tlog::SplitViewEvidence> out;
  for (const Alert& a : alerts) {
    if (a.kind != "split_view" || a.peer != peer_) continue;
    out.push_back(tlog::SplitViewEvidence{a.origin, a.first_note, a.second_note, a.detail,
                                          a.at_us / 1'000'000});
  }
  return out;
}

}  // namespace comity::federation
